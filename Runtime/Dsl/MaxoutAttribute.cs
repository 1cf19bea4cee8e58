using System;

namespace Kiln;

/// <summary>
/// Maxout (Goodfellow et al. 2013, docs/techniques.md#activations): y_u = max_j z_{u,j} over <c>pieces</c> linear pieces. Put it
/// right after a <see cref="DenseAttribute"/> or <see cref="Conv2DAttribute"/>: that layer then computes
/// units·pieces (filters·pieces) outputs, so its parameters grow ×pieces, and Maxout reduces them back to
/// the declared units. Never saturates or dies; generalises ReLU and LeakyReLU.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxoutAttribute : Attribute
{
    /// <summary>Maxout over <paramref name="pieces"/> linear pieces per unit (default 2).</summary>
    public MaxoutAttribute(int pieces = 2) => Pieces = pieces;
    /// <summary>Linear pieces per unit (at least 2).</summary>
    public int Pieces { get; }
    /// <summary>Layer name; default maxout0, ...</summary>
    public string? Name { get; set; }
}
