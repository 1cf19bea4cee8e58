using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0126 (pitfall 26): at least <see cref="DeepPlainCount"/> weighted layers (Dense and Conv2D) with no normalisation
/// layer (BatchNorm, LayerNorm, InstanceNorm, GroupNorm) and no residual block. Exempt: self-normalising networks, where
/// every hidden weighted layer feeds a SELU (that is what SELU is for). Reported once, on [Model].
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DeepPlainStackAnalyzer : SpecRuleAnalyzer
{
    /// <summary>"Deep": this many weighted layers or more.</summary>
    public const int DeepPlainCount = 10;

    public override DiagnosticDescriptor Rule => Descriptors.DeepPlainStack;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        int weighted = SpecQueries.WeightedCount(spec);
        if (weighted < DeepPlainCount || SpecQueries.HasResidual(spec)) return;
        foreach (LayerSpec layer in spec.Layers)
            if (SpecQueries.IsNormalization(layer)) return;
        if (SelfNormalising(spec)) return;
        context.Report(Rule, context.Syntax.Model?.GetLocation(), spec.ClassName, weighted);
    }

    /// <summary>True when every hidden weighted layer is followed by SELU.</summary>
    private static bool SelfNormalising(ModelSpec spec)
    {
        int output = SpecQueries.LastWeighted(spec);
        for (int i = 0; i < output; i++)
        {
            if (!SpecQueries.IsWeighted(spec.Layers[i])) continue;
            int next = SpecQueries.NextActivation(spec, i);
            if (next < 0 || spec.Layers[next].Activation != ActivationKind.SELU) return false;
        }
        return true;
    }
}
