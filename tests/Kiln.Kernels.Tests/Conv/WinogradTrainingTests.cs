using System;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>
/// The training side of <see cref="WinogradConv"/> and the weight gradient's rebuilt patches: the per-step weight transform
/// against the double one and independent of how threads split it; dL/dx by Winograd (dL/dy zero-bordered by r − 1 − pad,
/// kernel rotated 180°, channels swapped) against the transposed convolution written out in double, on every ISA path,
/// with padding 0 … r − 1 and odd sides (edge tiles); <see cref="Im2Col.ForwardColumns"/> against <see cref="Im2Col.Forward{TIsa}"/>.
/// </summary>
public sealed class WinogradTrainingTests
{
    private static readonly ConvGeometry[] Geometries =
    {
        new(16, 14, 14, 5, 5, 1, 1, 2, 2, 1, 1),   // the benchmark CNN's second convolution
        new(8, 7, 7, 5, 5, 1, 1, 1, 1, 1, 1),      // 5×5 pad 1: 5×5 output, dL/dx zero-bordered by 3
        new(5, 9, 8, 5, 5, 1, 1, 0, 0, 1, 1),      // 5×5 unpadded: 5×4 output, dL/dx bordered by 4
        new(12, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1),     // 3×3 pad 1 on odd sides
        new(21, 6, 5, 3, 3, 1, 1, 0, 0, 1, 1),     // 3×3 unpadded: 4×3 output, 16 + 4 + 1 channels
        new(3, 4, 5, 3, 3, 1, 1, 2, 2, 1, 1),      // 3×3 pad 2: dL/dx reads dL/dy itself (no border)
    };

    private static readonly int[] Filters = { 3, 16, 20, 32 };

    public static TheoryData<IsaPath, int, int> Cases()
    {
        var d = new TheoryData<IsaPath, int, int>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            for (int i = 0; i < Geometries.Length; i++)
                foreach (int n in Filters)
                    d.Add(p, i, n);
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void BackwardDataMatchesTransposedConvolution(IsaPath path, int geometry, int n) =>
        Isa.Invoke(this, nameof(BackwardDataCore), path, Geometries[geometry], n);

    private void BackwardDataCore<TIsa>(ConvGeometry g, int n) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(17 + g.Channels * 7 + n);
        float[] dy = Data.Uniform(rnd, samples * g.OutPixels * n, -1, 1);
        float[] w = Data.Uniform(rnd, g.PatchSize * n, -0.5, 0.5);
        double[] expected = TransposedConvolution(dy, w, g, n, samples);

        Assert.True(WinogradConv.SupportsBackwardData(g));
        ConvGeometry back = WinogradConv.BackwardDataGeometry(g, n);
        Assert.Equal((g.Height, g.Width), (back.OutHeight, back.OutWidth));
        float[] rotated = Data.Filled(g.PatchSize * n, float.NaN);
        float[] u = Data.Filled(WinogradConv.TransformedWeightsSize(back, g.Channels), float.NaN);
        // Filters split as threads split them: every entry of U is written by exactly one range.
        int cut = n / 2 + 1;
        foreach ((int j0, int j1) in new[] { (0, cut), (cut, n) })
            WinogradConv.TransformBackwardDataWeights(w, rotated, u, g, n, j0, j1);

        float[] padded = Data.Filled(samples * DirectConv.PaddedSize(back), 7f);
        DirectConv.Pad(dy, padded, back, 0, samples);
        float[] dx = Data.Filled(samples * g.InputSize, float.NaN);
        WinogradConv.Forward<TIsa, NoEpilogue>(padded, u, dx, back, g.Channels, 0, samples * WinogradConv.TilesPerSample(back), new NoEpilogue());
        // Rounding only, as the forward: sums of up to r²·n terms of |dy·w| ≤ 0.5.
        Near.All(dx, expected, 2e-5 * Math.Sqrt(g.KernelH * g.KernelW * n), 1e-5, $"Winograd dL/dx {typeof(TIsa).Name} {g} n={n}");
    }

    /// <summary>dx[s, iy, ix, c] = Σ over the outputs (oy, ox) and taps (ky, kx) that read it of dy[s, oy, ox, j]·w[(ky·r + kx)·C + c, j], in double.</summary>
    private static double[] TransposedConvolution(float[] dy, float[] w, in ConvGeometry g, int n, int samples)
    {
        var dx = new double[samples * g.InputSize];
        for (int s = 0; s < samples; s++)
            for (int oy = 0; oy < g.OutHeight; oy++)
                for (int ox = 0; ox < g.OutWidth; ox++)
                    for (int ky = 0; ky < g.KernelH; ky++)
                        for (int kx = 0; kx < g.KernelW; kx++)
                        {
                            int iy = oy - g.PadH + ky, ix = ox - g.PadW + kx;
                            if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                            for (int c = 0; c < g.Channels; c++)
                            {
                                double sum = 0;
                                for (int j = 0; j < n; j++)
                                    sum += (double)dy[((s * g.OutHeight + oy) * g.OutWidth + ox) * n + j] * w[((ky * g.KernelW + kx) * g.Channels + c) * n + j];
                                dx[((s * g.Height + iy) * g.Width + ix) * g.Channels + c] += sum;
                            }
                        }
        return dx;
    }

    [Theory]
    [InlineData(0, 32)]
    [InlineData(3, 16)]
    [InlineData(4, 7)]
    public void ChannelRangesMatchTheDoubleTransform(int geometry, int n)
    {
        ConvGeometry g = Geometries[geometry];
        var rnd = new Random(3 + n);
        float[] w = Data.Uniform(rnd, g.PatchSize * n, -0.5, 0.5);
        float[] exact = new float[WinogradConv.TransformedWeightsSize(g, n)];
        WinogradConv.TransformWeights(w, exact, g, n);
        float[] whole = Data.Filled(exact.Length, float.NaN), split = Data.Filled(exact.Length, float.NaN);
        WinogradConv.TransformWeightChannels(w, whole, g, n, 0, g.Channels);
        int cut = g.Channels / 3 + 1;
        foreach ((int c0, int c1) in new[] { (0, cut), (cut, cut), (cut, g.Channels) })
            WinogradConv.TransformWeightChannels(w, split, g, n, c0, c1);
        // Float sums of at most 25 products of weights ≤ 0.5 with |G| ≤ 1: a few ulps of 1.
        Near.All(whole, Array.ConvertAll(exact, v => (double)v), 1e-5, 1e-5, $"U of {g} n={n}");
        Assert.Equal(whole, split);   // the same bits whichever thread computes a channel
    }

    [Fact]
    public void TransformsRejectWhatTheyCannotDo()
    {
        var strided = new ConvGeometry(4, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1);
        Assert.False(WinogradConv.SupportsBackwardData(strided));
        Assert.False(WinogradConv.SupportsBackwardData(new ConvGeometry(4, 8, 8, 3, 3, 1, 1, 3, 3, 1, 1)));   // pad > r − 1
        var ex = Assert.Throws<ArgumentException>(() => WinogradConv.TransformWeightChannels(new float[36 * 2], new float[64 * 2], strided, 2, 0, 4));
        Assert.Contains("stride", ex.Message);
        var g = Geometries[3];
        Assert.ThrowsAny<ArgumentException>(() => WinogradConv.TransformWeightChannels(new float[g.PatchSize * 4], new float[16 * g.Channels * 4], g, 4, 0, g.Channels + 1));
    }

    private static readonly ConvGeometry[] PatchGeometries =
    {
        new(16, 14, 14, 5, 5, 1, 1, 2, 2, 1, 1),
        new(3, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1),      // stride 2
        new(5, 10, 8, 3, 3, 1, 1, 2, 1, 2, 2),     // dilation 2, unequal padding
        new(1, 12, 12, 5, 5, 1, 1, 2, 2, 1, 1),    // one channel
        new(6, 5, 6, 2, 4, 1, 2, 0, 1, 1, 1),      // non-square kernel
    };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void ForwardColumnsAreTheColumnsOfIm2Col(int geometry)
    {
        ConvGeometry g = PatchGeometries[geometry];
        const int samples = 4;
        var rnd = new Random(29 + geometry);
        float[] x = Data.Uniform(rnd, samples * g.InputSize, -1, 1);
        float[] col = new float[samples * g.OutPixels * g.PatchSize];
        Im2Col.Forward<PortablePath>(x, col, g, channelsFirst: false, 0, samples);
        int k = g.PatchSize;
        foreach ((int k0, int k1) in new[] { (0, k), (0, k / 2), (k / 2, k), (1, Math.Min(k, 7)), (k - 1, k), (3, 3) })
            foreach ((int s0, int s1) in new[] { (0, samples), (1, 3), (3, 4) })
            {
                int width = k1 - k0, rows = (s1 - s0) * g.OutPixels;
                float[] packed = Data.Filled(rows * width + 5, float.NaN);
                Im2Col.ForwardColumns(x, packed, g, s0, s1, k0, k1);
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < width; i++)
                        Assert.True(col[(s0 * g.OutPixels + r) * k + k0 + i] == packed[r * width + i],
                            $"{g} columns [{k0}, {k1}) samples [{s0}, {s1}): row {r}, column {k0 + i}");
                Assert.True(float.IsNaN(packed[rows * width]), $"{g}: wrote past its rows");
            }
    }
}
