using System;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The column-range dL/dx product (a dense layer's fused backward stage computes its weight rows' columns of dL/dx on each
/// thread) against the naive double product, on every ISA path: the range's columns are right, the others untouched, and
/// ranges that start at multiples of <see cref="Gemm.BackwardInputColumnAlign"/> give the whole product's bits.
/// </summary>
public sealed class GemmBackwardInputRangeTests
{
    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Column_range_matches_the_reference_and_leaves_other_columns(IsaPath path) => Isa.Invoke(this, nameof(ReferenceCore), path);

    private void ReferenceCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(31);
        // Unaligned starts and ends too: any range is correct; only aligned ones promise the whole product's bits.
        foreach ((int rows, int k, int n, int k0, int k1) in new[]
        {
            (1, 256, 128, 64, 192), (1, 37, 10, 5, 30), (3, 33, 129, 16, 33), (8, 256, 128, 0, 128), (8, 256, 128, 128, 256),
            (13, 200, 70, 3, 197), (64, 128, 10, 64, 128), (25, 130, 0, 64, 130), (5, 100, 17, 7, 7),
            // w over 8 MiB takes the packed, cache-blocked path: the range must hold there too.
            (3, 1100, 2050, 64, 640), (2, 1100, 2050, 1, 1099),
        })
        {
            float[] dy = Data.Uniform(rnd, rows * n, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1);
            float[] dx = Data.Filled(rows * k, 123f);
            Gemm.BackwardInput<TIsa>(dy, w, dx, rows, k, n, k0, k1);
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < k; i++)
                {
                    float got = dx[r * k + i];
                    if (i < k0 || i >= k1) { Assert.Equal(123f, got); continue; }
                    double s = 0, a = 0;
                    for (int j = 0; j < n; j++)
                    {
                        double t = (double)dy[r * n + j] * w[i * n + j];
                        s += t;
                        a += Math.Abs(t);
                    }
                    Assert.True(Math.Abs(got - s) <= 1e-6 + 1e-5 * a, $"rows {rows}, k {k}, n {n}, [{k0},{k1}): dx[{r},{i}] = {got}, expected {s}");
                }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.BackwardInput<TIsa>(new float[2], new float[8], new float[4], 1, 4, 2, 3, 5));
    }

    [Theory, MemberData(nameof(Paths))]
    public void Aligned_ranges_give_the_whole_products_bits(IsaPath path) => Isa.Invoke(this, nameof(BitsCore), path);

    private void BitsCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(32);
        foreach ((int rows, int k, int n) in new[] { (1, 256, 128), (7, 128, 10), (64, 256, 128), (256, 256, 128), (13, 300, 70), (3, 784, 33), (3, 1100, 2050) })
        {
            float[] dy = Data.Uniform(rnd, rows * n, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1);
            var whole = new float[rows * k];
            Gemm.BackwardInput<TIsa>(dy, w, whole, rows, k, n);
            foreach (int parts in new[] { 1, 2, 3, 4 })
            {
                var split = new float[rows * k];
                for (int p = 0; p < parts; p++)
                {
                    (int k0, int k1) = Partition.Range(k, p, parts, Gemm.BackwardInputColumnAlign);
                    Gemm.BackwardInput<TIsa>(dy, w, split, rows, k, n, k0, k1);
                }
                for (int i = 0; i < whole.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(split[i]),
                        $"rows {rows}, k {k}, n {n}, {parts} parts: dx[{i / k},{i % k}] = {split[i]:R}, whole product {whole[i]:R}");
            }
        }
    }
}
