using System;
using System.Linq;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The row-split BatchNorm pipeline (sums of fixed blocks of rows, combined in block order on one thread) against
/// straightforward double formulas, on every ISA path: statistics, running averages, outputs and gradients. The same
/// blocks split into 1, 2, 3 and 7 parts (run in reverse order, as a pool may) give the same bits: the split may depend
/// on the thread count, the result may not.
/// </summary>
public sealed class BatchNormSplitTests
{
    private const float Eps = 1e-5f, Momentum = 0.1f;
    private static readonly int[] PartCounts = { 1, 2, 3, 7 };

    public static TheoryData<IsaPath, string> Cases()
    {
        var d = new TheoryData<IsaPath, string>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            foreach (string a in new[] { "Identity", "Relu", "Tanh" })
                d.Add(p, a);
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Block_sums_match_double_formulas_and_ignore_the_split(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(Core), new[] { Isa.Marker(path), a.Type }, a);
    }

    /// <summary>What one run of the pipeline produces.</summary>
    private sealed record Result(float[] Mean, float[] InvStd, float[] RunMean, float[] RunVar, float[] Y, float[] Dgamma, float[] Dbeta, float[] Dz);

    private void Core<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(5);
        // (samples, pixels per sample, channels, samples per block): 16 and 32 channels as in the benchmark CNN, and tails.
        foreach ((int samples, int pixels, int cols, int blockSamples) in new[] { (7, 9, 16, 1), (5, 4, 32, 2), (4, 3, 5, 3), (6, 2, 37, 1), (9, 1, 20, 4) })
        {
            int rows = samples * pixels;
            string ctx = $"{typeof(TIsa).Name} {a.Name} {samples}×{pixels}×{cols} blocks of {blockSamples}";
            float[] z = Data.Uniform(rnd, rows * cols, -2, 3);
            float[] gamma = Data.Uniform(rnd, cols, 0.5, 1.5), beta = Data.Uniform(rnd, cols, -0.5, 0.5);
            float[] mask = Data.Mask(rnd, rows * cols, 0.7, 1 / 0.7f);
            float[] dy = Data.Uniform(rnd, rows * cols, -1, 1);
            float[] runMean0 = Data.Uniform(rnd, cols, -0.1, 0.1), runVar0 = Data.Uniform(rnd, cols, 0.8, 1.2);

            Result first = Run<TIsa, TAct>(z, gamma, beta, mask, dy, runMean0, runVar0, rows, cols, blockSamples * pixels, parts: 1, act);
            CheckAgainstDouble(first, z, gamma, beta, mask, dy, runMean0, runVar0, rows, cols, a, ctx);
            foreach (int parts in PartCounts.Skip(1))
                AssertSameBits(first, Run<TIsa, TAct>(z, gamma, beta, mask, dy, runMean0, runVar0, rows, cols, blockSamples * pixels, parts, act), $"{ctx}, {parts} parts");
        }
    }

    /// <summary>
    /// The benchmark CNN's first BatchNorm2D at batch 64 on one thread reduced 50,176 rows: with |mean| ≫ deviation a
    /// float chain lost about 1e-5 of the mean. Blocks summed in double keep mean, variance, dβ and dγ to float rounding.
    /// </summary>
    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Long_reductions_keep_float_precision(IsaPath path) => Isa.Invoke(this, nameof(LongCore), path);

    private void LongCore<TIsa>() where TIsa : struct, ISimdPath
    {
        const int samples = 64, pixels = 784, cols = 16, rows = samples * pixels;
        var rnd = new Random(11);
        float[] z = Data.Uniform(rnd, rows * cols, 4.5, 5.5);
        float[] gamma = Data.Uniform(rnd, cols, 0.5, 1.5), beta = Data.Uniform(rnd, cols, -0.5, 0.5);
        float[] dy = Data.Uniform(rnd, rows * cols, -1, 1);
        float[] runMean0 = new float[cols], runVar0 = Data.Filled(cols, 1f);
        Result r = Run<TIsa, Identity>(z, gamma, beta, default, dy, runMean0, runVar0, rows, cols, pixels, parts: 2, default);
        Result r7 = Run<TIsa, Identity>(z, gamma, beta, default, dy, runMean0, runVar0, rows, cols, pixels, parts: 7, default);
        AssertSameBits(r, r7, $"{typeof(TIsa).Name} 50,176 rows, 7 parts");
        double[] zd = Reference.ToDouble(z);
        for (int c = 0; c < cols; c++)
        {
            double mean = 0, sq = 0, sg = 0, sgx = 0;
            for (int i = 0; i < rows; i++) mean += zd[i * cols + c];
            mean /= rows;
            for (int i = 0; i < rows; i++) sq += (zd[i * cols + c] - mean) * (zd[i * cols + c] - mean);
            double invStd = 1 / Math.Sqrt(sq / rows + Eps);
            double absG = 0;
            for (int i = 0; i < rows; i++)
            {
                double g = dy[i * cols + c];
                sg += g;
                sgx += g * (zd[i * cols + c] - r.Mean[c]) * r.InvStd[c];
                absG += Math.Abs(g);
            }
            Near.Check(r.Mean[c], mean, 0, 1e-7, $"{typeof(TIsa).Name} mean[{c}]");
            Near.Check(r.InvStd[c], invStd, 0, 2e-7, $"{typeof(TIsa).Name} invStd[{c}]");
            // Σg of ±1 terms cancels to ~√rows: compare with the terms' magnitude, at float rounding of each term.
            Near.Check(r.Dbeta[c], sg, 1e-7 * absG, 1e-7, $"{typeof(TIsa).Name} dβ[{c}]");
            Near.Check(r.Dgamma[c], sgx, 1e-7 * absG, 1e-7, $"{typeof(TIsa).Name} dγ[{c}]");
        }
    }

    private static Result Run<TIsa, TAct>(float[] z, float[] gamma, float[] beta, float[]? mask, float[] dy, float[] runMean0, float[] runVar0,
        int rows, int cols, int blockRows, int parts, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        int blocks = BatchNorm.BlockCount(rows, blockRows);
        // Each part takes whole blocks, as the generated stages do; parts run in reverse order, to show that only the blocks matter.
        (int b0, int b1) Blocks(int part) => Partition.Range(blocks, part, parts, 1);
        // Partial sums never written by a part would show as NaN.
        double[] partials = Enumerable.Repeat(double.NaN, 2 * blocks * cols).ToArray();
        float[] runMean = (float[])runMean0.Clone(), runVar = (float[])runVar0.Clone();
        float[] mean = new float[cols], invStd = new float[cols], y = Data.Filled(rows * cols, float.NaN);
        for (int p = parts - 1; p >= 0; p--)
        {
            (int b0, int b1) = Blocks(p);
            BatchNorm.BlockSums<TIsa>(z, partials, rows, cols, blockRows, b0, b1);
        }
        BatchNorm.CombineMean(partials, mean, rows, cols, blocks);
        for (int p = parts - 1; p >= 0; p--)
        {
            (int b0, int b1) = Blocks(p);
            BatchNorm.BlockSquaredDeviations<TIsa>(z, mean, partials, rows, cols, blockRows, b0, b1);
        }
        BatchNorm.CombineVariance(partials, mean, invStd, runMean, runVar, rows, cols, blocks, Eps, Momentum, true);
        BatchNorm.NormalizeRows<TIsa, TAct>(z, gamma, beta, mean, invStd, mask, y, rows, cols, act);

        float[] dz = (float[])dy.Clone(), dgamma = new float[cols], dbeta = new float[cols];
        for (int p = parts - 1; p >= 0; p--)
        {
            (int b0, int b1) = Blocks(p);
            BatchNorm.BlockBackwardSums<TIsa, TAct>(z, dz, mask, gamma, beta, mean, invStd, dz, partials, rows, cols, blockRows, b0, b1, act);
        }
        BatchNorm.CombineBackwardSums(partials, dgamma, dbeta, cols, blocks);
        BatchNorm.BackwardRows<TIsa>(z, gamma, mean, invStd, dgamma, dbeta, dz, rows, cols, rows);
        return new Result(mean, invStd, runMean, runVar, y, dgamma, dbeta, dz);
    }

    private static void CheckAgainstDouble(Result r, float[] z, float[] gamma, float[] beta, float[] mask, float[] dy, float[] runMean0, float[] runVar0,
        int rows, int cols, Reference.Activation a, string ctx)
    {
        double[] y = Reference.BatchNormTrain(Reference.ToDouble(z), Reference.ToDouble(gamma), Reference.ToDouble(beta), mask, rows, cols, Eps,
            a.Forward, out double[] mean, out double[] variance);
        Near.All(r.Mean, mean, 1e-7, 1e-6, ctx + " mean");
        Near.All(r.InvStd, variance.Select(v => 1 / Math.Sqrt(v + Eps)).ToArray(), 0, 1e-6, ctx + " invStd");
        Near.All(r.RunMean, mean.Select((m, c) => 0.9 * runMean0[c] + 0.1 * m).ToArray(), 1e-7, 1e-6, ctx + " running mean");
        Near.All(r.RunVar, variance.Select((v, c) => 0.9 * runVar0[c] + 0.1 * v * rows / (rows - 1)).ToArray(), 1e-7, 1e-6, ctx + " running variance");
        Near.All(r.Y, y, 1e-5, 1e-5, ctx + " y");

        // Backward: g = dy·mask·f'(u), dβ = Σg, dγ = Σg·x̂, dz = γ/σ·(g − dβ/N − x̂·dγ/N), all from the double statistics.
        var g = new double[rows * cols];
        var xh = new double[rows * cols];
        double[] dbeta = new double[cols], dgamma = new double[cols], scale = new double[cols];
        for (int c = 0; c < cols; c++)
            for (int i = 0; i < rows; i++)
            {
                int o = i * cols + c;
                xh[o] = (z[o] - mean[c]) / Math.Sqrt(variance[c] + Eps);
                double u = gamma[c] * xh[o] + beta[c];
                g[o] = dy[o] * mask[o] * Derivative(a, u);
                dbeta[c] += g[o];
                dgamma[c] += g[o] * xh[o];
                scale[c] += Math.Abs(g[o]) * (1 + Math.Abs(xh[o]));
            }
        Near.Scaled(r.Dbeta, dbeta, scale, 1e-7, 1e-6, ctx + " dβ");
        Near.Scaled(r.Dgamma, dgamma, scale, 1e-7, 1e-6, ctx + " dγ");
        var dz = new double[rows * cols];
        for (int c = 0; c < cols; c++)
            for (int i = 0; i < rows; i++)
            {
                int o = i * cols + c;
                dz[o] = gamma[c] / Math.Sqrt(variance[c] + Eps) * (g[o] - dbeta[c] / rows - xh[o] * dgamma[c] / rows);
            }
        Near.All(r.Dz, dz, 1e-5, 1e-4, ctx + " dz");
    }

    private static double Derivative(Reference.Activation a, double u) => a.Name switch
    {
        "Identity" => 1,
        "Relu" => u > 0 ? 1 : 0,
        "Tanh" => 1 - Math.Tanh(u) * Math.Tanh(u),
        _ => throw new ArgumentException(a.Name),
    };

    private static void AssertSameBits(Result expected, Result actual, string ctx)
    {
        void Same(float[] e, float[] x, string what)
        {
            for (int i = 0; i < e.Length; i++)
                if (BitConverter.SingleToInt32Bits(e[i]) != BitConverter.SingleToInt32Bits(x[i]))
                    Assert.Fail($"{ctx}: {what}[{i}] is {x[i]:R} but {e[i]:R} with one part");
        }
        Same(expected.Mean, actual.Mean, "mean");
        Same(expected.InvStd, actual.InvStd, "invStd");
        Same(expected.RunMean, actual.RunMean, "running mean");
        Same(expected.RunVar, actual.RunVar, "running variance");
        Same(expected.Y, actual.Y, "y");
        Same(expected.Dgamma, actual.Dgamma, "dγ");
        Same(expected.Dbeta, actual.Dbeta, "dβ");
        Same(expected.Dz, actual.Dz, "dz");
    }

    /// <summary>
    /// BatchNorm on a Dense layer splits columns across threads in ranges aligned to 16, as the generated stages do:
    /// ForwardTrain and Backward over 2, 3 or 7 such ranges give the same bits as over all columns at once, on every ISA
    /// path. (Unaligned ranges would move columns between a vector and the scalar tail, where activations such as tanh
    /// round differently; the sums themselves would not change.)
    /// </summary>
    [Theory, MemberData(nameof(Cases))]
    public void Column_split_BatchNorm_ignores_the_split(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(ColumnSplitCore), new[] { Isa.Marker(path), a.Type }, a);
    }

    private void ColumnSplitCore<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(9);
        const int rows = 67, cols = 150;
        float[] z = Data.Uniform(rnd, rows * cols, -2, 3), dy = Data.Uniform(rnd, rows * cols, -1, 1);
        float[] gamma = Data.Uniform(rnd, cols, 0.5, 1.5), beta = Data.Uniform(rnd, cols, -0.5, 0.5);
        float[] mask = Data.Mask(rnd, rows * cols, 0.7, 1 / 0.7f);
        Result Run(int parts, int align)
        {
            float[] runMean = new float[cols], runVar = Data.Filled(cols, 1f), mean = new float[cols], invStd = new float[cols];
            float[] y = new float[rows * cols], dz = (float[])dy.Clone(), dgamma = new float[cols], dbeta = new float[cols];
            for (int p = parts - 1; p >= 0; p--)
            {
                (int c0, int c1) = Partition.Range(cols, p, parts, align);
                if (c0 == c1) continue;
                BatchNorm.ForwardTrain<TIsa, TAct>(z, gamma, beta, runMean, runVar, mean, invStd, mask, y, rows, cols, c0, c1, Eps, Momentum, true, act);
                BatchNorm.Backward<TIsa, TAct>(z, dz, mask, gamma, beta, mean, invStd, dz, dgamma, dbeta, rows, cols, c0, c1, act);
            }
            return new Result(mean, invStd, runMean, runVar, y, dgamma, dbeta, dz);
        }
        Result whole = Run(1, 16);
        foreach (int parts in PartCounts.Skip(1))
        {
            AssertSameBits(whole, Run(parts, 16), $"{typeof(TIsa).Name} {a.Name} {parts} column ranges");
        }
    }

    [Fact]
    public void Short_partial_sums_and_bad_blocks_are_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => BatchNorm.CombineMean(new double[31], new float[16], 10, 16, 2));
        Assert.Contains("sums", e.Message);
        e = Assert.Throws<ArgumentException>(() => BatchNorm.CombineBackwardSums(new double[63], new float[16], new float[16], 16, 2));
        Assert.Contains("sums", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchNorm.CombineVariance(new double[16], new float[16], new float[16], new float[16], new float[16], 1, 16, 1, Eps, Momentum, true));
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => BatchNorm.BlockSums<PortablePath>(new float[40], new double[40], 10, 4, 3, 0, 5));
        Assert.Contains("4 blocks of 3 rows", range.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchNorm.BlockCount(10, 0));
    }
}
