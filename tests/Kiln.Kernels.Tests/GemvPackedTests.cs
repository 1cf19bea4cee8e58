using System;

namespace Kiln.Kernels.Tests;

/// <summary>The packed batch-1 product (batch-1 Predict of folded Dense layers) against a double-precision product.</summary>
public sealed class GemvPackedTests
{
    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Fact]
    public void Pack_puts_each_block_of_two_panels_row_after_row_and_pads_the_last_with_zeros()
    {
        const int k = 3, n = 150, block = 2 * GemvPacked.PanelWidth;
        var w = new float[k * n];
        for (int i = 0; i < w.Length; i++) w[i] = i + 1;
        var packed = new float[GemvPacked.PackedLength(k, n)];
        Assert.Equal(k * 2 * block, packed.Length);
        GemvPacked.Pack(w, packed, k, n);
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < block; j++)
                {
                    int col = b * block + j;
                    float expected = col < n ? w[i * n + col] : 0f;
                    Assert.Equal(expected, packed[b * block * k + i * block + j]);
                }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Forward_matches_a_double_reference_and_leaves_other_columns(IsaPath path) => Isa.Invoke(this, nameof(Core), path);

    private void Core<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(23);
        // The benchmark MLP's layers split in halves (one whole block each), odd k (the two-chain tail of a single panel), a
        // padded last panel, three panels (a block, then half of one), four and a padded one, ranges starting or ending
        // mid-block (a panel read at the block's row stride), an empty k.
        foreach ((int k, int n, int c0, int c1) in new[]
        {
            (784, 256, 0, 128), (784, 256, 128, 256), (784, 256, 0, 256), (784, 256, 64, 192), (784, 256, 0, 64), (256, 128, 0, 128),
            (128, 10, 0, 10), (33, 129, 64, 129), (21, 192, 0, 192), (50, 300, 0, 300), (40, 320, 64, 320), (1, 7, 0, 7), (0, 20, 0, 20),
        })
        {
            float[] x = Data.Uniform(rnd, k, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1), b = Data.Uniform(rnd, n, -1, 1);
            var packed = new float[GemvPacked.PackedLength(k, n)];
            GemvPacked.Pack(w, packed, k, n);
            var y = new float[n];
            Array.Fill(y, 123f);
            GemvPacked.Forward<TIsa, BiasActivationEpilogue<Relu>>(x, packed, y, k, n, c0, c1, new BiasActivationEpilogue<Relu>(b, new Relu()));
            for (int j = 0; j < n; j++)
            {
                if (j < c0 || j >= c1) { Assert.Equal(123f, y[j]); continue; }
                double s = b[j], scale = Math.Abs(b[j]);
                for (int i = 0; i < k; i++)
                {
                    s += (double)x[i] * w[i * n + j];
                    scale += Math.Abs((double)x[i] * w[i * n + j]);
                }
                double expected = Math.Max(0, s);
                Assert.True(Math.Abs(y[j] - expected) <= 1e-5 * (1 + scale), $"k {k}, n {n}, [{c0},{c1}): y[{j}] = {y[j]}, expected {expected}");
            }
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Forward_without_epilogue_equals_the_row_major_product(IsaPath path) => Isa.Invoke(this, nameof(NoEpilogueCore), path);

    private void NoEpilogueCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(5);
        const int k = 300, n = 150;
        float[] x = Data.Uniform(rnd, k, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1);
        var packed = new float[GemvPacked.PackedLength(k, n)];
        GemvPacked.Pack(w, packed, k, n);
        var y = new float[n];
        GemvPacked.Forward<TIsa, NoEpilogue>(x, packed, y, k, n, 0, n, new NoEpilogue());
        double[] expected = Reference.Gemm(x, w, 1, k, n, out double[] absSum);
        Near.Scaled(y, expected, absSum, 0, 1e-5, "GemvPacked k 300, n 150");
    }

    /// <summary>
    /// Whole blocks sum each column in k order, as the row-major batch-1 product does with 512- and 256-bit vectors: a
    /// two-thread batch-1 Predict (each thread a block) then gives the same bits as one thread over the row-major weights.
    /// (The portable path's row-major product takes its last 4 vectors of columns with two chains, so it is not checked here.)
    /// </summary>
    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    public void Whole_blocks_give_the_bits_of_the_row_major_product(IsaPath path) => Isa.Invoke(this, nameof(SameBitsCore), path);

    private void SameBitsCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(8);
        const int k = 784, n = 256;
        float[] x = Data.Uniform(rnd, k, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1);
        var packed = new float[GemvPacked.PackedLength(k, n)];
        GemvPacked.Pack(w, packed, k, n);
        var halves = new float[n];
        GemvPacked.Forward<TIsa, NoEpilogue>(x, packed, halves, k, n, 0, 128, new NoEpilogue());
        GemvPacked.Forward<TIsa, NoEpilogue>(x, packed, halves, k, n, 128, 256, new NoEpilogue());
        var rowMajor = new float[n];
        Gemm.Forward<TIsa, NoEpilogue>(x, w, rowMajor, 1, k, n, new NoEpilogue());
        Assert.Equal(Array.ConvertAll(rowMajor, BitConverter.SingleToInt32Bits), Array.ConvertAll(halves, BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Forward_refuses_ranges_off_the_panels_and_an_unpacked_matrix()
    {
        var packed = new float[GemvPacked.PackedLength(8, 130)];
        Assert.Throws<ArgumentOutOfRangeException>(() => GemvPacked.Forward<PortablePath, NoEpilogue>(new float[8], packed, new float[130], 8, 130, 16, 130, new NoEpilogue()));
        Assert.Throws<ArgumentOutOfRangeException>(() => GemvPacked.Forward<PortablePath, NoEpilogue>(new float[8], packed, new float[130], 8, 130, 0, 100, new NoEpilogue()));
        Assert.Throws<ArgumentOutOfRangeException>(() => GemvPacked.Forward<PortablePath, NoEpilogue>(new float[8], packed, new float[130], 8, 130, 0, 131, new NoEpilogue()));
        Assert.Throws<ArgumentException>(() => GemvPacked.Forward<PortablePath, NoEpilogue>(new float[8], new float[8 * 130], new float[130], 8, 130, 0, 130, new NoEpilogue()));
    }
}
