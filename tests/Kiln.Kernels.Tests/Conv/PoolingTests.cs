using System;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>Max / average / global-average pooling against double loops, on every ISA path.</summary>
public sealed class PoolingTests
{
    // Channels, Height, Width, SizeH, SizeW, StrideH, StrideW, PadH, PadW
    internal static readonly PoolGeometry[] Geometries =
    {
        new(16, 28, 28, 2, 2, 2, 2, 0, 0),   // the benchmark's first pool
        new(32, 14, 14, 2, 2, 2, 2, 0, 0),   // its second
        new(17, 7, 7, 3, 3, 2, 2, 1, 1),     // padded, channel tail
        new(3, 5, 6, 3, 2, 1, 2, 1, 0),      // non-square, overlapping rows
        new(1, 9, 9, 2, 2, 2, 2, 0, 0),      // one channel, odd size (last row dropped)
        new(33, 4, 4, 2, 2, 1, 1, 0, 0),     // overlapping windows
        new(6, 5, 7, 3, 3, 3, 3, 1, 1),
    };

    public static TheoryData<IsaPath, int> Cases()
    {
        var d = new TheoryData<IsaPath, int>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            for (int i = 0; i < Geometries.Length; i++) d.Add(p, i);
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void MaxMatchesReference(IsaPath path, int geometry) => Isa.Invoke(this, nameof(MaxCore), path, Geometries[geometry]);

    private void MaxCore<TIsa>(PoolGeometry g) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(3 + g.Channels);
        foreach (bool ties in new[] { false, true })
        {
            string ctx = $"{typeof(TIsa).Name} {g} ties={ties}";
            float[] x = Data.Uniform(rnd, samples * g.InputSize, -1, 1);
            // Three distinct values make most windows tie: the first maximum in window order must win.
            if (ties) for (int i = 0; i < x.Length; i++) x[i] = MathF.Floor(x[i] * 1.5f);
            (double[] ey, int[] earg) = ConvReference.MaxPool(x, g, samples);
            float[] y = Data.Filled(ey.Length, float.NaN);
            int[] arg = new int[ey.Length];
            Array.Fill(arg, -7);
            Pooling.MaxForward<TIsa>(x, y, arg, g, 0, samples);
            Near.All(y, ey, 0, 0, ctx);
            Assert.Equal(earg, arg);

            // Inference (no argmax) gives the same values; ranges compose and stay inside their samples.
            float[] yi = Data.Filled(ey.Length, float.NaN);
            Pooling.MaxForward<TIsa>(x, yi, Span<int>.Empty, g, 1, samples);
            for (int i = 0; i < g.OutputSize; i++) Assert.True(float.IsNaN(yi[i]), $"{ctx}: sample 0 written by range [1,3)");
            Pooling.MaxForward<TIsa>(x, yi, Span<int>.Empty, g, 0, 1);
            Assert.Equal(y, yi);
            // By output pixels, split mid-row and mid-sample as a fused conv + pool stage does; each range writes only its pixels.
            float[] yr = Data.Filled(ey.Length, float.NaN);
            int pixels = samples * g.OutHeight * g.OutWidth, cut = g.OutHeight * g.OutWidth / 2 + 1;
            Pooling.MaxForwardPixels<TIsa>(x, yr, g, cut, pixels);
            for (int i = 0; i < cut * g.Channels; i++) Assert.True(float.IsNaN(yr[i]), $"{ctx}: pixel range [{cut},{pixels}) wrote before its pixels");
            Pooling.MaxForwardPixels<TIsa>(x, yr, g, 0, cut);
            Assert.Equal(y, yr);
            BorderedMatches(g, y, 2, (yb, p0, p1, b) => Pooling.MaxForwardPixels<TIsa>(x, yb, g, p0, p1, b), ctx);

            // Backward: dy scattered to the argmax, overlapping windows adding up.
            float[] dy = Data.Uniform(rnd, ey.Length, -1, 1);
            var edx = new double[x.Length];
            for (int o = 0; o < dy.Length; o++) edx[o / g.OutputSize * g.InputSize + earg[o]] += dy[o];
            float[] dx = Data.Filled(x.Length, 5f);
            Pooling.MaxBackward<TIsa>(dy, arg, dx, g, 0, 2);
            Pooling.MaxBackward<TIsa>(dy, arg, dx, g, 2, samples);
            Near.All(dx, edx, 1e-6, 1e-6, ctx + " dx");
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void AverageMatchesReference(IsaPath path, int geometry) => Isa.Invoke(this, nameof(AverageCore), path, Geometries[geometry]);

    private void AverageCore<TIsa>(PoolGeometry g) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(5 + g.Channels);
        string ctx = $"{typeof(TIsa).Name} {g}";
        float[] x = Data.Uniform(rnd, samples * g.InputSize, -1, 1);
        double[] ey = ConvReference.AvgPool(x, g, samples);
        float[] y = Data.Filled(ey.Length, float.NaN);
        Pooling.AvgForward<TIsa>(x, y, g, 1, samples);
        for (int i = 0; i < g.OutputSize; i++) Assert.True(float.IsNaN(y[i]), $"{ctx}: sample 0 written by range [1,3)");
        Pooling.AvgForward<TIsa>(x, y, g, 0, 1);
        Near.All(y, ey, 1e-6, 1e-6, ctx);
        float[] yr = Data.Filled(ey.Length, float.NaN);
        int pixels = samples * g.OutHeight * g.OutWidth, cut = g.OutHeight * g.OutWidth + 2;
        Pooling.AvgForwardPixels<TIsa>(x, yr, g, cut, pixels);
        for (int i = 0; i < cut * g.Channels; i++) Assert.True(float.IsNaN(yr[i]), $"{ctx}: pixel range [{cut},{pixels}) wrote before its pixels");
        Pooling.AvgForwardPixels<TIsa>(x, yr, g, 0, cut);
        Assert.Equal(y, yr);
        BorderedMatches(g, y, 1, (yb, p0, p1, b) => Pooling.AvgForwardPixels<TIsa>(x, yb, g, p0, p1, b), ctx);

        float[] dy = Data.Uniform(rnd, ey.Length, -1, 1);
        double[] edx = ConvReference.AvgPoolBackward(dy, g, samples);
        float[] dx = Data.Filled(x.Length, 5f);
        Pooling.AvgBackward<TIsa>(dy, dx, g, 0, 1);
        Pooling.AvgBackward<TIsa>(dy, dx, g, 1, samples);
        Near.All(dx, edx, 1e-6, 1e-6, ctx + " dx");
        // Average pooling is linear, so its backward is the transpose: <Avg(x), dy> = <x, AvgBackward(dy)>.
        Near.Check(ConvReference.Dot(x, dx, x.Length), ConvReference.Dot(y, dy, y.Length), 1e-4, 1e-5, ctx + " adjoint identity");
    }

    public static TheoryData<IsaPath, int, int> GlobalCases()
    {
        var d = new TheoryData<IsaPath, int, int>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            foreach (var (c, px) in new[] { (1, 49), (3, 4), (16, 1), (17, 9), (32, 7), (40, 16) })
                d.Add(p, c, px);
        return d;
    }

    [Theory, MemberData(nameof(GlobalCases))]
    public void GlobalAverageMatchesReference(IsaPath path, int channels, int pixels) =>
        Isa.Invoke(this, nameof(GlobalCore), path, channels, pixels);

    private void GlobalCore<TIsa>(int channels, int pixels) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(channels * 100 + pixels);
        string ctx = $"{typeof(TIsa).Name} C={channels} P={pixels}";
        float[] x = Data.Uniform(rnd, samples * channels * pixels, -1, 1);
        var ey = new double[samples * channels];
        for (int s = 0; s < samples; s++)
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                for (int p = 0; p < pixels; p++) sum += x[(s * pixels + p) * channels + c];
                ey[s * channels + c] = sum / pixels;
            }
        float[] y = Data.Filled(ey.Length, float.NaN);
        Pooling.GlobalAvgForward<TIsa>(x, y, channels, pixels, 2, samples);
        for (int i = 0; i < 2 * channels; i++) Assert.True(float.IsNaN(y[i]), $"{ctx}: samples 0..1 written by range [2,3)");
        Pooling.GlobalAvgForward<TIsa>(x, y, channels, pixels, 0, 2);
        Near.All(y, ey, 1e-6, 1e-6, ctx);

        float[] dy = Data.Uniform(rnd, ey.Length, -1, 1);
        float[] dx = Data.Filled(x.Length, 5f);
        Pooling.GlobalAvgBackward<TIsa>(dy, dx, channels, pixels, 0, samples);
        var edx = new double[x.Length];
        for (int i = 0; i < x.Length; i++) edx[i] = dy[i / (channels * pixels) * channels + i % channels] / (double)pixels;
        Near.All(dx, edx, 1e-7, 1e-6, ctx + " dx");
    }

    private delegate void BorderedPool(float[] y, int p0, int p1, int border);

    /// <summary>
    /// Pooling into a zero-bordered image (the next convolution's padded input), in two ranges split mid-row: the
    /// interior equals the plain output and the border is never written.
    /// </summary>
    private static void BorderedMatches(PoolGeometry g, float[] plain, int border, BorderedPool pool, string ctx)
    {
        const int samples = 3;
        int pixels = samples * g.OutHeight * g.OutWidth, cut = g.OutWidth + 1;
        int bh = g.OutHeight + 2 * border, bw = g.OutWidth + 2 * border;
        float[] yb = Data.Filled(samples * bh * bw * g.Channels, float.NaN);
        pool(yb, cut, pixels, border);
        pool(yb, 0, cut, border);
        for (int s = 0; s < samples; s++)
            for (int by = 0; by < bh; by++)
                for (int bx = 0; bx < bw; bx++)
                    for (int c = 0; c < g.Channels; c++)
                    {
                        float v = yb[((s * bh + by) * bw + bx) * g.Channels + c];
                        int oy = by - border, ox = bx - border;
                        if (oy < 0 || oy >= g.OutHeight || ox < 0 || ox >= g.OutWidth)
                            Assert.True(float.IsNaN(v), $"{ctx}: border {border} written at ({s}, {by}, {bx}, {c})");
                        else
                            Assert.Equal(plain[((s * g.OutHeight + oy) * g.OutWidth + ox) * g.Channels + c], v);
                    }
    }

    [Fact]
    public void InputSegmentsTileTheInputAndCoverEachWindow()
    {
        foreach (PoolGeometry g in new PoolGeometry[] { new(16, 28, 28, 2, 2, 2, 2, 0, 0), new(32, 14, 14, 2, 2, 2, 2, 0, 0), new(1, 9, 9, 2, 2, 2, 2, 0, 0), new(4, 8, 11, 3, 3, 3, 3, 0, 0) })
        {
            const int samples = 2;
            int outputs = samples * g.OutHeight * g.OutWidth, inputs = samples * g.Height * g.Width;
            var segments = new (int Start, int End)[Pooling.MaxInputSegments(g)];
            // Any three consecutive ranges: every input pixel exactly once, in order.
            for (int cut1 = 0; cut1 <= outputs; cut1++)
                for (int cut2 = cut1; cut2 <= outputs; cut2 += 3)
                {
                    var owner = new int[inputs];
                    foreach ((int p0, int p1) in new[] { (0, cut1), (cut1, cut2), (cut2, outputs) })
                    {
                        int count = Pooling.InputSegments(g, p0, p1, segments);
                        for (int k = 0; k < count; k++)
                        {
                            Assert.True(segments[k].Start < segments[k].End, $"{g} [{p0},{p1}): empty segment");
                            Assert.True(k == 0 || segments[k - 1].End < segments[k].Start, $"{g} [{p0},{p1}): segments out of order or not merged");
                            for (int i = segments[k].Start; i < segments[k].End; i++) owner[i]++;
                        }
                    }
                    Assert.All(owner, n => Assert.Equal(1, n));
                }
            // Every window of output pixel p lies inside p's own segments.
            for (int p = 0; p < outputs; p++)
            {
                var mine = new bool[inputs];
                int count = Pooling.InputSegments(g, p, p + 1, segments);
                for (int k = 0; k < count; k++) for (int i = segments[k].Start; i < segments[k].End; i++) mine[i] = true;
                int s = p / (g.OutHeight * g.OutWidth), oy = p / g.OutWidth % g.OutHeight, ox = p % g.OutWidth;
                for (int dy = 0; dy < g.SizeH; dy++)
                    for (int dx = 0; dx < g.SizeW; dx++)
                        Assert.True(mine[(s * g.Height + oy * g.StrideH + dy) * g.Width + ox * g.StrideW + dx], $"{g} pixel {p}: window input ({dy},{dx}) not in its segments");
            }
        }
        Assert.Throws<ArgumentException>(() => Pooling.InputSegments(new PoolGeometry(2, 5, 5, 3, 3, 2, 2, 0, 0), 0, 1, new (int, int)[9]));
        Assert.Throws<ArgumentException>(() => Pooling.InputSegments(new PoolGeometry(2, 4, 4, 2, 2, 2, 2, 0, 0), 0, 1, new (int, int)[2]));
    }

    [Fact]
    public void RejectsBadArguments()
    {
        var g = new PoolGeometry(4, 6, 6, 2, 2, 2, 2, 0, 0);
        float[] x = new float[2 * g.InputSize], y = new float[2 * g.OutputSize];
        var e = Assert.Throws<ArgumentException>(() => Pooling.MaxForward<Avx512Path>(x.AsSpan(1), y, new int[y.Length], g, 0, 2));
        Assert.Equal("x", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Pooling.MaxForward<Avx2Path>(x, y, new int[3], g, 0, 2));
        Assert.Equal("argmax", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Pooling.MaxBackward<PortablePath>(y, ReadOnlySpan<int>.Empty, x, g, 0, 2));
        Assert.Equal("argmax", e.ParamName);
        // A corrupt argmax would write outside the sample: refused, naming the entry.
        int[] bad = new int[y.Length];
        bad[3] = g.InputSize;
        e = Assert.Throws<ArgumentException>(() => Pooling.MaxBackward<PortablePath>(y, bad, x, g, 0, 2));
        Assert.Contains("argmax[3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Pooling.AvgForward<Avx512Path>(x, y, g with { PadH = 2 }, 0, 1));
        Assert.Contains("padding", e.Message);
        e = Assert.Throws<ArgumentException>(() => Pooling.AvgBackward<Avx512Path>(y.AsSpan(0, g.OutputSize), x, g, 0, 2));
        Assert.Equal("dy", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Pooling.GlobalAvgForward<Avx512Path>(x, y, 0, 4, 0, 1));
        e = Assert.Throws<ArgumentException>(() => Pooling.GlobalAvgBackward<Avx512Path>(y.AsSpan(0, 3), x, 4, 9, 0, 1));
        Assert.Equal("dy", e.ParamName);
    }
}
