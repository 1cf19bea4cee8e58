using System;

namespace Kiln.Kernels.Tests;

/// <summary>
/// Forward and BackwardInput on weights too large for the caches (more than 8 MiB; BackwardInput then takes the packed,
/// cache-blocked path with a transposing pack): against double references on every ISA path, with k, n and rows off every
/// block size, and the same bits for the splits of rows (training) and of strip-aligned columns (inference) a worker pool makes.
/// </summary>
public sealed class GemmBlockedTests
{
    private const double Atol = 1e-6, Rel = 1e-5;

    // w of 1100 × 2050 floats (8.6 MiB): Forward's k blocks are nine near-equal blocks of 122–123 rows (not 128), its last
    // strip a masked two-column one. BackwardInput reads the same w as 2050 outputs × 1100
    // deep: three depth blocks of 366–367 (not multiples of the 16 × 16 or 8 × 8 transposes), column blocks of 256 with
    // a last one of 2 (rows of w left to the element-by-element pack). Rows: a 6-row tile with one left over, 13 (a
    // two-row remainder), and 97 (a second 96-row block of one row).
    private const int K = 1100, N = 2050;
    private static readonly int[] Rows = { 7, 13, 97 };

    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Forward_on_large_weights_matches_the_reference(IsaPath path) => Isa.Invoke(this, nameof(ForwardCore), path);

    private void ForwardCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(31);
        float[] w = Data.Uniform(rnd, K * N, -1, 1), b = Data.Uniform(rnd, N, -1, 1);
        foreach (int rows in Rows)
        {
            float[] x = Data.Uniform(rnd, rows * K, -1, 1);
            double[] expected = Reference.Gemm(x, w, rows, K, N, out double[] abs);
            string ctx = $"rows={rows} k={K} n={N}";

            // NaN in y: the first k block must store, not accumulate; the others accumulate onto it.
            float[] y = Data.Filled(rows * N + 3, float.NaN);
            Gemm.Forward<TIsa, NoEpilogue>(x, w, y, rows, K, N, default);
            Near.Scaled(y, expected, abs, Atol, Rel, "no epilogue " + ctx);
            Assert.True(float.IsNaN(y[rows * N]), "Forward wrote past rows·n");

            // The epilogue runs once, on the last k block.
            float[] z = Data.Filled(rows * N, float.NaN);
            Gemm.Forward<TIsa, BiasActivationEpilogue<Relu>>(x, w, z, rows, K, N, new BiasActivationEpilogue<Relu>(b, new Relu()));
            var relu = new double[expected.Length];
            var reluAbs = new double[expected.Length];
            for (int i = 0; i < relu.Length; i++) { relu[i] = Math.Max(0, expected[i] + b[i % N]); reluAbs[i] = abs[i] + 1; }
            Near.Scaled(z, relu, reluAbs, Atol, Rel, "bias+relu " + ctx);

            // A worker pool's splits: rows (training) and columns (small-batch inference) give the same bits.
            float[] split = Data.Filled(rows * N, float.NaN);
            int r0 = rows / 3;
            Gemm.Forward<TIsa, NoEpilogue>(x.AsSpan(0, r0 * K), w, split.AsSpan(0, r0 * N), r0, K, N, default);
            Gemm.Forward<TIsa, NoEpilogue>(x.AsSpan(r0 * K), w, split.AsSpan(r0 * N), rows - r0, K, N, default);
            AssertSameBits(y.AsSpan(0, rows * N), split, "rows split " + ctx);
            float[] cols = Data.Filled(rows * N, 77f);
            const int c0 = 64, c1 = 1536;   // on strip boundaries of every path, as Partition.Range's splits of a 4096-wide layer are
            Gemm.Forward<TIsa, NoEpilogue>(x, w, cols, rows, K, N, c0, c1, default);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < N; j++)
                {
                    float expectedBits = j < c0 || j >= c1 ? 77f : y[r * N + j];
                    if (BitConverter.SingleToInt32Bits(cols[r * N + j]) != BitConverter.SingleToInt32Bits(expectedBits))
                        Assert.Fail($"columns [{c0},{c1}) {ctx}: y[{r},{j}] = {cols[r * N + j]}, the whole product gave {expectedBits}");
                }
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void BackwardInput_on_large_weights_matches_the_reference(IsaPath path) => Isa.Invoke(this, nameof(BackwardInputCore), path);

    private void BackwardInputCore<TIsa>() where TIsa : struct, ISimdPath
    {
        // dx = dy·wᵀ with w of N rows (dx columns) × K columns (the reduction): the transposed pack.
        var rnd = new Random(32);
        const int k = N, n = K;
        float[] w = Data.Uniform(rnd, k * n, -1, 1);
        foreach (int rows in Rows)
        {
            float[] dy = Data.Uniform(rnd, rows * n, -1, 1);
            double[] expected = Reference.GemmTransposedW(dy, w, rows, k, n, out double[] abs);
            string ctx = $"rows={rows} k={k} n={n}";
            float[] dx = Data.Filled(rows * k + 2, float.NaN);   // overwritten, not accumulated
            Gemm.BackwardInput<TIsa>(dy, w, dx, rows, k, n);
            Near.Scaled(dx, expected, abs, Atol, Rel, "backward input " + ctx);
            Assert.True(float.IsNaN(dx[rows * k]), "BackwardInput wrote past rows·k");

            float[] split = Data.Filled(rows * k, float.NaN);
            int r0 = rows / 2;
            Gemm.BackwardInput<TIsa>(dy.AsSpan(0, r0 * n), w, split.AsSpan(0, r0 * k), r0, k, n);
            Gemm.BackwardInput<TIsa>(dy.AsSpan(r0 * n), w, split.AsSpan(r0 * k), rows - r0, k, n);
            AssertSameBits(dx.AsSpan(0, rows * k), split, "rows split " + ctx);
        }
    }

    private static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{context}: element {i} is {actual[i]}, the unsplit product gave {expected[i]}");
    }
}
