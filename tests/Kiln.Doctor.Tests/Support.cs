using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Data;
using Kiln.Training;
using Xunit;

namespace Kiln.Doctor.Tests;

/// <summary>The standardised digits split, loaded once.</summary>
internal static class Digits
{
    private static readonly Lazy<DataSplit> s_split = new(() =>
    {
        DataSplit raw = EmbeddedData.DigitsSplit(0.8, seed: 1);
        Standardizer scale = new Standardizer().Fit(raw.Train);
        return new DataSplit(scale.Transform(raw.Train), scale.Transform(raw.Test));
    });

    public static Dataset Train => s_split.Value.Train;
    public static Dataset Test => s_split.Value.Test;
}

/// <summary>
/// A minimal training loop that calls observers the way the trainer will (run start, every step, every epoch
/// end with train/validation accuracy, run end), so the monitors are tested on real generated models.
/// </summary>
internal static class Drive
{
    public static RunSummary Run(IKilnModel model, ITrainingObserver observer, int epochs, int batchSize = 64, float? learningRate = null,
        Dataset? train = null, Dataset? validation = null, Func<int, float>? learningRateForEpoch = null)
    {
        train ??= Digits.Train;
        validation ??= Digits.Test;
        if (learningRate is float lr) model.LearningRate = lr;
        observer.OnRunStart(model, new TrainerOptions { Epochs = epochs, BatchSize = batchSize });
        var history = new List<EpochMetrics>();
        int f = train.FeatureCount;
        long step = 0;
        bool stop = false;
        for (int epoch = 1; epoch <= epochs && !stop; epoch++)
        {
            if (learningRateForEpoch is not null) model.LearningRate = learningRateForEpoch(epoch);
            double lossSum = 0;
            int samples = 0, batches = 0;
            for (int start = 0; start + batchSize <= train.Count && !stop; start += batchSize)
            {
                float loss = model.TrainStep(train.Features.AsSpan(start * f, batchSize * f), train.Labels.AsSpan(start, batchSize), batchSize);
                lossSum += loss * batchSize;
                samples += batchSize;
                batches++;
                var record = new StepRecord(step++, epoch, loss, model.LearningRate);
                stop = observer.OnStep(model, record) == ObserverVerdict.Stop;
            }
            EvaluationResult tr = model.Evaluate(train.Features, train.Labels, train.Count);
            EvaluationResult va = model.Evaluate(validation.Features, validation.Labels, validation.Count);
            var metrics = new EpochMetrics(epoch, batches, samples, lossSum / Math.Max(samples, 1), tr.Accuracy, tr.Loss, va.Loss, va.Accuracy, 0, 0, 0, model.LearningRate);
            history.Add(metrics);
            if (observer.OnEpochEnd(model, metrics) == ObserverVerdict.Stop) stop = true;
        }
        var summary = new RunSummary { ModelName = model.ModelName, History = history.ToArray(), StopReason = stop ? StopReason.Diverged : StopReason.Completed };
        observer.OnRunEnd(model, summary);
        return summary;
    }
}

/// <summary>Assertions on findings.</summary>
internal static class Expect
{
    public static Finding One(IEnumerable<Finding> findings, string code, string? layer = null)
    {
        var list = findings.ToList();
        Finding? f = list.FirstOrDefault(x => x.Code == code && (layer is null || x.Layer == layer));
        Assert.True(f is not null, $"expected {code}{(layer is null ? "" : $" on {layer}")}, got:\n{Finding.Format(list)}");
        Assert.False(string.IsNullOrWhiteSpace(f!.Fix), "every finding suggests a fix");
        return f;
    }

    public static void NoProblems(IEnumerable<Finding> findings)
    {
        var problems = findings.Where(f => f.Severity != Severity.Info).ToList();
        Assert.True(problems.Count == 0, "expected no warnings or errors, got:\n" + Finding.Format(problems));
    }

    public static void None(IEnumerable<Finding> findings, string code)
    {
        var hits = findings.Where(f => f.Code == code).ToList();
        Assert.True(hits.Count == 0, $"expected no {code}, got:\n{Finding.Format(hits)}");
    }
}

/// <summary>Everything a model holds, for bit-for-bit comparisons.</summary>
internal sealed record ModelState(float[][] Data, float[][] State, long Step, float LearningRate, ulong[] Noise)
{
    public static ModelState Of(IKilnModel model)
    {
        var data = model.Tensors.Select(t => model.TensorData(t).ToArray()).ToArray();
        var state = model.Tensors.Where(t => t.Trainable)
            .SelectMany(t => Enumerable.Range(0, model.OptimizerStateCount).Select(s => model.TensorState(t, s).ToArray())).ToArray();
        var noise = new ulong[4];
        model.GetNoiseState(noise);
        return new ModelState(data, state, model.Step, model.LearningRate, noise);
    }

    public void AssertSame(ModelState other, string what)
    {
        Assert.Equal(Step, other.Step);
        Assert.Equal(BitConverter.SingleToInt32Bits(LearningRate), BitConverter.SingleToInt32Bits(other.LearningRate));
        Assert.Equal(Noise, other.Noise);
        for (int i = 0; i < Data.Length; i++)
            Assert.True(Data[i].Select(BitConverter.SingleToInt32Bits).SequenceEqual(other.Data[i].Select(BitConverter.SingleToInt32Bits)), $"{what}: tensor {i} changed");
        for (int i = 0; i < State.Length; i++)
            Assert.True(State[i].Select(BitConverter.SingleToInt32Bits).SequenceEqual(other.State[i].Select(BitConverter.SingleToInt32Bits)), $"{what}: optimiser state {i} changed");
    }
}
