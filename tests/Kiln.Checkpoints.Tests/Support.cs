using System;
using System.Collections.Generic;
using System.IO;
using Xunit;

namespace Kiln.Checkpoints.Tests;

/// <summary>A per-test scratch directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kiln-ckpt-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Deterministic data, training loops and bit-exact snapshots of a model.</summary>
internal static class Support
{
    public const int Batch = 16;

    /// <summary>Batch <paramref name="index"/> of a fixed synthetic data set (a function of the index only).</summary>
    public static (float[] X, int[] Y) MakeBatch(int index, int inputs = 19, int classes = 5, int batch = Batch)
    {
        var rng = new KilnRandom(0xC0FFEEUL + (ulong)index * 7919UL);
        var x = new float[batch * inputs];
        var y = new int[batch];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 2f - 1f;
        for (int r = 0; r < batch; r++) y[r] = rng.NextInt(classes);
        return (x, y);
    }

    /// <summary>Trains steps [from, to) on full batches (MaxBatch rows) indexed by the global step.</summary>
    public static void Train(IKilnModel model, int from, int to)
    {
        for (int s = from; s < to; s++)
        {
            (float[] x, int[] y) = MakeBatch(s, model.InputSize, model.OutputSize, model.MaxBatch);
            float loss = model.TrainStep(x, y, model.MaxBatch);
            Assert.True(float.IsFinite(loss));
        }
    }

    /// <summary>Every tensor, optimiser state slot, the step, learning rate and scales, as raw bits.</summary>
    public static Dictionary<string, int[]> Snapshot(IKilnModel model)
    {
        var snap = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (TensorInfo t in model.Tensors)
        {
            snap[t.Name] = Bits(model.TensorData(t));
            if (!t.Trainable) continue;
            for (int s = 0; s < model.OptimizerStateCount; s++) snap[t.Name + "#" + s] = Bits(model.TensorState(t, s));
            snap[t.Layer + "#scale"] = new[] { BitConverter.SingleToInt32Bits(model.GetLearningRateScale(t.Layer)) };
        }
        snap["#step"] = new[] { (int)model.Step, (int)(model.Step >> 32) };
        snap["#lr"] = new[] { BitConverter.SingleToInt32Bits(model.LearningRate) };
        return snap;
    }

    private static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < values.Length; i++) bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        return bits;
    }

    public static void AssertSame(Dictionary<string, int[]> expected, Dictionary<string, int[]> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (KeyValuePair<string, int[]> kv in expected)
        {
            Assert.True(actual.TryGetValue(kv.Key, out int[]? other), $"missing {kv.Key}");
            if (!kv.Value.AsSpan().SequenceEqual(other))
            {
                int i = 0;
                while (kv.Value[i] == other![i]) i++;
                Assert.Fail($"{kv.Key}[{i}]: expected bits {kv.Value[i]:X8}, found {other[i]:X8}");
            }
        }
    }

    /// <summary>Predictions on a fixed batch (eval mode), as bits: checks the folded inference path too.</summary>
    public static int[] PredictBits(IKilnModel model)
    {
        (float[] x, _) = MakeBatch(123_456, model.InputSize, model.OutputSize, model.MaxBatch);
        var outputs = new float[model.MaxBatch * model.OutputSize];
        model.Predict(x, outputs, model.MaxBatch);
        return Bits(outputs);
    }
}
