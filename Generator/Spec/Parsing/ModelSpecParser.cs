using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Kiln.Generator.Layers;
using static Kiln.Generator.Spec.AttributeArguments;

namespace Kiln.Generator.Spec;

/// <summary>The spec of a model plus what was wrong with it; <see cref="Spec"/> is null when the model cannot be built.</summary>
public sealed record ParseResult(ModelSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// The one parser of the DSL: attributes on a class symbol → <see cref="ModelSpec"/>, with every
/// spec-validity error located on the offending attribute or argument. Shared by the generator and
/// the analyzers. It never throws on incomplete code: unknown or erroneous attributes are skipped
/// (the compiler reports those).
/// </summary>
public static partial class ModelSpecParser
{
    public const string Namespace = "Kiln";
    public const string ModelAttributeName = "Kiln.ModelAttribute";

    /// <summary>One attribute of the list, in source order, with its syntax for locations.</summary>
    private sealed class Item
    {
        public Item(AttributeData data, AttributeSyntax? syntax, string name) { Data = data; Syntax = syntax; Name = name; }
        public AttributeData Data { get; }
        public AttributeSyntax? Syntax { get; }
        /// <summary>Attribute class name without the "Attribute" suffix, e.g. "Dense".</summary>
        public string Name { get; }
        public LocationInfo? Location => LocationInfo.From(Syntax);
    }

    /// <summary>The generator's entry point: the spec (null when invalid) and the spec-validity diagnostics.</summary>
    public static ParseResult Parse(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        ParseDetailed(type, cancellationToken).Result;

    /// <summary>
    /// The analyzers' entry point: the same parse, plus the best-effort spec (built even when the model
    /// has spec-validity errors) and the syntax of every attribute. The extra parts hold syntax, so
    /// they never enter the generator's incremental pipeline (which carries <see cref="ParseResult"/> only).
    /// </summary>
    public static ParsedModel ParseDetailed(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        new ModelParse(type, cancellationToken).Run();

    /// <summary>
    /// Why a type that is not a plain class cannot be a model, or null. A record would copy models with
    /// <c>with</c> (sharing the weight arrays) and compare them by value; a struct would copy them on every
    /// assignment; a file-local type cannot have its generated part in another file.
    /// </summary>
    private static string? UnsupportedKind(INamedTypeSymbol type)
    {
        if (type.IsRecord) return "a record cannot be a model (records copy with 'with' and compare by value, which would share or compare the weight arrays); declare a 'partial class'";
        if (type.TypeKind != TypeKind.Class) return $"a {type.TypeKind.ToString().ToLowerInvariant()} cannot be a model; declare a 'partial class'";
        if (type.IsFileLocal) return "a file-local type cannot be a model (its generated part lives in another file); remove the 'file' modifier";
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            if (outer.IsFileLocal) return $"the containing type '{outer.Name}' is file-local (the generated part lives in another file)";
        for (INamedTypeSymbol? b = type.BaseType; b is not null && b.SpecialType != SpecialType.System_Object; b = b.BaseType)
            if (HasModelAttribute(b))
                return $"it derives from the model '{b.Name}', whose generated members it would hide; use composition (a field of that model) instead";
        return null;
    }

    /// <summary>True for Kiln.ModelAttribute (compared by name: no display string is built for each attribute).</summary>
    public static bool IsModelAttribute(INamedTypeSymbol? attributeClass) =>
        attributeClass is { Name: "ModelAttribute", Arity: 0, ContainingType: null } && IsKilnNamespace(attributeClass.ContainingNamespace);

    /// <summary>True when <paramref name="type"/> carries [Model].</summary>
    public static bool HasModelAttribute(INamedTypeSymbol type)
    {
        foreach (AttributeData attribute in type.GetAttributes())
            if (IsModelAttribute(attribute.AttributeClass)) return true;
        return false;
    }

    /// <summary>The namespace Kiln itself (not a namespace nested in it, not another Kiln nested elsewhere).</summary>
    public static bool IsKilnNamespace(INamespaceSymbol? ns) => ns is { Name: Namespace, ContainingNamespace.IsGlobalNamespace: true };

    /// <summary>The namespace of <paramref name="type"/> as plain dotted names (no '@'), "" for the global namespace.</summary>
    private static string NamespaceName(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (INamespaceSymbol? ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace) parts.Insert(0, ns.Name);
        return string.Join(".", parts);
    }

    /// <summary>Letters, digits, '_', '.', '-', starting with a letter or '_': safe in checkpoints and in generated literals.</summary>
    public static bool IsValidLayerName(string name)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_')) return false;
        foreach (char c in name)
            if (!(c < 128 && (char.IsLetterOrDigit(c) || c is '_' or '.' or '-'))) return false;
        return true;
    }

    private static LocationInfo? LayerLocation(List<Item> items, LayerSpec layer)
    {
        int seen = 0;
        foreach (Item item in items)
        {
            if (!IsLayer(item.Name)) continue;
            if (seen++ == layer.Index) return item.Location;
        }
        return null;
    }

    public static bool IsLoss(string name) => name is "SoftmaxCrossEntropy" or "MulticlassHinge" or "BinaryCrossEntropy" or "MeanSquaredError";

    public static bool IsOptimizer(string name) => name is "Sgd" or "Momentum" or "Nesterov" or "AdaGrad" or "RMSProp" or "Adam" or "AdamW" or "Lbfgs";

    public static bool IsPenalty(string name) => name is "L2" or "L1" or "ElasticNet" or "WeightDecay";

    public static bool IsSchedule(string name) => name is "ConstantSchedule" or "StepDecay" or "CosineDecay" or "LinearDecay" or "InverseSqrtDecay"
        or "WarmRestarts" or "Warmup" or "ReduceOnPlateau";

    /// <summary>True when <paramref name="name"/> (an attribute name without "Attribute") declares a layer (see <see cref="LayerRegistry"/>).</summary>
    public static bool IsLayer(string name) => LayerRegistry.IsLayer(name);

    /// <summary>Attributes that switch a whole-model technique on ([Fixup], docs/techniques.md#initialisation).</summary>
    public static bool IsModelSwitch(string name) => name is "Fixup";

    /// <summary>Location of a named argument (or the positional one), for diagnostics on the exact argument.</summary>
    private static LocationInfo? ArgLocation(Item item, string name, int positional = -1) => AttributeArguments.ArgLocation(item.Syntax, name, positional);

    /// <summary>
    /// The layer's name: Name = "…" (checked: a valid identifier-like name, unique, and unique as a generated member name),
    /// or the kind's prefix and a counter (dense0, conv1, bn0, …).
    /// </summary>
    private static string LayerName(Item item, LayerDefinition definition, Dictionary<string, int> counters, HashSet<string> usedNames,
        HashSet<string> usedIdentifiers, List<DiagnosticInfo> diagnostics)
    {
        string? explicitName = GetString(item.Data, "Name");
        string prefix = definition.NamePrefix;
        counters.TryGetValue(prefix, out int ordinal);
        counters[prefix] = ordinal + 1;
        string layerName = explicitName ?? prefix + ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (explicitName is not null && !IsValidLayerName(explicitName))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, ArgLocation(item, "Name") ?? item.Location, item.Name,
                $"layer name '{explicitName}' must start with a letter or '_' and contain only letters, digits, '_', '.' or '-'"));
        else if (!usedNames.Add(layerName))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, ArgLocation(item, "Name") ?? item.Location, layerName,
                "another layer already has this name; names must be unique (they key checkpoints)"));
        else if (!usedIdentifiers.Add(SpecNaming.Pascal(layerName)))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, ArgLocation(item, "Name") ?? item.Location, layerName,
                $"this name maps to the same generated member names ({SpecNaming.Pascal(layerName)}…) as another layer; choose a more distinct name"));
        return layerName;
    }
}
