using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>KLN0111 (pitfall 11): a Dropout whose rate (drop probability) is in (0.5, 1). Rates ≥ 1 are KLN0008 errors.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HighDropoutRateAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.HighDropoutRate;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind != LayerKind.Dropout || !(layer.Rate > 0.5 && layer.Rate < 1)) continue;
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "rate", 0), layer.Name, SpecQueries.Number(layer.Rate));
        }
    }
}
