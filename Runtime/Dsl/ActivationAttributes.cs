using System;

namespace Kiln;

// Activations (docs/techniques.md#activations). Each is a layer of its own in the attribute list; the planner fuses
// it with the Dense/BatchNorm before it and the Dropout after it.

/// <summary>Base of every activation attribute.</summary>
public abstract class ActivationAttribute : Attribute
{
    /// <summary>Layer name used for the activation's tensors and in diagnostics; by default the kind and its position (for example <c>prelu0</c>).</summary>
    public string? Name { get; set; }
}

/// <summary>σ(x) = 1/(1+e^−x). Belongs at a binary output, not in hidden layers.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SigmoidAttribute : ActivationAttribute { }

/// <summary>tanh x: zero-centred, still saturates.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TanhAttribute : ActivationAttribute { }

/// <summary>max(0, x).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLUAttribute : ActivationAttribute { }

/// <summary>max(αx, x) with a fixed α (default 0.01).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LeakyReLUAttribute : ActivationAttribute
{
    /// <summary>Leaky ReLU with the default slope α = 0.01.</summary>
    public LeakyReLUAttribute() { }
    /// <summary>Leaky ReLU with slope <paramref name="alpha"/> for negative inputs.</summary>
    public LeakyReLUAttribute(double alpha) => Alpha = alpha;
    /// <summary>Slope α for negative inputs (default 0.01).</summary>
    public double Alpha { get; set; } = 0.01;
}

/// <summary>max(αx, x) with α learned per unit, initialised to <see cref="Init"/> (default 0.25).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PReLUAttribute : ActivationAttribute
{
    /// <summary>Initial value of α for every unit (default 0.25).</summary>
    public double Init { get; set; } = 0.25;
    /// <summary>Multiplies the learning rate for α.</summary>
    public double LearningRateScale { get; set; } = 1.0;
}

/// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (default α = 1).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ELUAttribute : ActivationAttribute
{
    /// <summary>ELU with α = 1.</summary>
    public ELUAttribute() { }
    /// <summary>ELU with saturation value −<paramref name="alpha"/> for large negative inputs.</summary>
    public ELUAttribute(double alpha) => Alpha = alpha;
    /// <summary>α: the output tends to −α for large negative inputs (default 1).</summary>
    public double Alpha { get; set; } = 1.0;
}

/// <summary>Self-normalising ELU: λx for x &gt; 0, λα(eˣ − 1) otherwise, α = 1.6733, λ = 1.0507. Wants LeCun-normal init.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SELUAttribute : ActivationAttribute { }

/// <summary>x·σ(βx) (default β = 1).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SwishAttribute : ActivationAttribute
{
    /// <summary>Swish with β = 1 (SiLU).</summary>
    public SwishAttribute() { }
    /// <summary>Swish x·σ(<paramref name="beta"/>·x).</summary>
    public SwishAttribute(double beta) => Beta = beta;
    /// <summary>β in x·σ(βx) (default 1, which is SiLU).</summary>
    public double Beta { get; set; } = 1.0;
}

/// <summary>x·Φ(x) with Φ the standard normal CDF (exact erf form).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GELUAttribute : ActivationAttribute { }

/// <summary>Softmax over the features of each sample. Only meaningful at the output, and never before SoftmaxCrossEntropy (which applies it itself).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SoftmaxAttribute : ActivationAttribute { }
