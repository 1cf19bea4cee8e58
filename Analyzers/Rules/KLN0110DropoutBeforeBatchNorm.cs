using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0110 (pitfall 10): a Dropout whose output reaches a BatchNorm through layers that keep its variance shift:
/// activations, other dropouts, Flatten and pooling (in a dense head or a conv block alike). A weighted layer (Dense or
/// Conv2D) in between ends the search: the cross-layer variance shift is real but small for usual rates, and flagging
/// it would flag the canonical Dense/Conv-BN-ReLU-Dropout stack. A per-sample normalisation (LayerNorm, InstanceNorm,
/// GroupNorm) also ends it: it renormalises every sample the same way in training and at test, so the shift is gone;
/// and so do residual markers (the BatchNorm after a block sees the sum with the shortcut, and moving the dropout
/// across the marker would change the block). The per-sample normalisations themselves are never reported: they keep
/// no running statistics. The code fix moves the dropout after the BatchNorm (and after the activation right after it).
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
            if (SpecQueries.IsWeighted(layer) || layer.IsSampleNorm || layer.Kind is LayerKind.Residual or LayerKind.EndResidual) return -1;
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
