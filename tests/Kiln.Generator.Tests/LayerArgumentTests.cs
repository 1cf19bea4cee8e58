using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Kiln.Generator.Layers;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Tests;

/// <summary>
/// The DSL and the generator cannot drift (issue 15 item 3): every layer definition declares exactly the arguments of its
/// runtime attribute (the parser refuses to read an undeclared one), every runtime attribute is read by the parser, and
/// the generator's mirror enums have the runtime enums' members and values.
/// </summary>
public class LayerArgumentTests
{
    private static readonly Assembly Runtime = typeof(Kiln.ModelAttribute).Assembly;

    private static Type RuntimeAttribute(string name) =>
        Runtime.GetType("Kiln." + name + "Attribute") ?? throw new InvalidOperationException($"Kiln.{name}Attribute not found in Kiln.Runtime");

    /// <summary>Constructor parameters and public properties (settable or not), as the parser reads them: ignoring case.</summary>
    private static SortedSet<string> RuntimeArguments(Type type)
    {
        var names = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (ConstructorInfo ctor in type.GetConstructors())
            foreach (ParameterInfo p in ctor.GetParameters()) names.Add(p.Name!);
        foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (p.Name != nameof(Attribute.TypeId)) names.Add(p.Name);
        return names;
    }

    [Fact]
    public void Every_layer_definition_declares_exactly_its_runtime_attributes_arguments()
    {
        var problems = new List<string>();
        foreach (LayerDefinition definition in LayerRegistry.All)
        {
            SortedSet<string> runtime = RuntimeArguments(RuntimeAttribute(definition.Attribute));
            var declared = new SortedSet<string>(definition.Arguments, StringComparer.OrdinalIgnoreCase);
            foreach (string missing in runtime.Where(a => !declared.Contains(a))) problems.Add($"{definition.Attribute}.{missing} is not read by the generator");
            foreach (string extra in declared.Where(a => !runtime.Contains(a))) problems.Add($"{definition.Attribute} reads '{extra}', which Kiln.{definition.Attribute}Attribute does not declare");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Every_runtime_attribute_is_read_by_the_parser()
    {
        string[] unread = Runtime.GetExportedTypes()
            .Where(t => t.Namespace == "Kiln" && !t.IsAbstract && typeof(Attribute).IsAssignableFrom(t) && t.Name.EndsWith("Attribute", StringComparison.Ordinal))
            .Select(t => t.Name[..^"Attribute".Length])
            .Where(n => !(n == "Model" || ModelSpecParser.IsLayer(n) || ModelSpecParser.IsLoss(n) || ModelSpecParser.IsOptimizer(n)
                || ModelSpecParser.IsPenalty(n) || ModelSpecParser.IsSchedule(n) || ModelSpecParser.IsModelSwitch(n) || n is "ClipGradientNorm" or "ClipGradientValue"))
            .ToArray();
        Assert.True(unread.Length == 0, "Attributes of Kiln.Runtime the parser ignores: " + string.Join(", ", unread));
    }

    [Fact]
    public void A_read_of_an_undeclared_argument_fails_loudly()
    {
        var reader = new LayerReader(null!, null, "Dense", "dense0", 0, new List<DiagnosticInfo>(), new ActivationShape(), Array.Empty<LayerSpec>(), 1, false, false)
        {
            Declared = new[] { "units" },
        };
        Assert.Throws<InvalidOperationException>(() => reader.Int("filters", 0));
        Assert.Equal(0, reader.Int("UNITS", 0) - reader.Int("units", 0));
    }

    public static IEnumerable<object[]> Mirrors() => new[]
    {
        new object[] { typeof(InitKind), typeof(Kiln.Init) },
        new object[] { typeof(DropoutScalingKind), typeof(Kiln.DropoutScaling) },
        new object[] { typeof(InputNormalizationKind), typeof(Kiln.InputNormalization) },
        new object[] { typeof(LayerKind), typeof(Kiln.Interop.ArchitectureLayerKind) },
        new object[] { typeof(LossKind), typeof(Kiln.LossKind) },
    };

    [Theory]
    [MemberData(nameof(Mirrors))]
    public void Mirror_enums_match_the_runtime(Type mirror, Type runtime)
    {
        string Describe(Type t) => string.Join(", ", Enum.GetNames(t).Select(n => $"{n}={Convert.ToInt64(Enum.Parse(t, n))}"));
        Assert.Equal(Describe(runtime), Describe(mirror));
    }

    [Fact]
    public void Activation_kinds_match_the_runtime_activation_functions()
    {
        // The generator's ActivationKind has Identity for "no activation"; every other member is a runtime activation.
        string[] mirror = Enum.GetNames(typeof(ActivationKind)).Where(n => n != "Identity").ToArray();
        string[] runtime = Enum.GetNames(typeof(Kiln.Interop.ActivationFunction)).Where(n => n != "Identity").ToArray();
        Assert.Equal(runtime, mirror);
    }
}
