using System;
using System.Collections.Concurrent;
using System.Threading;
using Kiln.Data;
using Kiln.Training;
using Kiln.Tuning;

namespace Kiln.Orleans.Tests;

// A small network for the determinism test: a real generated model, trained per trial.
[Model(Input = 64, MaxBatch = 32, Seed = 7, Normalize = InputNormalization.None)]
[Dense(16), ReLU]
[Dense(10, Init = Init.Normal, InitScale = 0.01), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class TinyDigitsNet;

/// <summary>The runners the test silos register, built the same way on every silo.</summary>
internal static class Runners
{
    public const string Model = "model";
    public const string Stepping = "stepping";

    private static readonly Lazy<(Dataset Train, Dataset Validation)> Digits = new(() =>
    {
        DataSplit split = EmbeddedData.DigitsSplit(0.8, seed: 0);
        var standardizer = new Standardizer().Fit(split.Train);
        return (standardizer.Transform(split.Train.Subset(0, 320, "320 digits")), standardizer.Transform(split.Test.Subset(0, 96, "96 digits")));
    });

    /// <summary>A Kiln model trained 2 epochs per trial on 320 digits, scored on 96.</summary>
    public static ModelTrialRunner CreateModelRunner() =>
        new(_ => new TinyDigitsNet(), Digits.Value.Train, Digits.Value.Validation, new TrainerOptions { Epochs = 2, BatchSize = 32, ValidateEveryEpoch = false });

    /// <summary>The stepping runner every silo registers (its per-step delay is set by the test).</summary>
    public static readonly SteppingRunner SharedStepping = new();

    /// <summary>The search space of the tests.</summary>
    public static SearchSpace Space => new SearchSpace().LogUniform("lr", 1e-4, 1e-1).LogUniform("weight_decay", 1e-6, 1e-2);
}

/// <summary>
/// A checkpointing trial: <see cref="Steps"/> steps of gradient descent on a noisy quadratic, in double, with the trial's
/// seed; it saves (step, x, random state) after every step and resumes from the last save. Its result does not depend on
/// where it was resumed, which the tests check against uninterrupted runs.
/// </summary>
internal sealed class SteppingRunner : ICheckpointingTrialRunner
{
    public const int Steps = 12;

    /// <summary>Sleep per step (0 for the reference runs).</summary>
    public int StepDelayMs { get; set; }

    /// <summary>Runs that returned a result, per trial id (a cancelled run is not counted).</summary>
    public ConcurrentDictionary<int, int> Finished { get; } = new();

    /// <summary>Steps executed, per trial id, over all its runs.</summary>
    public ConcurrentDictionary<int, int> StepsRun { get; } = new();

    public TrialResult Run(Trial trial, CancellationToken cancellation) => Run(trial, TrialCheckpoints.None, cancellation);

    public TrialResult Run(Trial trial, TrialCheckpoints checkpoints, CancellationToken cancellation)
    {
        double lr = trial.Parameters.GetDouble("lr") * 10, decay = trial.Parameters.GetDouble("weight_decay");
        int step = 0;
        double x = 3;
        var random = new KilnRandom(trial.Seed);
        if (checkpoints.Latest is { } saved)
        {
            step = BitConverter.ToInt32(saved, 0);
            x = BitConverter.ToDouble(saved, 4);
            random = new KilnRandom(BitConverter.ToUInt64(saved, 12));
            for (int i = 0; i < step; i++) random.NextDouble(); // the stream's position: the seed plus the draws taken
        }
        for (; step < Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            if (StepDelayMs > 0) Thread.Sleep(StepDelayMs);
            double noise = random.NextDouble() - 0.5;
            x -= lr * (2 * (x - 1) + noise) + decay * x;
            StepsRun.AddOrUpdate(trial.Id, 1, (_, n) => n + 1);
            var state = new byte[20];
            BitConverter.TryWriteBytes(state.AsSpan(0), step + 1);
            BitConverter.TryWriteBytes(state.AsSpan(4), x);
            BitConverter.TryWriteBytes(state.AsSpan(12), trial.Seed);
            checkpoints.Save(state);
        }
        Finished.AddOrUpdate(trial.Id, 1, (_, n) => n + 1);
        double loss = (x - 1) * (x - 1);
        return double.IsFinite(loss)
            ? TrialResult.Completed(trial, loss, new("x", x), new("steps", Steps))
            : TrialResult.Aborted(trial, "diverged");
    }
}
