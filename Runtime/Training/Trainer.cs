using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Kiln.Data;
using Kiln.Schedules;

namespace Kiln.Training;

/// <summary>
/// The training loop: shuffled mini-batches through <see cref="IKilnModel.TrainStep(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/>,
/// a learning-rate schedule, eval-mode validation, timing and progress. The loop itself allocates nothing per step.
/// </summary>
/// <remarks>
/// Learning rate: before every step the trainer sets <c>model.LearningRate = (float)(base × schedule.Factor(clock))</c>
/// with base = <see cref="TrainerOptions.LearningRate"/> ?? <see cref="IKilnModel.BaseLearningRate"/>, schedule =
/// <see cref="TrainerOptions.Schedule"/> ?? <see cref="IKilnModel.CreateSchedule"/>() and clock = (steps taken so far in
/// this run, 0-based epoch, batches per epoch). After each epoch the schedule is told the epoch's loss through
/// <see cref="LearningRateSchedule.ObserveValidation"/>: the eval-mode validation loss when a validation set is
/// evaluated every epoch, otherwise the epoch's mean training loss (so a plateau is always judged on one kind of loss).
/// </remarks>
public static class Trainer
{
    /// <summary>Trains with default options except epochs and batch size.</summary>
    public static RunSummary Fit(IKilnModel model, Dataset train, Dataset? validation, int epochs, int batchSize, IProgress<TrainingProgress>? progress = null) =>
        Fit(model, train, validation, new TrainerOptions { Epochs = epochs, BatchSize = batchSize }, progress);

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> for <see cref="TrainerOptions.Epochs"/> epochs.
    /// </summary>
    /// <param name="model">A generated model (or any implementation of <see cref="IKilnModel"/>).</param>
    /// <param name="train">Training data; its feature count must equal the model's input size.</param>
    /// <param name="validation">Optional held-out data evaluated with <see cref="IKilnModel.Evaluate"/> (eval mode).</param>
    /// <param name="options">Settings; null uses the defaults.</param>
    /// <param name="progress">
    /// Called synchronously on this thread after every step and at every epoch end. Pass an
    /// <see cref="IProgress{T}"/> that handles the report directly rather than <see cref="Progress{T}"/>, which
    /// posts every report to the thread pool or a synchronisation context.
    /// </param>
    /// <exception cref="ArgumentException">Bad options, a batch size above the model's MaxBatch, or data that does not fit the model.</exception>
    /// <exception cref="InvalidDataException">
    /// A training or validation sample holds NaN or ±∞ (checked before the first step), or an augmented batch does; the
    /// message names the data set, the sample and the feature.
    /// </exception>
    /// <exception cref="TrainingCancelledException">The options' cancellation token fired; carries the partial summary.</exception>
    public static RunSummary Fit(IKilnModel model, Dataset train, Dataset? validation, TrainerOptions? options = null, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new TrainerOptions();
        Validate(model, train, validation, options);
        DebugBuildNotice.WarnOnce(model);
        if (options.Lsuv is { } lsuv) Lsuv.Initialize(model, train, lsuv);

        double baseRate = options.LearningRate ?? model.BaseLearningRate;
        if (!(baseRate > 0 && double.IsFinite(baseRate)))
            throw new ArgumentException(
                $"{model.ModelName}'s base learning rate must be positive and finite (got {baseRate}); set TrainerOptions.LearningRate.", nameof(options));
        LearningRateSchedule schedule = options.Schedule ?? model.CreateSchedule()
            ?? throw new InvalidOperationException($"{model.ModelName}.CreateSchedule() returned null.");
        bool observeValidation = validation is not null && options.ValidateEveryEpoch;

        var batcher = new Batcher(train, options.BatchSize, options.Seed, options.Shuffle, options.DropLast, options.MinLastBatch);
        Dataset? trainEval = TrainEvalSubset(train, options);
        var history = new List<EpochMetrics>(options.Epochs);
        double freq = Stopwatch.Frequency;
        long runStart = Stopwatch.GetTimestamp();
        long runTrainTicks = 0, runSamples = 0;
        var stop = new StopState();
        EvaluationResult? lastValidation = null;
        long step = 0;
        long stepCapacity = (long)options.Epochs * batcher.BatchesPerEpoch;
        // One buffer for the whole run, so recording allocates nothing per step.
        StepRecord[]? steps = options.RecordSteps ? new StepRecord[stepCapacity] : null;
        var run = new RunState(model, train, validation, options, history, runStart, baseRate, schedule);

        // Everything the loop needs is allocated here, before the first step.
        RunDirectoryWriter? writer = options.RunDirectory is { } dir ? new RunDirectoryWriter(dir, model, train, observeValidation, options, stepCapacity) : null;
        ITrainingObserver[] observers = [.. options.Observers, .. writer is null ? Array.Empty<ITrainingObserver>() : [writer]];
        AugmentationBuffers? augmentation = options.Augmentation is { } aug ? new AugmentationBuffers(aug, model, options) : null;
        EarlyStoppingState? early = options.EarlyStopping is { } es ? new EarlyStoppingState(es, model) : null;
        GoodStateKeeper? goodState = options.RestoreLastGoodState && (options.StopOnNonFiniteLoss || options.Divergence is not null) ? new GoodStateKeeper(model) : null;
        if (goodState is not null && !goodState.Offer())
            throw new ArgumentException($"{model.ModelName} holds {DataGuard.FindNonFinite(model)} before training; load or initialise finite parameters.", nameof(model));
        DivergenceMonitor? divergence = options.Divergence is { } rule ? new DivergenceMonitor(rule) : null;
        string? restored = null;

        foreach (ITrainingObserver o in observers) o.OnRunStart(model, options);

        float rate = 0;
        try
        {
            for (int epoch = 0; epoch < options.Epochs && stop.Reason == StopReason.Completed; epoch++)
            {
                long epochStart = Stopwatch.GetTimestamp();
                long trainTicks = 0;
                int samples = 0;
                double lossSum = 0;
                batcher.BeginEpoch(epoch);

                while (true)
                {
                    if (options.CancellationToken.IsCancellationRequested)
                    {
                        RunSummary partial = Summarise(run, stop with { Reason = StopReason.Cancelled }, runTrainTicks, runSamples, lastValidation, steps, step, early, null);
                        foreach (ITrainingObserver o in observers) o.OnRunEnd(model, partial);
                        throw new TrainingCancelledException(partial, options.CancellationToken);
                    }
                    if (!batcher.NextBatch()) break;

                    int n = batcher.Current;
                    if (options.ScheduleStepping == ScheduleStepping.PerStep || batcher.BatchIndex == 0)
                        rate = Rate(schedule, baseRate, step, epoch, batcher.BatchesPerEpoch);
                    model.LearningRate = rate;

                    float loss;
                    try
                    {
                        if (augmentation is null)
                        {
                            // Only the step is timed: batch filling above and the bookkeeping below are excluded.
                            long t0 = Stopwatch.GetTimestamp();
                            loss = model.TrainStep(batcher.Inputs, batcher.Labels, n);
                            trainTicks += Stopwatch.GetTimestamp() - t0;
                        }
                        else
                        {
                            augmentation.Apply(batcher.Inputs, batcher.Labels, n);
                            long t0 = Stopwatch.GetTimestamp();
                            loss = augmentation.Augmentation.ProducesSoftTargets
                                ? model.TrainStep(augmentation.Inputs(n), augmentation.SoftTargets(n), n)
                                : model.TrainStep(augmentation.Inputs(n), batcher.Labels, n);
                            trainTicks += Stopwatch.GetTimestamp() - t0;
                        }
                    }
                    catch (NonFiniteInputException e)
                    {
                        throw BadBatch(e, train, batcher, epoch);
                    }

                    lossSum += (double)loss * n;
                    samples += n;
                    var record = new StepRecord(step, epoch + 1, loss, rate);
                    if (steps is not null && step < steps.Length) steps[step] = record;
                    step++;
                    bool finite = float.IsFinite(loss);
                    // Divergence is decided first, so an observer that also stops on it (the doctor) does not hide it
                    // and the last good state is restored either way.
                    bool diverged = !finite && options.StopOnNonFiniteLoss;
                    if (diverged) stop.Set(StopReason.Diverged, NonFiniteLoss, $"the loss was {loss} at step {record.Step} (epoch {epoch + 1})");
                    else if (finite && divergence is not null && divergence.Observe(loss))
                    {
                        diverged = true;
                        stop.Set(StopReason.Diverged, LossDivergence, divergence.Message(record.Step, epoch + 1));
                    }
                    // Observers see every step, the diverging one included (the doctor reports it).
                    for (int i = 0; i < observers.Length; i++)
                        if (observers[i].OnStep(model, record) == ObserverVerdict.Stop) stop.ObserverStop(observers[i], $"stopped at step {record.Step}");
                    if (diverged)
                    {
                        // Put the last good state back now, so the epoch's evaluation and the run directory see it.
                        restored = RestoreGoodState(goodState);
                        break;
                    }
                    if (finite && goodState is not null && options.GoodStateEverySteps > 0 && step % options.GoodStateEverySteps == 0
                        && !OfferGoodState(model, goodState, divergence, stop, step, epoch, ref restored))
                        break;
                    if (stop.Reason != StopReason.Completed) break;
                    progress?.Report(new TrainingProgress(ProgressKind.Batch, epoch + 1, options.Epochs, batcher.BatchIndex + 1,
                        batcher.BatchesPerEpoch, samples, lossSum / samples, samples / (trainTicks / freq), rate, null));
                }

                runTrainTicks += trainTicks;
                runSamples += samples;
                // The epoch-end snapshot doubles as the check that every parameter is still finite (before anything is evaluated or saved).
                if (stop.Reason != StopReason.Diverged && goodState is not null)
                    OfferGoodState(model, goodState, divergence, stop, step, epoch, ref restored);

                long loopEnd = Stopwatch.GetTimestamp();
                EvaluationResult? trainResult = trainEval is null ? null : Evaluate(model, trainEval);
                bool lastEpoch = epoch == options.Epochs - 1 || stop.Reason != StopReason.Completed;
                EvaluationResult? valResult = validation is not null && (options.ValidateEveryEpoch || lastEpoch) ? Evaluate(model, validation) : null;
                if (valResult is not null) lastValidation = valResult;
                long evaluationEnd = Stopwatch.GetTimestamp();

                double trainSeconds = trainTicks / freq;
                var metrics = new EpochMetrics(
                    Epoch: epoch + 1,
                    Batches: batcher.BatchIndex + 1,
                    Samples: samples,
                    TrainLoss: samples > 0 ? lossSum / samples : double.NaN,
                    TrainAccuracy: trainResult?.Accuracy,
                    TrainEvalLoss: trainResult?.Loss,
                    ValidationLoss: valResult?.Loss,
                    ValidationAccuracy: valResult?.Accuracy,
                    Seconds: (Stopwatch.GetTimestamp() - epochStart) / freq,
                    TrainSeconds: trainSeconds,
                    SamplesPerSecond: trainSeconds > 0 ? samples / trainSeconds : 0,
                    LearningRate: model.LearningRate)
                {
                    LoopSeconds = (loopEnd - epochStart) / freq,
                    EvaluationSeconds = trainResult is null && valResult is null ? 0 : (evaluationEnd - loopEnd) / freq,
                };
                history.Add(metrics);
                if (stop.Reason == StopReason.Completed)
                {
                    double observed = observeValidation && valResult is { } v ? v.Loss : metrics.TrainLoss;
                    schedule.ObserveValidation(observed);
                }
                if (stop.Reason != StopReason.Diverged)
                {
                    // Patience used up in the last epoch ends nothing early: the run completed.
                    if (early is not null && early.Observe(metrics) && stop.Reason == StopReason.Completed && epoch < options.Epochs - 1)
                        stop.Set(StopReason.EarlyStopped, EarlyStoppingName, early.StopMessage());
                }
                for (int i = 0; i < observers.Length; i++)
                    if (observers[i].OnEpochEnd(model, metrics) == ObserverVerdict.Stop) stop.ObserverStop(observers[i], $"stopped after epoch {epoch + 1}");
                progress?.Report(new TrainingProgress(ProgressKind.EpochEnd, epoch + 1, options.Epochs, metrics.Batches,
                    batcher.BatchesPerEpoch, samples, metrics.TrainLoss, metrics.SamplesPerSecond, metrics.LearningRate, metrics));
            }
        }
        catch (Exception e) when (e is not TrainingCancelledException)
        {
            // A failing step, observer or evaluation still closes the run directory's files.
            writer?.Dispose();
            throw;
        }

        // What the model holds at the end: the last good state after a divergence (put back when it was seen), then the best epoch's tensors.
        if (early is not null && early.RestoreBest()) restored = $"best epoch {early.BestEpoch}";

        RunSummary summary = Summarise(run, stop, runTrainTicks, runSamples, lastValidation, steps, step, early, restored);
        foreach (ITrainingObserver o in observers) o.OnRunEnd(model, summary);
        return summary;
    }

    /// <summary>The <see cref="RunSummary.StoppedBy"/> of a run ended by early stopping.</summary>
    public const string EarlyStoppingName = "early stopping";

    /// <summary>The <see cref="RunSummary.StoppedBy"/> of a run ended by a non-finite loss.</summary>
    public const string NonFiniteLoss = "non-finite loss";

    /// <summary>The <see cref="RunSummary.StoppedBy"/> of a run whose parameters held NaN or ±∞ at a good-state check.</summary>
    public const string NonFiniteParameters = "non-finite parameters";

    /// <summary>The <see cref="RunSummary.StoppedBy"/> of a run stopped by <see cref="TrainerOptions.Divergence"/>.</summary>
    public const string LossDivergence = "loss divergence";

    private static string? RestoreGoodState(GoodStateKeeper? goodState) =>
        goodState?.Restore() is long goodStep ? $"last good state after step {goodStep}" : null;

    /// <summary>
    /// Takes a good-state snapshot while the loss is below the divergence threshold; a snapshot with NaN or ±∞ stops the
    /// run and puts the previous one back. Returns false when the run stopped.
    /// </summary>
    private static bool OfferGoodState(IKilnModel model, GoodStateKeeper goodState, DivergenceMonitor? divergence, StopState stop, long step, int epoch, ref string? restored)
    {
        if (divergence is { Healthy: false }) return true;
        if (goodState.Offer()) return true;
        string where = DataGuard.FindNonFinite(model)?.ToString() ?? "NaN or ±∞";
        stop.Set(StopReason.Diverged, NonFiniteParameters, $"the model held {where} after step {step - 1} (epoch {epoch + 1})");
        restored = RestoreGoodState(goodState);
        return false;
    }

    /// <summary>The trainer's message for a batch that the model refused as non-finite: the data set's sample, not the batch row.</summary>
    private static InvalidDataException BadBatch(NonFiniteInputException e, Dataset train, Batcher batcher, int epoch)
    {
        int sample = batcher.Indices[e.Row];
        bool sampleFinite = float.IsFinite(train.Features[(long)sample * train.FeatureCount + e.Feature]);
        return new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"Training set '{train.Name}', sample {sample}, feature {e.Feature} is {e.Value}{(sampleFinite ? " after the augmentation (the sample itself is finite)" : "")} in batch {batcher.BatchIndex + 1} of epoch {epoch + 1}; the step was not taken."), e);
    }

    /// <summary>Rejects NaN and ±∞ features before the first step, naming the sample (one vectorised pass over the data).</summary>
    private static void CheckFinite(Dataset data, string what)
    {
        int i = DataGuard.IndexOfNonFinite(data.Features);
        if (i < 0) return;
        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"{what} '{data.Name}': sample {i / data.FeatureCount}, feature {i % data.FeatureCount} is {data.Features[i]}. Kiln trains only on finite values (one NaN turns weights into NaN): fix or drop the sample, or check the preprocessing."));
    }

    /// <summary>The divergence rule of <see cref="DivergenceDetection"/>: a bias-corrected moving average of the loss against the first loss.</summary>
    private sealed class DivergenceMonitor(DivergenceDetection rule)
    {
        private double _reference = double.NaN, _average, _decay = 1, _smoothed;
        private int _above;

        /// <summary>The smoothed loss is not above the threshold (good-state snapshots are taken only then).</summary>
        public bool Healthy => _above == 0;

        /// <summary>Takes a finite step loss; returns true when the rule fires.</summary>
        public bool Observe(float loss)
        {
            if (double.IsNaN(_reference)) _reference = loss;
            _average = rule.Smoothing * _average + (1 - rule.Smoothing) * loss;
            _decay *= rule.Smoothing;
            _smoothed = _average / (1 - _decay);
            bool above = _reference > 0 && double.IsFinite(_reference) && _smoothed > rule.Factor * _reference;
            _above = above ? _above + 1 : 0;
            return _above >= rule.Patience;
        }

        public string Message(long step, int epoch) => string.Create(CultureInfo.InvariantCulture,
            $"the smoothed training loss stayed above {rule.Factor:G4} × the first loss ({_reference:G4}) for {rule.Patience} steps: {_smoothed:G4} at step {step} (epoch {epoch})");
    }

    private static float Rate(LearningRateSchedule schedule, double baseRate, long step, int epoch, int batchesPerEpoch)
    {
        float rate = (float)(baseRate * schedule.Factor(new ScheduleClock(step, epoch, batchesPerEpoch)));
        if (!(rate >= 0 && float.IsFinite(rate)))
            throw new InvalidOperationException(
                $"The schedule {schedule} gave the learning rate {rate} at step {step} (epoch {epoch}); rates must be finite and non-negative.");
        return rate;
    }

    /// <summary>Why the run is ending, set by the first of: divergence, early stopping, an observer.</summary>
    private sealed record StopState
    {
        public StopReason Reason { get; set; } = StopReason.Completed;
        public string? By { get; set; }
        public string? Message { get; set; }

        public void Set(StopReason reason, string by, string message)
        {
            if (Reason != StopReason.Completed) return;
            Reason = reason;
            By = by;
            Message = message;
        }

        public void ObserverStop(ITrainingObserver observer, string when) =>
            Set(StopReason.ObserverStopped, observer.Name, $"observer '{observer.Name}' {when}");
    }

    /// <summary>The trainer's own copy of each batch for the augmentation, and its soft targets; sized once for the batch size.</summary>
    private sealed class AugmentationBuffers(Kiln.Augmentation.IBatchAugmentation augmentation, IKilnModel model, TrainerOptions o)
    {
        private readonly float[] _inputs = new float[o.BatchSize * model.InputSize];
        private readonly float[] _soft = augmentation.ProducesSoftTargets ? new float[o.BatchSize * model.OutputSize] : [];
        private readonly int _features = model.InputSize, _classes = model.OutputSize;
        private KilnRandom _rng = new(o.AugmentationSeed);

        public Kiln.Augmentation.IBatchAugmentation Augmentation => augmentation;

        public ReadOnlySpan<float> Inputs(int n) => _inputs.AsSpan(0, n * _features);

        public ReadOnlySpan<float> SoftTargets(int n) => _soft.AsSpan(0, n * _classes);

        public void Apply(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int n)
        {
            inputs.CopyTo(_inputs);
            Span<float> soft = _soft.AsSpan(0, augmentation.ProducesSoftTargets ? n * _classes : 0);
            augmentation.Apply(_inputs.AsSpan(0, n * _features), labels, soft, n, _classes, ref _rng);
        }
    }

    /// <summary>Two snapshots used in turn: a capture goes to the spare one and replaces the current one only if every value is finite.</summary>
    private sealed class GoodStateKeeper(IKilnModel model)
    {
        private ModelSnapshot _current = new(model, includeOptimizerState: true);
        private ModelSnapshot _spare = new(model, includeOptimizerState: true);

        /// <summary>Captures the model; keeps the capture only when every value is finite, and says whether it was.</summary>
        public bool Offer()
        {
            if (!_spare.Capture()) return false;
            (_current, _spare) = (_spare, _current);
            return true;
        }

        /// <summary>Restores the last finite snapshot; returns its step, or null when there is none.</summary>
        public long? Restore()
        {
            if (!_current.HasValue) return null;
            _current.Restore();
            return _current.Step;
        }
    }

    /// <summary>Early stopping's best value, patience count and best-epoch snapshot.</summary>
    private sealed class EarlyStoppingState(EarlyStopping settings, IKilnModel model)
    {
        private readonly ModelSnapshot _best = new(model, includeOptimizerState: false);
        private readonly MetricTracker _tracker = new(settings.Metric, settings.EffectiveMode, settings.MinDelta);
        private int _badEpochs;

        public EarlyStopping Settings => settings;
        public int? BestEpoch => _tracker.BestEpoch;
        public double? BestValue => _tracker.BestValue;

        /// <summary>Judges an epoch; returns true when the patience is used up.</summary>
        public bool Observe(EpochMetrics metrics)
        {
            if (_tracker.Observe(metrics))
            {
                _best.Capture();
                _badEpochs = 0;
                return false;
            }
            _badEpochs++;
            return _badEpochs >= settings.Patience;
        }

        public string StopMessage() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"no improvement of {MetricTracker.Name(settings.Metric)} by more than {settings.MinDelta:G4} for {settings.Patience} epoch(s); best {BestValue:G6} at epoch {BestEpoch}");

        public bool RestoreBest()
        {
            if (!settings.RestoreBest || !_best.HasValue) return false;
            _best.Restore();
            return true;
        }
    }

    /// <summary>What the summary needs from the run that does not change per step.</summary>
    private sealed record RunState(IKilnModel Model, Dataset Train, Dataset? Validation, TrainerOptions Options, List<EpochMetrics> History,
        long RunStart, double BaseRate, LearningRateSchedule Schedule);

    /// <summary>Eval-mode loss and accuracy of <paramref name="model"/> on <paramref name="data"/>.</summary>
    public static EvaluationResult Evaluate(IKilnModel model, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        CheckFits(model, data, nameof(data));
        if (data.Count == 0) throw new ArgumentException($"Data set '{data.Name}' is empty: there is no loss or accuracy to report.", nameof(data));
        return model.Evaluate(data.Features, data.Labels, data.Count);
    }

    private static void Validate(IKilnModel model, Dataset train, Dataset? validation, TrainerOptions o)
    {
        if (o.Epochs <= 0)
            throw new ArgumentException($"Epochs must be positive (got {o.Epochs}).", nameof(o.Epochs));
        if (o.BatchSize <= 0)
            throw new ArgumentException($"Batch size must be positive (got {o.BatchSize}).", nameof(o.BatchSize));
        if (o.BatchSize > model.MaxBatch)
            throw new ArgumentException(
                $"Batch size {o.BatchSize} exceeds {model.ModelName}'s MaxBatch of {model.MaxBatch}: use a batch of at most {model.MaxBatch} " +
                $"or raise [Model(MaxBatch = ...)] (every buffer is sized for MaxBatch when the model is constructed).", nameof(o.BatchSize));
        if (o.LearningRate is float lr && !(lr > 0 && float.IsFinite(lr)))
            throw new ArgumentException($"Learning rate must be positive and finite (got {lr}).", nameof(o.LearningRate));
        if (o.TrainAccuracySamples < 0)
            throw new ArgumentException($"TrainAccuracySamples must not be negative (got {o.TrainAccuracySamples}).", nameof(o.TrainAccuracySamples));
        if (train.Count == 0)
            throw new ArgumentException($"Training set '{train.Name}' is empty.", nameof(train));
        if (o.MinLastBatch <= 0)
            throw new ArgumentException($"MinLastBatch must be positive (got {o.MinLastBatch}).", nameof(o.MinLastBatch));
        int minBatch = o.DropLast ? o.BatchSize : Math.Min(o.MinLastBatch, o.BatchSize);
        if (train.Count < minBatch)
            throw new ArgumentException(
                $"Training set '{train.Name}' of {train.Count} samples makes no batch: batches need at least {minBatch} samples ({(o.DropLast ? "DropLast" : "MinLastBatch")}).", nameof(train));
        CheckFits(model, train, nameof(train));
        CheckFinite(train, "Training set");
        if (o.GoodStateEverySteps < 0)
            throw new ArgumentException($"GoodStateEverySteps must not be negative (got {o.GoodStateEverySteps}).", nameof(o.GoodStateEverySteps));
        if (o.CheckpointEveryEpochs < 0)
            throw new ArgumentException($"CheckpointEveryEpochs must not be negative (got {o.CheckpointEveryEpochs}).", nameof(o.CheckpointEveryEpochs));
        if (o.UpdateRatioEverySteps < 0)
            throw new ArgumentException($"UpdateRatioEverySteps must not be negative (got {o.UpdateRatioEverySteps}).", nameof(o.UpdateRatioEverySteps));
        if (o.ProbeSamples < 0)
            throw new ArgumentException($"ProbeSamples must not be negative (got {o.ProbeSamples}).", nameof(o.ProbeSamples));
        if (o.RunDirectory is { Length: 0 })
            throw new ArgumentException("RunDirectory is empty; give a folder path or null.", nameof(o.RunDirectory));
        if (o.Observers is null)
            throw new ArgumentException("Observers is null; give an empty list for none.", nameof(o.Observers));
        for (int i = 0; i < o.Observers.Count; i++)
            if (o.Observers[i] is null) throw new ArgumentException($"Observers[{i}] is null.", nameof(o.Observers));
        if (o.Divergence is { } d)
        {
            if (!(d.Factor > 1 && double.IsFinite(d.Factor)))
                throw new ArgumentException($"Divergence.Factor must be a finite number above 1 (got {d.Factor}).", nameof(o.Divergence));
            if (d.Patience <= 0)
                throw new ArgumentException($"Divergence.Patience must be positive (got {d.Patience}).", nameof(o.Divergence));
            if (!(d.Smoothing >= 0 && d.Smoothing < 1))
                throw new ArgumentException($"Divergence.Smoothing must be in [0, 1) (got {d.Smoothing}).", nameof(o.Divergence));
        }
        if (o.EarlyStopping is { } es)
        {
            if (es.Patience <= 0)
                throw new ArgumentException($"EarlyStopping.Patience must be positive (got {es.Patience}).", nameof(o.EarlyStopping));
            if (!(es.MinDelta >= 0 && double.IsFinite(es.MinDelta)))
                throw new ArgumentException($"EarlyStopping.MinDelta must be finite and not negative (got {es.MinDelta}).", nameof(o.EarlyStopping));
            if (es.Metric != TrainingMetric.TrainLoss && (validation is null || !o.ValidateEveryEpoch))
                throw new ArgumentException(
                    $"EarlyStopping on {es.Metric} needs a validation set evaluated every epoch ({(validation is null ? "no validation set was given" : "ValidateEveryEpoch is false")}); " +
                    "pass one, or judge by TrainingMetric.TrainLoss.", nameof(o.EarlyStopping));
        }
        if (validation is not null)
        {
            if (validation.Count == 0)
                throw new ArgumentException($"Validation set '{validation.Name}' is empty.", nameof(validation));
            CheckFits(model, validation, nameof(validation));
            CheckFinite(validation, "Validation set");
        }
    }

    private static void CheckFits(IKilnModel model, Dataset data, string paramName)
    {
        if (data.FeatureCount != model.InputSize)
            throw new ArgumentException(
                $"Data set '{data.Name}' has {data.FeatureCount} features per sample, but {model.ModelName} expects {model.InputSize}.", paramName);
        bool classifier = model.Loss is LossKind.SoftmaxCrossEntropy or LossKind.MulticlassHinge;
        if (classifier && data.ClassCount > model.OutputSize)
            throw new ArgumentException(
                $"Data set '{data.Name}' has {data.ClassCount} classes, but {model.ModelName} has only {model.OutputSize} outputs.", paramName);
    }

    private static Dataset? TrainEvalSubset(Dataset train, TrainerOptions o)
    {
        if (o.TrainAccuracySamples == 0) return null;
        if (o.TrainAccuracySamples >= train.Count) return train;
        // A fixed seeded subset, so the number is comparable from epoch to epoch.
        int[] order = Dataset.Identity(train.Count);
        var rng = new KilnRandom(o.Seed ^ 0x5EED_7A1E_AC0C_0001UL);
        Dataset.Shuffle(order, ref rng);
        return train.Subset(order.AsSpan(0, o.TrainAccuracySamples), train.Name + "/accuracy-subset");
    }

    private static RunSummary Summarise(RunState run, StopState stop, long trainTicks, long samples, EvaluationResult? lastValidation,
        StepRecord[]? steps, long stepCount, EarlyStoppingState? early, string? restored)
    {
        (IKilnModel model, Dataset train, Dataset? validation, TrainerOptions o, List<EpochMetrics> history, long runStart, _, _) = run;
        double trainSeconds = trainTicks / (double)Stopwatch.Frequency;
        return new RunSummary
        {
            ModelName = model.ModelName,
            Isa = model.Isa.ToString(),
            TrainDataset = train.Name,
            TrainSamples = train.Count,
            ValidationDataset = validation?.Name,
            ValidationSamples = validation?.Count ?? 0,
            BatchSize = o.BatchSize,
            Seed = o.Seed,
            EpochsRequested = o.Epochs,
            StopReason = stop.Reason,
            StoppedBy = stop.By,
            StopMessage = stop.Message,
            History = history.ToArray(),
            TotalSeconds = (Stopwatch.GetTimestamp() - runStart) / (double)Stopwatch.Frequency,
            TrainSeconds = trainSeconds,
            SamplesSeen = samples,
            SamplesPerSecond = trainSeconds > 0 ? samples / trainSeconds : 0,
            LearningRate = model.LearningRate,
            BaseLearningRate = (float)run.BaseRate,
            Schedule = run.Schedule.ToString() ?? "",
            Steps = steps is null ? null : steps.AsSpan(0, (int)Math.Min(stepCount, steps.Length)).ToArray(),
            FinalTrainLoss = history.Count > 0 ? history[^1].TrainLoss : double.NaN,
            FinalValidationLoss = lastValidation?.Loss,
            FinalValidationAccuracy = lastValidation?.Accuracy,
            BestMetric = early?.Settings.Metric,
            BestEpoch = early?.BestEpoch,
            BestValue = early?.BestValue,
            RestoredState = restored,
        };
    }
}
