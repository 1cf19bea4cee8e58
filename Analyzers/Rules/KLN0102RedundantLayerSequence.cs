using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0102 (pitfall 2), decided from what each layer computes:
/// <list type="bullet">
/// <item>an activation whose previous non-linearity (an activation or Maxout) is separated from it only by Dropout,
/// Flatten or pooling (no learned layer between): the two compose into one unintended non-linearity;</item>
/// <item>a weighted layer (Dense or Conv2D) whose previous weighted layer is separated from it only by linear maps
/// (BatchNorm, which is affine at inference, Dropout, Flatten, average pooling): the two collapse into one linear map.
/// Max pooling, the per-sample normalisations (they divide by a per-sample statistic) and residual markers (the next
/// layer sees the sum with the shortcut) are not linear and end the search.</item>
/// </list>
/// Reported on the second layer of the pair.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RedundantLayerSequenceAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.RedundantLayerSequence;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 1; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (SpecQueries.IsActivation(layer))
            {
                int previous = i - 1;
                while (previous >= 0 && (spec.Layers[previous].Kind is LayerKind.Dropout or LayerKind.Flatten || SpecQueries.IsPooling(spec.Layers[previous]))) previous--;
                if (previous < 0 || !SpecQueries.IsNonLinearity(spec.Layers[previous])) continue;
                string what = spec.Layers[previous].Kind == LayerKind.Maxout ? "the Maxout" : "the activation";
                context.Report(Rule, context.Layer(i)?.GetLocation(), layer.Name,
                    $"follows {what} '{spec.Layers[previous].Name}' with no learned layer between them: two non-linearities in a row compose into one unintended non-linearity; keep one of them");
            }
            else if (SpecQueries.IsWeighted(layer))
            {
                int previous = i - 1;
                while (previous >= 0 && (spec.Layers[previous].Kind == LayerKind.BatchNorm || SpecQueries.IsLinearPassThrough(spec.Layers[previous]))) previous--;
                if (previous < 0 || !SpecQueries.IsWeighted(spec.Layers[previous])) continue;
                LayerSpec first = spec.Layers[previous];
                string map = first.Kind == LayerKind.Conv2D && layer.Kind == LayerKind.Conv2D ? "one larger convolution" : "one linear map (W1·W2)";
                context.Report(Rule, context.Layer(i)?.GetLocation(), layer.Name,
                    $"follows the {SpecQueries.Describe(first)} '{first.Name}' with no non-linearity between them: two linear layers collapse into {map}; add a non-linearity such as ReLU");
            }
        }
    }
}
