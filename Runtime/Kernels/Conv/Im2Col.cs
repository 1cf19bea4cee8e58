using System;
using System.Buffers;
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
        if (channelsFirst && g.Channels > 1) ChannelsFirst<Gather>(ref px, ref pc, g, s0, s1);
        else if (g.DilationW == 1 && g.KernelW * g.Channels <= NarrowRun) ForwardNarrow<TIsa>(x, col, g, s0, s1);
        else
        {
            var run = new NhwcRun<Gather> { Image = ref px, Col = ref pc, G = g, S0 = s0, S1 = s1 };
            VectorPath.Run<TIsa, NhwcRun<Gather>>(ref run);
        }
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
        if (channelsFirst && g.Channels > 1) ChannelsFirst<Scatter>(ref px, ref pc, g, s0, s1);
        else
        {
            var run = new NhwcRun<Scatter> { Image = ref px, Col = ref pc, G = g, S0 = s0, S1 = s1 };
            VectorPath.Run<TIsa, NhwcRun<Scatter>>(ref run);
        }
    }

    /// <summary>
    /// The patch columns [k0, k1) of the im2col rows of NHWC samples [s0, s1), packed: col[(row − s0·OutPixels)·(k1 − k0)
    /// + k − k0] = <see cref="Forward{TIsa}"/>'s col[row·PatchSize + k] (every entry written, zeros included). The weight
    /// gradient rebuilds its patches with it a few samples at a time, each thread only the columns of its weight rows,
    /// instead of keeping the whole batch's patches from the forward pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardColumns(ReadOnlySpan<float> x, Span<float> col, in ConvGeometry g, int s0, int s1, int k0, int k1)
    {
        g.Validate(nameof(g));
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        Checks.Range(k0, k1, g.PatchSize, nameof(k0), nameof(k1));
        Checks.Length(x.Length, (long)s1 * g.InputSize, nameof(x));
        int width = k1 - k0;
        Checks.Length(col.Length, (long)(s1 - s0) * g.OutPixels * width, nameof(col));
        if (width == 0) return;
        int c = g.Channels, rowFloats = g.Width * c;
        // One run per kernel row (ky): KernelW·Channels floats, contiguous in the input when the dilation is 1, else one per tap.
        int run = g.DilationW == 1 ? g.KernelW * c : c, runs = g.PatchSize / run, perKy = g.KernelW * c / run;
        int q = 0;
        for (int s = s0; s < s1; s++)
        {
            ReadOnlySpan<float> sample = x.Slice(s * g.InputSize, g.InputSize);
            for (int oy = 0; oy < g.OutHeight; oy++)
                for (int ox = 0; ox < g.OutWidth; ox++, q += width)
                {
                    Span<float> row = col.Slice(q, width);
                    for (int ri = k0 / run; ri < runs && ri * run < k1; ri++)
                    {
                        int ky = ri / perKy, kx = (ri - ky * perKy) * (run / c);
                        // The run's patch entries [a, b) inside [k0, k1), at input offset (iy, first + entry) of the sample.
                        int a = Math.Max(k0, ri * run), b = Math.Min(k1, (ri + 1) * run);
                        Span<float> target = row.Slice(a - k0, b - a);
                        int iy = oy * g.StrideH - g.PadH + ky * g.DilationH;
                        if ((uint)iy >= (uint)g.Height) { target.Clear(); continue; }
                        int first = (ox * g.StrideW - g.PadW + kx * g.DilationW) * c - ri * run;
                        // Input floats [0, rowFloats) of row iy exist; entries mapping outside are zero padding.
                        int lo = Math.Clamp(-first, a, b), hi = Math.Clamp(rowFloats - first, lo, b);
                        target.Slice(0, lo - a).Clear();
                        if (hi > lo) sample.Slice(iy * rowFloats + first + lo, hi - lo).CopyTo(target.Slice(lo - a));
                        target.Slice(hi - a).Clear();
                    }
                }
        }
    }

    private static void Validate(int imageLength, string imageName, int colLength, string colName, in ConvGeometry g, int s0, int s1)
    {
        g.Validate(nameof(g));
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        Checks.Length(imageLength, (long)s1 * g.InputSize, imageName);
        Checks.Length(colLength, (long)s1 * g.OutPixels * g.PatchSize, colName);
    }

    /// <summary>Kernel rows of at most this many floats (KernelW·Channels) take <see cref="ForwardNarrow{TIsa}"/>.</summary>
    private const int NarrowRun = 8;

    /// <summary>Padded images up to this many floats live on the stack.</summary>
    private const int StackImage = 4096;

    // Narrow kernel rows (the single-channel first layer: 5 floats) would spend their time on
    // per-run border logic and short tails. Instead each sample is copied once into a zero-bordered
    // image, so every kernel row is an in-bounds read, and is moved as one 8-float vector: the
    // floats past the run land on patch entries that are written later (the next ky, or the next
    // pixel's first row), so they need no mask. Only writes that would run past the sample's own
    // im2col block (another worker's samples) are done exactly.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardNarrow<TIsa>(ReadOnlySpan<float> x, Span<float> col, in ConvGeometry g, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        int c = g.Channels, h = g.Height, w = g.Width, kh = g.KernelH, kw = g.KernelW, oh = g.OutHeight, ow = g.OutWidth;
        int sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW, dh = g.DilationH;
        int patch = g.PatchSize, kernelRow = kw * c, paddedRow = (w + 2 * pw) * c, rowFloats = w * c;
        int imageFloats = (h + 2 * ph) * paddedRow + NarrowRun;   // slack for the last 8-float read
        nint inSize = g.InputSize, colSize = (nint)oh * ow * patch;
        float[]? rented = null;
        Span<float> image = imageFloats <= StackImage ? stackalloc float[StackImage] : (rented = ArrayPool<float>.Shared.Rent(imageFloats));
        image.Slice(0, imageFloats).Clear();   // the borders stay zero; each sample rewrites the interior
        ref float img = ref MemoryMarshal.GetReference(image);
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pc = ref MemoryMarshal.GetReference(col);
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref px, s * inSize);
            for (int iy = 0; iy < h; iy++)
                Unsafe.CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref img, (nint)(iy + ph) * paddedRow + pw * c)),
                    ref Unsafe.As<float, byte>(ref Unsafe.Add(ref xs, (nint)iy * rowFloats)), (uint)rowFloats * sizeof(float));
            ref float cs = ref Unsafe.Add(ref pc, s * colSize);
            nint o = 0;   // offset of the current kernel row within the sample's block
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    nint src = (nint)oy * sh * paddedRow + (nint)ox * sw * c;
                    for (int ky = 0; ky < kh; ky++, o += kernelRow, src += (nint)dh * paddedRow)
                    {
                        if (o + NarrowRun <= colSize) Copy8<TIsa>(ref Unsafe.Add(ref img, src), ref Unsafe.Add(ref cs, o));
                        else for (int i = 0; i < kernelRow; i++) Unsafe.Add(ref cs, o + i) = Unsafe.Add(ref img, src + i);
                    }
                }
        }
        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy8<TIsa>(ref float src, ref float dst) where TIsa : struct, ISimdPath
    {
        if (VectorPath.Lanes<TIsa>() >= 8) Vector256.LoadUnsafe(ref src).StoreUnsafe(ref dst);
        else
        {
            Vector128.LoadUnsafe(ref src).StoreUnsafe(ref dst);
            Vector128.LoadUnsafe(ref src, 4).StoreUnsafe(ref dst, 4);
        }
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

    /// <summary>
    /// How a patch entry meets the input element it covers: im2col copies the input into the patch
    /// (zeros where the patch leaves the input); its transpose adds the patch into the input
    /// (nothing where it leaves). One traversal serves both, so they cannot disagree on an index.
    /// </summary>
    private interface IPatchMove
    {
        /// <summary>n contiguous floats of patch and image.</summary>
        static abstract void Run<TO, TV>(ref float patch, ref float image, int n) where TO : struct, IVectorOps<TV> where TV : struct;
        /// <summary>n patch floats outside the input.</summary>
        static abstract void Outside(ref float patch, int n);
        /// <summary>n contiguous patch floats against image floats <paramref name="stride"/> apart (channels-first).</summary>
        static abstract void Strided(ref float patch, ref float image, int n, nint stride);
    }

    private readonly struct Gather : IPatchMove
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Run<TO, TV>(ref float patch, ref float image, int n) where TO : struct, IVectorOps<TV> where TV : struct =>
            ChannelRuns.Copy<TO, TV>(ref image, ref patch, n);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Outside(ref float patch, int n) => ChannelRuns.Clear(ref patch, n);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Strided(ref float patch, ref float image, int n, nint stride)
        {
            for (int i = 0; i < n; i++) Unsafe.Add(ref patch, i) = Unsafe.Add(ref image, i * stride);
        }
    }

    private readonly struct Scatter : IPatchMove
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Run<TO, TV>(ref float patch, ref float image, int n) where TO : struct, IVectorOps<TV> where TV : struct =>
            ChannelRuns.AddInto<TO, TV>(ref patch, ref image, n);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Outside(ref float patch, int n) { }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Strided(ref float patch, ref float image, int n, nint stride)
        {
            for (int i = 0; i < n; i++) Unsafe.Add(ref image, i * stride) += Unsafe.Add(ref patch, i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Nhwc<TMove, TO, TV>(ref float image, ref float col, in ConvGeometry g, int s0, int s1)
        where TMove : struct, IPatchMove where TO : struct, IVectorOps<TV> where TV : struct
    {
        int c = g.Channels, h = g.Height, w = g.Width, kh = g.KernelH, kw = g.KernelW, oh = g.OutHeight, ow = g.OutWidth;
        int sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW, dh = g.DilationH, dw = g.DilationW;
        int patch = g.PatchSize, kernelRow = kw * c;
        nint inSize = g.InputSize, colSize = (nint)oh * ow * patch;
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref image, s * inSize);
            ref float p = ref Unsafe.Add(ref col, s * colSize);
            for (int oy = 0; oy < oh; oy++)
            {
                int iyBase = oy * sh - ph;
                for (int ox = 0; ox < ow; ox++, p = ref Unsafe.Add(ref p, patch))
                {
                    int ixBase = ox * sw - pw;
                    (int lo, int hi) = InsideKx(ixBase, kw, dw, w);
                    for (int ky = 0; ky < kh; ky++)
                    {
                        ref float d = ref Unsafe.Add(ref p, ky * kernelRow);
                        int iy = iyBase + ky * dh;
                        if ((uint)iy >= (uint)h || lo == hi)
                        {
                            TMove.Outside(ref d, kernelRow);
                            continue;
                        }
                        // The first input pixel the row reaches (never a ref before the buffer: lo skips the padding).
                        ref float xr = ref Unsafe.Add(ref xs, ((nint)iy * w + ixBase + lo * dw) * c);
                        if (lo > 0) TMove.Outside(ref d, lo * c);
                        if (dw == 1)
                            TMove.Run<TO, TV>(ref Unsafe.Add(ref d, lo * c), ref xr, (hi - lo) * c);
                        else
                            for (int kx = lo; kx < hi; kx++)
                                TMove.Run<TO, TV>(ref Unsafe.Add(ref d, kx * c), ref Unsafe.Add(ref xr, (kx - lo) * dw * c), c);
                        if (hi < kw) TMove.Outside(ref Unsafe.Add(ref d, hi * c), (kw - hi) * c);
                    }
                }
            }
        }
    }

    // NCHW with several channels (an RGB model input): the patch interleaves channels while the input
    // keeps them in separate planes, so there is no contiguous run to move; this is the first layer only.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelsFirst<TMove>(ref float image, ref float col, in ConvGeometry g, int s0, int s1) where TMove : struct, IPatchMove
    {
        int c = g.Channels, h = g.Height, w = g.Width, kh = g.KernelH, kw = g.KernelW, oh = g.OutHeight, ow = g.OutWidth;
        int sh = g.StrideH, sw = g.StrideW, ph = g.PadH, pw = g.PadW, dh = g.DilationH, dw = g.DilationW;
        int patch = g.PatchSize;
        nint inSize = g.InputSize, plane = (nint)h * w, colSize = (nint)oh * ow * patch;
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref image, s * inSize);
            ref float p = ref Unsafe.Add(ref col, s * colSize);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++, p = ref Unsafe.Add(ref p, patch))
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * sh - ph + ky * dh;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * sw - pw + kx * dw;
                            ref float d = ref Unsafe.Add(ref p, (ky * kw + kx) * c);
                            if ((uint)iy >= (uint)h || (uint)ix >= (uint)w) TMove.Outside(ref d, c);
                            else TMove.Strided(ref d, ref Unsafe.Add(ref xs, (nint)iy * w + ix), c, plane);
                        }
                    }
        }
    }

    /// <summary>Nhwc's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct NhwcRun<TMove> : IVectorKernel where TMove : struct, IPatchMove
    {
        public ref float Image;
        public ref float Col;
        public ConvGeometry G;
        public int S0;
        public int S1;

        int IVectorKernel.Run<TO, TV>()
        {
            Nhwc<TMove, TO, TV>(ref Image, ref Col, in G, S0, S1);
            return 0;
        }
    }
}
