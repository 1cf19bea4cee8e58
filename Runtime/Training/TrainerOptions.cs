using System.Threading;

namespace Kiln.Training;

/// <summary>Settings of one <see cref="Trainer.Fit(IKilnModel, Kiln.Data.Dataset, Kiln.Data.Dataset?, TrainerOptions?, System.IProgress{TrainingProgress}?)"/> run.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training set (&gt; 0).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per training step, 1..model.MaxBatch. The last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Seed of the per-epoch shuffles (parameter initialisation and dropout use the model's own seed).</summary>
    public ulong Seed { get; init; }

    /// <summary>Shuffle the training set every epoch (default true).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Skip each epoch's final partial batch (default false: every sample is seen once per epoch).</summary>
    public bool DropLast { get; init; }

    /// <summary>
    /// Skip an epoch's final partial batch when it has fewer samples than this (default 2: a one-sample batch has
    /// no batch variance, which training-mode BatchNorm divides by). The skipped sample differs every epoch when
    /// shuffling. 1 keeps every batch.
    /// </summary>
    public int MinLastBatch { get; init; } = 2;

    /// <summary>
    /// Evaluate the validation set after every epoch (default true). When false, it is evaluated once after
    /// the last epoch; the result is attached to that epoch and to the summary's final metrics.
    /// </summary>
    public bool ValidateEveryEpoch { get; init; } = true;

    /// <summary>Overrides the model's learning rate (from its optimiser attribute) before training; null keeps it.</summary>
    public float? LearningRate { get; init; }

    /// <summary>
    /// Training accuracy is not free (the fused train step returns only the loss), so it is measured by an
    /// eval-mode <see cref="IKilnModel.Evaluate"/> over this many training samples (a fixed, seeded subset)
    /// at the end of each epoch. 0, the default, skips it; <c>int.MaxValue</c> uses the whole training set.
    /// </summary>
    public int TrainAccuracySamples { get; init; }

    /// <summary>Stop (with <see cref="StopReason.Diverged"/>) as soon as a step returns NaN or ±∞ (default true).</summary>
    public bool StopOnNonFiniteLoss { get; init; } = true;

    /// <summary>Checked before every step; cancellation throws <see cref="TrainingCancelledException"/> carrying the partial summary.</summary>
    public CancellationToken CancellationToken { get; init; }
}
