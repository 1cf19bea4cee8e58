using System;

namespace Kiln;

// Optimisers of CATALOGUE §6. The update is fused into the generated backward pass: a weight panel
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
    public SgdAttribute() { }
    public SgdAttribute(double learningRate) => LearningRate = learningRate;
}

/// <summary>SGD with momentum: v = ρv + g; x −= α·v (equivalent to v = ρv − αg; x += v at constant α).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MomentumAttribute : OptimizerAttribute
{
    public MomentumAttribute() { }
    public MomentumAttribute(double learningRate) => LearningRate = learningRate;
    /// <summary>ρ in [0, 1), typically 0.9 or 0.99.</summary>
    public double Rho { get; set; } = 0.9;
}

/// <summary>Adam with bias correction: m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ), x −= α·m̂/(sqrt(v̂)+ε).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AdamAttribute : OptimizerAttribute
{
    public AdamAttribute() => LearningRate = 1e-3;
    public AdamAttribute(double learningRate) => LearningRate = learningRate;
    public double Beta1 { get; set; } = 0.9;
    public double Beta2 { get; set; } = 0.999;
    public double Epsilon { get; set; } = 1e-8;
}
