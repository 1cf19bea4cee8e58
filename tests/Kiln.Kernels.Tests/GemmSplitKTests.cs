using System;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The input-split product (small-batch Dense after a fused conv+pool stage): one partial product per fixed block of
/// inputs, the blocks taken in any grouping (as threads take them), then summed per row with the epilogue, against the
/// product in double; the sum must not depend on the grouping.
/// </summary>
public sealed class GemmSplitKTests
{
    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Blocks_add_up_to_the_product_whatever_the_grouping(IsaPath path) => Isa.Invoke(this, nameof(Core), path);

    private void Core<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(23);
        // (rows, k, n, block, groupings of the rows·k/block blocks): the benchmark CNN's 1568 → 128 at batch 1 in blocks of
        // one pool row (7 pixels × 32 channels) split as two threads split them; three rows; blocks of one input; odd widths.
        foreach ((int rows, int k, int n, int block, int[][] groupings) in new[]
        {
            (1, 1568, 128, 224, new[] { new[] { 0, 7 }, new[] { 0, 4, 7 }, new[] { 0, 5, 7 }, new[] { 0, 1, 1, 7 } }),
            (3, 50, 37, 10, new[] { new[] { 0, 15 }, new[] { 0, 2, 9, 15 } }),
            (2, 33, 10, 11, new[] { new[] { 0, 6 }, new[] { 0, 0, 3, 6 } }),
            (4, 17, 21, 1, new[] { new[] { 0, 68 }, new[] { 0, 17, 50, 68 } }),
        })
        {
            int blocksPerRow = k / block, stride = (n + 15) / 16 * 16 + 16;
            string ctx = $"{typeof(TIsa).Name} rows {rows}, k {k}, n {n}, block {block}";
            float[] x = Data.Uniform(rnd, rows * k, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1), b = Data.Uniform(rnd, n, -1, 1);
            var expected = new double[rows * n];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++)
                {
                    double s = b[j];
                    for (int i = 0; i < k; i++) s += (double)x[r * k + i] * w[i * n + j];
                    expected[r * n + j] = Math.Max(0, s);
                }
            float[]? first = null;
            foreach (int[] cuts in groupings)
            {
                float[] partials = Data.Filled(rows * blocksPerRow * stride, float.NaN);   // stale: every block overwrites its slot
                for (int g = 0; g + 1 < cuts.Length; g++)
                    Gemm.PartialForward<TIsa>(x, w, partials, rows, k, n, block, cuts[g], cuts[g + 1], stride);
                for (int blk = 0; blk < rows * blocksPerRow; blk++)
                {
                    var part = new double[n];
                    int row = blk / blocksPerRow, f0 = blk % blocksPerRow * block;
                    for (int f = f0; f < f0 + block; f++)
                        for (int j = 0; j < n; j++) part[j] += (double)x[row * k + f] * w[f * n + j];
                    Near.All(partials.AsSpan(blk * stride, n), part, 1e-4, 1e-5, $"{ctx}: block {blk}");
                }
                var y = Data.Filled(rows * n, float.NaN);
                Gemm.SumParts<TIsa, BiasActivationEpilogue<Relu>>(partials, blocksPerRow, stride, y, rows, n, new BiasActivationEpilogue<Relu>(b, new Relu()));
                Near.All(y, expected, 1e-4, 1e-5, $"{ctx}, cuts [{string.Join(", ", cuts)}]");
                // The same blocks summed in the same order: bit for bit the same result, however the blocks were grouped.
                if (first is null) first = y;
                else Assert.Equal(first, y);
            }
        }
    }

    [Fact]
    public void Rejects_blocks_that_do_not_divide_a_row_and_short_buffers()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PartialForward<Avx512Path>(new float[8], new float[8], new float[4], 2, 4, 2, 3, 0, 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PartialForward<Avx512Path>(new float[8], new float[8], new float[8], 2, 4, 2, 2, 0, 5, 2));
        var e = Assert.Throws<ArgumentException>(() => Gemm.PartialForward<Avx512Path>(new float[8], new float[8], new float[7], 2, 4, 2, 2, 0, 4, 2));
        Assert.Contains("partials", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.SumParts<Avx512Path, NoEpilogue>(new float[8], 2, 1, new float[4], 2, 2, new NoEpilogue()));
        e = Assert.Throws<ArgumentException>(() => Gemm.SumParts<Avx512Path, NoEpilogue>(new float[7], 2, 2, new float[4], 2, 2, new NoEpilogue()));
        Assert.Contains("partials", e.Message);
    }
}
