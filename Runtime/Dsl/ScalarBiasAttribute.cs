using System;

namespace Kiln;

/// <summary>
/// A trainable scalar bias (Fixup, docs/techniques.md#initialisation): y = x + b with one b for the whole layer, initialised
/// to 0 (dL/db = Σ dL/dy). Not penalised by L1/L2/weight decay. Fixup puts one before each Dense/Conv2D and activation of
/// a residual branch and one after the branch's <see cref="MultiplierAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ScalarBiasAttribute : Attribute
{
    /// <summary>Layer name; default scalarbias0, scalarbias1, ...</summary>
    public string? Name { get; set; }
    /// <summary>Multiplier of the learning rate for this layer's scalar (0 freezes it).</summary>
    public double LearningRateScale { get; set; } = 1.0;
    /// <summary>Whether the model's penalties (L1, L2, elastic net, weight decay) reach the scalar; off by default, as for Fixup.</summary>
    public bool Regularize { get; set; }
}
