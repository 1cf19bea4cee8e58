using System.Threading;
using Kiln.Schedules;

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

    /// <summary>
    /// The base learning rate; null uses the model's <see cref="IKilnModel.BaseLearningRate"/> (its optimiser
    /// attribute's rate). Before every step the trainer sets <c>model.LearningRate = base × schedule factor</c>,
    /// so a value assigned to <c>model.LearningRate</c> before <c>Fit</c> is overwritten.
    /// </summary>
    public float? LearningRate { get; init; }

    /// <summary>
    /// The learning-rate schedule; null uses a new instance from the model's <see cref="IKilnModel.CreateSchedule"/>
    /// (its schedule attributes, <see cref="ConstantSchedule"/> when none). Its clock counts from the start of
    /// this run: step 0 is the first step of this <c>Fit</c> call, epoch 0 its first epoch. A schedule instance
    /// keeps state (ReduceOnPlateau), so pass a fresh one to each run.
    /// </summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>
    /// Record every step's (step, epoch, loss, learning rate) in <see cref="RunSummary.Steps"/> (default false).
    /// The record buffer is allocated once before the first step, so recording allocates nothing per step.
    /// </summary>
    public bool RecordSteps { get; init; }

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
