using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>
/// Every layer kind of the DSL, one entry per attribute. The parser recognises a layer attribute by finding it here;
/// nothing else lists layer names. To add a kind, add its file to Generator/Layers and its instance to <see cref="All"/>
/// (docs/architecture.md#adding-a-layer-kind).
/// </summary>
internal static class LayerRegistry
{
    /// <summary>One definition per layer attribute.</summary>
    public static readonly LayerDefinition[] All =
    {
        new Dense(),
        new Conv2D(),
        new BatchNorm(),
        new Dropout(),
        new AlphaDropout(),
        new ScalarBias(),
        new Multiplier(),
        new Flatten(),
        new MaxPool(),
        new AvgPool(),
        new GlobalAvgPool(),
        new FractionalMaxPool(),
        new LayerNorm(),
        new InstanceNorm(),
        new GroupNorm(),
        new Maxout(),
        new Residual(),
        new EndResidual(),
        new Activation(ActivationKind.Sigmoid),
        new Activation(ActivationKind.Tanh),
        new Activation(ActivationKind.ReLU),
        new Activation(ActivationKind.LeakyReLU, alphaArgument: "Alpha", defaultAlpha: 0.01),
        new PReLU(),
        new Activation(ActivationKind.ELU, alphaArgument: "Alpha", defaultAlpha: 1.0),
        new Activation(ActivationKind.SELU),
        new Activation(ActivationKind.Swish, alphaArgument: "Beta", defaultAlpha: 1.0),
        new Activation(ActivationKind.GELU),
        new Activation(ActivationKind.Softmax),
    };

    private static readonly Dictionary<string, LayerDefinition> s_byAttribute = All.ToDictionary(d => d.Attribute, StringComparer.Ordinal);

    /// <summary>The definition of the layer attribute <paramref name="attribute"/> (class name without "Attribute"), or null.</summary>
    public static LayerDefinition? Find(string attribute) => s_byAttribute.TryGetValue(attribute, out LayerDefinition? d) ? d : null;

    /// <summary>True when <paramref name="attribute"/> declares a layer.</summary>
    public static bool IsLayer(string attribute) => s_byAttribute.ContainsKey(attribute);

    /// <summary>The definition that parsed <paramref name="layer"/>.</summary>
    public static LayerDefinition Of(LayerSpec layer) =>
        layer.Kind == LayerKind.Activation ? s_byAttribute[layer.Activation.ToString()] : All.First(d => d.Kind == layer.Kind);
}
