using System;
using System.Collections.Generic;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generator.Layers;

/// <summary>
/// The activation shape after a layer, as the parser tracks it: (C, H, W) while spatial, and the floats per sample
/// (<see cref="Flat"/>; C after a GlobalAvgPool). Values of a layer with errors stay as they were.
/// </summary>
internal sealed class ActivationShape
{
    /// <summary>True while the activations are (C, H, W) images.</summary>
    public bool Spatial { get; set; }
    public int Channels { get; set; }
    public int Height { get; set; }
    public int Width { get; set; }
    /// <summary>Floats per sample.</summary>
    public int Flat { get; set; }
    /// <summary>Channels when spatial, features when flat: the width a per-channel layer (norms, PReLU) sees.</summary>
    public int ChannelCount => Spatial ? Channels : Flat;

    /// <summary>A copy (the shape before a layer, for its parameter count).</summary>
    public ActivationShape Copy() => new() { Spatial = Spatial, Channels = Channels, Height = Height, Width = Width, Flat = Flat };

    /// <summary>"C×H×W" or "N features".</summary>
    public string Describe() => Spatial ? $"{Channels}×{Height}×{Width}" : $"{Flat} features";
}

/// <summary>An open [Residual] block while the parser reads its branch.</summary>
internal sealed class OpenBlock
{
    public OpenBlock(string name, LocationInfo? location, ActivationShape shape, bool projection)
    {
        Name = name; Location = location; Shape = shape; Projection = projection;
    }
    public string Name { get; }
    public LocationInfo? Location { get; }
    /// <summary>The shape at the block's start (its shortcut).</summary>
    public ActivationShape Shape { get; }
    public bool Projection { get; }
}

/// <summary>
/// What a <see cref="LayerDefinition"/> reads while parsing one layer attribute: its arguments, where they were
/// written (for diagnostics on the exact argument), the shape so far and the layers before it.
/// </summary>
internal sealed class LayerReader
{
    public LayerReader(AttributeData data, AttributeSyntax? syntax, string attribute, string layerName, int index, List<DiagnosticInfo> diagnostics,
        ActivationShape shape, IReadOnlyList<LayerSpec> previous, int maxBatch, bool inputShapeValid, bool inputHasShape)
    {
        Data = data; Syntax = syntax; Attribute = attribute; LayerName = layerName; Index = index; Diagnostics = diagnostics;
        Shape = shape; Previous = previous; MaxBatch = maxBatch; InputShapeValid = inputShapeValid; InputHasShape = inputHasShape;
    }

    public AttributeData Data { get; }
    public AttributeSyntax? Syntax { get; }
    /// <summary>The attribute's name without "Attribute".</summary>
    public string Attribute { get; }
    /// <summary>The layer's name (explicit or default).</summary>
    public string LayerName { get; }
    /// <summary>Position in the layer list.</summary>
    public int Index { get; }
    public List<DiagnosticInfo> Diagnostics { get; }
    /// <summary>The shape of the layer's input; <see cref="LayerDefinition.Parse"/> leaves its output there.</summary>
    public ActivationShape Shape { get; }
    /// <summary>The layers parsed so far.</summary>
    public IReadOnlyList<LayerSpec> Previous { get; }
    /// <summary>[Model(MaxBatch)].</summary>
    public int MaxBatch { get; }
    /// <summary>True when the model declares a valid 2- or 3-dimensional InputShape (spatial shapes can be checked).</summary>
    public bool InputShapeValid { get; }
    /// <summary>True when the model declares an InputShape at all.</summary>
    public bool InputHasShape { get; }
    /// <summary>The [Residual] block open at this layer, if any (Residual and EndResidual set and clear it).</summary>
    public OpenBlock? Block { get; set; }

    public LocationInfo? Location => LocationInfo.From(Syntax);

    /// <summary>The arguments the layer's definition declares (<see cref="LayerDefinition.Arguments"/>); reads are checked against them.</summary>
    public IReadOnlyList<string> Declared { get; set; } = Array.Empty<string>();

    public int Int(string name, int fallback) => AttributeArguments.GetInt(Data, Checked(name), fallback);
    public double Double(string name, double fallback) => AttributeArguments.GetDouble(Data, Checked(name), fallback);
    public bool Bool(string name, bool fallback) => AttributeArguments.GetBool(Data, Checked(name), fallback);

    /// <summary>
    /// A read of an argument the definition does not declare is a bug in the generator (a renamed argument read under its
    /// old name would silently fall back to its default): it fails loudly in every test that parses the layer.
    /// </summary>
    private string Checked(string name)
    {
        foreach (string declared in Declared)
            if (string.Equals(declared, name, StringComparison.OrdinalIgnoreCase)) return name;
        throw new InvalidOperationException($"[{Attribute}] reads '{name}', which its layer definition does not declare.");
    }

    /// <summary>The argument's location (named, or at <paramref name="positional"/>), else the attribute's.</summary>
    public LocationInfo? At(string argument, int positional = -1) => AttributeArguments.ArgLocation(Syntax, argument, positional) ?? Location;

    /// <summary>Reports <paramref name="descriptor"/> on the attribute.</summary>
    public void Report(DiagnosticDescriptor descriptor, params object?[] args) => Diagnostics.Add(DiagnosticInfo.Create(descriptor, Location, args));

    /// <summary>Reports <paramref name="descriptor"/> at <paramref name="location"/>.</summary>
    public void ReportAt(DiagnosticDescriptor descriptor, LocationInfo? location, params object?[] args) => Diagnostics.Add(DiagnosticInfo.Create(descriptor, location, args));

    /// <summary>KLN0005 on the argument: <paramref name="value"/> is outside its domain.</summary>
    public void OutOfDomain(string argument, int positional, double value, string rule, string? shown = null) =>
        Diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, At(argument, positional), LayerName, shown ?? argument, value, rule));

    /// <summary>The value is emitted as a float: it must stay positive and finite after rounding.</summary>
    public void CheckPositive(string argument, double value, string rule)
    {
        if (!((float)value > 0) || float.IsInfinity((float)value))
            OutOfDomain(argument, -1, value, rule + (value > 0 ? " and representable as a float" : ""));
    }

    /// <summary>A finite float.</summary>
    public void CheckFloat(string argument, double value)
    {
        if (!AttributeArguments.IsFloat(value)) OutOfDomain(argument, -1, value, "it must be a finite number within float range");
    }

    /// <summary>LearningRateScale: a non-negative number (0 freezes the layer).</summary>
    public double LearningRateScale()
    {
        double scale = Double("LearningRateScale", 1.0);
        if (!(scale >= 0) || !AttributeArguments.IsFloat(scale))
            OutOfDomain("LearningRateScale", -1, scale, "it must be a non-negative number (0 freezes the layer)");
        return scale;
    }

    /// <summary>An enum argument that must be a declared member of <typeparamref name="TEnum"/> (the generator's mirror of the runtime enum).</summary>
    public TEnum Enum<TEnum>(string argument, string runtimeEnum) where TEnum : struct, Enum
    {
        int value = Int(argument, 0);
        if (System.Enum.IsDefined(typeof(TEnum), value)) return (TEnum)(object)value;
        OutOfDomain(argument, -1, value, $"it is not a member of Kiln.{runtimeEnum}");
        return default;
    }

    /// <summary>KLN0011 when the activations are not (C, H, W) images.</summary>
    public void RequireSpatial()
    {
        if (!Shape.Spatial)
            Report(Descriptors.SpatialLayerOnFlatInput, LayerName,
                InputHasShape ? "a flat input (it comes after Flatten, GlobalAvgPool or Dense)" : $"a flat input of {Shape.Flat} features");
    }
}
