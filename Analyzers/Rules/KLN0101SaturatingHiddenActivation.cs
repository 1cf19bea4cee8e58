using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0101 (pitfall 1): a Sigmoid or Tanh layer with a weighted layer (Dense or Conv2D) after it is a hidden activation,
/// whether it follows a Dense layer, a convolution or sits inside a residual branch: its derivative still multiplies
/// every gradient that flows back to the layers before it. Sigmoid/Tanh after the last weighted layer (an output
/// activation) are left to KLN0103/KLN0104.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SaturatingHiddenActivationAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.SaturatingHiddenActivation;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind != LayerKind.Activation || !SpecQueries.IsSaturating(layer.Activation) || !SpecQueries.HasWeightedAfter(spec, i)) continue;
            string why = layer.Activation == ActivationKind.Sigmoid
                ? "σ′ ≤ 0.25 and ≈ 0 for |x| > 5, and its output is not zero-centred"
                : "tanh′ ≈ 0 for |x| > 3";
            context.Report(Rule, context.Layer(i)?.GetLocation(), layer.Name, SpecQueries.Name(layer.Activation), why);
        }
    }
}
