using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace Kiln.Ensembles;

/// <summary>
/// Model ensembles (docs/techniques.md#regularisation): the average of the members' <see cref="IKilnModel.Predict"/> outputs — class probabilities
/// for softmax and sigmoid models — and its arg-max. Independent models (or snapshots of one run at different epochs,
/// see <see cref="CheckpointSnapshots"/>) make different mistakes, so the average is usually a point or two more accurate
/// than any member. Every buffer is allocated at construction; <c>Predict</c> and <c>Evaluate</c> on an instance allocate nothing.
/// </summary>
/// <remarks>Not thread-safe: the members and the scratch buffer are shared by every call, as a model's buffers are.</remarks>
public sealed class Ensemble
{
    private readonly IKilnModel[] _members;
    private readonly float[] _scratch;  // one member's outputs for MaxBatch samples
    private readonly float[] _average;  // the ensemble's outputs inside Evaluate

    /// <param name="members">One or more models with the same input size, output size and loss.</param>
    public Ensemble(IEnumerable<IKilnModel> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var list = new List<IKilnModel>();
        foreach (IKilnModel m in members) list.Add(m ?? throw new ArgumentException("An ensemble member is null.", nameof(members)));
        if (list.Count == 0) throw new ArgumentException("An ensemble needs at least one model.", nameof(members));
        IKilnModel first = list[0];
        foreach (IKilnModel m in list)
        {
            if (m.InputSize != first.InputSize || m.OutputSize != first.OutputSize)
                throw new ArgumentException($"Ensemble members must agree on their sizes: {first.ModelName} is {first.InputSize} → {first.OutputSize}, {m.ModelName} is {m.InputSize} → {m.OutputSize}.", nameof(members));
            if (m.Loss != first.Loss)
                throw new ArgumentException($"Ensemble members must have the same loss (their outputs are averaged): {first.ModelName} has {first.Loss}, {m.ModelName} has {m.Loss}.", nameof(members));
        }
        _members = list.ToArray();
        int maxBatch = int.MaxValue;
        foreach (IKilnModel m in _members) maxBatch = Math.Min(maxBatch, m.MaxBatch);
        MaxBatch = maxBatch;
        _scratch = new float[maxBatch * first.OutputSize];
        _average = new float[maxBatch * first.OutputSize];
    }

    /// <param name="members">One or more models with the same input size, output size and loss.</param>
    public Ensemble(params IKilnModel[] members) : this((IEnumerable<IKilnModel>)members) { }

    /// <summary>The averaged models, in the order given.</summary>
    public IReadOnlyList<IKilnModel> Members => _members;
    /// <inheritdoc/>
    public int InputSize => _members[0].InputSize;
    /// <inheritdoc/>
    public int OutputSize => _members[0].OutputSize;
    /// <inheritdoc/>
    public LossKind Loss => _members[0].Loss;

    /// <summary>The smallest MaxBatch of the members: the largest batch <c>Predict</c> accepts.</summary>
    public int MaxBatch { get; }

    /// <summary>The mean of the members' eval-mode outputs for <paramref name="batch"/> samples (at most <see cref="MaxBatch"/>).</summary>
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch)
    {
        if (batch < 0 || batch > MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"The ensemble accepts batches of 0..{MaxBatch} samples (the smallest MaxBatch of its members).");
        if (inputs.Length != batch * InputSize)
            throw new ArgumentException($"inputs has {inputs.Length} values; a batch of {batch} needs {batch} × {InputSize}.", nameof(inputs));
        if (outputs.Length != batch * OutputSize)
            throw new ArgumentException($"outputs has {outputs.Length} values; a batch of {batch} needs {batch} × {OutputSize}.", nameof(outputs));
        Average(_members, inputs, outputs, batch, _scratch);
    }

    /// <summary>
    /// Mean loss and accuracy of the averaged outputs over <paramref name="count"/> samples, in chunks of <see cref="MaxBatch"/>.
    /// Loss: −ln p̄(label) for softmax models, binary cross-entropy of p̄ for one sigmoid output (probabilities clamped
    /// to [1e-7, 1 − 1e-7]); NaN for other losses, whose outputs are not probabilities. Accuracy: arg-max, or p̄ ≥ 0.5 for one output.
    /// </summary>
    public EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "The count cannot be negative.");
        if (inputs.Length < count * InputSize)
            throw new ArgumentException($"inputs has {inputs.Length} values; {count} samples need {count} × {InputSize}.", nameof(inputs));
        if (labels.Length < count)
            throw new ArgumentException($"labels has {labels.Length} entries; {count} samples need {count}.", nameof(labels));
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < count; start += MaxBatch)
        {
            int batch = Math.Min(MaxBatch, count - start);
            Span<float> probabilities = _average.AsSpan(0, batch * OutputSize);
            Average(_members, inputs.Slice(start * InputSize, batch * InputSize), probabilities, batch, _scratch);
            ReadOnlySpan<int> batchLabels = labels.Slice(start, batch);
            correct += Classification.Correct(probabilities, batchLabels, batch, OutputSize);
            lossSum += LossSum(probabilities, batchLabels, batch);
        }
        return new EvaluationResult(count == 0 ? 0 : lossSum / count, count == 0 ? 0 : (double)correct / count, count);
    }

    /// <summary>Evaluates on a data set.</summary>
    public EvaluationResult Evaluate(Kiln.Data.Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != InputSize)
            throw new ArgumentException($"Data set '{data.Name}' has {data.FeatureCount} features per sample; the ensemble expects {InputSize}.", nameof(data));
        return Evaluate(data.Features, data.Labels, data.Count);
    }

    /// <summary>
    /// The mean of <paramref name="models"/>' Predict outputs without building an <see cref="Ensemble"/> (allocates a scratch
    /// buffer per call: use an instance in loops).
    /// </summary>
    public static void Predict(IReadOnlyList<IKilnModel> models, ReadOnlySpan<float> inputs, Span<float> outputs, int batch)
    {
        ArgumentNullException.ThrowIfNull(models);
        new Ensemble(models).Predict(inputs, outputs, batch);
    }

    private static void Average(IKilnModel[] members, ReadOnlySpan<float> inputs, Span<float> outputs, int batch, float[] scratch)
    {
        members[0].Predict(inputs, outputs, batch);
        if (members.Length == 1) return;
        Span<float> one = scratch.AsSpan(0, outputs.Length);
        for (int m = 1; m < members.Length; m++)
        {
            members[m].Predict(inputs, one, batch);
            TensorPrimitives.Add(outputs, one, outputs);
        }
        TensorPrimitives.Multiply(outputs, 1f / members.Length, outputs);
    }

    private double LossSum(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, int batch)
    {
        const double Floor = 1e-7;
        double sum = 0;
        if (Loss == LossKind.SoftmaxCrossEntropy)
        {
            for (int r = 0; r < batch; r++)
            {
                int label = labels[r];
                if ((uint)label >= (uint)OutputSize)
                    throw new ArgumentOutOfRangeException(nameof(labels), label, $"Label {label} at row {r} is outside 0..{OutputSize - 1}.");
                sum -= Math.Log(Math.Max(Floor, probabilities[r * OutputSize + label]));
            }
            return sum;
        }
        if (Loss == LossKind.BinaryCrossEntropy && OutputSize == 1)
        {
            for (int r = 0; r < batch; r++)
            {
                double p = Math.Clamp(probabilities[r], Floor, 1 - Floor);
                sum -= labels[r] == 1 ? Math.Log(p) : Math.Log(1 - p);
            }
            return sum;
        }
        return double.NaN;
    }
}

/// <summary>Accuracy of score or probability rows against integer labels.</summary>
public static class Classification
{
    /// <summary>Index of the largest value (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        if (row.IsEmpty) throw new ArgumentException("An empty row has no arg-max.", nameof(row));
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    /// <summary>
    /// Fraction of the <paramref name="count"/> rows of <paramref name="outputs"/> (<paramref name="width"/> values each) whose
    /// arg-max equals the label; for one output per row, the predicted class is 1 when the value is ≥ 0.5.
    /// </summary>
    public static double Accuracy(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int count, int width) =>
        count == 0 ? 0 : (double)Correct(outputs, labels, count, width) / count;

    /// <summary>Rows predicted correctly (see <see cref="Accuracy"/>).</summary>
    public static int Correct(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int count, int width)
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, "Rows need at least one value.");
        if (count < 0 || outputs.Length < count * width || labels.Length < count)
            throw new ArgumentException($"{count} rows of {width} need {count * width} outputs and {count} labels (got {outputs.Length} and {labels.Length}).", nameof(count));
        int correct = 0;
        for (int r = 0; r < count; r++)
        {
            int predicted = width == 1 ? (outputs[r] >= 0.5f ? 1 : 0) : ArgMax(outputs.Slice(r * width, width));
            if (predicted == labels[r]) correct++;
        }
        return correct;
    }
}
