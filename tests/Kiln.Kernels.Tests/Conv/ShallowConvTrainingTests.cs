using System;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>
/// <see cref="ShallowConvTraining"/>'s weight gradient against dL/dW written out as nested loops in double from its
/// definition (Σ over samples and output pixels of input tap × dL/dy, zero outside the input), on every ISA path: odd
/// sides, padding 0/1/2, strides 1 and 2, one to five channels, kernel rows from 1 to 15 taps (one group, groups of
/// rows, and a row cut into segments on the 16-register paths), and output-channel counts with every strip width and a
/// scalar tail. Samples are split at arbitrary points, as threads would, and the sum must not change by one bit.
/// </summary>
public sealed class ShallowConvTrainingTests
{
    internal static readonly ConvGeometry[] Geometries =
    {
        new(1, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1),    // the benchmark's first layer: 25 taps, one group on AVX-512
        new(1, 9, 7, 3, 3, 1, 1, 0, 0, 1, 1),      // odd sides, no padding (reads the input itself)
        new(1, 11, 9, 3, 3, 2, 2, 1, 1, 1, 1),     // stride 2, pad 1
        new(2, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1),      // two channels: 6-float kernel rows
        new(3, 7, 9, 3, 2, 2, 1, 1, 0, 1, 1),      // non-square kernel, stride 2 on one axis, 3 channels
        new(5, 5, 6, 3, 3, 1, 1, 2, 2, 1, 1),      // 15-float kernel rows: two segments with 16 registers
        new(1, 10, 6, 9, 1, 1, 1, 4, 0, 1, 1),     // 9 kernel rows of one tap: more than one group's 8 row offsets
        new(1, 7, 7, 7, 7, 1, 1, 3, 3, 1, 1),      // 7×7: several row groups everywhere
        new(1, 3, 3, 5, 5, 1, 1, 2, 2, 1, 1),      // padding as wide as the image: most taps read the border
    };

    // Output channels: scalar only, 128-bit + scalar tail, one zmm, zmm + ymm, two zmm + 128-bit + tail.
    private static readonly int[] Widths = { 3, 7, 16, 24, 39 };

    public static TheoryData<IsaPath, int, int, bool> Cases()
    {
        var d = new TheoryData<IsaPath, int, int, bool>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            for (int i = 0; i < Geometries.Length; i++)
                foreach (int n in Widths)
                    d.Add(p, i, n, n != 7);   // dL/db summed alongside, except for one width
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void WeightGradientMatchesNestedLoops(IsaPath path, int geometry, int n, bool bias) =>
        Isa.Invoke(this, nameof(GradientCore), path, Geometries[geometry], n, bias);

    private void GradientCore<TIsa>(ConvGeometry g, int n, bool bias) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(5 + g.Channels * 31 + n);
        float[] x = Data.Uniform(rnd, samples * g.InputSize, -1, 1);
        float[] dy = Data.Uniform(rnd, samples * g.OutPixels * n, -1, 1);
        (double[] expected, double[] scale) = WeightGradient(x, dy, g, n, samples);
        string ctx = $"{typeof(TIsa).Name} {g} n={n} bias={bias}";
        int taps = g.PatchSize * n, size = taps + (bias ? n : 0);
        if (bias) (expected, scale) = (Append(expected, BiasGradient(dy, n)), Append(scale, BiasGradient(dy, n, abs: true)));

        float[] padded = Data.Filled(samples * DirectConv.PaddedSize(g), 7f);
        DirectConv.Pad(x, padded, g, 0, samples);

        // Every slot float is written (stale NaN must not survive), samples split as two threads would.
        float[] partial = Data.Filled(samples * size, float.NaN);
        ShallowConvTraining.BackwardWeights<TIsa>(padded, dy, partial, g, n, bias, 0, 1);
        ShallowConvTraining.BackwardWeights<TIsa>(padded, dy, partial, g, n, bias, 1, samples);
        for (int s = 0; s < samples; s++)
        {
            float[] dyOne = dy.AsSpan(s * g.OutPixels * n, g.OutPixels * n).ToArray();
            (double[] one, double[] oneScale) = WeightGradient(x.AsSpan(s * g.InputSize, g.InputSize).ToArray(), dyOne, g, n, 1);
            if (bias) (one, oneScale) = (Append(one, BiasGradient(dyOne, n)), Append(oneScale, BiasGradient(dyOne, n, abs: true)));
            Near.Scaled(partial.AsSpan(s * size, size), one, oneScale, 1e-6, 1e-5, $"{ctx} sample {s}");
        }

        float[] gradient = Data.Filled(size, float.NaN);
        ShallowConvTraining.SumSamples<TIsa>(partial, gradient, samples, size, 0, size);
        Near.Scaled(gradient, expected, scale, 1e-6, 1e-5, ctx);

        // One thread over all samples, and the sum split at odd element boundaries: bit-identical.
        float[] whole = Data.Filled(samples * size, float.NaN);
        ShallowConvTraining.BackwardWeights<TIsa>(padded, dy, whole, g, n, bias, 0, samples);
        Assert.Equal(partial, whole);
        float[] split = Data.Filled(size, float.NaN);
        int cut = size / 3 + 1;
        ShallowConvTraining.SumSamples<TIsa>(whole, split.AsSpan(cut), samples, size, cut, size);
        ShallowConvTraining.SumSamples<TIsa>(whole, split, samples, size, 0, cut);
        Assert.Equal(gradient, split);
    }

    [Fact]
    public void RejectsDilationAndShortBuffers()
    {
        var g = new ConvGeometry(1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
        int size = DirectConv.PaddedSize(g);
        var e = Assert.Throws<ArgumentException>(() => ShallowConvTraining.BackwardWeights<Avx512Path>(new float[size], new float[25 * 4], new float[9 * 4], g with { DilationH = 2 }, 4, false, 0, 1));
        Assert.Contains("dilation 1", e.Message);
        e = Assert.Throws<ArgumentException>(() => ShallowConvTraining.BackwardWeights<Avx512Path>(new float[size], new float[25 * 4 * 2], new float[9 * 4 * 2], g, 4, false, 0, 2));
        Assert.Contains("padded", e.Message);
        e = Assert.Throws<ArgumentException>(() => ShallowConvTraining.BackwardWeights<Avx512Path>(new float[size], new float[25 * 4 - 1], new float[9 * 4], g, 4, false, 0, 1));
        Assert.Contains("dy", e.Message);
        e = Assert.Throws<ArgumentException>(() => ShallowConvTraining.BackwardWeights<Avx512Path>(new float[size], new float[25 * 4], new float[10 * 4 - 1], g, 4, true, 0, 1));
        Assert.Contains("partial", e.Message);
        e = Assert.Throws<ArgumentException>(() => ShallowConvTraining.SumSamples<Avx512Path>(new float[35], new float[9], 2, 18, 0, 18));
        Assert.Contains("partial", e.Message);
    }

    /// <summary>dL/db[j] = Σ over samples and pixels of dy[.., j] (or of |dy| for the tolerance).</summary>
    private static double[] BiasGradient(float[] dy, int n, bool abs = false)
    {
        var db = new double[n];
        for (int i = 0; i < dy.Length; i++) db[i % n] += abs ? Math.Abs(dy[i]) : dy[i];
        return db;
    }

    private static double[] Append(double[] a, double[] b) => [.. a, .. b];

    /// <summary>dW[t, j] = Σ_(s, oy, ox) x(s, iy, ix, c)·dy[s, oy, ox, j], t = (ky·Kw + kx)·C + c, with Σ|terms| for the tolerance.</summary>
    private static (double[] Value, double[] Scale) WeightGradient(float[] x, float[] dy, ConvGeometry g, int n, int samples)
    {
        var dw = new double[g.PatchSize * n];
        var scale = new double[dw.Length];
        for (int s = 0; s < samples; s++)
            for (int oy = 0; oy < g.OutHeight; oy++)
                for (int ox = 0; ox < g.OutWidth; ox++)
                    for (int ky = 0; ky < g.KernelH; ky++)
                        for (int kx = 0; kx < g.KernelW; kx++)
                        {
                            int iy = oy * g.StrideH - g.PadH + ky, ix = ox * g.StrideW - g.PadW + kx;
                            if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                            for (int c = 0; c < g.Channels; c++)
                            {
                                double v = x[ConvReference.Index(s, c, iy, ix, g.Channels, g.Height, g.Width, false)];
                                int t = (ky * g.KernelW + kx) * g.Channels + c;
                                for (int j = 0; j < n; j++)
                                {
                                    double term = v * dy[((s * g.OutHeight + oy) * g.OutWidth + ox) * n + j];
                                    dw[t * n + j] += term;
                                    scale[t * n + j] += Math.Abs(term);
                                }
                            }
                        }
        return (dw, scale);
    }
}
