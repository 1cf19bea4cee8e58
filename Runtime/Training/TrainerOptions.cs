using System.Collections.Generic;
using System.Threading;
using Kiln.Augmentation;
using Kiln.Reports;
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

    /// <summary>
    /// Run LSUV (docs/techniques.md#initialisation) on a batch of training rows before the first step: orthogonal
    /// weights, then each Dense/Conv2D rescaled to unit output variance (<see cref="Kiln.Training.Lsuv"/>). Null, the
    /// default, keeps the model's parameters as they are. Meant for a freshly initialised model: it replaces the weights.
    /// </summary>
    public LsuvOptions? Lsuv { get; init; }

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

    /// <summary>
    /// When the schedule is consulted: before every step (default), or once at the start of each epoch with the
    /// rate held for all its steps (the clock then reads the step count at the epoch's start).
    /// </summary>
    public ScheduleStepping ScheduleStepping { get; init; } = ScheduleStepping.PerStep;

    /// <summary>
    /// When the run diverges (a non-finite loss with <see cref="StopOnNonFiniteLoss"/>, non-finite parameters, or a
    /// <see cref="Divergence"/> stop), put back the last snapshot whose tensors were all finite (parameters, running
    /// statistics, optimiser state and step counter) so the model is usable (default true). The state is put back as soon
    /// as the divergence is seen, so the epoch's evaluation, the run directory's checkpoints and the summary all see it.
    /// Snapshots are taken at the start of the run, at every epoch end and, when <see cref="GoodStateEverySteps"/> is
    /// positive, every that many steps, but only while the loss is not above the divergence threshold; each is a copy
    /// into buffers allocated once before the first step and doubles as the check that every parameter is finite: a
    /// snapshot holding NaN or ±∞ stops the run (<see cref="Trainer.NonFiniteParameters"/>).
    /// </summary>
    public bool RestoreLastGoodState { get; init; } = true;

    /// <summary>Also snapshot the last good state every this many steps (0, the default: only at epoch ends). Each snapshot copies every tensor once.</summary>
    public int GoodStateEverySteps { get; init; }

    /// <summary>
    /// Stop a run whose loss explodes while staying finite (learning rate far too high): when the smoothed training loss
    /// stays above <see cref="DivergenceDetection.Factor"/> × the run's first loss for <see cref="DivergenceDetection.Patience"/>
    /// steps in a row, the run stops with <see cref="StopReason.Diverged"/> and, with <see cref="RestoreLastGoodState"/>, the
    /// last good state is put back. Default: a <see cref="DivergenceDetection"/> with its documented defaults; null turns it off.
    /// It costs a few arithmetic operations per step.
    /// </summary>
    public DivergenceDetection? Divergence { get; init; } = new();

    /// <summary>Early stopping on a chosen metric, restoring the best epoch's tensors at the end; null (default) trains all epochs.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>
    /// Watchers called from inside the loop (training doctor monitors, metric writers...); any may stop the run
    /// with <see cref="ObserverVerdict.Stop"/>. Called in list order on the training thread.
    /// </summary>
    public IReadOnlyList<ITrainingObserver> Observers { get; init; } = [];

    /// <summary>
    /// An on-the-fly augmentation of each training batch: the trainer copies the batch into its own buffer
    /// (allocated once), calls <see cref="IBatchAugmentation.Apply"/> exactly once per step and trains on the result,
    /// on soft targets when <see cref="IBatchAugmentation.ProducesSoftTargets"/>. Null (default): no augmentation.
    /// </summary>
    public IBatchAugmentation? Augmentation { get; init; }

    /// <summary>Seed of the augmentation's random stream (one stream for the whole run, so runs repeat exactly).</summary>
    public ulong AugmentationSeed { get; init; }

    /// <summary>
    /// A folder for the run's record (docs/training.md): <c>metrics.csv</c> (a row per step), <c>epochs.csv</c>,
    /// <c>metrics.jsonl</c> (a JSON object per step and per epoch, written as the run goes), <c>metrics.json</c> (the same
    /// as one document, at the end), <c>best.safetensors</c>, <c>last.safetensors</c>,
    /// optional <c>epoch-NNNN.safetensors</c>, <c>summary.json</c> and <c>report.html</c>. Created if missing; files
    /// of an earlier run there are replaced. Null (default): nothing is written.
    /// </summary>
    public string? RunDirectory { get; init; }

    /// <summary>With a run directory, also keep <c>epoch-NNNN.safetensors</c> every this many epochs (0, the default: none).</summary>
    public int CheckpointEveryEpochs { get; init; }

    /// <summary>
    /// With a run directory, sample the update/weight ratio ‖Δw‖/‖w‖ of every trainable tensor every this many steps
    /// for the report (default 10; 0 turns it off). Each sample copies the trainable tensors once.
    /// </summary>
    public int UpdateRatioEverySteps { get; init; } = 10;

    /// <summary>With a run directory, the fixed training samples (the first ones) whose layer outputs the report shows at the start and the end (default 64).</summary>
    public int ProbeSamples { get; init; } = 64;

    /// <summary>
    /// With a run directory, called once when <c>report.html</c> is written (after the run ends) for the findings to
    /// list (for example <c>() => doctorObserver.Findings</c>). Null: no findings section entries.
    /// </summary>
    public System.Func<IReadOnlyList<Kiln.Doctor.Finding>>? ReportFindings { get; init; }

    /// <summary>Checked before every step; cancellation throws <see cref="TrainingCancelledException"/> carrying the partial summary.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>
/// The trainer's divergence rule (docs/training.md): the reference is the loss of the run's first step (computed on the
/// weights the run started from, before any update); the training loss is smoothed with a bias-corrected exponential
/// moving average; the run has diverged when the smoothed loss exceeds <see cref="Factor"/> × the reference for
/// <see cref="Patience"/> consecutive steps. A run whose first loss is 0 (or not finite) is never judged by it.
/// </summary>
public sealed record DivergenceDetection
{
    /// <summary>How many times the first loss the smoothed loss must exceed (&gt; 1; default 10: softmax over 10 classes starts near 2.3, so 23).</summary>
    public double Factor { get; init; } = 10;

    /// <summary>Consecutive steps the smoothed loss must stay above the threshold (&gt; 0; default 20).</summary>
    public int Patience { get; init; } = 20;

    /// <summary>β of the moving average, in [0, 1) (default 0.9: about the last 10 steps); 0 judges every raw loss.</summary>
    public double Smoothing { get; init; } = 0.9;
}

/// <summary>When the trainer consults the learning-rate schedule.</summary>
public enum ScheduleStepping
{
    /// <summary>Before every step, with the clock at that step.</summary>
    PerStep,
    /// <summary>Once at the start of each epoch; every step of the epoch runs with that rate.</summary>
    PerEpoch,
}

/// <summary>A metric an epoch is judged by.</summary>
public enum TrainingMetric
{
    /// <summary>Eval-mode validation loss (needs a validation set evaluated every epoch).</summary>
    ValidationLoss,
    /// <summary>Eval-mode validation accuracy (needs a validation set evaluated every epoch).</summary>
    ValidationAccuracy,
    /// <summary>The epoch's sample-weighted mean training loss (training mode).</summary>
    TrainLoss,
}

/// <summary>Whether lower or higher values of a metric are better.</summary>
public enum MetricMode
{
    /// <summary>Lower is better (losses).</summary>
    Min,
    /// <summary>Higher is better (accuracy).</summary>
    Max,
}

/// <summary>
/// Early stopping (docs/techniques.md#regularisation): after each epoch the metric is compared with the best so far; it improves when it
/// is below best − <see cref="MinDelta"/> (mode Min) or above best + <see cref="MinDelta"/> (mode Max); NaN never
/// improves. An improving epoch becomes the best and an in-memory copy of every tensor (parameters and running
/// statistics) is taken; after <see cref="Patience"/> epochs in a row without improvement the run stops with
/// <see cref="StopReason.EarlyStopped"/>. At the end of the run (however it ended, except cancellation) the best
/// epoch's tensors are copied back when <see cref="RestoreBest"/> is set.
/// </summary>
public sealed record EarlyStopping
{
    /// <summary>The metric judged (default validation loss).</summary>
    public TrainingMetric Metric { get; init; } = TrainingMetric.ValidationLoss;

    /// <summary>Min or max; null (default) uses Min for losses and Max for accuracy.</summary>
    public MetricMode? Mode { get; init; }

    /// <summary>Epochs without improvement after which the run stops (&gt; 0; default 5).</summary>
    public int Patience { get; init; } = 5;

    /// <summary>The least change that counts as an improvement (≥ 0; default 0).</summary>
    public double MinDelta { get; init; }

    /// <summary>Copy the best epoch's tensors back at the end (default true).</summary>
    public bool RestoreBest { get; init; } = true;

    /// <summary>The mode in effect: <see cref="Mode"/>, or the metric's natural direction.</summary>
    public MetricMode EffectiveMode => Mode ?? (Metric == TrainingMetric.ValidationAccuracy ? MetricMode.Max : MetricMode.Min);
}
