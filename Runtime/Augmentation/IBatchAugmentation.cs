using System;

namespace Kiln.Augmentation;

/// <summary>
/// An on-the-fly augmentation of one training mini-batch (docs/techniques.md#augmentation), applied by the trainer between the
/// batcher and <c>TrainStep</c>. It works in place on the trainer's copy of the batch and must not allocate:
/// buffers it needs are sized at construction for the largest batch.
/// </summary>
public interface IBatchAugmentation
{
    /// <summary>
    /// True when <see cref="Apply"/> writes soft targets (mixup): the trainer then trains on
    /// <c>TrainStep(inputs, softTargets, batch)</c> instead of the integer labels.
    /// </summary>
    bool ProducesSoftTargets { get; }

    /// <summary>Transforms <paramref name="inputs"/> (batch × features) in place.</summary>
    /// <param name="inputs">The batch, sample-major; image samples are C×H×W (channels first).</param>
    /// <param name="labels">The batch's class labels.</param>
    /// <param name="softTargets">batch × classes; written only when <see cref="ProducesSoftTargets"/>.</param>
    /// <param name="batch">Samples in the batch.</param>
    /// <param name="classes">Number of classes (the model's OutputSize).</param>
    /// <param name="rng">The run's augmentation stream (seeded by the trainer, so runs repeat exactly).</param>
    void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng);
}
