using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Data;
using Kiln.Runtime.Tests;
using Kiln.Schedules;

namespace Kiln.Training.Tests;

/// <summary>The trainer drives the learning rate from the schedule before every step, and reports it.</summary>
public class TrainerScheduleTests
{
    private sealed class Recorder(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];

        public void Report(TrainingProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    /// <summary>A schedule that records what the trainer tells it: the clocks it is asked about and the losses it observes.</summary>
    private sealed class SpySchedule(LearningRateSchedule inner) : LearningRateSchedule
    {
        public List<ScheduleClock> Clocks { get; } = [];
        public List<double> Observed { get; } = [];

        public override double Factor(in ScheduleClock clock)
        {
            Clocks.Add(clock);
            return inner.Factor(clock);
        }

        public override void ObserveValidation(double loss)
        {
            Observed.Add(loss);
            inner.ObserveValidation(loss);
        }
    }

    private static DataSplit StandardisedDigits()
    {
        DataSplit s = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(s.Train);
        return new DataSplit(st.Transform(s.Train), st.Transform(s.Test));
    }

    [Fact]
    public void Model_schedule_sets_the_rate_before_every_step()
    {
        DataSplit data = StandardisedDigits();   // 1438 samples: 15 batches of 100 (the last has 38)
        var model = new FakeModel(64, 10, learningRate: 0.2f)
        {
            LearningRateLog = [],
            ScheduleFactory = () => new Warmup(10, new CosineDecay(steps: 40, epochs: 0, minFactor: 0.05)),
        };
        var rec = new Recorder();
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 100 }, rec);

        Assert.Equal(45, model.LearningRateLog!.Count);
        for (int t = 0; t < 45; t++)
        {
            double expected = 0.2f * Math.Min(1.0, (t + 1) / 10.0) * (0.05 + 0.95 * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(t, 40) / 40)));
            Assert.Equal((float)expected, model.LearningRateLog[t]);
        }

        // Progress carries the rate of the step just taken; epoch metrics and the summary that of the last step.
        float[] reported = rec.Reports.Where(r => r.Kind == ProgressKind.Batch).Select(r => r.LearningRate).ToArray();
        Assert.Equal(model.LearningRateLog, reported);
        for (int e = 0; e < 3; e++) Assert.Equal(model.LearningRateLog[e * 15 + 14], run.History[e].LearningRate);
        Assert.Equal(model.LearningRateLog[^1], run.LearningRate);
        Assert.Equal(model.LearningRateLog[^1], model.LearningRate);
        Assert.Equal(0.2f, run.BaseLearningRate);
        Assert.StartsWith("Warmup(10 steps) → Cosine", run.Schedule);
        Assert.Contains("learning rate 0.2 × Warmup(10 steps) → Cosine(T = 40 steps, min 0.05)", run.ToTable());
        Assert.Null(run.Steps);
    }

    [Fact]
    public void Epoch_schedules_see_the_epoch_and_the_batches_per_epoch()
    {
        DataSplit data = StandardisedDigits();
        var spy = new SpySchedule(new StepDecay(0.5, 1));
        var model = new FakeModel(64, 10, learningRate: 0.1f) { LearningRateLog = [] };
        Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 200, Schedule = spy });

        int batches = 8;   // 7 × 200 + 38
        Assert.Equal(3 * batches, spy.Clocks.Count);
        for (int i = 0; i < spy.Clocks.Count; i++)
        {
            Assert.Equal(new ScheduleClock(i, i / batches, batches), spy.Clocks[i]);
            Assert.Equal((float)(0.1f * Math.Pow(0.5, i / batches)), model.LearningRateLog![i]);
        }
    }

    [Fact]
    public void Options_override_the_base_rate_and_the_schedule()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10, learningRate: 0.5f)
        {
            LearningRateLog = [],
            ScheduleFactory = () => throw new InvalidOperationException("the model's schedule must not be used"),
        };
        RunSummary run = Trainer.Fit(model, data.Train, null,
            new TrainerOptions { Epochs = 1, BatchSize = 256, LearningRate = 0.04f, Schedule = new InverseSqrtDecay(), RecordSteps = true });
        Assert.Equal(6, model.LearningRateLog!.Count);
        for (int t = 0; t < 6; t++) Assert.Equal((float)(0.04f / Math.Sqrt(Math.Max(t, 1))), model.LearningRateLog[t]);
        Assert.Equal(0.04f, run.BaseLearningRate);
        Assert.Equal("InverseSqrt", run.Schedule);
    }

    [Fact]
    public void A_value_assigned_to_the_model_before_Fit_is_replaced_by_the_base_rate()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10, learningRate: 0.05f) { LearningRateLog = [] };
        model.LearningRate = 3f;
        Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 1, BatchSize = 256 });
        Assert.All(model.LearningRateLog!, r => Assert.Equal(0.05f, r));
    }

    [Fact]
    public void Plateau_is_driven_by_the_validation_loss_each_epoch()
    {
        DataSplit data = StandardisedDigits();
        var spy = new SpySchedule(new ConstantSchedule());
        var model = new FakeModel(64, 10);
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 4, BatchSize = 128, Schedule = spy });
        Assert.Equal(run.History.Select(e => e.ValidationLoss!.Value), spy.Observed);
    }

    [Fact]
    public void Without_validation_every_epoch_the_training_loss_drives_the_plateau()
    {
        DataSplit data = StandardisedDigits();
        var spy = new SpySchedule(new ConstantSchedule());
        RunSummary run = Trainer.Fit(new FakeModel(64, 10), data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 128, Schedule = spy });
        Assert.Equal(run.History.Select(e => e.TrainLoss), spy.Observed);

        var spy2 = new SpySchedule(new ConstantSchedule());
        RunSummary run2 = Trainer.Fit(new FakeModel(64, 10), data.Train, data.Test,
            new TrainerOptions { Epochs = 3, BatchSize = 128, Schedule = spy2, ValidateEveryEpoch = false });
        Assert.Equal(run2.History.Select(e => e.TrainLoss), spy2.Observed);
    }

    [Fact]
    public void Reduce_on_plateau_lowers_the_rate_during_training()
    {
        DataSplit data = StandardisedDigits();
        // A threshold no real improvement can meet: every epoch is "bad", so with patience 1 the rate halves every second epoch.
        var plateau = new ReduceOnPlateau(0.5, 1, 0.9, 0, new ConstantSchedule());
        var model = new FakeModel(64, 10, learningRate: 0.1f) { LearningRateLog = [] };
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 5, BatchSize = 256, Schedule = plateau });
        // Epoch 1 sets the best; epochs 2, 3 are bad (the second exceeds patience 1 → ×0.5 from epoch 4 on); 4, 5 → ×0.25 after.
        float[] perEpoch = run.History.Select(e => e.LearningRate).ToArray();
        Assert.Equal(new[] { 0.1f, 0.1f, 0.1f, 0.05f, 0.05f }, perEpoch);
        Assert.Equal(0.25, plateau.PlateauFactor);
    }

    [Fact]
    public void Steps_are_recorded_when_requested_and_survive_json()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10, learningRate: 0.1f) { LearningRateLog = [] };
        var rec = new Recorder();
        RunSummary run = Trainer.Fit(model, data.Train, data.Test,
            new TrainerOptions { Epochs = 2, BatchSize = 100, RecordSteps = true, Schedule = new LinearDecay(30, 0, 0.1) }, rec);

        Assert.NotNull(run.Steps);
        Assert.Equal(30, run.Steps!.Count);
        for (int i = 0; i < 30; i++)
        {
            StepRecord s = run.Steps[i];
            Assert.Equal(i, s.Step);
            Assert.Equal(i / 15 + 1, s.Epoch);
            Assert.Equal(model.LearningRateLog![i], s.LearningRate);
            Assert.Equal((float)(0.1f * Math.Max(0.1, 1 - i / 30.0)), s.LearningRate);
            Assert.True(float.IsFinite(s.Loss) && s.Loss > 0);
        }
        // The epoch's mean training loss is the sample-weighted mean of its step losses.
        double epoch1 = run.Steps.Take(15).Select((s, i) => (double)s.Loss * (i < 14 ? 100 : 38)).Sum() / 1438;
        Assert.Equal(run.History[0].TrainLoss, epoch1, 6);

        RunSummary back = RunSummary.FromJson(run.ToJson());
        Assert.Equal(run.Steps, back.Steps);
        Assert.Equal(run.Schedule, back.Schedule);
        Assert.Contains("\"learning_rate\"", run.ToJson());
    }

    [Fact]
    public void Cancelled_runs_keep_the_steps_so_far()
    {
        DataSplit data = StandardisedDigits();
        using var cts = new System.Threading.CancellationTokenSource();
        var rec = new Recorder(r => { if (r.Epoch == 2 && r.Batch == 3) cts.Cancel(); });
        var ex = Assert.Throws<TrainingCancelledException>(() => Trainer.Fit(new FakeModel(64, 10), data.Train, null,
            new TrainerOptions { Epochs = 4, BatchSize = 200, RecordSteps = true, CancellationToken = cts.Token }, rec));
        Assert.Equal(8 + 3, ex.Partial.Steps!.Count);
    }

    [Fact]
    public void A_schedule_giving_a_bad_rate_is_reported()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        var nan = new NanSchedule();
        var ex = Assert.Throws<InvalidOperationException>(() => Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 1, Schedule = nan }));
        Assert.Contains("NaN", ex.Message);
        Assert.Equal(0, model.Step);
    }

    private sealed class NanSchedule : LearningRateSchedule
    {
        public override double Factor(in ScheduleClock clock) => double.NaN;
    }

    [Fact]
    public void Scheduled_training_with_step_recording_allocates_nothing_per_step()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        const int epochs = 6;
        var second = new long[epochs + 1];
        var last = new long[epochs + 1];
        var rec = new Recorder(r =>
        {
            if (r.Kind != ProgressKind.Batch) return;
            if (r.Batch == 2) second[r.Epoch] = GC.GetAllocatedBytesForCurrentThread();
            if (r.Batch == r.BatchesPerEpoch) last[r.Epoch] = GC.GetAllocatedBytesForCurrentThread();
        });
        rec.Reports.Capacity = 1000;
        var schedule = new Warmup(20, new ReduceOnPlateau(0.5, 1, 1e-4, 0, new CosineDecay(steps: 0, epochs: epochs, minFactor: 0)));
        Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = epochs, BatchSize = 32, Schedule = schedule, RecordSteps = true }, rec);

        long[] perEpoch = Enumerable.Range(1, epochs).Select(e => last[e] - second[e]).ToArray();
        Assert.Contains(0L, perEpoch);
    }
}
