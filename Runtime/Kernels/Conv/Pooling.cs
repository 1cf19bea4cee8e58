using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// Max, average and global-average pooling over NHWC samples. Each output pixel reduces its window
/// over whole channel runs (a vector of channels per step); windows are clipped to the input, so
/// padding never contributes a value (max) or a count (average).
/// </summary>
public static class Pooling
{
    /// <summary>
    /// y = max over each window. When <paramref name="argmax"/> is not empty,
    /// argmax[s·OutputSize + o] = the index within sample s's input, (h·Width + w)·Channels + c, of the
    /// maximum; ties go to the first element in row-major window order. Pass an empty span at inference.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxForward<TIsa>(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, in PoolGeometry g, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        Validate(x.Length, nameof(x), y.Length, nameof(y), g, s0, s1);
        Checks.Optional(argmax.Length, (long)s1 * g.OutputSize, nameof(argmax));
        MaxPixels<TIsa>(x, y, argmax, g, s0 * g.OutHeight * g.OutWidth, s1 * g.OutHeight * g.OutWidth);
    }

    /// <summary>
    /// y = max over each window for the output pixels [p0, p1) only, p = (sample·OutHeight + oy)·OutWidth + ox; no argmax
    /// (inference). With windows that do not overlap, a thread that computed the inputs of its output pixels
    /// (<see cref="InputSegments"/>) can pool them itself. With a positive <c>border</c>, y holds each sample's output
    /// inside a zero border that many pixels wide — the zero-bordered input of a following padded convolution
    /// (<see cref="DirectConv.Pad"/>'s layout), which then needs no copy of its own; the border itself is not written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxForwardPixels<TIsa>(ReadOnlySpan<float> x, Span<float> y, in PoolGeometry g, int p0, int p1, int border = 0)
        where TIsa : struct, ISimdPath
    {
        ValidatePixels(x.Length, y.Length, g, p0, p1, border);
        MaxPixels<TIsa>(x, y, default, g, p0, p1, border);
    }

    /// <summary>
    /// The input pixel segments [Start, End) (pixel = sample·Height·Width + iy·Width + ix) that the output pixels [p0, p1)
    /// of non-overlapping, unpadded windows (Size = Stride) read, in order, adjacent segments merged; returns how many
    /// were written to <paramref name="segments"/> (at most <see cref="MaxInputSegments"/>). Input rows below the last
    /// window row go with the sample's last output row, and columns right of the last window with each row's last
    /// output pixel, so consecutive output ranges give segments that tile the whole input exactly once: a fused
    /// convolution + pooling stage computes every convolution output exactly once.
    /// </summary>
    public static int InputSegments(in PoolGeometry g, int p0, int p1, Span<(int Start, int End)> segments)
    {
        g.Validate(nameof(g));
        if (g.SizeH != g.StrideH || g.SizeW != g.StrideW || g.PadH != 0 || g.PadW != 0)
            throw new ArgumentException($"{nameof(g)}: input pixels belong to one output pixel only for unpadded windows with size = stride (got {g}).", nameof(g));
        Checks.Range(p0, p1, int.MaxValue, nameof(p0), nameof(p1));
        if (segments.Length < MaxInputSegments(g))
            throw new ArgumentException($"{nameof(segments)}: room for {segments.Length} segments; the range may need {MaxInputSegments(g)}.", nameof(segments));
        int count = 0;
        if (p0 == p1) return 0;
        int oh = g.OutHeight, ow = g.OutWidth, h = g.Height, w = g.Width, sh = g.StrideH, sw = g.StrideW;
        int qFirst = p0 / ow, qLast = (p1 - 1) / ow;
        for (int q = qFirst; q <= qLast; q++)
        {
            int sample = q / oh, oy = q - sample * oh;
            int a = q == qFirst ? p0 - q * ow : 0, b = q == qLast ? p1 - q * ow : ow;
            int x0 = a * sw, x1 = b == ow ? w : b * sw;
            int y0 = oy * sh, y1 = oy == oh - 1 ? h : y0 + sh;
            int rowBase = sample * h;
            if (x0 == 0 && x1 == w) Add(segments, ref count, (rowBase + y0) * w, (rowBase + y1) * w);
            else
                for (int iy = y0; iy < y1; iy++) Add(segments, ref count, (rowBase + iy) * w + x0, (rowBase + iy) * w + x1);
        }
        return count;

        static void Add(Span<(int Start, int End)> segments, ref int count, int start, int end)
        {
            if (count > 0 && segments[count - 1].End == start) segments[count - 1].End = end;
            else segments[count++] = (start, end);
        }
    }

    /// <summary>
    /// Most segments <see cref="InputSegments"/> writes for one range: one per input row of a partial first and a partial
    /// last output row (each up to 2·SizeH − 1 rows, the last one taking the rows below the windows) and one for the
    /// whole rows between.
    /// </summary>
    public static int MaxInputSegments(in PoolGeometry g) => 2 * (2 * g.SizeH - 1) + 1;

    private static void MaxPixels<TIsa>(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, in PoolGeometry g, int p0, int p1, int border = 0)
        where TIsa : struct, ISimdPath
    {
        ref float xs0 = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        ref int pa = ref MemoryMarshal.GetReference(argmax);
        bool withArg = !argmax.IsEmpty;
        int c = g.Channels, h = g.Height, w = g.Width, oh = g.OutHeight, ow = g.OutWidth;
        nint inSize = g.InputSize;
        for (int p = p0; p < p1;)
        {
            int q = p / ow, s = q / oh, oy = q - s * oh, end = Math.Min(p1, (q + 1) * ow);
            ref float xs = ref Unsafe.Add(ref xs0, s * inSize);
            (int iy0, int iy1) = Window(oy, g.StrideH, g.PadH, g.SizeH, h);
            // With a border the output row sits inside a wider, taller zero-bordered image (argmax keeps p·c).
            nint row = border == 0 ? (nint)q * ow * c : (((nint)s * (oh + 2 * border) + oy + border) * (ow + 2 * border) + border) * c;
            for (int ox = p - q * ow; p < end; p++, ox++)
            {
                (int ix0, int ix1) = Window(ox, g.StrideW, g.PadW, g.SizeW, w);
                nint o = (nint)p * c;
                MaxRun<TIsa>(ref xs, ref Unsafe.Add(ref py, row + (nint)ox * c), ref withArg ? ref Unsafe.Add(ref pa, o) : ref pa, withArg, c, w, iy0, iy1, ix0, ix1);
            }
        }
    }

    /// <summary>dx for samples [s0, s1) := 0, then dy scattered to each window's argmax (overlapping windows add).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxBackward<TIsa>(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, in PoolGeometry g, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        Validate(dx.Length, nameof(dx), dy.Length, nameof(dy), g, s0, s1);
        Checks.Length(argmax.Length, (long)s1 * g.OutputSize, nameof(argmax));
        ScatterToArgmax(dy, argmax, dx, g.InputSize, g.OutputSize, s0, s1);
    }

    /// <summary>y = mean over the in-bounds elements of each window (padding is not counted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AvgForward<TIsa>(ReadOnlySpan<float> x, Span<float> y, in PoolGeometry g, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        Validate(x.Length, nameof(x), y.Length, nameof(y), g, s0, s1);
        AvgPixels<TIsa>(x, y, g, s0 * g.OutHeight * g.OutWidth, s1 * g.OutHeight * g.OutWidth, 0);
    }

    /// <summary>
    /// <see cref="AvgForward{TIsa}"/> for the output pixels [p0, p1) only, p = (sample·OutHeight + oy)·OutWidth + ox;
    /// <c>border</c> as for <see cref="MaxForwardPixels{TIsa}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AvgForwardPixels<TIsa>(ReadOnlySpan<float> x, Span<float> y, in PoolGeometry g, int p0, int p1, int border = 0)
        where TIsa : struct, ISimdPath
    {
        ValidatePixels(x.Length, y.Length, g, p0, p1, border);
        AvgPixels<TIsa>(x, y, g, p0, p1, border);
    }

    private static void AvgPixels<TIsa>(ReadOnlySpan<float> x, Span<float> y, in PoolGeometry g, int p0, int p1, int border)
        where TIsa : struct, ISimdPath
    {
        ref float xs0 = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int c = g.Channels, h = g.Height, w = g.Width, oh = g.OutHeight, ow = g.OutWidth;
        nint inSize = g.InputSize;
        for (int p = p0; p < p1;)
        {
            int q = p / ow, s = q / oh, oy = q - s * oh, end = Math.Min(p1, (q + 1) * ow);
            ref float xs = ref Unsafe.Add(ref xs0, s * inSize);
            (int iy0, int iy1) = Window(oy, g.StrideH, g.PadH, g.SizeH, h);
            nint row = border == 0 ? (nint)q * ow * c : (((nint)s * (oh + 2 * border) + oy + border) * (ow + 2 * border) + border) * c;
            for (int ox = p - q * ow; p < end; p++, ox++)
            {
                (int ix0, int ix1) = Window(ox, g.StrideW, g.PadW, g.SizeW, w);
                float inv = 1f / ((iy1 - iy0) * (ix1 - ix0));
                SumRun<TIsa>(ref xs, ref Unsafe.Add(ref py, row + (nint)ox * c), inv, c, w, iy0, iy1, ix0, ix1);
            }
        }
    }

    /// <summary>dx for samples [s0, s1) := Σ over the windows containing each element of dy/count (overwrites).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AvgBackward<TIsa>(ReadOnlySpan<float> dy, Span<float> dx, in PoolGeometry g, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        Validate(dx.Length, nameof(dx), dy.Length, nameof(dy), g, s0, s1);
        var run = new AvgBackwardRun { Dy = dy, Dx = dx, G = g, S0 = s0, S1 = s1 };
        VectorPath.Run<TIsa, AvgBackwardRun>(ref run);
    }

    private static void AvgBackward<TO, TV>(ReadOnlySpan<float> dy, Span<float> dx, in PoolGeometry g, int s0, int s1)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        ChannelRuns.ClearSamples(dx, g.InputSize, s0, s1);
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref float dx0 = ref MemoryMarshal.GetReference(dx);
        int c = g.Channels, h = g.Height, w = g.Width, oh = g.OutHeight, ow = g.OutWidth;
        nint inSize = g.InputSize;
        for (int s = s0; s < s1; s++)
        {
            ref float dxs = ref Unsafe.Add(ref dx0, s * inSize);
            for (int oy = 0; oy < oh; oy++)
            {
                (int iy0, int iy1) = Window(oy, g.StrideH, g.PadH, g.SizeH, h);
                for (int ox = 0; ox < ow; ox++)
                {
                    (int ix0, int ix1) = Window(ox, g.StrideW, g.PadW, g.SizeW, w);
                    float inv = 1f / ((iy1 - iy0) * (ix1 - ix0));
                    ref float d = ref Unsafe.Add(ref pdy, (((nint)s * oh + oy) * ow + ox) * c);
                    for (int iy = iy0; iy < iy1; iy++)
                        for (int ix = ix0; ix < ix1; ix++)
                            ChannelRuns.AddScaledInto<TO, TV>(ref d, inv, ref Unsafe.Add(ref dxs, ((nint)iy * w + ix) * c), c);
                }
            }
        }
    }

    /// <summary>y[s, c] = mean over the <paramref name="pixels"/> pixels of x[s, p, c] (x: NHWC with H·W = pixels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAvgForward<TIsa>(ReadOnlySpan<float> x, Span<float> y, int channels, int pixels, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        ValidateGlobal(x.Length, nameof(x), y.Length, nameof(y), channels, pixels, s0, s1);
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        float inv = 1f / pixels;
        nint inSize = (nint)channels * pixels;
        // One window covering the whole sample, seen as a 1×pixels image.
        for (int s = s0; s < s1; s++)
            SumRun<TIsa>(ref Unsafe.Add(ref px, s * inSize), ref Unsafe.Add(ref py, (nint)s * channels), inv, channels, pixels, 0, 1, 0, pixels);
    }

    /// <summary>dx[s, p, c] = dy[s, c] / pixels for samples [s0, s1) (overwrites).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAvgBackward<TIsa>(ReadOnlySpan<float> dy, Span<float> dx, int channels, int pixels, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        ValidateGlobal(dx.Length, nameof(dx), dy.Length, nameof(dy), channels, pixels, s0, s1);
        var run = new GlobalAvgBackwardRun { Dy = dy, Dx = dx, Channels = channels, Pixels = pixels, S0 = s0, S1 = s1 };
        VectorPath.Run<TIsa, GlobalAvgBackwardRun>(ref run);
    }

    private static void GlobalAvgBackward<TO, TV>(ReadOnlySpan<float> dy, Span<float> dx, int channels, int pixels, int s0, int s1)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref float pdx = ref MemoryMarshal.GetReference(dx);
        float inv = 1f / pixels;
        for (int s = s0; s < s1; s++)
        {
            ref float d = ref Unsafe.Add(ref pdy, (nint)s * channels);
            ref float dxs = ref Unsafe.Add(ref pdx, (nint)s * channels * pixels);
            for (int p = 0; p < pixels; p++) ChannelRuns.CopyScaled<TO, TV>(ref d, inv, ref Unsafe.Add(ref dxs, (nint)p * channels), channels);
        }
    }

    /// <summary>The input rows [lo, hi) of output row <paramref name="o"/>'s window, clipped to [0, size).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (int Lo, int Hi) Window(int o, int stride, int pad, int window, int size)
    {
        int start = o * stride - pad;
        return (Math.Max(start, 0), Math.Min(start + window, size));
    }

    /// <summary>dx samples [s0, s1) := 0, then dx[s·inSize + argmax[s·outSize + o]] += dy[s·outSize + o].</summary>
    internal static void ScatterToArgmax(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, int inSize, int outSize, int s0, int s1)
    {
        ChannelRuns.ClearSamples(dx, inSize, s0, s1);
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref int pa = ref MemoryMarshal.GetReference(argmax);
        ref float pdx = ref MemoryMarshal.GetReference(dx);
        for (int s = s0; s < s1; s++)
        {
            nint o0 = (nint)s * outSize;
            ref float dxs = ref Unsafe.Add(ref pdx, (nint)s * inSize);
            for (int o = 0; o < outSize; o++)
            {
                int i = Unsafe.Add(ref pa, o0 + o);
                // A stale or foreign argmax buffer must not write outside its sample.
                if ((uint)i >= (uint)inSize)
                    throw new ArgumentException($"argmax[{o0 + o}] = {i} is outside the sample's {inSize} inputs (was it written by the matching forward?).", nameof(argmax));
                Unsafe.Add(ref dxs, i) += Unsafe.Add(ref pdy, o0 + o);
            }
        }
    }

    /// <summary>
    /// One output pixel's max (and argmax) over the window [iy0, iy1)×[ix0, ix1) for all channels:
    /// full vectors of the path, then 128-bit lanes, then scalars for the channel tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MaxRun<TIsa>(ref float xs, ref float y, ref int arg, bool withArg, int channels, int width, int iy0, int iy1, int ix0, int ix1)
        where TIsa : struct, ISimdPath
    {
        int c = 0;
        if (VectorPath.Lanes<TIsa>() == 16) c = MaxChunks<Ops512, Vector512<float>, ArgMax512, Vector512<int>>(ref xs, ref y, ref arg, withArg, c, channels, width, iy0, iy1, ix0, ix1);
        else if (VectorPath.Lanes<TIsa>() == 8) c = MaxChunks<Ops256, Vector256<float>, ArgMax256, Vector256<int>>(ref xs, ref y, ref arg, withArg, c, channels, width, iy0, iy1, ix0, ix1);
        if (c == channels) return;   // no channel tail (16, 32, ... channels)
        c = MaxChunks<Ops128, Vector128<float>, ArgMax128, Vector128<int>>(ref xs, ref y, ref arg, withArg, c, channels, width, iy0, iy1, ix0, ix1);
        MaxChunks<OpsScalar, float, ArgMaxScalar, int>(ref xs, ref y, ref arg, withArg, c, channels, width, iy0, iy1, ix0, ix1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MaxChunks<TO, TV, TA, TI>(ref float xs, ref float y, ref int arg, bool withArg, int c, int channels, int width, int iy0, int iy1, int ix0, int ix1)
        where TO : struct, IVectorOps<TV> where TV : struct where TA : struct, IArgMaxLanes<TV, TI> where TI : struct
    {
        int w = TO.Count;
        for (; c + w <= channels; c += w)
        {
            int first = (iy0 * width + ix0) * channels + c;
            TV best = TO.Load(ref xs, first);
            if (withArg)
            {
                TI bestAt = TA.Indices(first);
                for (int iy = iy0; iy < iy1; iy++)
                    for (int ix = ix0; ix < ix1; ix++)
                    {
                        int i = (iy * width + ix) * channels + c;
                        TA.Update(ref best, ref bestAt, TO.Load(ref xs, i), i);
                    }
                TA.StoreIndices(bestAt, ref arg, c);
            }
            else
            {
                for (int iy = iy0; iy < iy1; iy++)
                    for (int ix = ix0; ix < ix1; ix++)
                        best = TA.KeepGreater(best, TO.Load(ref xs, (iy * width + ix) * channels + c));
            }
            TO.Store(best, ref y, c);
        }
        return c;
    }

    /// <summary>One output pixel's scale·Σ over the window [iy0, iy1)×[ix0, ix1) for all channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SumRun<TIsa>(ref float xs, ref float y, float scale, int channels, int width, int iy0, int iy1, int ix0, int ix1)
        where TIsa : struct, ISimdPath
    {
        int c = 0;
        if (VectorPath.Lanes<TIsa>() == 16) c = SumChunks<Ops512, Vector512<float>>(ref xs, ref y, scale, c, channels, width, iy0, iy1, ix0, ix1);
        else if (VectorPath.Lanes<TIsa>() == 8) c = SumChunks<Ops256, Vector256<float>>(ref xs, ref y, scale, c, channels, width, iy0, iy1, ix0, ix1);
        if (c == channels) return;
        c = SumChunks<Ops128, Vector128<float>>(ref xs, ref y, scale, c, channels, width, iy0, iy1, ix0, ix1);
        SumChunks<OpsScalar, float>(ref xs, ref y, scale, c, channels, width, iy0, iy1, ix0, ix1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SumChunks<TO, TV>(ref float xs, ref float y, float scale, int c, int channels, int width, int iy0, int iy1, int ix0, int ix1)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count;
        for (; c + w <= channels; c += w)
        {
            TV acc = TO.Zero;
            for (int iy = iy0; iy < iy1; iy++)
                for (int ix = ix0; ix < ix1; ix++)
                    acc = TO.Add(acc, TO.Load(ref xs, (iy * width + ix) * channels + c));
            TO.Store(TO.Mul(acc, TO.Splat(scale)), ref y, c);
        }
        return c;
    }

    private static void Validate(int inputLength, string inputName, int outputLength, string outputName, in PoolGeometry g, int s0, int s1)
    {
        g.Validate(nameof(g));
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        Checks.Length(inputLength, (long)s1 * g.InputSize, inputName);
        Checks.Length(outputLength, (long)s1 * g.OutputSize, outputName);
    }

    private static void ValidatePixels(int inputLength, int outputLength, in PoolGeometry g, int p0, int p1, int border)
    {
        g.Validate(nameof(g));
        Checks.Range(p0, p1, int.MaxValue, nameof(p0), nameof(p1));
        Checks.NonNegative(border, nameof(border));
        long perSample = (long)g.OutHeight * g.OutWidth, samples = (p1 + perSample - 1) / perSample;
        Checks.Length(inputLength, samples * g.InputSize, "x");
        long bordered = (long)(g.OutHeight + 2 * border) * (g.OutWidth + 2 * border) * g.Channels;
        Checks.Length(outputLength, border == 0 ? (long)p1 * g.Channels : samples * bordered, "y");
    }

    private static void ValidateGlobal(int inputLength, string inputName, int outputLength, string outputName, int channels, int pixels, int s0, int s1)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Global pooling needs at least one channel.");
        if (pixels < 1) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "Global pooling needs at least one pixel.");
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        Checks.Length(inputLength, (long)s1 * channels * pixels, inputName);
        Checks.Length(outputLength, (long)s1 * channels, outputName);
    }

    /// <summary>AvgBackward's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct AvgBackwardRun : IVectorKernel
    {
        public ReadOnlySpan<float> Dy;
        public Span<float> Dx;
        public PoolGeometry G;
        public int S0;
        public int S1;

        int IVectorKernel.Run<TO, TV>()
        {
            AvgBackward<TO, TV>(Dy, Dx, in G, S0, S1);
            return 0;
        }
    }

    /// <summary>GlobalAvgBackward's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct GlobalAvgBackwardRun : IVectorKernel
    {
        public ReadOnlySpan<float> Dy;
        public Span<float> Dx;
        public int Channels;
        public int Pixels;
        public int S0;
        public int S1;

        int IVectorKernel.Run<TO, TV>()
        {
            GlobalAvgBackward<TO, TV>(Dy, Dx, Channels, Pixels, S0, S1);
            return 0;
        }
    }
}
