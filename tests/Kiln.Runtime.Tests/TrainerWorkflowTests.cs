using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Xml.Linq;
using Kiln.Augmentation;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Schedules;
using Kiln.Training;

namespace Kiln.Runtime.Tests;

/// <summary>Observers, augmentation, early stopping, last-good-state restore, schedule stepping and the run directory.</summary>
public class TrainerWorkflowTests
{
    private static DataSplit StandardisedDigits()
    {
        DataSplit s = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(s.Train);
        return new DataSplit(st.Transform(s.Train), st.Transform(s.Test));
    }

    private static float[][] Copy(IKilnModel model) => model.Tensors.Select(t => model.TensorData(t).ToArray()).ToArray();

    private static bool BitwiseEqual(float[][] a, float[][] b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.First.Select(BitConverter.SingleToInt32Bits).SequenceEqual(p.Second.Select(BitConverter.SingleToInt32Bits)));

    /// <summary>Copies every tensor at every epoch end and at chosen steps; counts calls; may stop the run.</summary>
    private sealed class SnapshotObserver(string name = "snapshots") : ITrainingObserver
    {
        public string Name => name;
        public List<float[][]> EpochEnds { get; } = [];
        public Dictionary<long, float[][]> AtStep { get; } = [];
        public HashSet<long> CaptureSteps { get; init; } = [];
        public long StopAtStep { get; init; } = -1;
        public int StopAfterEpoch { get; init; } = -1;
        public int RunStarts, Steps, RunEnds;
        public RunSummary? EndSummary;

        public void OnRunStart(IKilnModel model, TrainerOptions options) => RunStarts++;

        public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
        {
            Steps++;
            if (CaptureSteps.Contains(step.Step)) AtStep[step.Step] = Copy(model);
            return step.Step == StopAtStep ? ObserverVerdict.Stop : ObserverVerdict.Continue;
        }

        public ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics)
        {
            EpochEnds.Add(Copy(model));
            return metrics.Epoch == StopAfterEpoch ? ObserverVerdict.Stop : ObserverVerdict.Continue;
        }

        public void OnRunEnd(IKilnModel model, RunSummary summary)
        {
            RunEnds++;
            EndSummary = summary;
        }
    }

    // ------------------------------------------------------------------ early stopping

    [Fact]
    public void Early_stopping_restores_the_best_epochs_exact_tensors()
    {
        DataSplit data = StandardisedDigits();
        // A validation set whose labels are shifted: the better the model fits the digits, the worse its loss here,
        // so the best validation loss is the first epoch's and the patience runs out after epoch 1 + 2.
        var shifted = new Dataset(data.Test.Features, data.Test.Labels.Select(l => (l + 1) % 10).ToArray(), 64, name: "shifted");
        var model = new FakeModel(64, 10);
        var spy = new SnapshotObserver();
        RunSummary run = Trainer.Fit(model, data.Train, shifted, new TrainerOptions
        {
            Epochs = 10, BatchSize = 100, Observers = [spy],
            EarlyStopping = new EarlyStopping { Metric = TrainingMetric.ValidationLoss, Patience = 2 },
        });

        Assert.Equal(StopReason.EarlyStopped, run.StopReason);
        Assert.Equal(Trainer.EarlyStoppingName, run.StoppedBy);
        Assert.Equal(3, run.History.Count);
        Assert.Equal(1, run.BestEpoch);
        Assert.Equal(TrainingMetric.ValidationLoss, run.BestMetric);
        Assert.Equal(run.History[0].ValidationLoss, run.BestValue);
        Assert.Equal("best epoch 1", run.RestoredState);
        Assert.True(BitwiseEqual(spy.EpochEnds[0], Copy(model)), "the model must hold epoch 1's tensors bit for bit");
        Assert.False(BitwiseEqual(spy.EpochEnds[2], Copy(model)));
        Assert.Same(run, spy.EndSummary);
    }

    [Fact]
    public void Early_stopping_best_epoch_in_the_middle_is_restored_bitwise()
    {
        DataSplit data = StandardisedDigits();
        var model = new RecordingModel(new FakeModel(64, 10))
        {
            ScriptedEvaluations = new([(2.0, 0.5), (1.5, 0.6), (1.2, 0.7), (1.3, 0.7), (1.25, 0.7), (1.4, 0.7), (1.0, 0.8)]),
        };
        var spy = new SnapshotObserver();
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions
        {
            Epochs = 7, BatchSize = 200, Observers = [spy], EarlyStopping = new EarlyStopping { Patience = 3 },
        });
        Assert.Equal(6, run.History.Count);                 // epochs 4, 5, 6 did not beat 1.2
        Assert.Equal(3, run.BestEpoch);
        Assert.Equal(1.2, run.BestValue);
        Assert.True(BitwiseEqual(spy.EpochEnds[2], Copy(model)));
    }

    [Theory]
    // Validation losses per epoch; patience; min delta → epochs run, best epoch.
    [InlineData(new[] { 5.0, 4.0, 4.5, 4.2, 3.9, 4.0, 4.0, 4.0, 1.0 }, 3, 0.0, 8, 5)]
    [InlineData(new[] { 5.0, 4.0, 4.5, 4.2, 3.9, 4.0, 4.0, 4.0, 1.0 }, 3, 0.15, 5, 2)]   // 3.9 is not 0.15 below 4.0
    [InlineData(new[] { 5.0, 4.0, 4.5, 4.2, 3.9, 4.0, 4.0, 4.0, 1.0 }, 1, 0.0, 3, 2)]
    [InlineData(new[] { 5.0, double.NaN, 4.9, 5.0, 5.0 }, 2, 0.0, 5, 3)]                  // NaN never improves
    [InlineData(new[] { 5.0, 5.0, 5.0 }, 2, 0.0, 3, 1)]                                  // equal is not better
    public void Patience_counts_epochs_without_improvement(double[] losses, int patience, double minDelta, int epochsRun, int bestEpoch)
    {
        DataSplit data = StandardisedDigits();
        var model = new RecordingModel(new FakeModel(64, 10)) { ScriptedEvaluations = new(losses.Select(l => (l, 0.5))) };
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions
        {
            Epochs = losses.Length, BatchSize = 256, EarlyStopping = new EarlyStopping { Patience = patience, MinDelta = minDelta },
        });
        Assert.Equal(epochsRun, run.History.Count);
        Assert.Equal(bestEpoch, run.BestEpoch);
        // Patience used up at the last epoch is no early stop: every requested epoch ran.
        Assert.Equal(epochsRun < losses.Length ? StopReason.EarlyStopped : StopReason.Completed, run.StopReason);
    }

    [Fact]
    public void Max_mode_on_accuracy_and_explicit_modes()
    {
        DataSplit data = StandardisedDigits();
        (double, double)[] script = [(1, 0.50), (1, 0.70), (1, 0.65), (1, 0.69), (1, 0.71), (1, 0.60), (1, 0.60)];
        var model = new RecordingModel(new FakeModel(64, 10)) { ScriptedEvaluations = new(script) };
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions
        {
            Epochs = 7, BatchSize = 256, EarlyStopping = new EarlyStopping { Metric = TrainingMetric.ValidationAccuracy, Patience = 3 },
        });
        Assert.Equal(MetricMode.Max, new EarlyStopping { Metric = TrainingMetric.ValidationAccuracy }.EffectiveMode);
        Assert.Equal(5, run.BestEpoch);
        Assert.Equal(0.71, run.BestValue);
        Assert.Equal(7, run.History.Count);                 // 3 and 4 are worse, 5 improves, 6 and 7 are worse
        Assert.Equal(StopReason.Completed, run.StopReason);

        // The same accuracies judged with mode Min: the lowest (epoch 1) is the best.
        var min = new RecordingModel(new FakeModel(64, 10)) { ScriptedEvaluations = new(script) };
        RunSummary minRun = Trainer.Fit(min, data.Train, data.Test, new TrainerOptions
        {
            Epochs = 7, BatchSize = 256,
            EarlyStopping = new EarlyStopping { Metric = TrainingMetric.ValidationAccuracy, Mode = MetricMode.Min, Patience = 3 },
        });
        Assert.Equal(1, minRun.BestEpoch);
        Assert.Equal(4, minRun.History.Count);
        Assert.Equal(StopReason.EarlyStopped, minRun.StopReason);

        // Training loss, mode Max: the first epoch has the highest mean training loss.
        var train = new FakeModel(64, 10);
        RunSummary trainRun = Trainer.Fit(train, data.Train, null, new TrainerOptions
        {
            Epochs = 6, BatchSize = 100, EarlyStopping = new EarlyStopping { Metric = TrainingMetric.TrainLoss, Mode = MetricMode.Max, Patience = 3 },
        });
        Assert.Equal(1, trainRun.BestEpoch);
        Assert.Equal(4, trainRun.History.Count);
        Assert.Equal(trainRun.History[0].TrainLoss, trainRun.BestValue);
    }

    [Fact]
    public void Early_stopping_argument_errors_name_the_problem()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        Assert.Contains("needs a validation set", Assert.Throws<ArgumentException>(() =>
            Trainer.Fit(model, data.Train, null, new TrainerOptions { EarlyStopping = new EarlyStopping() })).Message);
        Assert.Contains("ValidateEveryEpoch is false", Assert.Throws<ArgumentException>(() =>
            Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { ValidateEveryEpoch = false, EarlyStopping = new EarlyStopping() })).Message);
        Assert.Contains("Patience", Assert.Throws<ArgumentException>(() =>
            Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { EarlyStopping = new EarlyStopping { Patience = 0 } })).Message);
        Assert.Contains("MinDelta", Assert.Throws<ArgumentException>(() =>
            Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { EarlyStopping = new EarlyStopping { MinDelta = -1 } })).Message);
        Assert.Contains("Observers[0]", Assert.Throws<ArgumentException>(() =>
            Trainer.Fit(model, data.Train, null, new TrainerOptions { Observers = [null!] })).Message);
        Assert.Equal(0, model.Step);
    }

    // ------------------------------------------------------------------ observers

    [Fact]
    public void Observer_stop_verdict_after_a_step_ends_the_run_and_is_named()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        var watcher = new SnapshotObserver("watcher");
        var stopper = new SnapshotObserver("doctor") { StopAtStep = 6 };
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 3, BatchSize = 100, Observers = [watcher, stopper] });

        Assert.Equal(StopReason.ObserverStopped, run.StopReason);
        Assert.Equal("doctor", run.StoppedBy);
        Assert.Contains("doctor", run.StopMessage);
        Assert.Equal(7, model.Step);                        // steps 0..6 ran
        Assert.Equal(7, watcher.Steps);
        Assert.Equal(7, stopper.Steps);
        Assert.Single(run.History);
        Assert.Equal(7, run.History[0].Batches);
        Assert.NotNull(run.FinalValidationAccuracy);        // the cut epoch is still evaluated and reported
        Assert.Equal((1, 1), (watcher.RunStarts, watcher.RunEnds));
        Assert.Single(watcher.EpochEnds);
        Assert.Null(run.RestoredState);
    }

    [Fact]
    public void Observer_stop_verdict_after_an_epoch()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        var stopper = new SnapshotObserver("plateau") { StopAfterEpoch = 2 };
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 5, BatchSize = 100, Observers = [stopper] });
        Assert.Equal(StopReason.ObserverStopped, run.StopReason);
        Assert.Equal("plateau", run.StoppedBy);
        Assert.Equal(2, run.History.Count);
        Assert.Equal(30, model.Step);
    }

    [Fact]
    public void Observers_see_every_step_in_order_with_the_rate_it_ran_with()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10) { LearningRateLog = [] };
        var steps = new List<StepRecord>();
        var observer = new LambdaObserver((m, s) => steps.Add(s));
        Trainer.Fit(model, data.Train, null, new TrainerOptions
        {
            Epochs = 2, BatchSize = 100, Observers = [observer], Schedule = new CosineDecay(steps: 30, epochs: 0, minFactor: 0),
        });
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), steps.Select(s => s.Step));
        Assert.Equal(model.LearningRateLog, steps.Select(s => s.LearningRate));
        Assert.Equal(Enumerable.Repeat(1, 15).Concat(Enumerable.Repeat(2, 15)), steps.Select(s => s.Epoch));
        Assert.All(steps, s => Assert.True(float.IsFinite(s.Loss)));
    }

    private sealed class LambdaObserver(Action<IKilnModel, StepRecord> onStep) : ITrainingObserver
    {
        public string Name => "lambda";
        public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
        {
            onStep(model, step);
            return ObserverVerdict.Continue;
        }
    }

    // ------------------------------------------------------------------ augmentation

    /// <summary>Adds 1000 + call index to every input and, when soft, writes 0.9 on the label and 0.1/(k−1) elsewhere.</summary>
    private sealed class MarkingAugmentation(bool soft) : IBatchAugmentation
    {
        public bool ProducesSoftTargets => soft;
        public int Calls;
        public List<int> Batches { get; } = [];
        public List<ulong> Draws { get; } = [];
        public List<float[]> Written { get; } = [];
        public List<int[]> LabelsSeen { get; } = [];

        public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
        {
            Assert.Equal(batch * 64, inputs.Length);
            Assert.Equal(soft ? batch * classes : 0, softTargets.Length);
            Draws.Add(rng.NextUInt64());
            float mark = 1000 + Calls;
            for (int i = 0; i < inputs.Length; i++) inputs[i] += mark;
            if (soft)
            {
                for (int r = 0; r < batch; r++)
                    for (int j = 0; j < classes; j++) softTargets[r * classes + j] = j == labels[r] ? 0.9f : 0.1f / (classes - 1);
                Written.Add(softTargets.ToArray());
            }
            LabelsSeen.Add(labels.ToArray());
            Batches.Add(batch);
            Calls++;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Augmentation_is_applied_once_per_step_and_soft_targets_are_routed(bool soft)
    {
        DataSplit data = StandardisedDigits();
        float[] original = data.Train.Features.ToArray();
        var model = new RecordingModel(new FakeModel(64, 10)) { Record = true };
        var aug = new MarkingAugmentation(soft);
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions
        {
            Epochs = 2, BatchSize = 100, Seed = 3, Augmentation = aug, AugmentationSeed = 77,
        });

        Assert.Equal(30, aug.Calls);
        Assert.Equal(Enumerable.Repeat(Enumerable.Repeat(100, 14).Append(38), 2).SelectMany(x => x), aug.Batches);
        Assert.Equal(30, model.FirstInputs.Count);
        // Every step trained on the augmented copy (the mark of its own call, so exactly one Apply per step) ...
        for (int i = 0; i < 30; i++) Assert.InRange(model.FirstInputs[i], 1000 + i - 10, 1000 + i + 10);
        // ... and the data set itself is untouched.
        Assert.Equal(original, data.Train.Features);
        // The augmentation's stream is the run's seeded one.
        var expected = new KilnRandom(77);
        Assert.Equal(aug.Draws[0], expected.NextUInt64());
        Assert.Equal(aug.Draws[1], expected.NextUInt64());

        Assert.All(model.SoftTargetSteps, s => Assert.Equal(soft, s));
        if (soft)
        {
            Assert.Equal(aug.Written, model.SoftTargets);
            Assert.Empty(model.Labels);
        }
        else
        {
            Assert.Equal(aug.LabelsSeen, model.Labels);
            Assert.Empty(model.SoftTargets);
        }
        Assert.Equal(StopReason.Completed, run.StopReason);
    }

    // ------------------------------------------------------------------ non-finite loss

    [Fact]
    public void Non_finite_loss_restores_the_last_finite_snapshot()
    {
        DataSplit data = StandardisedDigits();                    // 15 batches of 100 per epoch
        var model = new FakeModel(64, 10) { NaNFromStep = 20 };  // the 20th step (index 19) returns NaN
        var spy = new SnapshotObserver();
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 100, Observers = [spy] });
        Assert.Equal(StopReason.Diverged, run.StopReason);
        Assert.Equal("last good state after step 15", run.RestoredState);   // the epoch-1 end
        Assert.Equal(15, model.Step);
        Assert.True(BitwiseEqual(spy.EpochEnds[0], Copy(model)));

        // With snapshots every 4 steps as well, the state after step 16 is the last good one.
        var often = new FakeModel(64, 10) { NaNFromStep = 20 };
        var spy2 = new SnapshotObserver { CaptureSteps = [15] };  // OnStep of index 15 = after the 16th step
        RunSummary run2 = Trainer.Fit(often, data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 100, GoodStateEverySteps = 4, Observers = [spy2] });
        Assert.Equal("last good state after step 16", run2.RestoredState);
        Assert.True(BitwiseEqual(spy2.AtStep[15], Copy(often)));
    }

    [Fact]
    public void Divergence_wins_over_an_observer_stopping_on_the_same_step()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10) { NaNFromStep = 20 };
        var doctor = new LambdaStopper("doctor", s => !float.IsFinite(s.Loss));
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 100, Observers = [doctor] });
        Assert.Equal(StopReason.Diverged, run.StopReason);
        Assert.Equal(Trainer.NonFiniteLoss, run.StoppedBy);
        Assert.Equal(1, doctor.Stops);                       // it saw the NaN step
        Assert.Equal("last good state after step 15", run.RestoredState);
    }

    private sealed class LambdaStopper(string name, Func<StepRecord, bool> stopWhen) : ITrainingObserver
    {
        public int Stops;
        public string Name => name;
        public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
        {
            if (!stopWhen(step)) return ObserverVerdict.Continue;
            Stops++;
            return ObserverVerdict.Stop;
        }
    }

    [Fact]
    public void A_snapshot_with_non_finite_values_is_never_the_last_good_one()
    {
        DataSplit data = StandardisedDigits();
        // Step 7's update writes NaN into the weights; step 7 still reports a finite loss, step 8's loss is NaN.
        var model = new RecordingModel(new FakeModel(64, 10)) { PoisonAfterStep = 7 };
        var spy = new SnapshotObserver { CaptureSteps = [5] };
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 2, BatchSize = 100, GoodStateEverySteps = 1, Observers = [spy] });
        Assert.Equal(StopReason.Diverged, run.StopReason);
        Assert.Equal("last good state after step 6", run.RestoredState);
        Assert.Equal(6, model.Step);
        Assert.True(BitwiseEqual(spy.AtStep[5], Copy(model)));
        Assert.All(model.TensorData(model.Tensors[0]).ToArray(), v => Assert.True(float.IsFinite(v)));

        // Restoring can be turned off: the model keeps the poisoned weights.
        var keep = new RecordingModel(new FakeModel(64, 10)) { PoisonAfterStep = 7 };
        RunSummary kept = Trainer.Fit(keep, data.Train, null, new TrainerOptions { Epochs = 2, BatchSize = 100, RestoreLastGoodState = false });
        Assert.Null(kept.RestoredState);
        Assert.True(float.IsNaN(keep.TensorData(keep.Tensors[0])[0]));
    }

    // ------------------------------------------------------------------ schedule stepping

    [Fact]
    public void Per_epoch_schedule_stepping_holds_the_rate_for_the_epoch()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10, learningRate: 0.1f) { LearningRateLog = [] };
        var schedule = new LinearDecay(steps: 60, epochs: 0, minFactor: 0);
        Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 100, Schedule = schedule, ScheduleStepping = ScheduleStepping.PerEpoch });
        for (int e = 0; e < 3; e++)
        {
            float expected = (float)(0.1 * schedule.Factor(new ScheduleClock(e * 15, e, 15)));
            Assert.All(model.LearningRateLog!.Skip(e * 15).Take(15), r => Assert.Equal(expected, r));
        }
        Assert.NotEqual(model.LearningRateLog![0], model.LearningRateLog[15]);

        var perStep = new FakeModel(64, 10, learningRate: 0.1f) { LearningRateLog = [] };
        Trainer.Fit(perStep, data.Train, null, new TrainerOptions { Epochs = 1, BatchSize = 100, Schedule = new LinearDecay(60, 0, 0) });
        Assert.Equal(15, perStep.LearningRateLog!.Distinct().Count());
    }

    // ------------------------------------------------------------------ cancellation

    [Fact]
    public void Cancellation_ends_observers_and_writes_the_partial_run_directory()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        using var cts = new CancellationTokenSource();
        using var tmp = new TempDirectory();
        var spy = new SnapshotObserver();
        var cancel = new LambdaObserver((m, s) => { if (s.Step == 20) cts.Cancel(); });
        var ex = Assert.Throws<TrainingCancelledException>(() => Trainer.Fit(model, data.Train, null, new TrainerOptions
        {
            Epochs = 5, BatchSize = 100, CancellationToken = cts.Token, Observers = [spy, cancel], RunDirectory = tmp.Path,
        }));
        Assert.Equal(21, model.Step);
        Assert.Equal(1, spy.RunEnds);
        Assert.Same(ex.Partial, spy.EndSummary);
        Assert.Equal(StopReason.Cancelled, RunSummary.FromJson(File.ReadAllText(tmp.File("summary.json"))).StopReason);
        Assert.Equal(21 + 1, File.ReadAllLines(tmp.File("metrics.csv")).Length);
        Assert.True(File.Exists(tmp.File("report.html")));
    }

    // ------------------------------------------------------------------ run directory

    [Fact]
    public void Run_directory_files_exist_and_parse()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        using var tmp = new TempDirectory();
        string dir = Path.Combine(tmp.Path, "run");
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions
        {
            Epochs = 4, BatchSize = 100, RunDirectory = dir, CheckpointEveryEpochs = 2, TrainAccuracySamples = 300,
            ReportFindings = () => [new Kiln.Doctor.Finding("KLN-D012", Kiln.Doctor.Severity.Warning, "dense0", "measured <1e-4>", "do this", 1e-5, 1e-4)],
        });
        int steps = 4 * 15;

        string[] csv = File.ReadAllLines(Path.Combine(dir, "metrics.csv"));
        Assert.Equal("step,epoch,loss,learning_rate,elapsed_seconds", csv[0]);
        Assert.Equal(steps + 1, csv.Length);
        for (int i = 1; i < csv.Length; i++)
        {
            string[] f = csv[i].Split(',');
            Assert.Equal(5, f.Length);
            Assert.Equal(i - 1, long.Parse(f[0]));
            Assert.Equal((i - 1) / 15 + 1, int.Parse(f[1]));
            Assert.True(float.IsFinite(float.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture)));
        }

        string[] epochs = File.ReadAllLines(Path.Combine(dir, "epochs.csv"));
        Assert.Equal(5, epochs.Length);
        Assert.StartsWith("epoch,steps,samples,train_loss,train_accuracy", epochs[0]);
        Assert.All(epochs.Skip(1), l => Assert.Equal(13, l.Split(',').Length));

        string[] lines = File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"));
        Assert.Equal(steps + 4, lines.Length);
        var kinds = lines.Select(l => { using var d = JsonDocument.Parse(l); return d.RootElement.GetProperty("kind").GetString(); }).ToList();
        Assert.Equal(steps, kinds.Count(k => k == "step"));
        Assert.Equal(4, kinds.Count(k => k == "epoch"));
        using (JsonDocument e = JsonDocument.Parse(lines[15]))
        {
            Assert.Equal("epoch", e.RootElement.GetProperty("kind").GetString());
            Assert.Equal(run.History[0].ValidationAccuracy, e.RootElement.GetProperty("validation_accuracy").GetDouble());
        }

        using (JsonDocument whole = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json"))))
        {
            JsonElement stepsArray = whole.RootElement.GetProperty("steps");
            Assert.Equal(steps, stepsArray.GetArrayLength());
            Assert.Equal(float.Parse(csv[7].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture), stepsArray[6].GetProperty("loss").GetSingle());
            Assert.Equal(4, whole.RootElement.GetProperty("epochs").GetArrayLength());
            Assert.Equal(run.History[3].TrainLoss, whole.RootElement.GetProperty("epochs")[3].GetProperty("train_loss").GetDouble());
        }

        RunSummary back = RunSummary.FromJson(File.ReadAllText(Path.Combine(dir, "summary.json")));
        Assert.Equal(run.History, back.History);

        // Checkpoints: best by validation accuracy, the last epoch, and every second epoch.
        int bestEpoch = run.History.OrderByDescending(h => h.ValidationAccuracy).ThenBy(h => h.Epoch).First().Epoch;
        Assert.Equal(bestEpoch.ToString(), Checkpoint.Read(Path.Combine(dir, "best.safetensors")).UserEntries["epoch"]);
        Assert.Equal("4", Checkpoint.Read(Path.Combine(dir, "last.safetensors")).UserEntries["epoch"]);
        Assert.Equal(new[] { "epoch-0002.safetensors", "epoch-0004.safetensors" },
            Directory.GetFiles(dir, "epoch-*.safetensors").Select(f => Path.GetFileName(f)!).Order().ToArray());
        var reloaded = new FakeModel(64, 10, seed: 99);
        Checkpoint.Load(reloaded, Path.Combine(dir, "last.safetensors"));
        Assert.True(BitwiseEqual(Copy(model), Copy(reloaded)));

        // The report is well-formed XML with its sections and the finding (escaped).
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        XDocument doc = XDocument.Parse(html.Replace("<!DOCTYPE html>", ""));
        XNamespace x = "http://www.w3.org/1999/xhtml";
        Assert.Equal(new[] { "summary", "findings", "curves", "update-ratios", "activations", "epochs" },
            doc.Descendants(x + "section").Select(s => (string)s.Attribute("id")!).ToArray());
        Assert.Contains("measured <1e-4>", doc.Descendants(x + "li").Single().Value);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/", ""));
    }

    [Fact]
    public void Run_directory_keeps_the_last_good_checkpoint_after_divergence()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10) { NaNFromStep = 20 };
        var spy = new SnapshotObserver();
        using var tmp = new TempDirectory();
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 100, RunDirectory = tmp.Path, Observers = [spy] });
        Assert.Equal(StopReason.Diverged, run.StopReason);
        var reloaded = new FakeModel(64, 10, seed: 5);
        Checkpoint.Load(reloaded, tmp.File("last.safetensors"));
        Assert.True(BitwiseEqual(spy.EpochEnds[0], Copy(reloaded)));
        Assert.Equal(15, reloaded.Step);
        string[] csv = File.ReadAllLines(tmp.File("metrics.csv"));
        Assert.Equal(20 + 1, csv.Length);
        Assert.EndsWith("NaN", csv[^1].Split(',')[2]);
        using JsonDocument last = JsonDocument.Parse(File.ReadAllLines(tmp.File("metrics.jsonl")).Last(l => l.Contains("\"step\"")));
        Assert.Equal("NaN", last.RootElement.GetProperty("loss").GetString());
        using JsonDocument whole = JsonDocument.Parse(File.ReadAllText(tmp.File("metrics.json")));
        Assert.Equal("NaN", whole.RootElement.GetProperty("steps")[19].GetProperty("loss").GetString());
        Assert.Contains("Diverged", File.ReadAllText(tmp.File("report.html")));
    }

    [Fact]
    public void A_second_run_in_the_same_directory_replaces_the_first()
    {
        DataSplit data = StandardisedDigits();
        using var tmp = new TempDirectory();
        Trainer.Fit(new FakeModel(64, 10), data.Train, null, new TrainerOptions { Epochs = 4, BatchSize = 100, RunDirectory = tmp.Path, CheckpointEveryEpochs = 1 });
        Trainer.Fit(new FakeModel(64, 10), data.Train, null, new TrainerOptions { Epochs = 1, BatchSize = 100, RunDirectory = tmp.Path, CheckpointEveryEpochs = 1 });
        Assert.Equal(16, File.ReadAllLines(tmp.File("metrics.csv")).Length);
        Assert.Single(Directory.GetFiles(tmp.Path, "epoch-*.safetensors"));
    }

    // ------------------------------------------------------------------ allocations

    private sealed class NoOpAugmentation(bool soft) : IBatchAugmentation
    {
        public bool ProducesSoftTargets => soft;
        public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
        {
            inputs[0] += rng.NextFloat();
            if (soft) for (int r = 0; r < batch; r++) softTargets[r * classes + labels[r]] = 1;
        }
    }

    /// <summary>Reads the thread's allocation counter at the second and the last step of each epoch.</summary>
    private sealed class AllocationProbe(int epochs, int batchesPerEpoch) : ITrainingObserver
    {
        public long[] Second { get; } = new long[epochs + 1];
        public long[] Last { get; } = new long[epochs + 1];
        public string Name => "allocation probe";

        public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
        {
            long inEpoch = step.Step % batchesPerEpoch;
            if (inEpoch == 1) Second[step.Epoch] = GC.GetAllocatedBytesForCurrentThread();
            if (inEpoch == batchesPerEpoch - 1) Last[step.Epoch] = GC.GetAllocatedBytesForCurrentThread();
            return ObserverVerdict.Continue;
        }
    }

    public static TheoryData<string> AllocationCases() => new() { "plain", "observers", "augmentation", "soft targets", "everything" };

    [Theory]
    [MemberData(nameof(AllocationCases))]
    public void Steps_allocate_nothing_with_observers_augmentation_early_stopping_and_a_run_directory(string setup)
    {
        DataSplit data = StandardisedDigits();
        var model = new RecordingModel(new FakeModel(64, 10));
        const int epochs = 4, batch = 32;
        int perEpoch = (1438 + batch - 1) / batch;
        var probe = new AllocationProbe(epochs, perEpoch);
        using var tmp = new TempDirectory();
        bool all = setup == "everything";
        var options = new TrainerOptions
        {
            Epochs = epochs, BatchSize = batch,
            Observers = setup == "plain" ? [probe] : [new SnapshotObserver(), probe],
            Augmentation = setup is "augmentation" || all ? new NoOpAugmentation(false) : setup == "soft targets" ? new NoOpAugmentation(true) : null,
            EarlyStopping = all ? new EarlyStopping { Patience = 10 } : null,
            GoodStateEverySteps = all ? 5 : 0,
            RunDirectory = all ? tmp.Path : null,
            UpdateRatioEverySteps = 3,
        };
        Trainer.Fit(model, data.Train, data.Test, options);
        // As in TrainerTests: the runtime may allocate a little in some epoch (JIT tiers); per-step allocation shows in every one.
        long[] bytes = Enumerable.Range(1, epochs).Select(e => probe.Last[e] - probe.Second[e]).ToArray();
        Assert.True(bytes.Contains(0L), $"bytes allocated between the 2nd and the last step of each epoch: {string.Join(", ", bytes)}");
    }
}
