using System.Collections.Immutable;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0103 (pitfall 3): the last layer is Softmax and the loss is SoftmaxCrossEntropy, or the last layer is
/// Sigmoid and the loss is BinaryCrossEntropy (which fuses the sigmoid). Fix: remove the layer.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DoubleSquashingAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.DoubleSquashing;

    /// <summary>True when the last layer is the squashing function the loss applies itself.</summary>
    public static bool IsDoubled(ModelSpec spec)
    {
        if (spec.Loss is null || spec.Layers.Count == 0) return false;
        LayerSpec last = spec.Layers[spec.Layers.Count - 1];
        if (last.Kind != LayerKind.Activation) return false;
        return (last.Activation == ActivationKind.Softmax && spec.Loss.Kind == LossKind.SoftmaxCrossEntropy)
            || (last.Activation == ActivationKind.Sigmoid && spec.Loss.Kind == LossKind.BinaryCrossEntropy);
    }

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (!IsDoubled(spec)) return;
        int index = spec.Layers.Count - 1;
        LayerSpec last = spec.Layers[index];
        string function = last.Activation == ActivationKind.Softmax ? "softmax" : "sigmoid";
        context.Report(Rule, context.Layer(index)?.GetLocation(), ImmutableDictionary<string, string?>.Empty.Add("Fix", "RemoveLayer"),
            last.Name, function, spec.Loss!.Kind.ToString());
    }
}
