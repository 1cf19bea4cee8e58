using System;

namespace Kiln;

/// <summary>
/// Opens a residual block (He et al. 2016): the layers up to the matching <see cref="EndResidualAttribute"/>
/// form the branch F, and the block outputs y = x + g·F(x) with an identity shortcut (the branch must keep
/// the shape), or y = P(x) + g·F(x) with a learned projection P when <see cref="Projection"/> is set. Stochastic depth (Huang et al. 2016, docs/techniques.md#regularisation): in training g is drawn once per
/// mini-batch, 1 with probability <see cref="Survival"/> and 0 otherwise (the whole block is skipped); at
/// test g = Survival, the branch's expected contribution.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ResidualAttribute : Attribute
{
    /// <summary>Probability that the branch is kept in a training step (1 = no stochastic depth).</summary>
    public double Survival { get; set; } = 1.0;
    /// <summary>Initialise the branch's last Dense or Conv2D to zero so the block starts as the identity (docs/techniques.md#initialisation).</summary>
    public bool ZeroInitLast { get; set; }
    /// <summary>
    /// Projection shortcut (He et al. 2016, option B): y = P(x) + g·F(x), where P is a learned 1×1 convolution
    /// without bias (stride H/H') for spatial blocks or a Dense without bias for flat ones, He-initialised, named
    /// <c>&lt;block&gt;.projection</c>. Required when the branch changes the shape.
    /// </summary>
    public bool Projection { get; set; }
    /// <summary>Block name; default residual0, residual1, ... (the name of the block's output in Layers).</summary>
    public string? Name { get; set; }
}

/// <summary>Closes the innermost open <see cref="ResidualAttribute"/> block: adds the shortcut to the branch output.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EndResidualAttribute : Attribute
{
}
