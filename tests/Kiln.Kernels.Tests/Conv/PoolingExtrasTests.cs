using System;
using System.Collections.Generic;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>Maxout, fractional max pooling, DropConnect and the residual join, on every ISA path.</summary>
public sealed class PoolingExtrasTests
{
    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void MaxoutMatchesReference(IsaPath path) => Isa.Invoke(this, nameof(MaxoutCore), path);

    private void MaxoutCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(31);
        foreach (var (rows, units, pieces) in new[] { (3, 5, 2), (4, 17, 3), (2, 8, 1), (1, 3, 5) })
            foreach (bool ties in new[] { false, true })
            {
                string ctx = $"{typeof(TIsa).Name} rows={rows} units={units} pieces={pieces} ties={ties}";
                float[] z = Data.Uniform(rnd, rows * units * pieces, -1, 1);
                if (ties) for (int i = 0; i < z.Length; i++) z[i] = MathF.Round(z[i]);
                float[] y = Data.Filled(rows * units, float.NaN);
                byte[] arg = new byte[rows * units];
                Maxout.Forward<TIsa>(z, y, arg, rows, units, pieces);
                for (int o = 0; o < rows * units; o++)
                {
                    int at = 0;
                    for (int j = 1; j < pieces; j++) if (z[o * pieces + j] > z[o * pieces + at]) at = j;   // first maximum wins
                    Assert.Equal(z[o * pieces + at], y[o]);
                    Assert.Equal(at, arg[o]);
                }
                float[] yi = new float[y.Length];
                Maxout.Forward<TIsa>(z, yi, Span<byte>.Empty, rows, units, pieces);
                Assert.Equal(y, yi);

                float[] dy = Data.Uniform(rnd, y.Length, -1, 1), dz = Data.Filled(z.Length, 9f);
                Maxout.Backward<TIsa>(dy, arg, dz, rows, units, pieces);
                for (int i = 0; i < z.Length; i++)
                    Assert.Equal(i % pieces == arg[i / pieces] ? dy[i / pieces] : 0f, dz[i]);
                if (!ties)
                {
                    // Away from ties maxout is differentiable: Σ dy·y has gradient dz in z.
                    const float h = 1e-3f;
                    for (int i = 0; i < z.Length; i++)
                    {
                        float[] zp = (float[])z.Clone(), zm = (float[])z.Clone();
                        zp[i] += h; zm[i] -= h;
                        float[] yp = new float[y.Length], ym = new float[y.Length];
                        Maxout.Forward<TIsa>(zp, yp, Span<byte>.Empty, rows, units, pieces);
                        Maxout.Forward<TIsa>(zm, ym, Span<byte>.Empty, rows, units, pieces);
                        Near.Check(dz[i], (ConvReference.Dot(yp, dy, dy.Length) - ConvReference.Dot(ym, dy, dy.Length)) / (2 * h), 1e-3, 1e-3, $"{ctx} dz[{i}]");
                    }
                }
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => Maxout.Forward<TIsa>(new float[4], new float[4], Span<byte>.Empty, 1, 4, 0));
        var e = Assert.Throws<ArgumentException>(() => Maxout.Forward<TIsa>(new float[7], new float[4], Span<byte>.Empty, 1, 4, 2));
        Assert.Equal("z", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Maxout.Backward<TIsa>(new float[4], new byte[] { 0, 1, 2, 0 }, new float[8], 1, 4, 2));
        Assert.Contains("argmax[2]", e.Message);
    }

    [Fact]
    public void FractionalRegionsHaveGrahamsProperties()
    {
        var rnd = new Random(8);
        foreach (var (inSize, outSize) in new[] { (28, 20), (10, 7), (32, 16), (5, 4), (9, 9), (100, 71), (3, 2) })
            for (int t = 0; t < 50; t++)
            {
                double u = t == 0 ? 0 : rnd.NextDouble();
                int[] starts = new int[outSize + 1];
                FractionalMaxPool.Regions(inSize, outSize, u, starts);
                string ctx = $"in={inSize} out={outSize} u={u}";
                Assert.True(starts[0] == 0, $"{ctx}: starts[0] = {starts[0]}");
                Assert.True(starts[outSize] == inSize, $"{ctx}: last = {starts[outSize]}");
                var steps = new HashSet<int>();
                for (int i = 0; i < outSize; i++)
                {
                    int step = starts[i + 1] - starts[i];
                    Assert.True(step is 1 or 2, $"{ctx}: region {i} is {step} wide");
                    steps.Add(step);
                    // Interior starts follow the formula exactly.
                    double alpha = (double)inSize / outSize;
                    Assert.Equal((int)(Math.Ceiling(alpha * (i + u)) - Math.Ceiling(alpha * u)), starts[i]);
                }
                // The widths sum to the input, so a non-integer α needs both widths.
                if (inSize != outSize && inSize != 2 * outSize) Assert.Equal(2, steps.Count);
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => FractionalMaxPool.Regions(30, 10, 0.5, new int[11]));
        Assert.Throws<ArgumentOutOfRangeException>(() => FractionalMaxPool.Regions(10, 12, 0.5, new int[13]));
        Assert.Throws<ArgumentOutOfRangeException>(() => FractionalMaxPool.Regions(10, 7, 1.0, new int[8]));
        var e = Assert.Throws<ArgumentException>(() => FractionalMaxPool.Regions(10, 7, 0.5, new int[7]));
        Assert.Equal("starts", e.ParamName);
    }

    [Theory, MemberData(nameof(Paths))]
    public void FractionalMatchesReference(IsaPath path) => Isa.Invoke(this, nameof(FractionalCore), path);

    private void FractionalCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(13);
        foreach (var (c, h, w, oh, ow) in new[] { (16, 10, 9, 7, 6), (3, 6, 6, 5, 4), (17, 5, 8, 3, 5), (1, 28, 28, 20, 20) })
            foreach (bool ties in new[] { false, true })
            {
                const int samples = 3, draws = 3;
                string ctx = $"{typeof(TIsa).Name} C={c} {h}×{w}→{oh}×{ow} ties={ties}";
                int[] rows = new int[draws * (oh + 1)], cols = new int[draws * (ow + 1)];
                for (int d = 0; d < draws; d++)
                {
                    FractionalMaxPool.Regions(h, oh, rnd.NextDouble(), rows.AsSpan(d * (oh + 1), oh + 1));
                    FractionalMaxPool.Regions(w, ow, rnd.NextDouble(), cols.AsSpan(d * (ow + 1), ow + 1));
                }
                int inSize = c * h * w, outSize = c * oh * ow;
                float[] x = Data.Uniform(rnd, samples * inSize, -1, 1);
                if (ties) for (int i = 0; i < x.Length; i++) x[i] = MathF.Round(x[i]);

                // Reference: per draw, the first maximum in row-major region order.
                double[] Expected(int d, out int[] arg)
                {
                    var y = new double[samples * outSize];
                    arg = new int[y.Length];
                    for (int s = 0; s < samples; s++)
                        for (int oy = 0; oy < oh; oy++)
                            for (int ox = 0; ox < ow; ox++)
                                for (int ch = 0; ch < c; ch++)
                                {
                                    double best = double.NegativeInfinity;
                                    int at = -1;
                                    for (int iy = rows[d * (oh + 1) + oy]; iy < rows[d * (oh + 1) + oy + 1]; iy++)
                                        for (int ix = cols[d * (ow + 1) + ox]; ix < cols[d * (ow + 1) + ox + 1]; ix++)
                                        {
                                            int i = (iy * w + ix) * c + ch;
                                            if (x[s * inSize + i] > best) { best = x[s * inSize + i]; at = i; }
                                        }
                                    int o = s * outSize + (oy * ow + ox) * c + ch;
                                    y[o] = best;
                                    arg[o] = at;
                                }
                    return y;
                }

                double[] ey = Expected(0, out int[] earg);
                float[] y = Data.Filled(ey.Length, float.NaN);
                int[] arg = new int[ey.Length];
                FractionalMaxPool.Forward<TIsa>(x, y, arg, rows.AsSpan(0, oh + 1), cols.AsSpan(0, ow + 1), c, h, w, oh, ow, 1, samples);
                for (int i = 0; i < outSize; i++) Assert.True(float.IsNaN(y[i]), $"{ctx}: sample 0 written by range [1,3)");
                FractionalMaxPool.Forward<TIsa>(x, y, arg, rows.AsSpan(0, oh + 1), cols.AsSpan(0, ow + 1), c, h, w, oh, ow, 0, 1);
                Near.All(y, ey, 0, 0, ctx);
                Assert.Equal(earg, arg);

                float[] dy = Data.Uniform(rnd, ey.Length, -1, 1), dx = Data.Filled(x.Length, 3f);
                FractionalMaxPool.Backward<TIsa>(dy, arg, dx, c, h, w, oh, ow, 0, samples);
                var edx = new double[x.Length];
                for (int o = 0; o < dy.Length; o++) edx[o / outSize * inSize + earg[o]] += dy[o];
                Near.All(dx, edx, 0, 0, ctx + " dx");

                var eavg = new double[ey.Length];
                for (int d = 0; d < draws; d++)
                {
                    double[] yd = Expected(d, out _);
                    for (int i = 0; i < eavg.Length; i++) eavg[i] += yd[i] / draws;
                }
                float[] avg = Data.Filled(ey.Length, float.NaN);
                FractionalMaxPool.ForwardAverage<TIsa>(x, avg, rows, cols, draws, c, h, w, oh, ow, 0, samples);
                Near.All(avg, eavg, 1e-6, 1e-6, ctx + " average");
                // One draw is the plain forward.
                float[] one = new float[ey.Length];
                FractionalMaxPool.ForwardAverage<TIsa>(x, one, rows.AsSpan(0, oh + 1), cols.AsSpan(0, ow + 1), 1, c, h, w, oh, ow, 0, samples);
                Assert.Equal(y, one);
            }
    }

    [Fact]
    public void FractionalRejectsBadRegions()
    {
        float[] x = new float[2 * 3 * 6 * 6], y = new float[2 * 3 * 4 * 4];
        int[] good = { 0, 2, 3, 5, 6 };
        var e = Assert.Throws<ArgumentException>(() => FractionalMaxPool.Forward<Avx512Path>(x, y, Span<int>.Empty, new[] { 0, 2, 2, 5, 6 }, good, 3, 6, 6, 4, 4, 0, 2));
        Assert.Equal("rowStarts", e.ParamName);
        Assert.Contains("strictly increase", e.Message);
        e = Assert.Throws<ArgumentException>(() => FractionalMaxPool.Forward<Avx2Path>(x, y, Span<int>.Empty, good, new[] { 0, 2, 3, 5, 5 }, 3, 6, 6, 4, 4, 0, 2));
        Assert.Equal("colStarts", e.ParamName);
        Assert.Contains("end at 6", e.Message);
        e = Assert.Throws<ArgumentException>(() => FractionalMaxPool.ForwardAverage<PortablePath>(x, y, good, good, 2, 3, 6, 6, 4, 4, 0, 2));
        Assert.Equal("rowStarts", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => FractionalMaxPool.Backward<PortablePath>(y, new int[5], x, 3, 6, 6, 4, 4, 0, 2));
        Assert.Equal("argmax", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => FractionalMaxPool.Forward<PortablePath>(x, y, Span<int>.Empty, good, good, 3, 6, 6, 7, 4, 0, 2));
    }

    [Theory, MemberData(nameof(Paths))]
    public void DropConnectAndResidualMatchReference(IsaPath path) => Isa.Invoke(this, nameof(ElementwiseCore), path);

    private void ElementwiseCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(19);
        foreach (int n in new[] { 1, 15, 16, 17, 100 })
            foreach (var (start, end) in new[] { (0, n), (n / 3, n), (0, n / 2), (n / 4, n / 4) })
            {
                string ctx = $"{typeof(TIsa).Name} n={n} [{start},{end})";
                float[] w = Data.Uniform(rnd, n, -1, 1), mask = Data.Mask(rnd, n, 0.6, 1 / 0.6f);
                float[] masked = Data.Filled(n, float.NaN);
                DropConnect.Apply<TIsa>(w, mask, masked, start, end);
                for (int i = 0; i < n; i++)
                    if (i >= start && i < end) Assert.Equal(w[i] * mask[i], masked[i]);
                    else Assert.True(float.IsNaN(masked[i]), $"{ctx}: masked[{i}] outside the range written");
                float[] dw = (float[])w.Clone();
                DropConnect.MaskGradient<TIsa>(dw, mask, start, end);
                for (int i = 0; i < n; i++) Assert.Equal(i >= start && i < end ? w[i] * mask[i] : w[i], dw[i]);

                float[] a = Data.Uniform(rnd, n, -1, 1), b = Data.Uniform(rnd, n, -1, 1), y = Data.Filled(n, float.NaN);
                const float scale = 0.3f;
                Residual.Add<TIsa>(a, b, scale, y, start, end);
                for (int i = 0; i < n; i++)
                    if (i >= start && i < end) Near.Check(y[i], a[i] + (double)scale * b[i], 1e-7, 1e-6, $"{ctx} y[{i}]");
                    else Assert.True(float.IsNaN(y[i]), $"{ctx}: y[{i}] outside the range written");
                float[] db = Data.Filled(n, float.NaN);
                Residual.ScaleGradient<TIsa>(b, scale, db, start, end);
                for (int i = 0; i < n; i++)
                    if (i >= start && i < end) Assert.Equal(scale * b[i], db[i]);
                    else Assert.True(float.IsNaN(db[i]), $"{ctx}: dbranch[{i}] outside the range written");
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => DropConnect.Apply<TIsa>(new float[4], new float[4], new float[4], 0, 5));
        var e = Assert.Throws<ArgumentException>(() => DropConnect.Apply<TIsa>(new float[8], new float[4], new float[8], 0, 8));
        Assert.Equal("mask", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Residual.Add<TIsa>(new float[8], new float[8], 1f, new float[5], 2, 8));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Residual.ScaleGradient<TIsa>(new float[8], 1f, new float[5], 2, 8));
        Assert.Equal("dbranch", e.ParamName);
    }
}
