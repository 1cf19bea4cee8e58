using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0102 (pitfall 2): an activation whose previous non-Dropout layer is also an activation; a Dense whose
/// previous Dense is separated from it only by BatchNorm, Dropout or Flatten (no non-linearity: the two
/// collapse into one linear map). Reported on the second layer of the pair.
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
                while (previous >= 0 && spec.Layers[previous].Kind == LayerKind.Dropout) previous--;
                if (previous >= 0 && SpecQueries.IsActivation(spec.Layers[previous]))
                    context.Report(Rule, context.Layer(i)?.GetLocation(), layer.Name,
                        $"follows the activation '{spec.Layers[previous].Name}' directly: two activations in a row compose into one unintended non-linearity; keep one of them");
            }
            else if (layer.Kind == LayerKind.Dense)
            {
                int previous = i - 1;
                while (previous >= 0 && spec.Layers[previous].Kind is LayerKind.BatchNorm or LayerKind.Dropout or LayerKind.Flatten) previous--;
                if (previous >= 0 && spec.Layers[previous].Kind == LayerKind.Dense)
                    context.Report(Rule, context.Layer(i)?.GetLocation(), layer.Name,
                        $"follows the Dense layer '{spec.Layers[previous].Name}' with no activation between them: two linear layers collapse into one linear map (W1·W2); add a non-linearity such as ReLU");
            }
        }
    }
}
