using System;

namespace Kiln;

/// <summary>
/// A trainable scalar multiplier (Fixup, docs/techniques.md#initialisation): y = s·x with one s for the whole layer,
/// initialised to 1 (dL/ds = Σ dL/dy·x, dL/dx = s·dL/dy). Not penalised by L1/L2/weight decay. Fixup puts one at the end
/// of each residual branch, before <see cref="EndResidualAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MultiplierAttribute : Attribute
{
    /// <summary>Layer name; default multiplier0, multiplier1, ...</summary>
    public string? Name { get; set; }
    /// <summary>Multiplier of the learning rate for this layer's scalar (0 freezes it).</summary>
    public double LearningRateScale { get; set; } = 1.0;
    /// <summary>Whether the model's penalties (L1, L2, elastic net, weight decay) reach the scalar; off by default, as for Fixup.</summary>
    public bool Regularize { get; set; }
}
