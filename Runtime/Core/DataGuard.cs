using System;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Kiln;

/// <summary>
/// The checks that keep bad numbers out of a model's state (docs/reliability.md): generated models call
/// <see cref="CheckTrainingInputs"/> at the start of every training step and <see cref="CheckTargets"/> on float
/// targets; the trainer, checkpoints and loaders use <see cref="IndexOfNonFinite"/>. Every check runs before anything
/// changes, so a rejected call leaves the model as it was.
/// </summary>
public static class DataGuard
{
    /// <summary>How far a soft-label row's sum may be from 1 (float rounding of mixed or smoothed labels stays far below it).</summary>
    public const float SoftLabelSumTolerance = 1e-3f;

    /// <summary>Index of the first NaN or ±∞ in <paramref name="values"/>, or −1 when every value is finite (one vectorised pass).</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        if (TensorPrimitives.IsFiniteAll(values)) return -1;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>
    /// The first NaN or ±∞ in a model's tensors (parameters and running statistics, in <see cref="IKilnModel.Tensors"/>
    /// order) and, with <paramref name="includeOptimizerState"/>, its optimiser state; null when every value is finite.
    /// </summary>
    public static NonFiniteValue? FindNonFinite(IKilnModel model, bool includeOptimizerState = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (TensorInfo t in model.Tensors)
        {
            ReadOnlySpan<float> data = model.TensorData(t);
            int i = IndexOfNonFinite(data);
            if (i >= 0) return new NonFiniteValue(t.Name, i, data[i]);
        }
        if (!includeOptimizerState) return null;
        foreach (TensorInfo t in model.Tensors)
        {
            if (!t.Trainable) continue;
            for (int slot = 0; slot < model.OptimizerStateCount; slot++)
            {
                ReadOnlySpan<float> data = model.TensorState(t, slot);
                int i = IndexOfNonFinite(data);
                if (i >= 0) return new NonFiniteValue(Checkpoints.Checkpoint.OptimizerStateName(t.Name, slot), i, data[i]);
            }
        }
        return null;
    }

    /// <summary>
    /// Throws <see cref="NonFiniteInputException"/> when a training batch holds NaN or ±∞: one such feature would turn
    /// weights into NaN while the step's loss can still look finite (ReLU maps NaN to 0 in the forward pass).
    /// </summary>
    /// <param name="inputs">The batch, <c>batch × inputSize</c> floats, row-major.</param>
    /// <param name="inputSize">Features per sample.</param>
    /// <param name="modelName">The model, for the message.</param>
    public static void CheckTrainingInputs(ReadOnlySpan<float> inputs, int inputSize, string modelName)
    {
        int i = IndexOfNonFinite(inputs);
        if (i >= 0) throw new NonFiniteInputException(modelName, i / inputSize, i % inputSize, inputs[i]);
    }

    /// <summary>
    /// Copies a training batch into <paramref name="destination"/> and refuses NaN or ±∞ on the way, in one pass over
    /// the batch: each 8-KB block is checked right after it is copied, while it is
    /// still in the L1 cache. On a non-finite value it throws like <see cref="CheckTrainingInputs"/> (row and feature);
    /// <paramref name="destination"/> may then hold part of the batch.
    /// </summary>
    /// <param name="inputs">The batch, <c>batch × inputSize</c> floats, row-major.</param>
    /// <param name="destination">At least <c>inputs.Length</c> floats.</param>
    /// <param name="inputSize">Features per sample.</param>
    /// <param name="modelName">The model, for the message.</param>
    /// <exception cref="NonFiniteInputException">The first NaN or ±∞ of the batch.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyTrainingInputs(ReadOnlySpan<float> inputs, Span<float> destination, int inputSize, string modelName)
    {
        if (destination.Length < inputs.Length)
            throw new ArgumentException($"destination has {destination.Length} floats; the batch has {inputs.Length}.", nameof(destination));
        for (int start = 0; start < inputs.Length; start += CopyCheckBlock)
        {
            int count = Math.Min(CopyCheckBlock, inputs.Length - start);
            Span<float> block = destination.Slice(start, count);
            inputs.Slice(start, count).CopyTo(block);
            if (!TensorPrimitives.IsFiniteAll(block)) CheckTrainingInputs(inputs, inputSize, modelName);
        }
    }

    // Floats per block of CopyTrainingInputs (8 KB: copied, then checked from L1).
    private const int CopyCheckBlock = 2048;

    /// <summary>
    /// Checks float targets against the loss's domain before a step or an evaluation: binary cross-entropy targets lie
    /// in [0, 1]; soft labels for softmax cross-entropy are non-negative rows summing to 1 (within
    /// <see cref="SoftLabelSumTolerance"/>); regression targets are finite.
    /// </summary>
    /// <exception cref="ArgumentException">A target outside the domain; the message names its index and row.</exception>
    public static void CheckTargets(ReadOnlySpan<float> targets, int batch, int outputs, LossKind loss, string modelName)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (loss)
        {
            case LossKind.BinaryCrossEntropy:
                for (int i = 0; i < batch * outputs; i++)
                {
                    float t = targets[i];
                    if (!(t >= 0f && t <= 1f))
                        throw new ArgumentException(string.Create(inv,
                            $"targets[{i}] (row {i / outputs}, output {i % outputs}) = {t} is outside [0, 1]: {modelName} uses binary cross-entropy, whose targets are probabilities."), nameof(targets));
                }
                break;
            case LossKind.SoftmaxCrossEntropy:
                for (int r = 0; r < batch; r++)
                {
                    ReadOnlySpan<float> row = targets.Slice(r * outputs, outputs);
                    double sum = 0;
                    for (int j = 0; j < outputs; j++)
                    {
                        float t = row[j];
                        if (!(t >= 0f && float.IsFinite(t)))
                            throw new ArgumentException(string.Create(inv,
                                $"targets[{r * outputs + j}] (row {r}, class {j}) = {t}: soft labels of {modelName} must be finite and non-negative."), nameof(targets));
                        sum += t;
                    }
                    if (!(Math.Abs(sum - 1) <= SoftLabelSumTolerance))
                        throw new ArgumentException(string.Create(inv,
                            $"targets row {r} sums to {sum:G6}: soft labels of {modelName} (softmax cross-entropy) must sum to 1 (within {SoftLabelSumTolerance})."), nameof(targets));
                }
                break;
            default:
                int k = IndexOfNonFinite(targets.Slice(0, batch * outputs));
                if (k >= 0)
                    throw new ArgumentException(string.Create(inv,
                        $"targets[{k}] (row {k / outputs}, output {k % outputs}) is {targets[k]}: {modelName}'s targets must be finite."), nameof(targets));
                break;
        }
    }
}

/// <summary>Where <see cref="DataGuard.FindNonFinite"/> found a NaN or ±∞.</summary>
/// <param name="Tensor">The tensor (or <c>&lt;name&gt;.optimizer_state&lt;slot&gt;</c>).</param>
/// <param name="Index">0-based element within it.</param>
/// <param name="Value">The value found.</param>
public readonly record struct NonFiniteValue(string Tensor, int Index, float Value)
{
    /// <summary>"NaN at element 7 of tensor 'dense0.weight'".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value} at element {Index} of tensor '{Tensor}'");
}

/// <summary>A training batch holds NaN or ±∞; the step was not taken and the model is unchanged.</summary>
public sealed class NonFiniteInputException : ArgumentException
{
    /// <summary>Creates the exception for the first non-finite value found.</summary>
    /// <param name="modelName">The model that refused the batch.</param>
    /// <param name="row">0-based row of the batch.</param>
    /// <param name="feature">0-based feature within the row.</param>
    /// <param name="value">The value found (NaN, +∞ or −∞).</param>
    public NonFiniteInputException(string modelName, int row, int feature, float value)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"inputs row {row}, feature {feature} is {value}: {modelName} trains only on finite values, and one NaN or ∞ turns weights into NaN. The step was not taken; check the data and its preprocessing."),
            "inputs")
    {
        Row = row;
        Feature = feature;
        Value = value;
    }

    /// <summary>0-based row of the batch holding the value.</summary>
    public int Row { get; }
    /// <summary>0-based feature within the row.</summary>
    public int Feature { get; }
    /// <summary>The non-finite value.</summary>
    public float Value { get; }
}
