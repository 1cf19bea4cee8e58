using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0109 (pitfall 9): a normalisation directly after an activation that itself follows a weighted layer
/// (Dense or Conv2D → activation → BatchNorm). Info: some practitioners prefer it; the catalogue's order is
/// weighted layer → normalisation → activation, so the non-linearity sees normalised inputs. BatchNorm, InstanceNorm
/// and GroupNorm are reported (the conv-block normalisations; BatchNorm then also folds into the layer at inference);
/// LayerNorm is not, its place around activations being a matter of architecture (pre- or post-norm). The code fix
/// swaps the two layers.
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
            LayerSpec norm = spec.Layers[i];
            if (norm.Kind is not (LayerKind.BatchNorm or LayerKind.InstanceNorm or LayerKind.GroupNorm)) continue;
            LayerSpec previous = spec.Layers[i - 1];
            if (!SpecQueries.IsActivation(previous) || !SpecQueries.IsWeighted(spec.Layers[i - 2])) continue;
            string folds = norm.Kind == LayerKind.BatchNorm ? " (and then folds into it at inference)" : "";
            context.Report(Rule, context.Layer(i)?.GetLocation(), norm.Name, previous.Name, norm.Kind.ToString(), SpecQueries.Describe(spec.Layers[i - 2]), folds);
        }
    }
}
