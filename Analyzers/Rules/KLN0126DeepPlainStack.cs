using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0126 (pitfall 26): at least <see cref="DeepPlainCount"/> weighted layers (Dense and Conv2D) with no normalisation
/// layer (BatchNorm, LayerNorm, InstanceNorm, GroupNorm) and no residual block. Exempt: self-normalising networks, where
/// every hidden weighted layer feeds a SELU (that is what SELU is for); stacks whose every hidden weighted layer is
/// Init.Orthogonal with the right gain; and models the code initialises with LSUV (<see cref="LsuvUses"/>). Reported once,
/// on [Model].
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
        if (SelfNormalising(spec) || Isometric(spec)) return;
        // LSUV (Mishkin & Matas) sets every layer's output to unit variance before training: the signal neither collapses
        // nor explodes through the stack at the start (docs/training.md).
        if (context.UsesLsuv()) return;
        context.Report(Rule, context.Syntax.Model?.GetLocation(), spec.ClassName, weighted);
    }

    /// <summary>
    /// True when every hidden weighted layer is initialised orthogonally with the right gain (√2 before the ReLU family, 1
    /// otherwise): each layer then keeps the norm of the signal and of its gradient at the start (Saxe et al.).
    /// </summary>
    private static bool Isometric(ModelSpec spec)
    {
        int output = SpecQueries.LastWeighted(spec);
        for (int i = 0; i < output; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (!SpecQueries.IsWeighted(layer)) continue;
            int next = SpecQueries.NextActivation(spec, i);
            bool relu = next >= 0 && SpecQueries.IsReLUFamily(spec.Layers[next].Activation);
            if (layer.Init != InitKind.Orthogonal || !SpecQueries.HasRightOrthogonalGain(layer, relu)) return false;
        }
        return true;
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
