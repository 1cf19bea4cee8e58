using System;

namespace Kiln;

/// <summary>
/// Fixup initialisation (Zhang et al. 2019, docs/techniques.md#initialisation) for residual networks without
/// normalisation layers. For every <see cref="ResidualAttribute"/> block of the model the branch's last Dense/Conv2D
/// starts at zero (the block starts as the identity) and every other Dense/Conv2D of the branch has its initial weights
/// (He for ReLU-family activations) multiplied by L^(−1/(2m − 2)), L the number of residual blocks and m the number of
/// Dense/Conv2D layers in that branch (m = 1: the zero start only). The trainable scalars of Fixup are layers of their own:
/// <see cref="ScalarBiasAttribute"/> and <see cref="MultiplierAttribute"/>. The generator reports an error when the model
/// has no residual block or has normalisation layers.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class FixupAttribute : Attribute
{
}
