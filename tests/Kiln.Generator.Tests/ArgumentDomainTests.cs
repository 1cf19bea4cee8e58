using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Tests;

/// <summary>
/// <see cref="ArgumentDomains.Table"/> against the attributes of Kiln.Runtime: every numeric argument (constructor
/// parameter or settable property) has a domain, and every entry names a real argument, so a new argument cannot
/// be accepted unchecked (issue 14 item 5).
/// </summary>
public class ArgumentDomainTests
{
    private static readonly Type[] Numeric = { typeof(int), typeof(double), typeof(float), typeof(long), typeof(int[]), typeof(double[]) };

    private static IEnumerable<(string Attribute, string Argument)> NumericArguments()
    {
        foreach (Type type in typeof(Kiln.ModelAttribute).Assembly.GetExportedTypes())
        {
            if (type.Namespace != "Kiln" || type.IsAbstract || !typeof(Attribute).IsAssignableFrom(type)) continue;
            string name = type.Name.EndsWith("Attribute", StringComparison.Ordinal) ? type.Name[..^"Attribute".Length] : type.Name;
            foreach (ConstructorInfo ctor in type.GetConstructors())
                foreach (ParameterInfo p in ctor.GetParameters())
                    if (Numeric.Contains(p.ParameterType)) yield return (name, p.Name!);
            foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                if (p.SetMethod is { IsPublic: true } && Numeric.Contains(p.PropertyType)) yield return (name, p.Name);
        }
    }

    [Fact]
    public void Every_numeric_argument_of_every_attribute_has_a_domain()
    {
        var arguments = NumericArguments().ToArray();
        Assert.True(arguments.Length > 50, $"only {arguments.Length} numeric arguments found");
        string[] missing = arguments.Where(a => !ArgumentDomains.Table.ContainsKey(a)).Select(a => $"{a.Attribute}.{a.Argument}").Distinct().ToArray();
        Assert.True(missing.Length == 0, "Arguments without a domain in ArgumentDomains.Table: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_domain_names_a_real_argument()
    {
        var arguments = new HashSet<string>(NumericArguments().Select(a => a.Attribute + "." + a.Argument.ToLowerInvariant()), StringComparer.Ordinal);
        string[] stale = ArgumentDomains.Table.Keys.Select(k => k.Attribute + "." + k.Argument.ToLowerInvariant()).Where(k => !arguments.Contains(k)).ToArray();
        Assert.True(stale.Length == 0, "Domains for arguments that do not exist: " + string.Join(", ", stale));
    }
}
