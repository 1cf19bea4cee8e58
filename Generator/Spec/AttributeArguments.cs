using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generator.Spec;

/// <summary>
/// Reading attribute arguments: constructor parameters by name (ignoring case), then named properties. Every name
/// passed here is a <c>nameof</c> of the runtime's attribute members (linked into the generator, see
/// Generator/Kiln.Generator.csproj), so renaming a DSL argument breaks the build instead of falling back to a default.
/// </summary>
public static class AttributeArguments
{
    private static TypedConstant? Find(AttributeData? data, string name)
    {
        if (data is null) return null;
        foreach (KeyValuePair<string, TypedConstant> pair in data.NamedArguments)
            if (pair.Key == name) return pair.Value;
        IMethodSymbol? ctor = data.AttributeConstructor;
        if (ctor is not null)
            for (int i = 0; i < ctor.Parameters.Length && i < data.ConstructorArguments.Length; i++)
                if (string.Equals(ctor.Parameters[i].Name, name, StringComparison.OrdinalIgnoreCase)) return data.ConstructorArguments[i];
        return null;
    }

    /// <summary>An int argument, or <paramref name="fallback"/> when it is not written.</summary>
    public static int GetInt(AttributeData? d, string name, int fallback) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: { } v } ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>An int argument, or null when it is not written.</summary>
    public static int? GetNullableInt(AttributeData? d, string name) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: { } v } ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>A floating-point argument, or <paramref name="fallback"/>.</summary>
    public static double GetDouble(AttributeData? d, string name, double fallback) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: { } v } ? Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>A bool argument, or <paramref name="fallback"/>.</summary>
    public static bool GetBool(AttributeData? d, string name, bool fallback) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: bool v } ? v : fallback;

    /// <summary>A string argument, or null.</summary>
    public static string? GetString(AttributeData? d, string name) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: string v } ? v : null;

    /// <summary>An int[] argument, or an empty array.</summary>
    public static int[] GetIntArray(AttributeData? d, string name)
    {
        if (Find(d, name) is not { Kind: TypedConstantKind.Array } array || array.IsNull) return Array.Empty<int>();
        return array.Values.Where(v => v.Value is int).Select(v => (int)v.Value!).ToArray();
    }

    /// <summary>Location of a named argument (or the positional one), for diagnostics on the exact argument.</summary>
    public static LocationInfo? ArgLocation(AttributeSyntax? syntax, string name, int positional = -1) =>
        ModelSyntax.Argument(syntax, name, positional) is { } argument ? LocationInfo.From(argument) : null;

    /// <summary>True for a finite value within float range.</summary>
    public static bool IsFloat(double value) => !double.IsNaN(value) && Math.Abs(value) <= float.MaxValue;
}
