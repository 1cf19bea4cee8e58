using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln;
using Kiln.Data;
using Kiln.Kernels;
using Kiln.Training;
using Kiln.Tuning;

namespace Kiln.Tuning.Tests;

/// <summary>Trials on generated models: the ready-made runner, early abort, weight decay, and concurrent trials.</summary>
public class ModelTrialTests
{
    internal static readonly Lazy<(Dataset Train, Dataset Test)> Digits = new(() =>
    {
        DataSplit raw = EmbeddedData.DigitsSplit();
        var scale = new Standardizer().Fit(raw.Train);
        return (scale.Transform(raw.Train), scale.Transform(raw.Test));
    });

    private static Trial TrialWith(double lr, double weightDecay = 0, int id = 0) =>
        new(id, "test", SamplingTests.Point(("lr", lr), ("weight_decay", weightDecay)), 1234);

    [Fact]
    public void The_model_runner_trains_with_the_trial_learning_rate_and_scores_on_validation()
    {
        (Dataset train, Dataset test) = Digits.Value;
        IKilnModel? trained = null;
        var runner = new ModelTrialRunner(_ => new TrialNet(), train, test, new TrainerOptions { Epochs = 2, BatchSize = 64 })
        {
            Trained = (_, model, _) => trained = model,
        };
        TrialResult result = runner.Run(TrialWith(0.05), CancellationToken.None);
        Assert.Equal(TrialStatus.Completed, result.Status);
        EvaluationResult check = trained!.Evaluate(test.Features, test.Labels, test.Count);
        Assert.Equal(check.Loss, result.Score);
        Assert.Equal(check.Accuracy, result.Metric("val_acc"));
        Assert.Equal(2, result.Metric("epochs"));
        Assert.True(check.Accuracy > 0.7, $"accuracy {check.Accuracy}");

        // The same run by hand: the trial's rate and seed.
        var reference = new TrialNet();
        reference.ResetNoise(1234);
        Trainer.Fit(reference, train, test, new TrainerOptions { Epochs = 2, BatchSize = 64, Seed = 1234, LearningRate = 0.05f });
        foreach (TensorInfo t in reference.Tensors)
            Assert.True(reference.TensorData(t).SequenceEqual(trained.TensorData(t)), t.Name);
    }

    [Fact]
    public void A_learning_rate_far_too_high_is_aborted_as_hopeless()
    {
        (Dataset train, Dataset test) = Digits.Value;
        var runner = new ModelTrialRunner(_ => new TrialNet(), train, test, new TrainerOptions { Epochs = 5, BatchSize = 64 });
        TrialResult result = runner.Run(TrialWith(300), CancellationToken.None);
        Assert.Equal(TrialStatus.Aborted, result.Status);
        Assert.False(string.IsNullOrEmpty(result.Note));
        Assert.True(result.Metric("epochs") < 5, $"it ran {result.Metric("epochs")} epochs");
    }

    [Fact]
    public void The_guard_aborts_on_the_running_loss_mid_run_and_on_the_last_step()
    {
        (Dataset train, Dataset test) = ModelTrialTests.Digits.Value;
        Dataset small = train.Subset(0, 256);
        var options = new TrainerOptions { Epochs = 3, BatchSize = 64 }; // 4 steps per epoch, 12 in all

        // Step 5 (epoch 2, its second step) reports 20 after an initial 2: the epoch's running mean (2 + 20)/2 = 11 > 6.
        var midRun = new ModelTrialRunner(_ => new ScriptedLossModel(new TrialNet(), i => i == 5 ? 20f : 2f), small, test, options);
        TrialResult aborted = midRun.Run(TrialWith(0.01), CancellationToken.None);
        Assert.Equal(TrialStatus.Aborted, aborted.Status);
        Assert.Contains("at step 5", aborted.Note);
        Assert.Equal(1, aborted.Metric("epochs")); // epoch 2 never completed

        // The very last step explodes: the trainer has finished, the runner still reports the abort.
        var lastStep = new ModelTrialRunner(_ => new ScriptedLossModel(new TrialNet(), i => i == 11 ? 100f : 2f), small, test, options);
        TrialResult late = lastStep.Run(TrialWith(0.01), CancellationToken.None);
        Assert.Equal(TrialStatus.Aborted, late.Status);
        Assert.Contains("at step 11", late.Note);

        // Just under the factor: completes.
        var fine = new ModelTrialRunner(_ => new ScriptedLossModel(new TrialNet(), i => i == 5 ? 9.9f : 2f), small, test, options);
        Assert.Equal(TrialStatus.Completed, fine.Run(TrialWith(0.01), CancellationToken.None).Status);
    }

    [Fact]
    public void Decoupled_weight_decay_shrinks_weights_by_one_minus_lr_lambda_and_leaves_biases()
    {
        (Dataset train, _) = Digits.Value;
        const float lr = 0.05f;
        const double lambda = 0.01;
        var decayed = new TrialNet();
        var plain = new TrialNet();
        var decay = new DecoupledWeightDecay(decayed, lambda);
        ReadOnlySpan<float> x = train.Features.AsSpan(0, 32 * 64);
        ReadOnlySpan<int> y = train.Labels.AsSpan(0, 32);
        decayed.LearningRate = lr;
        plain.LearningRate = lr;
        decayed.TrainStep(x, y, 32);
        decay.Apply(lr);
        plain.TrainStep(x, y, 32);
        Assert.Equal(2, decay.Weights.Count);
        foreach (TensorInfo t in plain.Tensors)
        {
            float[] a = decayed.TensorData(t).ToArray(), b = plain.TensorData(t).ToArray();
            double factor = t.Role == TensorRole.Weight ? 1 - lr * lambda : 1;
            for (int i = 0; i < a.Length; i++) Assert.Equal(b[i] * factor, a[i], 1e-7);
        }

        // A frozen layer does not decay.
        var frozen = new TrialNet();
        frozen.SetLearningRateScale("dense0", 0);
        float[] before = frozen.TensorData(frozen.Tensors[0]).ToArray();
        new DecoupledWeightDecay(frozen, lambda).Apply(lr);
        Assert.True(before.AsSpan().SequenceEqual(frozen.TensorData(frozen.Tensors[0])));
    }

    [Fact]
    public void Concurrent_trials_on_generated_models_match_sequential_ones_bit_for_bit()
    {
        (Dataset train, Dataset test) = Digits.Value;
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-2).LogUniform("weight_decay", 1e-5, 1e-2);
        var runner = new ModelTrialRunner(_ => new WideTrialNet(), train, test, new TrainerOptions { Epochs = 1, BatchSize = 64 });
        SearchResults sequential = new HyperparameterSearch(space, runner, new SequentialTrialScheduler(), seed: 9).Random(4);
        SearchResults parallel = new HyperparameterSearch(space, runner, new LocalParallelTrialScheduler(3), seed: 9).Random(4);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(TrialStatus.Completed, sequential.Trials[i].Status);
            Assert.True(sequential.Trials[i].SameOutcome(parallel.Trials[i]),
                $"trial {i}: sequential {SearchResults.Describe(sequential.Trials[i])}, parallel {SearchResults.Describe(parallel.Trials[i])}");
        }
    }

    [Fact]
    public void Parallel_trials_run_every_pool_stage_on_their_own_thread()
    {
        // A trial that asks the shared pool for a stage and records which threads ran its parts.
        var threadsPerTrial = new ConcurrentDictionary<int, (int Trial, int[] Parts)>();
        var runner = new DelegateTrialRunner((trial, _) =>
        {
            var recorder = new PartRecorder();
            for (int i = 0; i < 20; i++) WorkerPool.Shared.Run(recorder, 0);
            threadsPerTrial[trial.Id] = (Environment.CurrentManagedThreadId, recorder.Threads.Distinct().ToArray());
            return TrialResult.Completed(trial, 0);
        });
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1);
        new HyperparameterSearch(space, runner, new LocalParallelTrialScheduler(3)).Random(6);
        Assert.Equal(6, threadsPerTrial.Count);
        foreach ((int trial, int[] parts) in threadsPerTrial.Values)
            Assert.Equal([trial], parts);

        // Without the parallel scheduler the same stage uses the pool's workers (when there are any).
        if (WorkerPool.Shared.Parallelism > 1)
        {
            var recorder = new PartRecorder();
            for (int i = 0; i < 200 && recorder.Threads.Distinct().Count() < 2; i++) WorkerPool.Shared.Run(recorder, 0);
            Assert.True(recorder.Threads.Distinct().Count() > 1, "the pool never used a worker thread");
        }
    }

    [Fact]
    public void A_search_started_while_another_caller_owns_the_pool_waits_for_it()
    {
        if (WorkerPool.Shared.Parallelism == 1) return; // no workers: every stage is single-threaded anyway
        using var owned = new ManualResetEventSlim();
        var holder = new Thread(() => WorkerPool.Shared.Run(new HoldFor(TimeSpan.FromMilliseconds(250), owned), 0)) { IsBackground = true };
        holder.Start();
        Assert.True(owned.Wait(TimeSpan.FromSeconds(10)), "the holder never got the pool");

        var threadsPerTrial = new ConcurrentDictionary<int, (int Trial, int[] Parts)>();
        var runner = new DelegateTrialRunner((trial, _) =>
        {
            // Long enough to outlive the holder: a trial that started inline would get the workers once they are free.
            var recorder = new PartRecorder();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.ElapsedMilliseconds < 300) WorkerPool.Shared.Run(recorder, 0);
            threadsPerTrial[trial.Id] = (Environment.CurrentManagedThreadId, recorder.Threads.Distinct().ToArray());
            return TrialResult.Completed(trial, 0);
        });
        new HyperparameterSearch(new SearchSpace().LogUniform("lr", 1e-4, 1e-1), runner, new LocalParallelTrialScheduler(2)).Random(4);
        holder.Join();
        foreach ((int trial, int[] parts) in threadsPerTrial.Values)
            Assert.Equal([trial], parts);
    }

    /// <summary>Owns the pool for a while (part 0 sleeps), and says when it has it.</summary>
    private sealed class HoldFor(TimeSpan time, ManualResetEventSlim owned) : IParallelStages
    {
        public void RunStage(int stage, int part, int parts)
        {
            if (part != 0) return;
            owned.Set();
            Thread.Sleep(time);
        }
    }

    /// <summary>Records the thread of every part it runs.</summary>
    private sealed class PartRecorder : IParallelStages
    {
        private readonly ConcurrentBag<int> _threads = new();

        public IEnumerable<int> Threads => _threads;

        public void RunStage(int stage, int part, int parts)
        {
            Thread.SpinWait(2000); // long enough that workers pick parts up when they can
            _threads.Add(Environment.CurrentManagedThreadId);
        }
    }
}
