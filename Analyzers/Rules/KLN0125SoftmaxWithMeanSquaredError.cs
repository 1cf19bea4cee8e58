using System.Collections.Immutable;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0125 (pitfall 25): the model ends in a Softmax layer over at least two outputs and is trained with
/// MeanSquaredError. A softmax output is a distribution over classes, so the model is a classifier, and the loss that
/// matches it is SoftmaxCrossEntropy, which takes the same float targets (one-hot or soft rows) and makes Predict return
/// the same probabilities. Reported on the Softmax layer; the code fix removes it and replaces the loss.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SoftmaxWithMeanSquaredErrorAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.SoftmaxWithMeanSquaredError;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (spec.Loss?.Kind != LossKind.MeanSquaredError || spec.Layers.Count == 0) return;
        int index = spec.Layers.Count - 1;
        LayerSpec last = spec.Layers[index];
        if (last.Kind != LayerKind.Activation || last.Activation != ActivationKind.Softmax) return;
        if (SpecQueries.InputShapes(context.Parsed)[index].Flat < 2) return; // one output: softmax is constant, a different mistake
        context.Report(Rule, context.Layer(index)?.GetLocation(), ImmutableDictionary<string, string?>.Empty.Add("Fix", "SoftmaxCrossEntropy"),
            last.Name);
    }
}
