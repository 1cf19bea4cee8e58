using System;
using System.IO;
using System.Linq;
using Kiln;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Ensembles;
using Kiln.Training;

namespace Kiln.Tuning.Tests;

/// <summary>Ensembles against a double-precision mean of the members' outputs; checkpoint snapshots of one run.</summary>
public class EnsembleTests
{
    public static TheoryData<IsaPath> Paths
    {
        get
        {
            var data = new TheoryData<IsaPath>();
            foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
                if (KilnIsa.IsSupported(p)) data.Add(p);
            return data;
        }
    }

    private static (IKilnModel A, IKilnModel B) TrainedPair(IsaPath isa)
    {
        (Dataset train, _) = ModelTrialTests.Digits.Value;
        IKilnModel a = new MemberA(isa), b = new MemberB(isa);
        Trainer.Fit(a, train, null, new TrainerOptions { Epochs = 1, BatchSize = 32, Seed = 1 });
        Trainer.Fit(b, train, null, new TrainerOptions { Epochs = 1, BatchSize = 32, Seed = 2 });
        return (a, b);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void An_ensemble_of_two_predicts_the_mean_of_their_probabilities(IsaPath isa)
    {
        (Dataset _, Dataset test) = ModelTrialTests.Digits.Value;
        (IKilnModel a, IKilnModel b) = TrainedPair(isa);
        var ensemble = new Ensemble(a, b);
        Assert.Equal(32, ensemble.MaxBatch);
        const int batch = 29;
        ReadOnlySpan<float> x = test.Features.AsSpan(0, batch * 64);
        float[] pa = new float[batch * 10], pb = new float[batch * 10], mean = new float[batch * 10];
        a.Predict(x, pa, batch);
        b.Predict(x, pb, batch);
        ensemble.Predict(x, mean, batch);
        for (int i = 0; i < mean.Length; i++) Assert.Equal(((double)pa[i] + pb[i]) / 2, mean[i], 1e-7);
        // Still probabilities.
        for (int r = 0; r < batch; r++) Assert.Equal(1.0, mean.AsSpan(r * 10, 10).ToArray().Sum(v => (double)v), 1e-5);

        float[] viaStatic = new float[batch * 10];
        Ensemble.Predict([a, b], x, viaStatic, batch);
        Assert.Equal(mean, viaStatic);
    }

    [Fact]
    public void Evaluate_scores_the_averaged_probabilities()
    {
        (Dataset _, Dataset test) = ModelTrialTests.Digits.Value;
        (IKilnModel a, IKilnModel b) = TrainedPair(KilnIsa.Default);
        var ensemble = new Ensemble(a, b);
        EvaluationResult result = ensemble.Evaluate(test);

        // Reference: every test sample, chunked by hand, mean in double, loss −ln p̄(y).
        double loss = 0;
        int correct = 0;
        float[] pa = new float[10], pb = new float[10];
        for (int i = 0; i < test.Count; i++)
        {
            a.Predict(test.Row(i), pa, 1);
            b.Predict(test.Row(i), pb, 1);
            double[] p = pa.Zip(pb, (u, v) => ((double)u + v) / 2).ToArray();
            loss -= Math.Log(p[test.Labels[i]]);
            if (Array.IndexOf(p, p.Max()) == test.Labels[i]) correct++;
        }
        Assert.Equal(test.Count, result.Count);
        Assert.Equal(loss / test.Count, result.Loss, 1e-4);
        Assert.Equal((double)correct / test.Count, result.Accuracy, 1e-9);

        // An ensemble of one is the model itself.
        EvaluationResult alone = a.Evaluate(test.Features, test.Labels, test.Count);
        EvaluationResult single = new Ensemble(a).Evaluate(test);
        Assert.Equal(alone.Accuracy, single.Accuracy);
        Assert.Equal(alone.Loss, single.Loss, 1e-4);
    }

    [Fact]
    public void The_binary_ensemble_uses_binary_cross_entropy_and_the_half_threshold()
    {
        var a = new BinaryMember();
        var b = new BinaryMember2();
        float[] x = Enumerable.Range(0, 12 * 4).Select(i => (float)Math.Sin(i * 0.7)).ToArray();
        int[] y = Enumerable.Range(0, 12).Select(i => i % 2).ToArray();
        EvaluationResult result = new Ensemble(a, b).Evaluate(x, y, 12);
        float[] pa = new float[12], pb = new float[12];
        a.Predict(x, pa, 12);
        b.Predict(x, pb, 12);
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < 12; i++)
        {
            double p = ((double)pa[i] + pb[i]) / 2;
            loss -= y[i] == 1 ? Math.Log(p) : Math.Log(1 - p);
            if ((p >= 0.5 ? 1 : 0) == y[i]) correct++;
        }
        Assert.Equal(loss / 12, result.Loss, 1e-5);
        Assert.Equal(correct / 12.0, result.Accuracy);
    }

    [Fact]
    public void Predict_and_evaluate_allocate_nothing_after_construction()
    {
        (Dataset _, Dataset test) = ModelTrialTests.Digits.Value;
        var ensemble = new Ensemble(new MemberA(), new MemberB());
        float[] outputs = new float[32 * 10];
        ReadOnlySpan<float> x = test.Features.AsSpan(0, 32 * 64);
        ensemble.Predict(x, outputs, 32);
        ensemble.Evaluate(test.Features, test.Labels, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            ensemble.Predict(x, outputs, 32);
            ensemble.Evaluate(test.Features, test.Labels, 100);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Accuracy_helper_and_bad_input()
    {
        float[] scores = [0.1f, 0.7f, 0.2f, 0.5f, 0.4f, 0.1f, 0.3f, 0.3f, 0.4f];
        Assert.Equal(2 / 3.0, Classification.Accuracy(scores, [1, 0, 0], 3, 3), 12);
        Assert.Equal(0.5, Classification.Accuracy([0.9f, 0.2f], [1, 1], 2, 1));
        Assert.Throws<ArgumentException>(() => Classification.Accuracy(scores, [1, 0], 3, 3));
        Assert.Throws<ArgumentException>(() => new Ensemble(new MemberA(), new BinaryMember()));
        Assert.Throws<ArgumentException>(() => new Ensemble(Array.Empty<IKilnModel>()));
        var ensemble = new Ensemble(new MemberA(), new MemberB());
        Assert.Throws<ArgumentOutOfRangeException>(() => ensemble.Predict(new float[33 * 64], new float[33 * 10], 33));
        Assert.Throws<ArgumentException>(() => ensemble.Predict(new float[2 * 64], new float[10], 2));
    }

    [Fact]
    public void Checkpoint_snapshots_save_the_chosen_epochs_of_one_run_without_changing_it()
    {
        (Dataset train, Dataset test) = ModelTrialTests.Digits.Value;
        string dir = Path.Combine(Path.GetTempPath(), "kiln-snapshots-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new TrainerOptions { Epochs = 3, BatchSize = 64, Seed = 77, RecordSteps = true };
            var single = new SnapshotNet();
            float[][]? afterEpoch1 = null;
            RunSummary expected = Trainer.Fit(single, train, test, options, new ParametersAt(1, single, p => afterEpoch1 = p));

            var snapshots = new CheckpointSnapshots(dir, [1, 3]);
            var stepped = new SnapshotNet();
            RunSummary actual = Trainer.Fit(stepped, train, test, options with { Observers = [snapshots] });

            // Saving checkpoints does not disturb the run: identical steps, schedule and dropout stream, identical weights.
            foreach (TensorInfo t in single.Tensors)
                Assert.True(single.TensorData(t).SequenceEqual(stepped.TensorData(t)), t.Name);
            Assert.Equal(expected.Steps!.Select(s => (s.Step, s.Epoch, s.Loss, s.LearningRate)), actual.Steps!.Select(s => (s.Step, s.Epoch, s.Loss, s.LearningRate)));
            Assert.Equal([1, 2, 3], actual.History.Select(h => h.Epoch));
            Assert.Equal(expected.History.Select(h => h.ValidationAccuracy), actual.History.Select(h => h.ValidationAccuracy));

            Assert.Equal([1, 3], snapshots.Saved.Select(s => s.Epoch));
            Assert.All(snapshots.Saved, s => Assert.True(File.Exists(s.Path)));
            Assert.Equal(expected.History[0].ValidationAccuracy, snapshots.Saved[0].ValidationAccuracy);

            // The last snapshot is the final model; the first is the model after one epoch.
            Ensemble ensemble = snapshots.LoadEnsemble(() => new SnapshotNet());
            Assert.Equal(2, ensemble.Members.Count);
            IKilnModel last = ensemble.Members[1];
            foreach (TensorInfo t in single.Tensors)
                Assert.True(single.TensorData(t).SequenceEqual(last.TensorData(t)), t.Name);
            IKilnModel first = ensemble.Members[0];
            for (int t = 0; t < first.Tensors.Count; t++)
                Assert.True(afterEpoch1![t].AsSpan().SequenceEqual(first.TensorData(first.Tensors[t])), first.Tensors[t].Name);
            Assert.Equal("1", Checkpoint.Read(snapshots.Saved[0].Path).Metadata["epoch"]);
            Assert.True(ensemble.Evaluate(test).Accuracy > 0.5);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Copies every tensor of a model at the end of one epoch (progress reports are synchronous).</summary>
    private sealed class ParametersAt(int epoch, IKilnModel model, Action<float[][]> keep) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Kind == ProgressKind.EpochEnd && value.Epoch == epoch)
                keep(model.Tensors.Select(t => model.TensorData(t).ToArray()).ToArray());
        }
    }
}
