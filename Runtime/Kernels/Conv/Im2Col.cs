using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// im2col for a convolution as a GEMM: each output pixel's receptive field becomes one row of
/// <see cref="ConvGeometry.PatchSize"/> floats in patch order (ky, kx, c), zeros where the field
/// leaves the input. Forward: col[(s·OutPixels + oy·OutWidth + ox)·PatchSize + (ky·KernelW + kx)·Channels + c]
/// = x(s, c, oy·StrideH − PadH + ky·DilationH, ox·StrideW − PadW + kx·DilationW).
/// </summary>
/// <remarks>
/// Inputs are NHWC (x[s][h][w][c]) except, with <c>channelsFirst</c>, the model input in NCHW
/// (x[s][c][h][w]). In NHWC a kernel row with unit dilation reads KernelW·Channels contiguous floats,
/// so each (pixel, ky) is one run copy plus zero fills at the borders; one channel in NCHW is the
/// same layout, so the usual single-channel first layer takes that path too.
/// </remarks>
public static class Im2Col
{
    /// <summary>Writes the im2col rows of samples [s0, s1) (every entry, zeros included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TIsa>(ReadOnlySpan<float> x, Span<float> col, in ConvGeometry g, bool channelsFirst, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        Validate(x.Length, nameof(x), col.Length, nameof(col), g, s0, s1);
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pc = ref MemoryMarshal.GetReference(col);
        if (channelsFirst && g.Channels > 1) ForwardChannelsFirst(ref px, ref pc, g, s0, s1);
        else if (VectorPath.Is512<TIsa>()) ForwardNhwc<Ops512, Vector512<float>>(ref px, ref pc, g, s0, s1);
        else if (VectorPath.Is256<TIsa>()) ForwardNhwc<Ops256, Vector256<float>>(ref px, ref pc, g, s0, s1);
        else ForwardNhwc<Ops128, Vector128<float>>(ref px, ref pc, g, s0, s1);
    }

    /// <summary>
    /// The transpose of <see cref="Forward{TIsa}"/>: dx for samples [s0, s1) := for each input element the
    /// sum of the dcol entries that read it (the range of dx is overwritten, not accumulated into).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<TIsa>(ReadOnlySpan<float> dcol, Span<float> dx, in ConvGeometry g, bool channelsFirst, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        Validate(dx.Length, nameof(dx), dcol.Length, nameof(dcol), g, s0, s1);
        ChannelRuns.ClearSamples(dx, g.InputSize, s0, s1);
        ref float pc = ref MemoryMarshal.GetReference(dcol);
        ref float px = ref MemoryMarshal.GetReference(dx);
        if (channelsFirst && g.Channels > 1) BackwardChannelsFirst(ref pc, ref px, g, s0, s1);
        else if (VectorPath.Is512<TIsa>()) BackwardNhwc<Ops512, Vector512<float>>(ref pc, ref px, g, s0, s1);
        else if (VectorPath.Is256<TIsa>()) BackwardNhwc<Ops256, Vector256<float>>(ref pc, ref px, g, s0, s1);
        else BackwardNhwc<Ops128, Vector128<float>>(ref pc, ref px, g, s0, s1);
    }

    private static void Validate(int imageLength, string imageName, int colLength, string colName, in ConvGeometry g, int s0, int s1)
    {
        g.Validate(nameof(g));
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        Checks.Length(imageLength, (long)s1 * g.InputSize, imageName);
        Checks.Length(colLength, (long)s1 * g.OutPixels * g.PatchSize, colName);
    }

    /// <summary>The kx range [lo, hi) whose input column ixBase + kx·dilation lies in [0, width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Lo, int Hi) InsideKx(int ixBase, int kernel, int dilation, int width)
    {
        int lo = ixBase >= 0 ? 0 : Math.Min(kernel, (-ixBase + dilation - 1) / dilation);
        int last = width - 1 - ixBase;
        int hi = last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
        return (lo, Math.Max(lo, hi));
    }

    private static void ForwardNhwc<TO, TV>(ref float x, ref float col, in ConvGeometry g, int s0, int s1)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int c = g.Channels, h = g.Height, w = g.Width, kh = g.KernelH, kw = g.KernelW, oh = g.OutHeight, ow = g.OutWidth;
        int sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW, dh = g.DilationH, dw = g.DilationW;
        int patch = g.PatchSize, kernelRow = kw * c;
        nint inSize = g.InputSize, colSize = (nint)oh * ow * patch;
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref x, s * inSize);
            ref float dst = ref Unsafe.Add(ref col, s * colSize);
            for (int oy = 0; oy < oh; oy++)
            {
                int iyBase = oy * sh - ph;
                for (int ox = 0; ox < ow; ox++, dst = ref Unsafe.Add(ref dst, patch))
                {
                    int ixBase = ox * sw - pw;
                    (int lo, int hi) = InsideKx(ixBase, kw, dw, w);
                    for (int ky = 0; ky < kh; ky++)
                    {
                        ref float d = ref Unsafe.Add(ref dst, ky * kernelRow);
                        int iy = iyBase + ky * dh;
                        if ((uint)iy >= (uint)h || lo == hi)
                        {
                            ChannelRuns.Clear(ref d, kernelRow);
                            continue;
                        }
                        // The first input pixel the row reads (never a ref before the buffer: lo skips the padding).
                        ref float xr = ref Unsafe.Add(ref xs, ((nint)iy * w + ixBase + lo * dw) * c);
                        if (lo > 0) ChannelRuns.Clear(ref d, lo * c);
                        if (dw == 1)
                            ChannelRuns.Copy<TO, TV>(ref xr, ref Unsafe.Add(ref d, lo * c), (hi - lo) * c);
                        else
                            for (int kx = lo; kx < hi; kx++)
                                ChannelRuns.Copy<TO, TV>(ref Unsafe.Add(ref xr, (kx - lo) * dw * c), ref Unsafe.Add(ref d, kx * c), c);
                        if (hi < kw) ChannelRuns.Clear(ref Unsafe.Add(ref d, hi * c), (kw - hi) * c);
                    }
                }
            }
        }
    }

    private static void BackwardNhwc<TO, TV>(ref float dcol, ref float dx, in ConvGeometry g, int s0, int s1)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int c = g.Channels, h = g.Height, w = g.Width, kh = g.KernelH, kw = g.KernelW, oh = g.OutHeight, ow = g.OutWidth;
        int sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW, dh = g.DilationH, dw = g.DilationW;
        int patch = g.PatchSize, kernelRow = kw * c;
        nint inSize = g.InputSize, colSize = (nint)oh * ow * patch;
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref dx, s * inSize);
            ref float src = ref Unsafe.Add(ref dcol, s * colSize);
            for (int oy = 0; oy < oh; oy++)
            {
                int iyBase = oy * sh - ph;
                for (int ox = 0; ox < ow; ox++, src = ref Unsafe.Add(ref src, patch))
                {
                    int ixBase = ox * sw - pw;
                    (int lo, int hi) = InsideKx(ixBase, kw, dw, w);
                    if (lo == hi) continue;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = iyBase + ky * dh;
                        if ((uint)iy >= (uint)h) continue;
                        ref float d = ref Unsafe.Add(ref src, ky * kernelRow);
                        ref float xr = ref Unsafe.Add(ref xs, ((nint)iy * w + ixBase + lo * dw) * c);
                        if (dw == 1)
                            ChannelRuns.AddInto<TO, TV>(ref Unsafe.Add(ref d, lo * c), ref xr, (hi - lo) * c);
                        else
                            for (int kx = lo; kx < hi; kx++)
                                ChannelRuns.AddInto<TO, TV>(ref Unsafe.Add(ref d, kx * c), ref Unsafe.Add(ref xr, (kx - lo) * dw * c), c);
                    }
                }
            }
        }
    }

    // NCHW with several channels (an RGB model input): the patch interleaves channels while the input
    // keeps them in separate planes, so there is no contiguous run to move; this is the first layer only.
    private static void ForwardChannelsFirst(ref float x, ref float col, in ConvGeometry g, int s0, int s1)
    {
        int c = g.Channels, h = g.Height, w = g.Width, kh = g.KernelH, kw = g.KernelW, oh = g.OutHeight, ow = g.OutWidth;
        int sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW, dh = g.DilationH, dw = g.DilationW;
        int patch = g.PatchSize;
        nint inSize = g.InputSize, plane = (nint)h * w, colSize = (nint)oh * ow * patch;
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref x, s * inSize);
            ref float dst = ref Unsafe.Add(ref col, s * colSize);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++, dst = ref Unsafe.Add(ref dst, patch))
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * sh - ph + ky * dh;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * sw - pw + kx * dw;
                            ref float d = ref Unsafe.Add(ref dst, (ky * kw + kx) * c);
                            if ((uint)iy >= (uint)h || (uint)ix >= (uint)w)
                            {
                                ChannelRuns.Clear(ref d, c);
                                continue;
                            }
                            ref float xp = ref Unsafe.Add(ref xs, (nint)iy * w + ix);
                            for (int ch = 0; ch < c; ch++) Unsafe.Add(ref d, ch) = Unsafe.Add(ref xp, ch * plane);
                        }
                    }
        }
    }

    private static void BackwardChannelsFirst(ref float dcol, ref float dx, in ConvGeometry g, int s0, int s1)
    {
        int c = g.Channels, h = g.Height, w = g.Width, kh = g.KernelH, kw = g.KernelW, oh = g.OutHeight, ow = g.OutWidth;
        int sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW, dh = g.DilationH, dw = g.DilationW;
        int patch = g.PatchSize;
        nint inSize = g.InputSize, plane = (nint)h * w, colSize = (nint)oh * ow * patch;
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref dx, s * inSize);
            ref float src = ref Unsafe.Add(ref dcol, s * colSize);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++, src = ref Unsafe.Add(ref src, patch))
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * sh - ph + ky * dh;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * sw - pw + kx * dw;
                            if ((uint)ix >= (uint)w) continue;
                            ref float d = ref Unsafe.Add(ref src, (ky * kw + kx) * c);
                            ref float xp = ref Unsafe.Add(ref xs, (nint)iy * w + ix);
                            for (int ch = 0; ch < c; ch++) Unsafe.Add(ref xp, ch * plane) += Unsafe.Add(ref d, ch);
                        }
                    }
        }
    }
}
