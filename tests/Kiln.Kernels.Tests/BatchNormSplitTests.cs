using System;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The row-split BatchNorm pipeline (partial sums per thread, combined on one) against the whole-batch kernels
/// ForwardTrain/Backward, which BatchNormTests checks against double loops and finite differences: the same
/// outputs, statistics, running averages and gradients, for 1, 2 and 3 parts, on every ISA path.
/// </summary>
public sealed class BatchNormSplitTests
{
    private const float Eps = 1e-5f, Momentum = 0.1f;

    public static TheoryData<IsaPath, string, int> Cases()
    {
        var d = new TheoryData<IsaPath, string, int>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            foreach (string a in new[] { "Identity", "Relu", "Tanh" })
                foreach (int parts in new[] { 1, 2, 3 })
                    d.Add(p, a, parts);
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void SplitRowsMatchTheWholeBatchKernels(IsaPath path, string activation, int parts)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(Core), new[] { Isa.Marker(path), a.Type }, a, parts);
    }

    private void Core<TIsa, TAct>(Reference.Activation a, int parts) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(5 + parts);
        // (samples, pixels per sample, channels): 16 and 32 channels as in the benchmark CNN, and tails.
        foreach ((int samples, int pixels, int cols) in new[] { (7, 9, 16), (5, 4, 32), (4, 3, 5), (6, 2, 37) })
        {
            int rows = samples * pixels;
            string ctx = $"{typeof(TIsa).Name} {a.Name} parts={parts} {samples}×{pixels}×{cols}";
            float[] z = Data.Uniform(rnd, rows * cols, -2, 3);
            float[] gamma = Data.Uniform(rnd, cols, 0.5, 1.5), beta = Data.Uniform(rnd, cols, -0.5, 0.5);
            float[] mask = Data.Mask(rnd, rows * cols, 0.7, 1 / 0.7f);
            float[] dy = Data.Uniform(rnd, rows * cols, -1, 1);
            float[] runMean0 = Data.Uniform(rnd, cols, -0.1, 0.1), runVar0 = Data.Uniform(rnd, cols, 0.8, 1.2);

            // Whole batch.
            float[] runMean = (float[])runMean0.Clone(), runVar = (float[])runVar0.Clone();
            float[] mean = new float[cols], invStd = new float[cols], y = new float[rows * cols];
            BatchNorm.ForwardTrain<TIsa, TAct>(z, gamma, beta, runMean, runVar, mean, invStd, mask, y, rows, cols, 0, cols, Eps, Momentum, true, act);
            float[] dz = (float[])dy.Clone(), dgamma = new float[cols], dbeta = new float[cols];
            BatchNorm.Backward<TIsa, TAct>(z, dz, mask, gamma, beta, mean, invStd, dz, dgamma, dbeta, rows, cols, 0, cols, act);

            // Split by samples into parts, each step as a worker pool runs it (parts in reverse order, to show
            // that only the combined sums matter).
            float[] sRunMean = (float[])runMean0.Clone(), sRunVar = (float[])runVar0.Clone();
            float[] sMean = new float[cols], sInvStd = new float[cols], sY = Data.Filled(rows * cols, float.NaN);
            float[] partials = Data.Filled(2 * parts * cols, float.NaN);
            (int r0, int r1) Rows(int part)
            {
                (int s0, int s1) = Partition.Range(samples, part, parts, 1);
                return (s0 * pixels, s1 * pixels);
            }
            for (int p = parts - 1; p >= 0; p--)
            {
                (int r0, int r1) = Rows(p);
                Gemm.ColumnSums<TIsa>(z.AsSpan(r0 * cols, (r1 - r0) * cols), partials.AsSpan(p * cols, cols), r1 - r0, cols, 0, cols);
            }
            BatchNorm.CombineMean(partials.AsSpan(0, parts * cols), sMean, rows, cols, parts);
            for (int p = parts - 1; p >= 0; p--)
            {
                (int r0, int r1) = Rows(p);
                BatchNorm.PartialSquaredDeviations<TIsa>(z.AsSpan(r0 * cols, (r1 - r0) * cols), sMean, partials.AsSpan(p * cols, cols), r1 - r0, cols);
            }
            BatchNorm.CombineVariance(partials.AsSpan(0, parts * cols), sMean, sInvStd, sRunMean, sRunVar, rows, cols, parts, Eps, Momentum, true);
            for (int p = parts - 1; p >= 0; p--)
            {
                (int r0, int r1) = Rows(p);
                BatchNorm.NormalizeRows<TIsa, TAct>(z.AsSpan(r0 * cols, (r1 - r0) * cols), gamma, beta, sMean, sInvStd,
                    mask.AsSpan(r0 * cols, (r1 - r0) * cols), sY.AsSpan(r0 * cols, (r1 - r0) * cols), r1 - r0, cols, act);
            }
            Near.All(sMean, Array.ConvertAll(mean, v => (double)v), 1e-6, 1e-5, ctx + " mean");
            Near.All(sInvStd, Array.ConvertAll(invStd, v => (double)v), 1e-6, 1e-5, ctx + " invStd");
            Near.All(sRunMean, Array.ConvertAll(runMean, v => (double)v), 1e-6, 1e-5, ctx + " running mean");
            Near.All(sRunVar, Array.ConvertAll(runVar, v => (double)v), 1e-6, 1e-5, ctx + " running variance");
            Near.All(sY, Array.ConvertAll(y, v => (double)v), 1e-5, 1e-4, ctx + " y");

            float[] sDz = (float[])dy.Clone(), sDgamma = new float[cols], sDbeta = new float[cols];
            for (int p = parts - 1; p >= 0; p--)
            {
                (int r0, int r1) = Rows(p);
                BatchNorm.PartialBackwardSums<TIsa, TAct>(z.AsSpan(r0 * cols, (r1 - r0) * cols), sDz.AsSpan(r0 * cols, (r1 - r0) * cols),
                    mask.AsSpan(r0 * cols, (r1 - r0) * cols), gamma, beta, mean, invStd, sDz.AsSpan(r0 * cols, (r1 - r0) * cols),
                    partials.AsSpan(2 * p * cols, 2 * cols), r1 - r0, cols, act);
            }
            BatchNorm.CombineBackwardSums(partials, sDgamma, sDbeta, cols, parts);
            for (int p = parts - 1; p >= 0; p--)
            {
                (int r0, int r1) = Rows(p);
                BatchNorm.BackwardRows<TIsa>(z.AsSpan(r0 * cols, (r1 - r0) * cols), gamma, mean, invStd, sDgamma, sDbeta,
                    sDz.AsSpan(r0 * cols, (r1 - r0) * cols), r1 - r0, cols, rows);
            }
            Near.All(sDgamma, Array.ConvertAll(dgamma, v => (double)v), 1e-5, 1e-4, ctx + " dgamma");
            Near.All(sDbeta, Array.ConvertAll(dbeta, v => (double)v), 1e-5, 1e-4, ctx + " dbeta");
            Near.All(sDz, Array.ConvertAll(dz, v => (double)v), 1e-5, 1e-4, ctx + " dz");
        }
    }

    [Fact]
    public void CombineRejectsShortPartials()
    {
        var e = Assert.Throws<ArgumentException>(() => BatchNorm.CombineMean(new float[31], new float[16], 10, 16, 2));
        Assert.Contains("sums", e.Message);
        e = Assert.Throws<ArgumentException>(() => BatchNorm.CombineBackwardSums(new float[63], new float[16], new float[16], 16, 2));
        Assert.Contains("sums", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchNorm.CombineVariance(new float[16], new float[16], new float[16], new float[16], new float[16], 1, 16, 1, Eps, Momentum, true));
    }
}
