using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Schedules;
using Kiln.Training;

namespace Kiln.Ensembles;

/// <summary>A checkpoint saved by <see cref="CheckpointSnapshots"/>.</summary>
/// <param name="Epoch">1-based epoch after which it was saved.</param>
/// <param name="Path">The safetensors file.</param>
/// <param name="ValidationAccuracy">Validation accuracy at that epoch, when evaluated.</param>
/// <param name="ValidationLoss">Validation loss at that epoch, when evaluated.</param>
public sealed record Snapshot(int Epoch, string Path, double? ValidationAccuracy, double? ValidationLoss);

/// <summary>
/// Checkpoint ensembles (CATALOGUE §8): an <see cref="ITrainingObserver"/> that saves the model after chosen epochs of one
/// run; <see cref="LoadEnsemble"/> turns the snapshots into an <see cref="Ensemble"/>. Use it with
/// <see cref="SnapshotTrainer"/>, or with a trainer that calls observers.
/// </summary>
public sealed class CheckpointSnapshots : ITrainingObserver
{
    private readonly HashSet<int> _epochs;
    private readonly List<Snapshot> _saved = new();

    /// <param name="directory">Where the checkpoints go (created if needed).</param>
    /// <param name="epochs">1-based epochs after which to save.</param>
    /// <param name="prefix">File name prefix: files are <c>{prefix}-epoch{N:000}.safetensors</c>.</param>
    public CheckpointSnapshots(string directory, IEnumerable<int> epochs, string prefix = "snapshot")
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(epochs);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"The prefix '{prefix}' contains characters not allowed in a file name.", nameof(prefix));
        _epochs = new HashSet<int>(epochs);
        if (_epochs.Count == 0) throw new ArgumentException("Name at least one epoch to snapshot.", nameof(epochs));
        foreach (int e in _epochs)
            if (e < 1) throw new ArgumentOutOfRangeException(nameof(epochs), e, "Epochs are 1-based.");
        Directory = directory;
        Prefix = prefix;
    }

    public string Name => "checkpoint-snapshots";

    public string Directory { get; }
    public string Prefix { get; }

    /// <summary>The epochs to snapshot, ascending.</summary>
    public IReadOnlyList<int> Epochs => _epochs.Order().ToArray();

    /// <summary>The snapshots saved so far, in order.</summary>
    public IReadOnlyList<Snapshot> Saved => _saved;

    /// <summary>The file of epoch <paramref name="epoch"/>.</summary>
    public string PathFor(int epoch) =>
        System.IO.Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}-epoch{epoch:000}.safetensors"));

    public void OnRunStart(IKilnModel model, TrainerOptions options) => _saved.Clear();

    public ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metrics);
        if (!_epochs.Contains(metrics.Epoch)) return ObserverVerdict.Continue;
        System.IO.Directory.CreateDirectory(Directory);
        string path = PathFor(metrics.Epoch);
        var extra = new CheckpointMetadata();
        extra.Entries["epoch"] = metrics.Epoch.ToString(CultureInfo.InvariantCulture);
        Checkpoint.Save(model, path, extra);
        _saved.Add(new Snapshot(metrics.Epoch, path, metrics.ValidationAccuracy, metrics.ValidationLoss));
        return ObserverVerdict.Continue;
    }

    /// <summary>
    /// One model per saved snapshot (from <paramref name="create"/>, which must build the class that was trained), each loaded
    /// from its checkpoint, as an ensemble.
    /// </summary>
    public Ensemble LoadEnsemble(Func<IKilnModel> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (_saved.Count == 0) throw new InvalidOperationException("No snapshot has been saved yet: train first (the epochs were " + string.Join(", ", Epochs) + ").");
        var models = new List<IKilnModel>(_saved.Count);
        foreach (Snapshot s in _saved)
        {
            IKilnModel model = create() ?? throw new InvalidOperationException("The model factory returned null.");
            Checkpoint.Load(model, s.Path);
            models.Add(model);
        }
        return new Ensemble(models);
    }
}

/// <summary>
/// Trains one epoch per <see cref="Trainer.Fit(IKilnModel, Dataset, Dataset?, TrainerOptions?, IProgress{TrainingProgress}?)"/>
/// call and calls <see cref="ITrainingObserver"/>s between epochs — for this branch's trainer, which does not call observers
/// itself. The run is the same as one <c>Fit</c> of <see cref="TrainerOptions.Epochs"/> epochs: epoch e shuffles with the seed
/// that <c>Fit</c> would use for its epoch e, and the schedule's clock continues across calls (the tests check that the weights
/// come out bit-identical). Only the training-accuracy subset (<see cref="TrainerOptions.TrainAccuracySamples"/>) differs per epoch.
/// </summary>
public static class SnapshotTrainer
{
    /// <summary>The step the batcher adds to the seed per epoch (SplitMix's golden-ratio increment).</summary>
    private const ulong EpochSeedStep = 0x9E3779B97F4A7C15UL;

    /// <summary>Trains <paramref name="model"/> for <c>options.Epochs</c> epochs, calling <paramref name="observers"/> at the run start, after each epoch and at the end.</summary>
    public static RunSummary Fit(IKilnModel model, Dataset train, Dataset? validation, TrainerOptions? options, params ITrainingObserver[] observers) =>
        Fit(model, train, validation, options, progress: null, observers);

    /// <inheritdoc cref="Fit(IKilnModel, Dataset, Dataset?, TrainerOptions?, ITrainingObserver[])"/>
    public static RunSummary Fit(IKilnModel model, Dataset train, Dataset? validation, TrainerOptions? options, IProgress<TrainingProgress>? progress,
        params ITrainingObserver[] observers)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(observers);
        options ??= new TrainerOptions();
        if (options.Epochs <= 0) throw new ArgumentException($"Epochs must be positive (got {options.Epochs}).", nameof(options));
        foreach (ITrainingObserver o in observers) ArgumentNullException.ThrowIfNull(o, nameof(observers));
        LearningRateSchedule schedule = options.Schedule ?? model.CreateSchedule();
        float baseRate = options.LearningRate ?? model.BaseLearningRate;

        foreach (ITrainingObserver o in observers) o.OnRunStart(model, options);
        var history = new List<EpochMetrics>(options.Epochs);
        var steps = options.RecordSteps ? new List<StepRecord>() : null;
        var parts = new List<RunSummary>(options.Epochs);
        long stepsSoFar = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            bool lastEpoch = epoch == options.Epochs - 1;
            TrainerOptions one = options with
            {
                Epochs = 1,
                Seed = options.Seed + EpochSeedStep * (ulong)epoch,
                Schedule = new ContinuedSchedule(schedule, epoch, stepsSoFar),
                LearningRate = baseRate,
            };
            // Fit validates its last epoch always; skip the set on the epochs a single run would not validate.
            Dataset? val = options.ValidateEveryEpoch || lastEpoch ? validation : null;
            RunSummary part = Trainer.Fit(model, train, val, one, progress is null ? null : new EpochProgress(progress, epoch, options.Epochs));
            parts.Add(part);
            EpochMetrics metrics = part.History[0] with { Epoch = epoch + 1 };
            history.Add(metrics);
            if (steps is not null && part.Steps is not null)
                foreach (StepRecord s in part.Steps) steps.Add(s with { Step = s.Step + stepsSoFar, Epoch = epoch + 1 });
            stepsSoFar += metrics.Batches;

            bool stop = part.StopReason != StopReason.Completed;
            foreach (ITrainingObserver o in observers)
                if (o.OnEpochEnd(model, metrics) == ObserverVerdict.Stop) stop = true;
            if (stop) break;
        }

        RunSummary last = parts[^1];
        double trainSeconds = parts.Sum(p => p.TrainSeconds);
        long samples = parts.Sum(p => p.SamplesSeen);
        RunSummary summary = last with
        {
            Seed = options.Seed,
            EpochsRequested = options.Epochs,
            History = history.ToArray(),
            TotalSeconds = parts.Sum(p => p.TotalSeconds),
            TrainSeconds = trainSeconds,
            SamplesSeen = samples,
            SamplesPerSecond = trainSeconds > 0 ? samples / trainSeconds : 0,
            BaseLearningRate = baseRate,
            Schedule = schedule.ToString() ?? "",
            Steps = steps?.ToArray(),
        };
        foreach (ITrainingObserver o in observers) o.OnRunEnd(model, summary);
        return summary;
    }

    /// <summary>The run's schedule seen from one epoch's Fit call: its clock shifted by the epochs and steps already taken.</summary>
    private sealed class ContinuedSchedule(LearningRateSchedule inner, int epochOffset, long stepOffset) : LearningRateSchedule
    {
        public override double Factor(in ScheduleClock clock) =>
            inner.Factor(new ScheduleClock(clock.Step + stepOffset, clock.Epoch + epochOffset, clock.StepsPerEpoch));

        public override void ObserveValidation(double loss) => inner.ObserveValidation(loss);

        public override string ToString() => inner.ToString() ?? "";
    }

    /// <summary>Progress reports renumbered to the whole run's epochs.</summary>
    private sealed class EpochProgress(IProgress<TrainingProgress> inner, int epoch, int epochs) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => inner.Report(value with
        {
            Epoch = epoch + 1,
            Epochs = epochs,
            Metrics = value.Metrics is null ? null : value.Metrics with { Epoch = epoch + 1 },
        });
    }
}
