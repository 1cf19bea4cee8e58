using System;

namespace Kiln.Training;

/// <summary>What a <see cref="TrainingProgress"/> report marks.</summary>
public enum ProgressKind
{
    /// <summary>A training step finished.</summary>
    Batch,
    /// <summary>An epoch finished, including its evaluations; <see cref="TrainingProgress.Metrics"/> is set.</summary>
    EpochEnd,
}

/// <summary>
/// A progress report, sent synchronously on the training thread after every step and at every epoch end.
/// It is a struct and reports do not allocate; a handler that is slow slows training, so keep it light
/// (Kiln's sample updates a progress bar and nothing more).
/// </summary>
/// <param name="Kind">Batch or epoch end.</param>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Epochs requested.</param>
/// <param name="Batch">Batches finished in this epoch (1-based; equals BatchesPerEpoch at the epoch end).</param>
/// <param name="BatchesPerEpoch">Batches per epoch.</param>
/// <param name="Samples">Samples trained on in this epoch so far.</param>
/// <param name="RunningLoss">Sample-weighted mean training loss of this epoch so far.</param>
/// <param name="SamplesPerSecond">This epoch's samples divided by the time spent inside TrainStep so far.</param>
/// <param name="LearningRate">The learning rate the step just taken ran with (base × schedule factor for that step); at an epoch end, that of the epoch's last step.</param>
/// <param name="Metrics">The finished epoch's metrics (epoch-end reports only).</param>
public readonly record struct TrainingProgress(
    ProgressKind Kind,
    int Epoch,
    int Epochs,
    int Batch,
    int BatchesPerEpoch,
    int Samples,
    double RunningLoss,
    double SamplesPerSecond,
    float LearningRate,
    EpochMetrics? Metrics);

/// <summary>Why a run ended.</summary>
public enum StopReason
{
    /// <summary>All requested epochs ran.</summary>
    Completed,
    /// <summary>
    /// The run went bad: a step returned a non-finite loss (<see cref="TrainerOptions.StopOnNonFiniteLoss"/>), the parameters
    /// held NaN or ±∞ at a good-state check, or the loss exploded (<see cref="TrainerOptions.Divergence"/>);
    /// <see cref="RunSummary.StoppedBy"/> says which.
    /// </summary>
    Diverged,
    /// <summary>The cancellation token fired (only in the partial summary of <see cref="TrainingCancelledException"/>).</summary>
    Cancelled,
    /// <summary><see cref="TrainerOptions.EarlyStopping"/> saw no improvement for its patience.</summary>
    EarlyStopped,
    /// <summary>An observer returned <see cref="ObserverVerdict.Stop"/>; <see cref="RunSummary.StoppedBy"/> names it.</summary>
    ObserverStopped,
}

/// <summary>Thrown when the run's cancellation token fires; <see cref="Partial"/> holds the epochs completed so far.</summary>
public sealed class TrainingCancelledException : OperationCanceledException
{
    /// <summary>Creates the exception with the epochs completed before <paramref name="token"/> fired.</summary>
    public TrainingCancelledException(RunSummary partial, System.Threading.CancellationToken token)
        : base($"Training of {partial.ModelName} was cancelled after {partial.History.Count} complete epoch(s).", token)
    {
        Partial = partial;
    }

    /// <summary>The summary of the completed epochs (StopReason = Cancelled).</summary>
    public RunSummary Partial { get; }
}
