using System;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>
/// The two small-batch inference convolutions, <see cref="DirectConv"/> (implicit GEMM) and <see cref="ShallowConv"/>
/// (taps in registers), against the convolution written out as nested loops in double from its definition, on every
/// ISA path, for every geometry of the im2col tests (output rows from 1 to 66 pixels, so every tile height occurs).
/// </summary>
public sealed class SmallBatchConvTests
{
    // Output channel counts: fewer than a Vector128 (scalar only), a masked / mixed-width strip, exactly one AVX-512
    // vector, one zmm + one ymm, two zmm, and a partial last strip.
    private static readonly int[] Widths = { 3, 10, 16, 24, 32, 70 };

    public enum Kernel { DirectConv, ShallowConv }

    public static TheoryData<Kernel, IsaPath, int, int> Cases()
    {
        var d = new TheoryData<Kernel, IsaPath, int, int>();
        foreach (Kernel k in new[] { Kernel.DirectConv, Kernel.ShallowConv })
            foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
                for (int i = 0; i < Im2ColTests.Geometries.Length; i++)
                    foreach (int n in Widths)
                        d.Add(k, p, i, n);
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void ForwardMatchesNestedLoops(Kernel kernel, IsaPath path, int geometry, int n) =>
        Isa.Invoke(this, nameof(ForwardCore), path, kernel, Im2ColTests.Geometries[geometry], n);

    private static void Forward<TIsa, TEpi>(Kernel kernel, float[] padded, float[] w, float[] y, in ConvGeometry g, int n, int r0, int r1, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        if (kernel == Kernel.ShallowConv) ShallowConv.Forward<TIsa, TEpi>(padded, w, y, g, n, r0, r1, epi);
        else DirectConv.Forward<TIsa, TEpi>(padded, w, y, g, n, r0, r1, epi);
    }

    private void ForwardCore<TIsa>(Kernel kernel, ConvGeometry g, int n) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(11 + g.Channels + n);
        float[] x = Data.Uniform(rnd, samples * g.InputSize, -1, 1);
        float[] w = Data.Uniform(rnd, g.PatchSize * n, -0.5, 0.5);
        float[] bias = Data.Uniform(rnd, n, -0.2, 0.2);
        double[] expected = Convolve(x, w, bias, g, n, samples);
        int rows = samples * g.OutPixels;
        string ctx = $"{kernel} {typeof(TIsa).Name} {g} n={n}";
        double atol = 1e-5 * Math.Sqrt(g.PatchSize);

        // Stale padding contents must not leak: the copy writes every float, borders included.
        float[] padded = Data.Filled(samples * DirectConv.PaddedSize(g), 7f);
        DirectConv.Pad(x, padded, g, 0, samples);

        // Bias epilogue over the whole range.
        float[] y = Data.Filled(rows * n, float.NaN);
        Forward<TIsa, BiasEpilogue>(kernel, padded, w, y, g, n, 0, rows, new BiasEpilogue(bias));
        Near.All(y, expected, atol, 1e-5, ctx);

        // Bias + ReLU, with the rows split at arbitrary points (mid-row and mid-sample), as two workers would.
        double[] relu = Array.ConvertAll(expected, v => Math.Max(0, v));
        float[] split = Data.Filled(rows * n, float.NaN);
        int cut1 = rows / 3 + 1, cut2 = 2 * rows / 3 - 1;
        foreach ((int r0, int r1) in new[] { (0, cut1), (cut1, cut2), (cut2, rows) })
            Forward<TIsa, BiasActivationEpilogue<Relu>>(kernel, padded, w, split, g, n, r0, r1, new BiasActivationEpilogue<Relu>(bias, new Relu()));
        Near.All(split, relu, atol, 1e-5, ctx + " split+relu");

        // No epilogue: the plain sum (bias not added).
        double[] noBias = Convolve(x, w, new float[n], g, n, samples);
        float[] plain = Data.Filled(rows * n, float.NaN);
        Forward<TIsa, NoEpilogue>(kernel, padded, w, plain, g, n, 0, rows, new NoEpilogue());
        Near.All(plain, noBias, atol, 1e-5, ctx + " no epilogue");
    }

    [Fact]
    public void PadWritesOnlyItsSamples()
    {
        var g = new ConvGeometry(2, 3, 4, 3, 3, 1, 1, 1, 2, 1, 1);
        int size = DirectConv.PaddedSize(g);
        Assert.Equal((3 + 2) * (4 + 4) * 2, size);
        float[] x = Data.Uniform(new Random(3), 2 * g.InputSize, 1, 2);
        float[] padded = Data.Filled(2 * size, float.NaN);
        DirectConv.Pad(x, padded, g, 1, 2);
        for (int i = 0; i < size; i++) Assert.True(float.IsNaN(padded[i]), "sample 0 written by range [1,2)");
        // Sample 1: interior = x, border = 0.
        int nonZero = 0;
        for (int i = size; i < 2 * size; i++) if (padded[i] != 0) nonZero++;
        Assert.Equal(g.InputSize, nonZero);
        Assert.Equal(x[g.InputSize], padded[size + (1 * 8 + 2) * 2]);   // (iy 0, ix 0, c 0) sits at padded row 1, column 2
    }

    [Fact]
    public void ShallowRejectsShortBuffers()
    {
        var g = new ConvGeometry(1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
        int size = DirectConv.PaddedSize(g);
        var e = Assert.Throws<ArgumentException>(() => ShallowConv.Forward<Avx512Path, NoEpilogue>(new float[size], new float[9 * 4], new float[25 * 4 * 2], g, 4, 0, 26, new NoEpilogue()));
        Assert.Contains("padded", e.Message);
        e = Assert.Throws<ArgumentException>(() => ShallowConv.Forward<Avx512Path, NoEpilogue>(new float[size], new float[9 * 4 - 1], new float[25 * 4], g, 4, 0, 25, new NoEpilogue()));
        Assert.Contains("w", e.Message);
        e = Assert.Throws<ArgumentException>(() => ShallowConv.Forward<Avx512Path, NoEpilogue>(new float[size], new float[9 * 4], new float[25 * 4 - 1], g, 4, 0, 25, new NoEpilogue()));
        Assert.Contains("y", e.Message);
    }

    [Fact]
    public void RejectsShortBuffers()
    {
        var g = new ConvGeometry(1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
        int size = DirectConv.PaddedSize(g);
        var e = Assert.Throws<ArgumentException>(() => DirectConv.Forward<Avx512Path, NoEpilogue>(new float[size], new float[9 * 4], new float[25 * 4 * 2], g, 4, 0, 26, new NoEpilogue()));
        Assert.Contains("padded", e.Message);
        e = Assert.Throws<ArgumentException>(() => DirectConv.Forward<Avx512Path, NoEpilogue>(new float[size], new float[9 * 4 - 1], new float[25 * 4], g, 4, 0, 25, new NoEpilogue()));
        Assert.Contains("w", e.Message);
        e = Assert.Throws<ArgumentException>(() => DirectConv.Pad(new float[24], new float[size], g, 0, 1));
        Assert.Contains("x", e.Message);
    }

    /// <summary>y[s, oy, ox, j] = b[j] + Σ_(ky,kx,c) x(s, c, iy, ix)·w[(ky·Kw + kx)·C + c, j], zero outside the input.</summary>
    internal static double[] Convolve(float[] x, float[] w, float[] bias, ConvGeometry g, int n, int samples)
    {
        var y = new double[samples * g.OutPixels * n];
        for (int s = 0; s < samples; s++)
            for (int oy = 0; oy < g.OutHeight; oy++)
                for (int ox = 0; ox < g.OutWidth; ox++)
                    for (int j = 0; j < n; j++)
                    {
                        double sum = bias[j];
                        for (int ky = 0; ky < g.KernelH; ky++)
                            for (int kx = 0; kx < g.KernelW; kx++)
                            {
                                int iy = oy * g.StrideH - g.PadH + ky * g.DilationH, ix = ox * g.StrideW - g.PadW + kx * g.DilationW;
                                if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                for (int c = 0; c < g.Channels; c++)
                                    sum += (double)x[ConvReference.Index(s, c, iy, ix, g.Channels, g.Height, g.Width, false)]
                                        * w[((ky * g.KernelW + kx) * g.Channels + c) * n + j];
                            }
                        y[((s * g.OutHeight + oy) * g.OutWidth + ox) * n + j] = sum;
                    }
        return y;
    }
}
