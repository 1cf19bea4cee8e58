using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0109 (pitfall 9): a BatchNorm directly after an activation that itself follows a Dense layer
/// (Dense → activation → BatchNorm). Info: some practitioners prefer it; the catalogue's order is
/// Dense → BatchNorm → activation. The code fix swaps the two layers.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BatchNormAfterActivationAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.BatchNormAfterActivation;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 2; i < spec.Layers.Count; i++)
        {
            if (spec.Layers[i].Kind != LayerKind.BatchNorm) continue;
            LayerSpec previous = spec.Layers[i - 1];
            if (!SpecQueries.IsActivation(previous) || spec.Layers[i - 2].Kind != LayerKind.Dense) continue;
            context.Report(Rule, context.Layer(i)?.GetLocation(), spec.Layers[i].Name, previous.Name);
        }
    }
}
