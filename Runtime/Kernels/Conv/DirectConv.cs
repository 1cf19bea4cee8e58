using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels;

/// <summary>
/// Convolution as an implicit GEMM, for small batches (batch-1 inference): the GEMM micro-kernels read the
/// patches straight out of a zero-bordered copy of the NHWC input instead of an im2col matrix.
/// </summary>
/// <remarks>
/// <para>With y[pixel, j] = Σ_(ky,kx,c) x(oy·Sh − Ph + ky·Dh, ox·Sw − Pw + kx·Dw, c)·w[(ky·Kw + kx)·C + c, j]
/// (the im2col patch order, so the weights are the same matrix), the A operand of a micro-tile of
/// consecutive output pixels of one row is regular in the padded image: pixel m of the tile starts
/// Sw·C floats after pixel m − 1, and with unit horizontal dilation one kernel row (kx, c) is
/// Kw·C contiguous floats. So each kernel row is one micro-kernel call with depth Kw·C (Kw·Kh calls
/// of depth C with dilation), partial sums accumulating in the output tile, the epilogue on the last.</para>
/// <para>Compared with im2col + GEMM this skips writing and re-reading OutPixels·PatchSize floats (313 KB per
/// sample for the benchmark CNN's second convolution), which at batch 1 is a fifth of the layer's time.
/// For training the plan keeps im2col: the weight gradient needs the patch matrix anyway.</para>
/// </remarks>
public static unsafe class DirectConv
{
    /// <summary>Floats of one sample's zero-bordered copy: (Height + 2·PadH)·(Width + 2·PadW)·Channels.</summary>
    public static int PaddedSize(in ConvGeometry g) => (g.Height + 2 * g.PadH) * (g.Width + 2 * g.PadW) * g.Channels;

    /// <summary>
    /// Copies samples [s0, s1) of the NHWC input x into their zero-bordered images in <paramref name="padded"/>
    /// (<see cref="PaddedSize"/> floats per sample; every float of those samples is written).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pad(ReadOnlySpan<float> x, Span<float> padded, in ConvGeometry g, int s0, int s1)
    {
        g.Validate(nameof(g));
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        int size = PaddedSize(g), rowFloats = g.Width * g.Channels, paddedRow = (g.Width + 2 * g.PadW) * g.Channels;
        Checks.Length(x.Length, (long)s1 * g.InputSize, nameof(x));
        Checks.Length(padded.Length, (long)s1 * size, nameof(padded));
        for (int s = s0; s < s1; s++)
        {
            Span<float> image = padded.Slice(s * size, size);
            ReadOnlySpan<float> sample = x.Slice(s * g.InputSize, g.InputSize);
            if (g.PadH > 0)
            {
                image.Slice(0, g.PadH * paddedRow).Clear();
                image.Slice((g.PadH + g.Height) * paddedRow).Clear();
            }
            int left = g.PadW * g.Channels;
            for (int iy = 0; iy < g.Height; iy++)
            {
                Span<float> row = image.Slice((iy + g.PadH) * paddedRow, paddedRow);
                if (left > 0)
                {
                    row.Slice(0, left).Clear();
                    row.Slice(left + rowFloats).Clear();
                }
                sample.Slice(iy * rowFloats, rowFloats).CopyTo(row.Slice(left));
            }
        }
    }

    /// <summary>
    /// Output rows [r0, r1) of the convolution, a row being one (sample, pixel) pair (row = sample·OutPixels +
    /// oy·OutWidth + ox): y[row, j] = epi(Σ_p patch(row)[p]·w[p, j], j) for j &lt; n, reading the patches from
    /// <paramref name="padded"/> (<see cref="Pad"/>'s layout). w: PatchSize × n (the im2col GEMM's weights).
    /// </summary>
    public static void Forward<TIsa, TEpi>(ReadOnlySpan<float> padded, ReadOnlySpan<float> w, Span<float> y, in ConvGeometry g, int n,
        int r0, int r1, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        ValidateForward(padded.Length, w.Length, y.Length, g, n, r0, r1);
        if (r0 == r1 || n == 0) return;
        TEpi e = epi;
        fixed (float* pp = padded, pw = w, py = y)
        {
            var run = new Run<TEpi> { Padded = pp, W = pw, Y = py, Geometry = g, N = n, R0 = r0, R1 = r1, Epilogue = e };
            VectorPath.Run<TIsa, Run<TEpi>>(ref run);
        }
    }

    /// <summary>Forward's arguments, run at the width <see cref="VectorPath"/> maps the path marker to.</summary>
    private ref struct Run<TEpi> : IVectorKernel where TEpi : IEpilogue, allows ref struct
    {
        public float* Padded, W, Y;
        public ConvGeometry Geometry;
        public int N, R0, R1;
        public TEpi Epilogue;

        int IVectorKernel.Run<TO, TV>()
        {
            Driver<TO, TV>.Forward(Padded, W, Y, Geometry, N, R0, R1, ref Epilogue);
            return 0;
        }
    }

    /// <summary>The argument checks of a small-batch convolution's Forward (this one and <see cref="ShallowConv"/>'s).</summary>
    internal static void ValidateForward(int paddedLength, int wLength, int yLength, in ConvGeometry g, int n, int r0, int r1)
    {
        g.Validate(nameof(g));
        Checks.NonNegative(n, nameof(n));
        Checks.Range(r0, r1, int.MaxValue, nameof(r0), nameof(r1));
        int samples = (r1 + g.OutPixels - 1) / g.OutPixels;
        Checks.Length(paddedLength, (long)samples * PaddedSize(g), "padded");
        Checks.Length(wLength, (long)g.PatchSize * n, "w");
        Checks.Length(yLength, (long)r1 * n, "y");
    }

    private static class Driver<TO, TV> where TO : struct, IPathOps<TV> where TV : struct
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Forward<TEpi>(float* padded, float* w, float* y, in ConvGeometry g, int n, int r0, int r1, ref TEpi epi)
            where TEpi : IEpilogue, allows ref struct
        {
            bool hasEpi = typeof(TEpi) != typeof(NoEpilogue);
            int c = g.Channels, kh = g.KernelH, kw = g.KernelW, ow = g.OutWidth, pixels = g.OutPixels;
            nint paddedRow = (nint)(g.Width + 2 * g.PadW) * c, size = PaddedSize(g);
            nint pixelStep = (nint)g.StrideW * c, rowStep = g.StrideH * paddedRow;
            nint kyStep = g.DilationH * paddedRow, kxStep = (nint)g.DilationW * c;
            // Unit horizontal dilation: a kernel row (kx, c) is one contiguous run, one call of depth Kw·C.
            bool runs = g.DilationW == 1;
            int depth = runs ? kw * c : c, calls = runs ? kh : kh * kw;
            int lanes = TO.Count, strip = TO.TileVectors * lanes, mr = GemmKernel<TO, TV>.TileRows;
            int r = r0;
            while (r < r1)
            {
                int s = r / pixels, pixel = r - s * pixels, oy = pixel / ow, ox = pixel - oy * ow;
                int count = Math.Min(r1 - r, ow - ox);   // the rest of this output row (within the range)
                float* image = padded + s * size + oy * rowStep;
                float* output = y + (nint)r * n;
                for (int j0 = 0; j0 < n; j0 += strip)
                {
                    TileDispatch.Split(Math.Min(strip, n - j0), lanes, out int nv, out int last);
                    for (int m0 = 0; m0 < count; m0 += mr)
                    {
                        int rows = Math.Min(mr, count - m0);
                        float* a = image + (ox + m0) * pixelStep;
                        for (int call = 0; call < calls; call++)
                        {
                            int ky = runs ? call : call / kw, kx = runs ? 0 : call - ky * kw;
                            GemmKernel<TO, TV>.Tile(rows, nv, last, a + ky * kyStep + kx * kxStep, pixelStep, 1, w + ((nint)call * depth) * n + j0, n,
                                output + (nint)m0 * n + j0, n, depth, j0, call > 0, hasEpi && call == calls - 1, ref epi);
                        }
                    }
                }
                r += count;
            }
        }
    }
}
