using System;
using System.Numerics.Tensors;

namespace Kiln.Augmentation;

/// <summary>
/// Mixup (Zhang et al., 2018): one λ ~ Beta(α, α) per batch and a random pairing π of the batch's samples;
/// x_i ← λ·x_i + (1 − λ)·x_π(i) and soft targets t_i = λ·onehot(y_i) + (1 − λ)·onehot(y_π(i)), so the trainer trains on
/// <c>TrainStep(inputs, softTargets, batch)</c>. Small α (0.1 … 0.4) keeps most λ near 0 or 1.
/// </summary>
public sealed class Mixup : IBatchAugmentation
{
    private readonly float[] _copy;
    private readonly int[] _pair;

    /// <param name="features">Features per sample.</param>
    /// <param name="maxBatch">Largest batch (buffers are sized for it here, so Apply allocates nothing).</param>
    /// <param name="alpha">Beta distribution parameter α &gt; 0.</param>
    public Mixup(int features, int maxBatch, double alpha = 0.2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        if (!(alpha > 0) || !double.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be a finite number > 0.");
        Features = features;
        MaxBatch = maxBatch;
        Alpha = alpha;
        _copy = new float[(long)features * maxBatch];
        _pair = new int[maxBatch];
    }

    /// <summary>Features per sample.</summary>
    public int Features { get; }
    /// <summary>Largest batch it can mix (its scratch buffers are sized for it).</summary>
    public int MaxBatch { get; }
    /// <summary>The Beta(α, α) parameter of the mixing weight; small values keep most samples close to one of the pair.</summary>
    public double Alpha { get; }
    /// <inheritdoc/>
    public bool ProducesSoftTargets => true;

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        int n = RandomDraws.CheckBatch(inputs, batch, Features, nameof(Mixup));
        if (batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"Mixup was sized for batches of at most {MaxBatch}.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (labels.Length < batch) throw new ArgumentException($"Mixup: {batch} samples but {labels.Length} labels.", nameof(labels));
        if (softTargets.Length < (long)batch * classes)
            throw new ArgumentException($"Mixup: {batch} × {classes} soft targets need {(long)batch * classes} values; the span holds {softTargets.Length}.", nameof(softTargets));
        for (int i = 0; i < batch; i++)
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Mixup: label {labels[i]} of sample {i} is outside the {classes} classes.");

        float lambda = (float)RandomDraws.Beta(ref rng, Alpha, Alpha);
        Span<int> pair = _pair.AsSpan(0, batch);
        for (int i = 0; i < batch; i++) pair[i] = i;
        for (int i = batch - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (pair[i], pair[j]) = (pair[j], pair[i]);
        }

        inputs.Slice(0, n).CopyTo(_copy);
        float other = 1 - lambda;
        softTargets.Slice(0, batch * classes).Clear();
        for (int i = 0; i < batch; i++)
        {
            Span<float> x = inputs.Slice(i * Features, Features);
            ReadOnlySpan<float> partner = _copy.AsSpan(pair[i] * Features, Features);
            // x ← λ·x + (1 − λ)·partner, in that order for every element.
            TensorPrimitives.Multiply(x, lambda, x);
            TensorPrimitives.MultiplyAdd(partner, other, x, x);
            Span<float> t = softTargets.Slice(i * classes, classes);
            t[labels[i]] += lambda;
            t[labels[pair[i]]] += other;
        }
    }
}

/// <summary>
/// Several augmentations applied in order to the same batch. At most one may produce soft targets (mixup); label-preserving
/// steps may come before or after it.
/// </summary>
public sealed class Compose : IBatchAugmentation
{
    private readonly IBatchAugmentation[] _steps;

    /// <summary>Applies <paramref name="steps"/> in order to every batch.</summary>
    public Compose(params IBatchAugmentation[] steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        int soft = 0;
        for (int i = 0; i < steps.Length; i++)
        {
            if (steps[i] is null) throw new ArgumentNullException(nameof(steps), $"Augmentation {i} is null.");
            if (steps[i].ProducesSoftTargets) soft++;
        }
        if (soft > 1) throw new ArgumentException($"{soft} of the composed augmentations produce soft targets; at most one may (each would overwrite the other's).", nameof(steps));
        _steps = (IBatchAugmentation[])steps.Clone();
        ProducesSoftTargets = soft == 1;
    }

    /// <summary>The steps, in order.</summary>
    public ReadOnlySpan<IBatchAugmentation> Steps => _steps;
    /// <summary>True when any step produces soft targets (for example <see cref="Mixup"/>).</summary>
    public bool ProducesSoftTargets { get; }

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        foreach (IBatchAugmentation step in _steps) step.Apply(inputs, labels, softTargets, batch, classes, ref rng);
    }
}
