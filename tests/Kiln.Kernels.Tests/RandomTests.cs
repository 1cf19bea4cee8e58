using System;

namespace Kiln.Kernels.Tests;

/// <summary>Dropout masks and parameter initialisers: statistics, exact reproducibility from a seed.</summary>
public sealed class RandomTests
{
    [Theory]
    [InlineData(0.8f)]
    [InlineData(0.5f)]
    [InlineData(0.1f)]
    public void DropoutKeepsTheRightFraction(float keep)
    {
        const int n = 200_000;
        float scale = 1 / keep;
        var rng = new KilnRandom(7);
        float[] mask = new float[n];
        Dropout.FillMask(mask, keep, scale, ref rng);
        int kept = 0;
        foreach (float m in mask)
        {
            Assert.True(m == 0f || m == scale, $"mask value {m}");
            if (m != 0f) kept++;
        }
        // Binomial: 5 standard deviations (~0.5% of n at keep = 0.5).
        double sd = Math.Sqrt(n * keep * (1 - keep));
        Assert.InRange(kept, n * keep - 5 * sd, n * keep + 5 * sd);
    }

    [Fact]
    public void DropoutIsOneUniformPerElementInOrder()
    {
        var rng = new KilnRandom(99);
        var reference = new KilnRandom(99);
        float[] mask = new float[1001];
        Dropout.FillMask(mask, 0.7f, 2f, ref rng);
        for (int i = 0; i < mask.Length; i++) Assert.Equal(reference.NextFloat() < 0.7f ? 2f : 0f, mask[i]);
        // The caller's generator advanced by exactly one draw per element.
        Assert.Equal(reference.NextUInt64(), rng.NextUInt64());
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.FillMask(mask, 1.5f, 1f, ref rng));
    }

    [Fact]
    public void DropoutMaskGivesIdenticalResultsOnEveryPath()
    {
        // The mask is drawn once per seed, independent of the path; applying it is exact on all three.
        float[] u = Data.Uniform(new Random(3), 131, -2, 2);
        float[]? first = null;
        foreach (IsaPath path in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
        {
            var rng = new KilnRandom(1234);
            float[] mask = new float[u.Length], y = new float[u.Length];
            Dropout.FillMask(mask, 0.75f, 1 / 0.75f, ref rng);
            Isa.Invoke(this, nameof(ApplyRelu), path, u, mask, y);
            first ??= y;
            Assert.Equal(first, y);
        }
    }

    private void ApplyRelu<TIsa>(float[] u, float[] mask, float[] y) where TIsa : struct, ISimdPath =>
        Elementwise.ActivationForward<TIsa, Relu>(u, mask, y, default);

    [Fact]
    public void NormalInitHasTheRequestedMoments()
    {
        const int n = 100_001; // odd: the last Box–Muller pair is half used
        var rng = new KilnRandom(5);
        float[] w = new float[n];
        ParameterInit.Normal(w, 0.05, ref rng);
        double mean = 0, sq = 0;
        foreach (float v in w) { mean += v; sq += (double)v * v; }
        mean /= n;
        double std = Math.Sqrt(sq / n - mean * mean);
        Assert.InRange(mean, -5 * 0.05 / Math.Sqrt(n), 5 * 0.05 / Math.Sqrt(n));
        Assert.InRange(std, 0.05 * 0.985, 0.05 * 1.015);
        var again = new KilnRandom(5);
        float[] w2 = new float[n];
        ParameterInit.Normal(w2, 0.05, ref again);
        Assert.Equal(w, w2);
    }

    [Fact]
    public void UniformInitStaysInBoundsWithTheRightVariance()
    {
        const int n = 100_000;
        var rng = new KilnRandom(6);
        float[] w = new float[n];
        ParameterInit.Uniform(w, 0.3, ref rng);
        double sq = 0;
        foreach (float v in w)
        {
            Assert.InRange(v, -0.3f, 0.3f);
            sq += (double)v * v;
        }
        Assert.InRange(sq / n, 0.09 / 3 * 0.98, 0.09 / 3 * 1.02);
    }

    [Fact]
    public void ConstantInitFills()
    {
        float[] w = new float[37];
        ParameterInit.Constant(w, 0.01f);
        Assert.All(w, v => Assert.Equal(0.01f, v));
    }
}
