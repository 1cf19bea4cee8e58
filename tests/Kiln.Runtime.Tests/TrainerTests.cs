using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Data;
using Kiln.Training;

namespace Kiln.Runtime.Tests;

public class TrainerTests
{
    /// <summary>Handles reports inline on the training thread (Progress&lt;T&gt; would post them elsewhere).</summary>
    private sealed class Recorder(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];

        public void Report(TrainingProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    private static DataSplit StandardisedDigits()
    {
        DataSplit s = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(s.Train);
        return new DataSplit(st.Transform(s.Train), st.Transform(s.Test));
    }

    [Fact]
    public void Runs_the_requested_epochs_and_batches_with_progress()
    {
        DataSplit data = StandardisedDigits();           // 1438 train samples
        var model = new FakeModel(64, 10) { BatchLog = [] };
        var rec = new Recorder();

        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 3, BatchSize = 100, Seed = 4 }, rec);

        int batches = 15;                                 // 14 × 100 + 38
        Assert.Equal(3 * batches, model.BatchLog!.Count);
        Assert.Equal(Enumerable.Repeat(Enumerable.Repeat(100, 14).Append(38), 3).SelectMany(x => x), model.BatchLog);
        Assert.Equal(3, run.History.Count);
        Assert.Equal(StopReason.Completed, run.StopReason);
        Assert.Equal(3 * 1438, run.SamplesSeen);

        Assert.Equal(3 * (batches + 1), rec.Reports.Count);
        for (int e = 1; e <= 3; e++)
        {
            var epochReports = rec.Reports.Where(r => r.Epoch == e).ToList();
            Assert.Equal(Enumerable.Range(1, batches), epochReports.Where(r => r.Kind == ProgressKind.Batch).Select(r => r.Batch));
            Assert.All(epochReports, r => Assert.Equal(batches, r.BatchesPerEpoch));
            Assert.All(epochReports, r => Assert.Equal(3, r.Epochs));
            TrainingProgress end = epochReports[^1];
            Assert.Equal(ProgressKind.EpochEnd, end.Kind);
            Assert.NotNull(end.Metrics);
            Assert.Same(run.History[e - 1], end.Metrics);
            Assert.Equal(1438, end.Samples);
            Assert.All(epochReports.Where(r => r.Kind == ProgressKind.Batch), r => Assert.Null(r.Metrics));
            Assert.All(epochReports, r => Assert.True(r.SamplesPerSecond > 0 && double.IsFinite(r.RunningLoss)));
        }

        EpochMetrics first = run.History[0], last = run.History[^1];
        Assert.Equal(batches, first.Batches);
        Assert.Equal(1438, first.Samples);
        Assert.NotNull(last.ValidationAccuracy);
        Assert.Equal(last.ValidationAccuracy, run.FinalValidationAccuracy);
        Assert.Equal(last.ValidationLoss, run.FinalValidationLoss);
        Assert.True(last.TrainLoss < first.TrainLoss);
        Assert.Null(first.TrainAccuracy);                 // skipped by default
        Assert.True(first.TrainSeconds <= first.Seconds);
        Assert.True(run.TrainSeconds <= run.TotalSeconds);
        Assert.Equal(run.SamplesSeen / run.TrainSeconds, run.SamplesPerSecond, 6);
        Assert.Equal(3, model.EvaluateCalls);
    }

    [Fact]
    public void Logistic_regression_learns_digits()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10, learningRate: 0.1f);
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, epochs: 10, batchSize: 32);
        Assert.True(run.FinalValidationAccuracy > 0.9, $"accuracy {run.FinalValidationAccuracy}");
        Assert.True(run.FinalValidationLoss < Math.Log(10) / 3);
    }

    [Fact]
    public void Batch_above_MaxBatch_is_a_clear_argument_error()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10, maxBatch: 64);
        var ex = Assert.Throws<ArgumentException>(() => Trainer.Fit(model, data.Train, null, new TrainerOptions { BatchSize = 65 }));
        Assert.Contains("MaxBatch of 64", ex.Message);
        Assert.Contains("65", ex.Message);
        Assert.Equal(0, model.Step);
    }

    [Fact]
    public void Other_argument_errors()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        Assert.Throws<ArgumentException>(() => Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 0 }));
        Assert.Throws<ArgumentException>(() => Trainer.Fit(model, data.Train, null, new TrainerOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentException>(() => Trainer.Fit(model, data.Train, null, new TrainerOptions { LearningRate = -1 }));
        Assert.Throws<ArgumentException>(() => Trainer.Fit(model, data.Train, null, new TrainerOptions { LearningRate = float.NaN }));
        Assert.Throws<ArgumentNullException>(() => Trainer.Fit(null!, data.Train, null));

        var wide = new FakeModel(65, 10);
        Assert.Contains("64 features", Assert.Throws<ArgumentException>(() => Trainer.Fit(wide, data.Train, null)).Message);
        var narrow = new FakeModel(64, 5);
        Assert.Contains("10 classes", Assert.Throws<ArgumentException>(() => Trainer.Fit(narrow, data.Train, null)).Message);
        var one = new Dataset(new float[64], [0], 64);
        Assert.Contains("makes no batch", Assert.Throws<ArgumentException>(() => Trainer.Fit(model, one, null)).Message);
        Assert.Equal(1, Trainer.Fit(model, one, null, new TrainerOptions { Epochs = 1, MinLastBatch = 1 }).SamplesSeen);
        model.InitializeParameters();
        var badValidation = new Dataset(new float[3], [0], 3);
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => Trainer.Fit(model, data.Train, badValidation)).ParamName);
        Assert.Equal(0, model.Step);
    }

    [Fact]
    public void Learning_rate_override_is_applied()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10, learningRate: 0.5f);
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 1, LearningRate = 0.02f });
        Assert.Equal(0.02f, model.LearningRate);
        Assert.Equal(0.02f, run.History[0].LearningRate);
        Assert.Equal(0.02f, run.LearningRate);
        Assert.Null(run.FinalValidationAccuracy);
        Assert.Null(run.History[0].ValidationLoss);
    }

    [Fact]
    public void Cancellation_throws_with_the_completed_epochs()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        using var cts = new CancellationTokenSource();
        // Cancel in the middle of the second epoch.
        var rec = new Recorder(r => { if (r.Epoch == 2 && r.Batch == 3) cts.Cancel(); });

        var ex = Assert.Throws<TrainingCancelledException>(() =>
            Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 5, BatchSize = 200, CancellationToken = cts.Token }, rec));

        Assert.IsAssignableFrom<OperationCanceledException>(ex);
        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.Equal(StopReason.Cancelled, ex.Partial.StopReason);
        Assert.Single(ex.Partial.History);
        Assert.Equal(8 + 3, model.Step);                  // 8 batches of epoch 1, 3 of epoch 2
        Assert.NotNull(ex.Partial.FinalValidationAccuracy);
    }

    [Fact]
    public void Already_cancelled_token_trains_nothing()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        var ex = Assert.Throws<TrainingCancelledException>(() =>
            Trainer.Fit(model, data.Train, null, new TrainerOptions { CancellationToken = new CancellationToken(canceled: true) }));
        Assert.Empty(ex.Partial.History);
        Assert.Equal(0, model.Step);
    }

    [Fact]
    public void Non_finite_loss_stops_the_run()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10) { NaNFromStep = 10 };
        float[] initial = model.TensorData(model.Tensors[0]).ToArray();
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 4, BatchSize = 100 });
        Assert.Equal(StopReason.Diverged, run.StopReason);
        Assert.Equal(Trainer.NonFiniteLoss, run.StoppedBy);
        Assert.Contains("step 9", run.StopMessage);
        // The 9 updates before the NaN step are undone: the last finite snapshot is the one taken before the first step.
        Assert.Equal("last good state after step 0", run.RestoredState);
        Assert.Equal(0, model.Step);
        Assert.Equal(initial, model.TensorData(model.Tensors[0]).ToArray());
        Assert.Single(run.History);
        Assert.Equal(10, run.History[0].Batches);
        Assert.True(double.IsNaN(run.FinalTrainLoss));
        Assert.NotNull(run.FinalValidationLoss);          // evaluated once at the stop
        Assert.Contains("\"NaN\"", run.ToJson());

        var tolerant = new FakeModel(64, 10) { NaNFromStep = 10 };
        RunSummary all = Trainer.Fit(tolerant, data.Train, null, new TrainerOptions { Epochs = 2, BatchSize = 100, StopOnNonFiniteLoss = false });
        Assert.Equal(StopReason.Completed, all.StopReason);
        Assert.Equal(30, tolerant.Step);
    }

    [Fact]
    public void Validation_only_at_the_end_when_not_every_epoch()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 3, ValidateEveryEpoch = false });
        Assert.Equal(1, model.EvaluateCalls);
        Assert.Null(run.History[0].ValidationAccuracy);
        Assert.Null(run.History[1].ValidationAccuracy);
        Assert.Equal(run.FinalValidationAccuracy, run.History[2].ValidationAccuracy);
    }

    [Fact]
    public void Train_accuracy_on_a_subset_when_asked()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 2, TrainAccuracySamples = 500 });
        Assert.All(run.History, e => Assert.InRange(e.TrainAccuracy!.Value, 0.5, 1.0));
        Assert.All(run.History, e => Assert.NotNull(e.TrainEvalLoss));
        Assert.Equal(2, model.EvaluateCalls);
    }

    [Fact]
    public void Samples_per_second_excludes_time_outside_the_steps()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        // A slow progress handler: its time counts in the epoch seconds, not in the step time.
        var rec = new Recorder(r => { if (r.Kind == ProgressKind.Batch) Thread.Sleep(30); });
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 1, BatchSize = 256 }, rec);
        EpochMetrics e = run.History[0];
        Assert.True(e.Seconds >= 6 * 0.030);
        Assert.True(e.TrainSeconds < e.Seconds / 2, $"train {e.TrainSeconds}s of {e.Seconds}s");
        Assert.Equal(e.Samples / e.TrainSeconds, e.SamplesPerSecond, 6);
    }

    [Fact]
    public void Loop_seconds_count_batch_work_and_evaluation_seconds_count_the_evaluations_apart()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        // A slow per-batch progress handler is part of the training loop; a slow epoch-end observer is part of neither.
        var rec = new Recorder(r => { if (r.Kind == ProgressKind.Batch) Thread.Sleep(30); });
        RunSummary withValidation = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 1, BatchSize = 256 }, rec);
        EpochMetrics e = withValidation.History[0];
        Assert.True(e.LoopSeconds >= 6 * 0.030, $"loop {e.LoopSeconds}s");
        Assert.True(e.LoopSeconds >= e.TrainSeconds);
        Assert.True(e.EvaluationSeconds > 0);
        Assert.True(e.LoopSeconds + e.EvaluationSeconds <= e.Seconds, $"loop {e.LoopSeconds}s + eval {e.EvaluationSeconds}s > epoch {e.Seconds}s");
        Assert.Equal(e.Samples / e.LoopSeconds, e.LoopSamplesPerSecond, 6);
        Assert.True(e.LoopSamplesPerSecond < e.SamplesPerSecond);

        RunSummary without = Trainer.Fit(new FakeModel(64, 10), data.Train, null, new TrainerOptions { Epochs = 1, BatchSize = 256 });
        Assert.Equal(0, without.History[0].EvaluationSeconds);
        Assert.True(without.History[0].LoopSeconds > 0);
    }

    [Fact]
    public void Training_steps_allocate_nothing_in_the_loop()
    {
        DataSplit data = StandardisedDigits();
        var model = new FakeModel(64, 10);
        const int epochs = 4;
        // Allocated-bytes counter at the second and at the last step of each epoch (the first step may JIT).
        var second = new long[epochs + 1];
        var last = new long[epochs + 1];
        var rec = new Recorder(r =>
        {
            if (r.Kind != ProgressKind.Batch) return;
            if (r.Batch == 2) second[r.Epoch] = GC.GetAllocatedBytesForCurrentThread();
            if (r.Batch == r.BatchesPerEpoch) last[r.Epoch] = GC.GetAllocatedBytesForCurrentThread();
        });
        rec.Reports.Capacity = 1000;   // the recorder's own list must not grow mid-epoch
        Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = epochs, BatchSize = 32 }, rec);

        // The runtime itself (tiered JIT, OSR) may allocate a few bytes on this thread in some epoch; an
        // allocation per step would show in every epoch, so at least one epoch must be exactly zero.
        long[] perEpoch = Enumerable.Range(1, epochs).Select(e => last[e] - second[e]).ToArray();
        Assert.Contains(0L, perEpoch);
    }

    [Fact]
    public void Summary_serialises_to_json_and_prints_a_table()
    {
        DataSplit data = StandardisedDigits();
        RunSummary run = Trainer.Fit(new FakeModel(64, 10), data.Train, data.Test, new TrainerOptions { Epochs = 2, Seed = 11 });

        string json = run.ToJson();
        foreach (string key in new[] { "\"model_name\"", "\"samples_per_second\"", "\"final_validation_accuracy\"", "\"history\"", "\"train_seconds\"", "\"stop_reason\": \"Completed\"" })
            Assert.Contains(key, json);
        RunSummary back = RunSummary.FromJson(json);
        Assert.Equal(run.History, back.History);
        Assert.Equal(run.FinalValidationAccuracy, back.FinalValidationAccuracy);
        Assert.Equal(11UL, back.Seed);

        string table = run.ToTable();
        Assert.Contains("FakeModel", table);
        Assert.Contains("samples/s", table);
        Assert.Equal(2 + 2 + 1, table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        using var tmp = new TempDirectory();
        string path = tmp.File("nested/run.json");
        run.WriteJson(path);
        Assert.Equal(run.History.Count, RunSummary.FromJson(System.IO.File.ReadAllText(path)).History.Count);
    }
}
