using System;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>GroupNorm against a double-precision reference (forward) and central finite differences (backward).</summary>
public sealed class GroupNormTests
{
    private const float Eps = 1e-5f;

    // pixels, channels, groups: LayerNorm (1 group), InstanceNorm (groups = channels), after Dense (1 pixel), tails.
    private static readonly (int Pixels, int Channels, int Groups)[] Shapes =
    {
        (9, 16, 4), (7, 17, 1), (5, 3, 3), (1, 32, 1), (12, 32, 8), (4, 1, 1), (6, 40, 5), (3, 33, 11),
    };

    public static TheoryData<IsaPath, int> Cases()
    {
        var d = new TheoryData<IsaPath, int>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            for (int i = 0; i < Shapes.Length; i++) d.Add(p, i);
        return d;
    }

    /// <summary>y in double from the definition, with the group statistics.</summary>
    private static double[] Reference(double[] x, double[] gamma, double[] beta, int samples, int pixels, int channels, int groups, out double[] mean, out double[] invStd)
    {
        int per = channels / groups;
        var y = new double[x.Length];
        mean = new double[samples * groups];
        invStd = new double[samples * groups];
        for (int s = 0; s < samples; s++)
            for (int g = 0; g < groups; g++)
            {
                double sum = 0, sq = 0;
                for (int p = 0; p < pixels; p++)
                    for (int c = g * per; c < (g + 1) * per; c++) sum += x[(s * pixels + p) * channels + c];
                double mu = sum / (pixels * per);
                for (int p = 0; p < pixels; p++)
                    for (int c = g * per; c < (g + 1) * per; c++) sq += Math.Pow(x[(s * pixels + p) * channels + c] - mu, 2);
                double istd = 1 / Math.Sqrt(sq / (pixels * per) + Eps);
                mean[s * groups + g] = mu;
                invStd[s * groups + g] = istd;
                for (int p = 0; p < pixels; p++)
                    for (int c = g * per; c < (g + 1) * per; c++)
                    {
                        int i = (s * pixels + p) * channels + c;
                        y[i] = gamma[c] * (x[i] - mu) * istd + beta[c];
                    }
            }
        return y;
    }

    [Theory, MemberData(nameof(Cases))]
    public void ForwardMatchesReference(IsaPath path, int shape) => Isa.Invoke(this, nameof(ForwardCore), path, shape);

    private void ForwardCore<TIsa>(int shape) where TIsa : struct, ISimdPath
    {
        (int pixels, int channels, int groups) = Shapes[shape];
        const int samples = 3;
        var rnd = new Random(17 + shape);
        int size = samples * pixels * channels;
        string ctx = $"{typeof(TIsa).Name} P={pixels} C={channels} G={groups}";
        // A common offset per sample checks the two-pass variance.
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float)(rnd.NextDouble() * 2 - 1 + 20 * (i / (pixels * channels) - 1));
        float[] gamma = Data.Uniform(rnd, channels, 0.5, 1.5), beta = Data.Uniform(rnd, channels, -0.5, 0.5);
        double[] ey = Reference(Reference2(x), Reference2(gamma), Reference2(beta), samples, pixels, channels, groups, out double[] emean, out double[] eistd);

        float[] y = Data.Filled(size, float.NaN), mean = Data.Filled(samples * groups, float.NaN), istd = Data.Filled(samples * groups, float.NaN);
        GroupNorm.Forward<TIsa>(x, gamma, beta, y, mean, istd, pixels, channels, groups, Eps, 1, samples);
        for (int i = 0; i < pixels * channels; i++) Assert.True(float.IsNaN(y[i]), $"{ctx}: sample 0 written by range [1,3)");
        Assert.True(float.IsNaN(mean[0]) && float.IsNaN(istd[0]), $"{ctx}: statistics of sample 0 written by range [1,3)");
        GroupNorm.Forward<TIsa>(x, gamma, beta, y, mean, istd, pixels, channels, groups, Eps, 0, 1);
        Near.All(mean, emean, 1e-5, 1e-6, ctx + " mean");
        Near.All(istd, eistd, 1e-5, 1e-4, ctx + " invStd");
        // The float mean is off by up to an ulp of |μ| (≤ 20 here), which x̂ amplifies by invStd.
        double allowed = 1e-4;
        for (int i = 0; i < eistd.Length; i++) allowed = Math.Max(allowed, 2e-6 * Math.Abs(emean[i]) * eistd[i] * 1.5 + 1e-4);
        Near.All(y, ey, allowed, 1e-4, ctx + " y");
    }

    private static double[] Reference2(float[] a) => Array.ConvertAll(a, v => (double)v);

    [Theory, MemberData(nameof(Cases))]
    public void BackwardMatchesFiniteDifferences(IsaPath path, int shape) => Isa.Invoke(this, nameof(BackwardCore), path, shape);

    private void BackwardCore<TIsa>(int shape) where TIsa : struct, ISimdPath
    {
        (int pixels, int channels, int groups) = Shapes[shape];
        const int samples = 2;
        var rnd = new Random(23 + shape);
        int size = samples * pixels * channels;
        string ctx = $"{typeof(TIsa).Name} P={pixels} C={channels} G={groups}";
        float[] x = Data.Uniform(rnd, size, -2, 2), gamma = Data.Uniform(rnd, channels, 0.5, 1.5), beta = Data.Uniform(rnd, channels, -0.5, 0.5);
        float[] r = Data.Uniform(rnd, size, -1, 1);   // L = Σ r·y, so dy = r
        double[] xd = Reference2(x), gd = Reference2(gamma), bd = Reference2(beta);
        double Loss(double[] xx, double[] gg, double[] bb)
        {
            double[] y = Reference(xx, gg, bb, samples, pixels, channels, groups, out _, out _);
            double s = 0;
            for (int i = 0; i < size; i++) s += r[i] * y[i];
            return s;
        }

        float[] y = new float[size], mean = new float[samples * groups], istd = new float[samples * groups];
        GroupNorm.Forward<TIsa>(x, gamma, beta, y, mean, istd, pixels, channels, groups, Eps, 0, samples);
        // dgamma/dbeta accumulate: start from a known offset and the two sample ranges add their parts.
        float[] dx = Data.Filled(size, float.NaN), dgamma = Data.Filled(channels, 1f), dbeta = Data.Filled(channels, -1f);
        GroupNorm.Backward<TIsa>(x, r, gamma, mean, istd, dx, dgamma, dbeta, pixels, channels, groups, 1, samples);
        for (int i = 0; i < pixels * channels; i++) Assert.True(float.IsNaN(dx[i]), $"{ctx}: sample 0 written by range [1,2)");
        GroupNorm.Backward<TIsa>(x, r, gamma, mean, istd, dx, dgamma, dbeta, pixels, channels, groups, 0, 1);

        const double h = 1e-5;
        for (int i = 0; i < size; i++)
        {
            double[] xp = (double[])xd.Clone(), xm = (double[])xd.Clone();
            xp[i] += h; xm[i] -= h;
            Near.Check(dx[i], (Loss(xp, gd, bd) - Loss(xm, gd, bd)) / (2 * h), 5e-4, 2e-3, $"{ctx} dx[{i}]");
        }
        for (int c = 0; c < channels; c++)
        {
            double[] gp = (double[])gd.Clone(), gm = (double[])gd.Clone(), bp = (double[])bd.Clone(), bm = (double[])bd.Clone();
            gp[c] += h; gm[c] -= h; bp[c] += h; bm[c] -= h;
            Near.Check(dgamma[c] - 1, (Loss(xd, gp, bd) - Loss(xd, gm, bd)) / (2 * h), 5e-4, 2e-3, $"{ctx} dgamma[{c}]");
            Near.Check(dbeta[c] + 1, (Loss(xd, gd, bp) - Loss(xd, gd, bm)) / (2 * h), 5e-4, 2e-3, $"{ctx} dbeta[{c}]");
        }
    }

    [Fact]
    public void ManyChannelsUseTheRentedScratch()
    {
        // Above the stack threshold the per-channel scratch comes from the pool: same results as the reference.
        const int pixels = 2, channels = 600, groups = 6, samples = 1;
        var rnd = new Random(3);
        float[] x = Data.Uniform(rnd, pixels * channels, -1, 1), gamma = Data.Uniform(rnd, channels, 0.5, 1.5), beta = Data.Uniform(rnd, channels, -0.5, 0.5);
        double[] ey = Reference(Reference2(x), Reference2(gamma), Reference2(beta), samples, pixels, channels, groups, out _, out _);
        float[] y = new float[x.Length], mean = new float[groups], istd = new float[groups];
        GroupNorm.Forward<Avx512Path>(x, gamma, beta, y, mean, istd, pixels, channels, groups, Eps, 0, samples);
        Near.All(y, ey, 1e-4, 1e-4, "C=600");
        float[] dx = new float[x.Length], dg = new float[channels], db = new float[channels];
        GroupNorm.Backward<Avx512Path>(x, x, gamma, mean, istd, dx, dg, db, pixels, channels, groups, 0, samples);
        Assert.All(dx, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void RejectsBadArguments()
    {
        float[] x = new float[2 * 4 * 6], g = new float[6], stats = new float[4];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GroupNorm.Forward<Avx512Path>(x, g, g, x, stats, stats, 4, 6, 4, Eps, 0, 2));
        Assert.Equal("groups", e.ParamName);
        Assert.Contains("divide", e.Message);
        var a = Assert.Throws<ArgumentException>(() => GroupNorm.Forward<Avx2Path>(x, g, g, x, stats.AsSpan(0, 3), stats, 4, 6, 2, Eps, 0, 2));
        Assert.Equal("mean", a.ParamName);
        a = Assert.Throws<ArgumentException>(() => GroupNorm.Forward<PortablePath>(x, g.AsSpan(1), g, x, stats, stats, 4, 6, 2, Eps, 0, 2));
        Assert.Equal("gamma", a.ParamName);
        a = Assert.Throws<ArgumentException>(() => GroupNorm.Backward<PortablePath>(x, x.AsSpan(1), g, stats, stats, x, g, g, 4, 6, 2, 0, 2));
        Assert.Equal("dy", a.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupNorm.Forward<PortablePath>(x, g, g, x, stats, stats, 0, 6, 2, Eps, 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupNorm.Forward<PortablePath>(x, g, g, x, stats, stats, 4, 6, 2, Eps, 2, 1));
    }
}
