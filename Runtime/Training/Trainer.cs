using System;
using System.Collections.Generic;
using System.Diagnostics;
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
    /// <exception cref="TrainingCancelledException">The options' cancellation token fired; carries the partial summary.</exception>
    public static RunSummary Fit(IKilnModel model, Dataset train, Dataset? validation, TrainerOptions? options = null, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new TrainerOptions();
        Validate(model, train, validation, options);

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
        StopReason stop = StopReason.Completed;
        EvaluationResult? lastValidation = null;
        long step = 0;
        // One buffer for the whole run, so recording allocates nothing per step.
        StepRecord[]? steps = options.RecordSteps ? new StepRecord[(long)options.Epochs * batcher.BatchesPerEpoch] : null;
        var run = new RunState(model, train, validation, options, history, runStart, baseRate, schedule);

        for (int epoch = 0; epoch < options.Epochs && stop == StopReason.Completed; epoch++)
        {
            long epochStart = Stopwatch.GetTimestamp();
            long trainTicks = 0;
            int samples = 0;
            double lossSum = 0;
            batcher.BeginEpoch(epoch);

            while (true)
            {
                if (options.CancellationToken.IsCancellationRequested)
                    throw new TrainingCancelledException(
                        Summarise(run, StopReason.Cancelled, runTrainTicks, runSamples, lastValidation, steps, step),
                        options.CancellationToken);
                if (!batcher.NextBatch()) break;

                int n = batcher.Current;
                float rate = (float)(baseRate * schedule.Factor(new ScheduleClock(step, epoch, batcher.BatchesPerEpoch)));
                if (!(rate >= 0 && float.IsFinite(rate)))
                    throw new InvalidOperationException(
                        $"The schedule {schedule} gave the learning rate {rate} at step {step} (epoch {epoch}); rates must be finite and non-negative.");
                model.LearningRate = rate;
                // Only the step is timed: batch filling above and the bookkeeping below are excluded.
                long t0 = Stopwatch.GetTimestamp();
                float loss = model.TrainStep(batcher.Inputs, batcher.Labels, n);
                trainTicks += Stopwatch.GetTimestamp() - t0;

                lossSum += (double)loss * n;
                samples += n;
                if (steps is not null && step < steps.Length) steps[step] = new StepRecord(step, epoch + 1, loss, rate);
                step++;
                if (!float.IsFinite(loss) && options.StopOnNonFiniteLoss)
                {
                    stop = StopReason.Diverged;
                    break;
                }
                progress?.Report(new TrainingProgress(ProgressKind.Batch, epoch + 1, options.Epochs, batcher.BatchIndex + 1,
                    batcher.BatchesPerEpoch, samples, lossSum / samples, samples / (trainTicks / freq), rate, null));
            }

            runTrainTicks += trainTicks;
            runSamples += samples;

            EvaluationResult? trainResult = trainEval is null ? null : Evaluate(model, trainEval);
            bool lastEpoch = epoch == options.Epochs - 1 || stop != StopReason.Completed;
            EvaluationResult? valResult = validation is not null && (options.ValidateEveryEpoch || lastEpoch) ? Evaluate(model, validation) : null;
            if (valResult is not null) lastValidation = valResult;

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
                LearningRate: model.LearningRate);
            history.Add(metrics);
            if (stop == StopReason.Completed)
            {
                double observed = observeValidation && valResult is { } v ? v.Loss : metrics.TrainLoss;
                schedule.ObserveValidation(observed);
            }
            progress?.Report(new TrainingProgress(ProgressKind.EpochEnd, epoch + 1, options.Epochs, metrics.Batches,
                batcher.BatchesPerEpoch, samples, metrics.TrainLoss, metrics.SamplesPerSecond, metrics.LearningRate, metrics));
        }

        return Summarise(run, stop, runTrainTicks, runSamples, lastValidation, steps, step);
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
        if (validation is not null)
        {
            if (validation.Count == 0)
                throw new ArgumentException($"Validation set '{validation.Name}' is empty.", nameof(validation));
            CheckFits(model, validation, nameof(validation));
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

    private static RunSummary Summarise(RunState run, StopReason stop, long trainTicks, long samples, EvaluationResult? lastValidation,
        StepRecord[]? steps, long stepCount)
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
            StopReason = stop,
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
        };
    }
}
