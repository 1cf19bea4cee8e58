using System;

namespace Kiln;

// Per-sample normalisations (docs/techniques.md#normalisation): the same computation in training and test, with learned
// γ and β per channel (per feature on a flat input). All three share one kernel: GroupNorm with 1 group
// is LayerNorm, with one group per channel it is InstanceNorm.

/// <summary>Layer normalisation: per sample, x̂ = (x − μ)/sqrt(σ² + ε) over all its features (C·H·W when spatial); y = γx̂ + β per channel.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LayerNormAttribute : Attribute
{
    /// <summary>ε added to the variance before the square root (default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;
    /// <summary>Layer name; default layernorm0, ...</summary>
    public string? Name { get; set; }
    /// <summary>Multiplies the learning rate for γ and β (0 freezes them).</summary>
    public double LearningRateScale { get; set; } = 1.0;
}

/// <summary>Instance normalisation: per sample and channel over H·W; needs a spatial input.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InstanceNormAttribute : Attribute
{
    /// <summary>ε added to the variance before the square root (default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;
    /// <summary>Layer name; default instancenorm0, ...</summary>
    public string? Name { get; set; }
    /// <summary>Multiplies the learning rate for γ and β (0 freezes them).</summary>
    public double LearningRateScale { get; set; } = 1.0;
}

/// <summary>Group normalisation (Wu &amp; He 2018): per sample over each group of C/<c>groups</c> consecutive channels and all pixels.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GroupNormAttribute : Attribute
{
    /// <summary>Group normalisation with <paramref name="groups"/> groups of channels.</summary>
    public GroupNormAttribute(int groups) => Groups = groups;
    /// <summary>Number of groups; must divide the channel count.</summary>
    public int Groups { get; }
    /// <summary>ε added to the variance before the square root (default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;
    /// <summary>Layer name; default groupnorm0, ...</summary>
    public string? Name { get; set; }
    /// <summary>Multiplies the learning rate for γ and β (0 freezes them).</summary>
    public double LearningRateScale { get; set; } = 1.0;
}
