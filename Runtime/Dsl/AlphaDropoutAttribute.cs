using System;

namespace Kiln;

/// <summary>
/// Alpha dropout (Klambauer et al. 2017, docs/techniques.md#regularisation): dropout for self-normalising (SELU) networks.
/// In training each activation is set, with probability <c>rate</c>, to α′ = −λα ≈ −1.7581 (SELU's negative saturation
/// value) instead of 0, and the result is mapped by a·x + b with a = (p + α′²·p·(1 − p))^(−1/2) and b = −a·(1 − p)·α′
/// (p = 1 − rate), so an input of mean 0 and variance 1 keeps mean 0 and variance 1. At test it is the identity.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AlphaDropoutAttribute : Attribute
{
    /// <summary>Alpha dropout that sets each activation to α′ with probability <paramref name="rate"/> during training.</summary>
    public AlphaDropoutAttribute(double rate) => Rate = rate;
    /// <summary>Probability of dropping an activation, in [0, 1) (0.05 or 0.1 is usual for SELU networks).</summary>
    public double Rate { get; }
    /// <summary>Layer name; default alphadropout0, alphadropout1, ...</summary>
    public string? Name { get; set; }
}
