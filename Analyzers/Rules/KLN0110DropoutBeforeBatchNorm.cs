using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0110 (pitfall 10): a Dropout followed by a BatchNorm with only activations or other dropouts between
/// them. A Dense (or Flatten) in between ends the search: the cross-layer variance shift is real but
/// small for usual rates, and flagging it would flag the canonical Dense-BN-ReLU-Dropout stack.
/// The code fix moves the dropout after the BatchNorm (and after the activation right after it).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DropoutBeforeBatchNormAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.DropoutBeforeBatchNorm;

    /// <summary>Index of the BatchNorm that the dropout at <paramref name="dropout"/> feeds, or −1.</summary>
    public static int FollowingBatchNorm(ModelSpec spec, int dropout)
    {
        for (int i = dropout + 1; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind == LayerKind.BatchNorm) return i;
            if (layer.Kind is LayerKind.Dense or LayerKind.Flatten) return -1;
        }
        return -1;
    }

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            if (spec.Layers[i].Kind != LayerKind.Dropout) continue;
            int bn = FollowingBatchNorm(spec, i);
            if (bn < 0) continue;
            context.Report(Rule, context.Layer(i)?.GetLocation(), spec.Layers[i].Name, spec.Layers[bn].Name);
        }
    }
}
