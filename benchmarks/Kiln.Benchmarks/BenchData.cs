using System;
using Kiln.Data;

namespace Kiln.Benchmarks;

/// <summary>Benchmark inputs: synthetic standardised features and uniform labels, as in the PyTorch peer.</summary>
internal static class BenchData
{
    public const int InputSize = 784;
    public const int Classes = 10;

    /// <summary>
    /// <paramref name="count"/> samples of N(0,1) features (Box-Muller), then standardised per feature
    /// to mean 0 and unit variance; labels uniform in [0, classes).
    /// </summary>
    public static (AlignedFloats Inputs, int[] Labels) Synthetic(int count, int features, int classes, int seed, int misalignFloats = 0)
    {
        var rng = new Random(seed);
        var buffer = new AlignedFloats(count * features, misalignFloats);
        Span<float> x = buffer.Span;
        for (int i = 0; i < x.Length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            x[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < x.Length) x[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
        var mean = new double[features];
        var sq = new double[features];
        for (int s = 0; s < count; s++)
            for (int f = 0; f < features; f++)
            {
                double v = x[s * features + f];
                mean[f] += v;
                sq[f] += v * v;
            }
        for (int f = 0; f < features; f++)
        {
            mean[f] /= count;
            double var = sq[f] / count - mean[f] * mean[f];
            sq[f] = var > 0 ? 1.0 / Math.Sqrt(var) : 1.0;
        }
        for (int s = 0; s < count; s++)
            for (int f = 0; f < features; f++)
                x[s * features + f] = (float)((x[s * features + f] - mean[f]) * sq[f]);

        var y = new int[count];
        for (int i = 0; i < count; i++) y[i] = rng.Next(classes);
        return (buffer, y);
    }

    /// <summary>Fashion-MNIST training images from IDX files, standardised with the global mean and deviation (as the peer does), first <paramref name="count"/> of a seeded shuffle.</summary>
    public static (AlignedFloats Inputs, int[] Labels) FashionMnist(string directory, int count, int seed, int misalignFloats = 0)
    {
        Dataset train = Idx.LoadFashionMnist(directory).Train;
        if (train.FeatureCount != InputSize)
            throw new InvalidOperationException($"{directory}: expected {InputSize} features, found {train.FeatureCount}.");
        count = Math.Min(count, train.Count);
        int[] order = new int[train.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        new Random(seed).Shuffle(order);

        double sum = 0, sumSq = 0;
        foreach (float v in train.Features) { sum += v; sumSq += (double)v * v; }
        double mean = sum / train.Features.Length;
        double inv = 1.0 / Math.Sqrt(sumSq / train.Features.Length - mean * mean);

        var buffer = new AlignedFloats(count * InputSize, misalignFloats);
        Span<float> x = buffer.Span;
        var y = new int[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> row = train.Row(order[i]);
            for (int f = 0; f < InputSize; f++)
                x[i * InputSize + f] = (float)((row[f] - mean) * inv);
            y[i] = train.Labels[order[i]];
        }
        return (buffer, y);
    }
}
