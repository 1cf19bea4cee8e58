using System;

namespace Kiln;

// Losses (docs/techniques.md#losses). Exactly one per model, after the last layer. The reported loss is the
// mean over the samples of a batch.

/// <summary>Base of every loss attribute.</summary>
public abstract class LossAttribute : Attribute { }

/// <summary>Softmax fused with cross-entropy: L = −log softmax(z)_y, computed with log-sum-exp. Predict returns probabilities.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SoftmaxCrossEntropyAttribute : LossAttribute { }

/// <summary>Multiclass SVM hinge: L = Σ_{j≠y} max(0, s_j − s_y + Margin). Predict returns scores.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MulticlassHingeAttribute : LossAttribute
{
    /// <summary>The margin Δ by which the true class's score must beat every other score (default 1).</summary>
    public double Margin { get; set; } = 1.0;
}

/// <summary>Sigmoid fused with binary cross-entropy, per output (one output: binary; several: multi-label). Predict returns probabilities.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BinaryCrossEntropyAttribute : LossAttribute { }

/// <summary>Mean squared error: L = (1/D) Σ_j (y_j − t_j)² per sample. Predict returns the raw outputs.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MeanSquaredErrorAttribute : LossAttribute { }
