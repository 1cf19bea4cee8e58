using System;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>
/// <see cref="WinogradConv"/> F(2×2, 3×3) and F(2×2, 5×5) against the convolution written out as nested loops in double
/// (<see cref="SmallBatchConvTests.Convolve"/>), on every ISA path: odd and even output sides (edge tiles), with and
/// without padding, channel counts that take every vector width and the scalar tail, and tile ranges split mid-row and
/// mid-sample as threads split them.
/// </summary>
public sealed class WinogradConvTests
{
    private static readonly ConvGeometry[] Geometries =
    {
        new(16, 14, 14, 5, 5, 1, 1, 2, 2, 1, 1),   // the benchmark CNN's second convolution
        new(3, 7, 9, 5, 5, 1, 1, 2, 2, 1, 1),      // odd output sides: edge tiles read past the image
        new(21, 8, 11, 3, 3, 1, 1, 1, 1, 1, 1),    // 16 + 4 + 1 channels: zmm, xmm and scalar transforms
        new(5, 9, 6, 3, 3, 1, 1, 0, 0, 1, 1),      // unpadded: reads the input itself, 7×4 output
        new(40, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1),     // 16 + 16 + 8 channels
        new(8, 5, 7, 5, 5, 1, 1, 1, 2, 1, 1),      // unequal padding, 3×7 output
        new(1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1),      // one channel, one pixel short of two tiles per side
    };

    private static readonly int[] Widths = { 3, 10, 16, 24, 32, 70 };

    public static TheoryData<IsaPath, int, int> Cases()
    {
        var d = new TheoryData<IsaPath, int, int>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            for (int i = 0; i < Geometries.Length; i++)
                foreach (int n in Widths)
                    d.Add(p, i, n);
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void ForwardMatchesNestedLoops(IsaPath path, int geometry, int n) =>
        Isa.Invoke(this, nameof(ForwardCore), path, Geometries[geometry], n);

    private void ForwardCore<TIsa>(ConvGeometry g, int n) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(5 + g.Channels + n);
        float[] x = Data.Uniform(rnd, samples * g.InputSize, -1, 1);
        float[] w = Data.Uniform(rnd, g.PatchSize * n, -0.5, 0.5);
        float[] bias = Data.Uniform(rnd, n, -0.2, 0.2);
        double[] expected = SmallBatchConvTests.Convolve(x, w, bias, g, n, samples);
        int tiles = samples * WinogradConv.TilesPerSample(g), outputs = samples * g.OutPixels * n;
        string ctx = $"Winograd {typeof(TIsa).Name} {g} n={n}";
        // Rounding only: the transforms' constants are exact, U is rounded once from double. Sums of up to 400 terms of
        // |x·w| ≤ 0.5 come out within a few 1e-5 (the same bound as the direct kernels).
        double atol = 1e-5 * Math.Sqrt(g.PatchSize);

        float[] padded = Data.Filled(samples * DirectConv.PaddedSize(g), 7f);
        DirectConv.Pad(x, padded, g, 0, samples);
        float[] u = Data.Filled(WinogradConv.TransformedWeightsSize(g, n), float.NaN);
        WinogradConv.TransformWeights(w, u, g, n);

        float[] y = Data.Filled(outputs, float.NaN);
        WinogradConv.Forward<TIsa, BiasEpilogue>(padded, u, y, g, n, 0, tiles, new BiasEpilogue(bias));
        Near.All(y, expected, atol, 1e-5, ctx);

        // Bias + ReLU over tile ranges cut mid-row and mid-sample; every output is written exactly by its own range.
        double[] relu = Array.ConvertAll(expected, v => Math.Max(0, v));
        float[] split = Data.Filled(outputs, float.NaN);
        int cut1 = tiles / 3 + 1, cut2 = Math.Max(cut1, 2 * tiles / 3 - 1);
        foreach ((int t0, int t1) in new[] { (0, cut1), (cut1, cut2), (cut2, tiles) })
            WinogradConv.Forward<TIsa, BiasActivationEpilogue<Relu>>(padded, u, split, g, n, t0, t1, new BiasActivationEpilogue<Relu>(bias, new Relu()));
        Near.All(split, relu, atol, 1e-5, ctx + " split+relu");

        // No epilogue: the plain sum.
        double[] noBias = SmallBatchConvTests.Convolve(x, w, new float[n], g, n, samples);
        float[] plain = Data.Filled(outputs, float.NaN);
        WinogradConv.Forward<TIsa, NoEpilogue>(padded, u, plain, g, n, 0, tiles, new NoEpilogue());
        Near.All(plain, noBias, atol, 1e-5, ctx + " no epilogue");
    }

    [Fact]
    public void TileRangeWritesOnlyItsPixels()
    {
        var g = new ConvGeometry(8, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1);   // 7×7 output: 4×4 tiles, the last row and column half outside
        const int n = 16;
        Assert.Equal(16, WinogradConv.TilesPerSample(g));
        var rnd = new Random(2);
        float[] padded = Data.Uniform(rnd, 2 * DirectConv.PaddedSize(g), -1, 1);
        float[] w = Data.Uniform(rnd, g.PatchSize * n, -0.5, 0.5), u = new float[WinogradConv.TransformedWeightsSize(g, n)];
        WinogradConv.TransformWeights(w, u, g, n);
        float[] y = Data.Filled(2 * g.OutPixels * n, float.NaN);
        // Tiles 14..17: sample 0's tiles (3, 2) and (3, 3) — bottom row, one output row each — and sample 1's (0, 0), (0, 1).
        WinogradConv.Forward<Avx512Path, NoEpilogue>(padded, u, y, g, n, 14, 18, new NoEpilogue());
        for (int s = 0; s < 2; s++)
            for (int oy = 0; oy < 7; oy++)
                for (int ox = 0; ox < 7; ox++)
                {
                    int tile = s * 16 + oy / 2 * 4 + ox / 2;
                    bool written = tile >= 14 && tile < 18;
                    for (int j = 0; j < n; j++)
                        Assert.True(written == !float.IsNaN(y[((s * 7 + oy) * 7 + ox) * n + j]), $"sample {s} pixel ({oy}, {ox}) channel {j}: written {!written}, expected {written}");
                }
    }

    [Fact]
    public void SupportsOnlySquareStrideOneThreeOrFive()
    {
        Assert.True(WinogradConv.Supports(new ConvGeometry(4, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1)));
        Assert.True(WinogradConv.Supports(new ConvGeometry(4, 8, 8, 5, 5, 1, 1, 0, 0, 1, 1)));
        Assert.False(WinogradConv.Supports(new ConvGeometry(4, 8, 8, 3, 5, 1, 1, 1, 1, 1, 1)));
        Assert.False(WinogradConv.Supports(new ConvGeometry(4, 8, 8, 7, 7, 1, 1, 1, 1, 1, 1)));
        Assert.False(WinogradConv.Supports(new ConvGeometry(4, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1)));
        Assert.False(WinogradConv.Supports(new ConvGeometry(4, 8, 8, 3, 3, 1, 1, 2, 2, 2, 2)));
        var strided = new ConvGeometry(4, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1);
        var e = Assert.Throws<ArgumentException>(() => WinogradConv.TransformWeights(new float[36 * 4], new float[16 * 4 * 4], strided, 4));
        Assert.Contains("stride 2×2", e.Message);
    }

    [Fact]
    public void RejectsShortBuffers()
    {
        var g = new ConvGeometry(4, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1);
        const int n = 8;
        int size = DirectConv.PaddedSize(g), usize = WinogradConv.TransformedWeightsSize(g, n), tiles = WinogradConv.TilesPerSample(g);
        Assert.Equal(16 * 4 * 8, usize);
        var e = Assert.Throws<ArgumentException>(() => WinogradConv.Forward<Avx512Path, NoEpilogue>(new float[size], new float[usize], new float[2 * 36 * n], g, n, 0, tiles + 1, new NoEpilogue()));
        Assert.Contains("padded", e.Message);
        e = Assert.Throws<ArgumentException>(() => WinogradConv.Forward<Avx512Path, NoEpilogue>(new float[size], new float[usize - 1], new float[36 * n], g, n, 0, tiles, new NoEpilogue()));
        Assert.Contains("u", e.Message);
        e = Assert.Throws<ArgumentException>(() => WinogradConv.Forward<Avx512Path, NoEpilogue>(new float[size], new float[usize], new float[36 * n - 1], g, n, 0, tiles, new NoEpilogue()));
        Assert.Contains("y", e.Message);
        e = Assert.Throws<ArgumentException>(() => WinogradConv.TransformWeights(new float[g.PatchSize * n - 1], new float[usize], g, n));
        Assert.Contains("w", e.Message);
    }
}
