using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0108 (pitfall 8): a Dense layer with a bias (the default) immediately followed by BatchNorm.
/// Reported on the <c>Bias = true</c> argument when written, else on the Dense attribute.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BiasBeforeBatchNormAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.BiasBeforeBatchNorm;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 0; i + 1 < spec.Layers.Count; i++)
        {
            LayerSpec dense = spec.Layers[i];
            if (dense.Kind != LayerKind.Dense || !dense.Bias || spec.Layers[i + 1].Kind != LayerKind.BatchNorm) continue;
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "Bias"), dense.Name, spec.Layers[i + 1].Name);
        }
    }
}
