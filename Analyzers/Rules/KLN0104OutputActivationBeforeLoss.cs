using System.Collections.Immutable;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0104 (pitfall 4): an activation after the output layer (the last weighted layer; a Dense layer, as the parser
/// requires one and nothing spatial can follow it). For the classification losses
/// (SoftmaxCrossEntropy, MulticlassHinge, BinaryCrossEntropy) every activation there is flagged except the
/// doubled softmax/sigmoid that KLN0103 reports; for MeanSquaredError only ReLU (outputs stuck at 0 get no
/// gradient; bounded activations can be intended for bounded targets).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OutputActivationBeforeLossAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.OutputActivationBeforeLoss;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (spec.Loss is null) return;
        int output = SpecQueries.LastWeighted(spec);
        if (output < 0) return;
        bool doubled = DoubleSquashingAnalyzer.IsDoubled(spec);
        for (int i = output + 1; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (!SpecQueries.IsActivation(layer)) continue;
            if (doubled && i == spec.Layers.Count - 1) continue; // KLN0103
            string? why = Reason(layer.Activation, spec.Loss.Kind);
            if (why is null) continue;
            context.Report(Rule, context.Layer(i)?.GetLocation(), ImmutableDictionary<string, string?>.Empty.Add("Fix", "RemoveLayer"),
                layer.Name, SpecQueries.Name(layer.Activation), spec.Loss.Kind.ToString(), why);
        }
    }

    private static string? Reason(ActivationKind activation, LossKind loss)
    {
        if (loss == LossKind.MeanSquaredError)
            return activation == ActivationKind.ReLU
                ? "ReLU outputs cannot go below 0 and an output stuck at 0 gets no gradient (dead output); regression outputs should be the raw Dense values"
                : null;
        return activation switch
        {
            ActivationKind.Softmax => "the loss expects raw scores, but softmax squeezes them into probabilities in [0, 1], so the margin or target can hardly be reached and gradients shrink",
            ActivationKind.Sigmoid or ActivationKind.Tanh => $"the loss expects raw scores (logits), but {activation} bounds them, so the loss cannot approach its minimum and gradients vanish as it saturates",
            _ => $"the loss expects raw scores (logits), but {activation} bends or clips the negative ones, so those classes get little or no gradient; remove it",
        };
    }
}
