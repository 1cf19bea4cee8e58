using System;

namespace Kiln;

// Penalties and gradient clipping (docs/techniques.md#regularisation). They are applied inside the fused update: one pass
// over each parameter panel adds the penalty gradient, applies the clipping scale, updates the
// optimiser state and writes the new weight.

/// <summary>Which parameters a penalty applies to.</summary>
public enum PenaltyTarget
{
    /// <summary>Dense weights only: no decay on biases, BatchNorm γ/β or PReLU α (the usual rule).</summary>
    Weights = 0,
    /// <summary>Every trainable tensor.</summary>
    All,
}

/// <summary>Base of the penalty attributes.</summary>
public abstract class PenaltyAttribute : Attribute
{
    /// <summary>Which tensors the penalty applies to (default: weights only, not biases or normalisation parameters).</summary>
    public PenaltyTarget ApplyTo { get; set; } = PenaltyTarget.Weights;
}

/// <summary>L2: the loss adds λ·ΣW², the gradient 2λW (update p −= η(∂L/∂p + 2λp)). Try 1e-4 or 1e-3.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class L2Attribute : PenaltyAttribute
{
    /// <summary>An L2 penalty of strength <paramref name="lambda"/>.</summary>
    public L2Attribute(double lambda) => Lambda = lambda;
    /// <summary>The strength λ.</summary>
    public double Lambda { get; }
}

/// <summary>L1: the loss adds λ·Σ|W|, the gradient λ·sign(W).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class L1Attribute : PenaltyAttribute
{
    /// <summary>An L1 penalty of strength <paramref name="lambda"/>.</summary>
    public L1Attribute(double lambda) => Lambda = lambda;
    /// <summary>The strength λ.</summary>
    public double Lambda { get; }
}

/// <summary>Elastic net: the loss adds λ·Σ(βW² + |W|), the gradient λ(2βW + sign W).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ElasticNetAttribute : PenaltyAttribute
{
    /// <summary>An elastic-net penalty of total strength <paramref name="lambda"/>.</summary>
    public ElasticNetAttribute(double lambda) => Lambda = lambda;
    /// <summary>The total strength λ.</summary>
    public double Lambda { get; }
    /// <summary>Share of the L1 part, in [0, 1] (default 0.5; the L2 part gets 1 − Beta).</summary>
    public double Beta { get; set; } = 0.5;
}

/// <summary>Decoupled weight decay with any optimiser: after the optimiser's step, w −= α·λ·w.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class WeightDecayAttribute : PenaltyAttribute
{
    /// <summary>Decoupled weight decay with coefficient <paramref name="lambda"/>.</summary>
    public WeightDecayAttribute(double lambda) => Lambda = lambda;
    /// <summary>The decay coefficient λ (each step shrinks w by α·λ·w).</summary>
    public double Lambda { get; }
}

/// <summary>Scales all gradients by min(1, MaxNorm/‖g‖) with ‖g‖ the global L2 norm over every trainable tensor.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ClipGradientNormAttribute : Attribute
{
    /// <summary>Clips the gradient so its global L2 norm is at most <paramref name="maxNorm"/>.</summary>
    public ClipGradientNormAttribute(double maxNorm) => MaxNorm = maxNorm;
    /// <summary>Largest allowed global L2 norm of the gradient.</summary>
    public double MaxNorm { get; }
}

/// <summary>Clamps every gradient element to [−Limit, Limit].</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ClipGradientValueAttribute : Attribute
{
    /// <summary>Clips every gradient component to [−<paramref name="limit"/>, <paramref name="limit"/>].</summary>
    public ClipGradientValueAttribute(double limit) => Limit = limit;
    /// <summary>Largest allowed absolute value of a gradient component.</summary>
    public double Limit { get; }
}
