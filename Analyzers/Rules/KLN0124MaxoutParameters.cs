using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0124 (pitfall 24): every Maxout(k) layer, reported on its pieces argument, naming the Dense/Conv2D before it whose
/// outputs (and so weights) it multiplies by k. Advice, not a bug: the info says what the layer costs.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MaxoutParametersAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.MaxoutParameters;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 1; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind != LayerKind.Maxout) continue;
            LayerSpec linear = spec.Layers[i - 1]; // the parser requires Maxout right after its Dense or Conv2D
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "pieces", 0), layer.Name, SpecQueries.Pieces(layer), linear.Name);
        }
    }
}
