using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0116 (pitfall 16): a model with the [Lbfgs] optimiser and a Dropout layer with a positive rate (the noise source the
/// spec declares; augmentation and mini-batching happen in user code). Reported on each such Dropout.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LbfgsWithNoiseAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.LbfgsWithNoise;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        if (spec.Optimizer?.Kind != OptimizerKind.Lbfgs) return;
        for (int i = 0; i < spec.Layers.Count; i++)
            if (spec.Layers[i].Kind == LayerKind.Dropout && spec.Layers[i].Rate > 0)
                context.Report(Rule, context.Layer(i)?.GetLocation(), spec.Layers[i].Name);
    }
}
