using System;

namespace Kiln;

// Optimisers (docs/techniques.md#optimisers). The update is fused into the generated backward pass: a weight panel
// is updated as soon as its gradient is complete.

/// <summary>Base of every optimiser attribute.</summary>
public abstract class OptimizerAttribute : Attribute
{
    /// <summary>Learning rate α (&gt; 0). Can be changed at run time through the model's LearningRate.</summary>
    public double LearningRate { get; set; } = 0.01;
}

/// <summary>Plain SGD: x −= α·g.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SgdAttribute : OptimizerAttribute
{
    /// <summary>Plain SGD with the default learning rate.</summary>
    public SgdAttribute() { }
    /// <summary>Plain SGD with learning rate <paramref name="learningRate"/>.</summary>
    public SgdAttribute(double learningRate) => LearningRate = learningRate;
}

/// <summary>The two ways of writing momentum SGD (docs/techniques.md#optimisers). They give the same trajectory while α is constant, and differ once a schedule changes α.</summary>
public enum MomentumForm
{
    /// <summary>v = ρv + g; x −= α·v (the learning rate scales the whole accumulated velocity).</summary>
    Accumulate = 0,
    /// <summary>v = ρv − α·g; x += v (the velocity remembers the learning rate of each step).</summary>
    Velocity,
}

/// <summary>SGD with momentum: v = ρv + g; x −= α·v, or the equivalent v = ρv − αg; x += v (see <see cref="MomentumForm"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MomentumAttribute : OptimizerAttribute
{
    /// <summary>Momentum with the default learning rate.</summary>
    public MomentumAttribute() { }
    /// <summary>Momentum with learning rate <paramref name="learningRate"/>.</summary>
    public MomentumAttribute(double learningRate) => LearningRate = learningRate;
    /// <summary>ρ in [0, 1), typically 0.9 or 0.99.</summary>
    public double Rho { get; set; } = 0.9;
    /// <summary>Which of the two equivalent update forms is used (default <see cref="MomentumForm.Accumulate"/>).</summary>
    public MomentumForm Form { get; set; } = MomentumForm.Accumulate;
}

/// <summary>
/// Nesterov momentum in the change-of-variables form: v' = ρv − α∇f(x̃); x̃ += −ρv + (1 + ρ)v',
/// where x̃ = x + ρv are the parameters the model holds.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class NesterovAttribute : OptimizerAttribute
{
    /// <summary>Nesterov momentum with the default learning rate.</summary>
    public NesterovAttribute() { }
    /// <summary>Nesterov momentum with learning rate <paramref name="learningRate"/>.</summary>
    public NesterovAttribute(double learningRate) => LearningRate = learningRate;
    /// <summary>ρ in [0, 1).</summary>
    public double Rho { get; set; } = 0.9;
}

/// <summary>AdaGrad: s += g²; x −= α·g/(sqrt(s) + ε). Steps shrink toward zero over a long run.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AdaGradAttribute : OptimizerAttribute
{
    /// <summary>AdaGrad with the default learning rate.</summary>
    public AdaGradAttribute() { }
    /// <summary>AdaGrad with learning rate <paramref name="learningRate"/>.</summary>
    public AdaGradAttribute(double learningRate) => LearningRate = learningRate;
    /// <summary>ε added to the root of the accumulated squared gradients (default 1e-7).</summary>
    public double Epsilon { get; set; } = 1e-7;
}

/// <summary>RMSProp ("leaky AdaGrad"): s = d·s + (1 − d)·g²; x −= α·g/(sqrt(s) + ε).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class RMSPropAttribute : OptimizerAttribute
{
    /// <summary>RMSProp with learning rate 1e-3.</summary>
    public RMSPropAttribute() => LearningRate = 1e-3;
    /// <summary>RMSProp with learning rate <paramref name="learningRate"/>.</summary>
    public RMSPropAttribute(double learningRate) => LearningRate = learningRate;
    /// <summary>Decay d in [0, 1).</summary>
    public double Decay { get; set; } = 0.99;
    /// <summary>ε added to the root of the running mean square (default 1e-7).</summary>
    public double Epsilon { get; set; } = 1e-7;
}

/// <summary>Adam with bias correction: m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ), x −= α·m̂/(sqrt(v̂)+ε).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AdamAttribute : OptimizerAttribute
{
    /// <summary>Adam with learning rate 1e-3.</summary>
    public AdamAttribute() => LearningRate = 1e-3;
    /// <summary>Adam with learning rate <paramref name="learningRate"/>.</summary>
    public AdamAttribute(double learningRate) => LearningRate = learningRate;
    /// <summary>β1, the decay of the first-moment (mean) estimate (default 0.9).</summary>
    public double Beta1 { get; set; } = 0.9;
    /// <summary>β2, the decay of the second-moment estimate (default 0.999).</summary>
    public double Beta2 { get; set; } = 0.999;
    /// <summary>ε added to the root of the second moment (default 1e-8).</summary>
    public double Epsilon { get; set; } = 1e-8;
}

/// <summary>
/// AdamW (Loshchilov &amp; Hutter): Adam with decoupled weight decay,
/// x −= α·(m̂/(sqrt(v̂) + ε) + λ·x), applied to weights only unless a penalty rule says otherwise.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AdamWAttribute : OptimizerAttribute
{
    /// <summary>AdamW with learning rate 1e-3.</summary>
    public AdamWAttribute() => LearningRate = 1e-3;
    /// <summary>AdamW with learning rate <paramref name="learningRate"/>.</summary>
    public AdamWAttribute(double learningRate) => LearningRate = learningRate;
    /// <summary>β1, the decay of the first-moment (mean) estimate (default 0.9).</summary>
    public double Beta1 { get; set; } = 0.9;
    /// <summary>β2, the decay of the second-moment estimate (default 0.999).</summary>
    public double Beta2 { get; set; } = 0.999;
    /// <summary>ε added to the root of the second moment (default 1e-8).</summary>
    public double Epsilon { get; set; } = 1e-8;
    /// <summary>Decoupled decay λ.</summary>
    public double WeightDecay { get; set; } = 0.01;
}

/// <summary>
/// L-BFGS for full-batch, deterministic training (docs/techniques.md#optimisers): trained with
/// <c>Kiln.Training.Lbfgs.Minimize</c>, not TrainStep. Turn off every source of noise (dropout, augmentation).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LbfgsAttribute : OptimizerAttribute
{
    /// <summary>L-BFGS with an initial step length of 1 (the line search adapts it).</summary>
    public LbfgsAttribute() => LearningRate = 1.0;
    /// <summary>Number of (s, y) correction pairs kept.</summary>
    public int History { get; set; } = 10;
}
