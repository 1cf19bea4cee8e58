using System;

namespace Kiln;

/// <summary>
/// Fixup initialisation (Zhang et al. 2019, docs/techniques.md#initialisation) for residual networks without
/// normalisation layers. For every <see cref="ResidualAttribute"/> block of the model: the branch's last Dense/Conv2D
/// starts at zero (the block starts as the identity), every other Dense/Conv2D of the branch has its initial weights
/// multiplied by L^(−1/(2m − 2)) (L residual blocks, m weight layers in the branch), and the branch gains trainable
/// scalars: a bias (initialised to 0) before each Dense/Conv2D and each activation, a multiplier (initialised to 1)
/// on the branch's output and a bias after it. Their tensors are <c>&lt;block&gt;.fixup_bias0</c>, … and
/// <c>&lt;block&gt;.fixup_scale</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class FixupAttribute : Attribute
{
}
