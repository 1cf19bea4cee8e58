using System;
using Kiln.Data;

namespace Kiln.Data.Tests;

/// <summary>Deterministic synthetic data and double-precision reference statistics.</summary>
internal static class TestData
{
    public static readonly IsaPath[] Paths = [IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable];

    public static TheoryData<IsaPath> SupportedPaths()
    {
        var data = new TheoryData<IsaPath>();
        foreach (IsaPath p in Paths) if (KilnIsa.IsSupported(p)) data.Add(p);
        return data;
    }

    public static double Normal(ref KilnRandom rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Uniform features in [lo, hi), labels cycling over <paramref name="classes"/>.</summary>
    public static Dataset Uniform(int count, int features, ulong seed, float lo = 0, float hi = 1, ImageShape? shape = null, int classes = 3)
    {
        var rng = new KilnRandom(seed);
        var x = new float[count * features];
        for (int i = 0; i < x.Length; i++) x[i] = lo + (hi - lo) * rng.NextFloat();
        var y = new int[count];
        for (int i = 0; i < count; i++) y[i] = i % classes;
        return new Dataset(x, y, features, classes, shape, "uniform");
    }

    /// <summary>x = mean + L·z with z standard normal: population covariance L·Lᵀ.</summary>
    public static Dataset Correlated(int count, double[,] l, double[] mean, ulong seed)
    {
        int f = mean.Length;
        var rng = new KilnRandom(seed);
        var x = new float[count * f];
        var z = new double[f];
        for (int n = 0; n < count; n++)
        {
            for (int j = 0; j < f; j++) z[j] = Normal(ref rng);
            for (int i = 0; i < f; i++)
            {
                double v = mean[i];
                for (int j = 0; j < f; j++) v += l[i, j] * z[j];
                x[n * f + i] = (float)v;
            }
        }
        return new Dataset(x, new int[count], f, 1, null, "correlated");
    }

    /// <summary>Population covariance (divide by N) in double.</summary>
    public static double[,] Covariance(float[] x, int f)
    {
        int n = x.Length / f;
        var mean = new double[f];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < f; j++) mean[j] += x[r * f + j];
        for (int j = 0; j < f; j++) mean[j] /= n;
        var c = new double[f, f];
        for (int r = 0; r < n; r++)
            for (int i = 0; i < f; i++)
                for (int j = 0; j < f; j++) c[i, j] += (x[r * f + i] - mean[i]) * (x[r * f + j] - mean[j]);
        for (int i = 0; i < f; i++)
            for (int j = 0; j < f; j++) c[i, j] /= n;
        return c;
    }

    /// <summary>A random orthogonal n×n matrix (Gram–Schmidt of Gaussian columns, twice for accuracy).</summary>
    public static double[,] RandomOrthogonal(int n, ulong seed)
    {
        var rng = new KilnRandom(seed);
        var q = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) q[i, j] = Normal(ref rng);
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < n; j++)
            {
                for (int k = 0; k < j; k++)
                {
                    double dot = 0;
                    for (int i = 0; i < n; i++) dot += q[i, j] * q[i, k];
                    for (int i = 0; i < n; i++) q[i, j] -= dot * q[i, k];
                }
                double norm = 0;
                for (int i = 0; i < n; i++) norm += q[i, j] * q[i, j];
                norm = Math.Sqrt(norm);
                for (int i = 0; i < n; i++) q[i, j] /= norm;
            }
        return q;
    }

    public static long Allocated(Action action)
    {
        action();   // warm up: JIT, lazily sized buffers
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
