using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// The weight gradient of a shallow convolution (few input channels, a kernel row of at most a few dozen floats) in
/// training, without a patch matrix: dL/dW[(ky·Kw + kx)·C + c, j] = Σ over output pixels of image(pixel, tap) ·
/// dL/dy[pixel, j], read straight from the zero-bordered input (<see cref="DirectConv.Pad"/>'s layout, or the input
/// itself without padding) and dL/dy. The forward pass of such a layer is <see cref="ShallowConv.Forward{TIsa, TEpi}"/>.
/// </summary>
/// <remarks>
/// <para>Per sample and vector of output channels (the filters on the lanes), a group of taps keeps one accumulator per
/// tap in registers over all the sample's output pixels: per pixel one load of dL/dy's vector and one broadcast FMA per
/// tap. A 5×5 one-channel kernel is one group of 25 zmm accumulators on AVX-512 (26 at most, beside dL/dy's vector);
/// with 16 vector registers (AVX2, portable) groups hold at most 12 taps (5×5: kernel rows 2 + 2 + 1). The taps of one
/// kernel row are consecutive floats of the image (dilation 1), so every tap is one constant offset from a row pointer.</para>
/// <para>Each sample's sums go to its own slot of <c>partial</c>; <see cref="SumSamples{TIsa}"/> adds the slots in
/// sample order. The result therefore does not depend on how samples are split across threads (bit-identical for any
/// thread count), and no patch matrix is written: per sample the kernel reads its image (28×28 → 32×32 floats) and
/// dL/dy once per group, against im2col's 784 × 25 patch floats written and read back.</para>
/// </remarks>
public static unsafe class ShallowConvTraining
{
    /// <summary>Most taps one group accumulates in registers beside dL/dy's vector and dL/db's sum: 26 of AVX-512's 32 zmm, 12 of 16 ymm/xmm.</summary>
    private static int MaxTaps(int lanes) => lanes == 16 ? 26 : 12;

    /// <summary>Most kernel rows of one group (one row pointer offset each).</summary>
    private const int MaxGroupRows = 8;

    /// <summary>
    /// For samples [s0, s1): partial[s·size + t·n + j] = Σ_(pixels of sample s) image(s, pixel, t) · dy[s, pixel, j],
    /// t = (ky·Kw + kx)·C + c the im2col patch order (the weights' row order), and with <paramref name="bias"/> one more
    /// row t = PatchSize holding Σ_(pixels) dy[s, pixel, j] (dL/db, summed from the same loads of dy); size = (PatchSize + 1
    /// with bias) · n. <paramref name="padded"/>: the samples' zero-bordered images (<see cref="DirectConv.PaddedSize"/>
    /// floats each); <paramref name="dy"/>: dL/dy, OutPixels × n per sample. Every float of those samples' slots is
    /// written. Needs dilation 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardWeights<TIsa>(ReadOnlySpan<float> padded, ReadOnlySpan<float> dy, Span<float> partial, in ConvGeometry g, int n, bool bias, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        g.Validate(nameof(g));
        if (g.DilationH != 1 || g.DilationW != 1)
            throw new ArgumentException($"{nameof(g)}: the shallow weight gradient needs dilation 1 (got {g.DilationH}×{g.DilationW}).", nameof(g));
        Checks.NonNegative(n, nameof(n));
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        Checks.Length(padded.Length, (long)s1 * DirectConv.PaddedSize(g), nameof(padded));
        Checks.Length(dy.Length, (long)s1 * g.OutPixels * n, nameof(dy));
        int rows = g.PatchSize + (bias ? 1 : 0);
        Checks.Length(partial.Length, (long)s1 * rows * n, nameof(partial));
        if (s0 == s1 || n == 0) return;
        var shape = new ShallowShape(g, n);
        int widest = VectorPath.Lanes<TIsa>();
        fixed (float* pp = padded, pd = dy, pw = partial)
        {
            for (int s = s0; s < s1; s++)
            {
                float* image = pp + (nint)s * shape.ImageSize;
                float* grad = pd + (nint)s * shape.Pixels * n;
                float* slot = pw + (nint)s * rows * n;
                int j = 0;
                if (widest == 16)
                    for (; j + 16 <= n; j += 16) Strip<Vector512<float>, Ops512>(image, grad + j, slot + j, bias, shape);
                if (widest >= 8)
                    for (; j + 8 <= n; j += 8) Strip<Vector256<float>, Ops256>(image, grad + j, slot + j, bias, shape);
                for (; j + 4 <= n; j += 4) Strip<Vector128<float>, Ops128>(image, grad + j, slot + j, bias, shape);
                for (; j < n; j++) Column(image, grad + j, slot + j, bias, shape);
            }
        }
    }

    /// <summary>
    /// gradient[i − from] = Σ_(s &lt; samples) partial[s·size + i] for i in [from, to), the samples added in order (so the
    /// sum is the same however the elements are split across threads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumSamples<TIsa>(ReadOnlySpan<float> partial, Span<float> gradient, int samples, int size, int from, int to)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(samples, nameof(samples));
        Checks.NonNegative(size, nameof(size));
        Checks.Range(from, to, size, nameof(from), nameof(to));
        Checks.Length(partial.Length, (long)samples * size, nameof(partial));
        Checks.Length(gradient.Length, to - from, nameof(gradient));
        if (from == to) return;
        if (samples == 0)
        {
            gradient.Clear();
            return;
        }
        // The samples' slots are the blocks of one row: Gemm.SumParts adds them in sample order, element by element.
        NoEpilogue none = default;
        Gemm.SumParts<TIsa, NoEpilogue>(partial[from..], samples, size, gradient, 1, to - from, none);
    }

    /// <summary>
    /// One sample × one vector of output channels: the taps cut into groups that fit the register file (near-equal column
    /// segments of a kernel row, then near-equal runs of kernel rows), each group one pass over the sample's pixels.
    /// </summary>
    private static void Strip<TV, TOps>(float* image, float* dy, float* slot, bool bias, in ShallowShape s)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        // dL/db rides on the first group (its row follows the taps' rows).
        float* biasRow = bias ? slot + (nint)s.Taps * s.N : null;
        int maxTaps = MaxTaps(TOps.Count);
        int segments = (s.RowTaps + Math.Min(16, maxTaps) - 1) / Math.Min(16, maxTaps);
        for (int q = 0, c0 = 0; q < segments; q++)
        {
            int tw = s.RowTaps / segments + (q < s.RowTaps % segments ? 1 : 0);
            int maxRows = Math.Min(MaxGroupRows, Math.Max(1, maxTaps / tw));
            int groups = (s.KernelH + maxRows - 1) / maxRows;
            for (int r = 0, r0 = 0; r < groups; r++)
            {
                int tr = s.KernelH / groups + (r < s.KernelH % groups ? 1 : 0);
                Group<TV, TOps>(tw, tr, image + r0 * s.KyStep + c0, dy, slot + (nint)(r0 * s.RowTaps + c0) * s.N, biasRow, s);
                biasRow = null;
                r0 += tr;
            }
            c0 += tw;
        }
    }

    private static void Group<TV, TOps>(int tw, int tr, float* a, float* dy, float* w, float* b, in ShallowShape s)
        where TV : struct where TOps : struct, IVectorOps<TV>
    {
        switch (tw)
        {
            case 1: Rows<TV, TOps, R1>(tr, a, dy, w, b, s); break;
            case 2: Rows<TV, TOps, R2>(tr, a, dy, w, b, s); break;
            case 3: Rows<TV, TOps, R3>(tr, a, dy, w, b, s); break;
            case 4: Rows<TV, TOps, R4>(tr, a, dy, w, b, s); break;
            case 5: Rows<TV, TOps, R5>(tr, a, dy, w, b, s); break;
            case 6: Rows<TV, TOps, R6>(tr, a, dy, w, b, s); break;
            case 7: Rows<TV, TOps, R7>(tr, a, dy, w, b, s); break;
            case 8: Rows<TV, TOps, R8>(tr, a, dy, w, b, s); break;
            case 9: Rows<TV, TOps, R9>(tr, a, dy, w, b, s); break;
            case 10: Rows<TV, TOps, R10>(tr, a, dy, w, b, s); break;
            case 11: Rows<TV, TOps, R11>(tr, a, dy, w, b, s); break;
            case 12: Rows<TV, TOps, R12>(tr, a, dy, w, b, s); break;
            case 13: Rows<TV, TOps, R13>(tr, a, dy, w, b, s); break;
            case 14: Rows<TV, TOps, R14>(tr, a, dy, w, b, s); break;
            case 15: Rows<TV, TOps, R15>(tr, a, dy, w, b, s); break;
            case 16: Rows<TV, TOps, R16>(tr, a, dy, w, b, s); break;
            default: throw new ArgumentOutOfRangeException(nameof(tw));
        }
    }

    private static void Rows<TV, TOps, TW>(int tr, float* a, float* dy, float* w, float* b, in ShallowShape s)
        where TV : struct where TOps : struct, IVectorOps<TV> where TW : struct, ITileRows
    {
        if (tr * TW.Value > MaxTaps(TOps.Count)) throw new ArgumentOutOfRangeException(nameof(tr));
        switch (tr)
        {
            case 1: Run<TV, TOps, TW, R1>(a, dy, w, b, s); break;
            case 2: Run<TV, TOps, TW, R2>(a, dy, w, b, s); break;
            case 3: Run<TV, TOps, TW, R3>(a, dy, w, b, s); break;
            case 4: Run<TV, TOps, TW, R4>(a, dy, w, b, s); break;
            case 5: Run<TV, TOps, TW, R5>(a, dy, w, b, s); break;
            case 6: Run<TV, TOps, TW, R6>(a, dy, w, b, s); break;
            case 7: Run<TV, TOps, TW, R7>(a, dy, w, b, s); break;
            case 8: Run<TV, TOps, TW, R8>(a, dy, w, b, s); break;
            default: throw new ArgumentOutOfRangeException(nameof(tr));
        }
    }

    /// <summary>The kernel with dL/db summed alongside (<paramref name="b"/> not null) or not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<TV, TOps, TW, TR>(float* a, float* dy, float* w, float* b, in ShallowShape s)
        where TV : struct where TOps : struct, IVectorOps<TV> where TW : struct, ITileRows where TR : struct, ITileRows
    {
        if (b is null) Kernel<TV, TOps, TW, TR, NoBias>(a, dy, w, b, s);
        else Kernel<TV, TOps, TW, TR, WithBias>(a, dy, w, b, s);
    }

    /// <summary>Whether a kernel also sums dL/dy itself (dL/db).</summary>
    private interface IBiasRow { static abstract bool Value { get; } }
    private readonly struct WithBias : IBiasRow { public static bool Value => true; }
    private readonly struct NoBias : IBiasRow { public static bool Value => false; }

    /// <summary>
    /// TR kernel rows × TW consecutive taps of each (A = TR·TW ≤ 26 accumulators, one vector of output channels each),
    /// summed over every output pixel of one sample; written to the sample's slot (rows of <see cref="ShallowShape.N"/> floats),
    /// and with TB the sum of dL/dy's vectors to <paramref name="b"/>.
    /// No calls inside, so the register allocator keeps every accumulator in a register through the pixel loops.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TV, TOps, TW, TR, TB>(float* a, float* dy, float* w, float* b, in ShallowShape s)
        where TV : struct where TOps : struct, IVectorOps<TV> where TW : struct, ITileRows where TR : struct, ITileRows where TB : struct, IBiasRow
    {
        TV sum = default;
        int A = TR.Value * TW.Value;
        TV c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default, c12 = default;
        TV c13 = default, c14 = default, c15 = default, c16 = default, c17 = default, c18 = default, c19 = default, c20 = default, c21 = default, c22 = default, c23 = default, c24 = default, c25 = default;
        nint o1 = s.KyStep, o2 = 2 * o1, o3 = 3 * o1, o4 = 4 * o1, o5 = 5 * o1, o6 = 6 * o1, o7 = 7 * o1;
        nint ps = s.PixelStep, ldw = s.N;
        int width = s.RowTaps;
        for (int oy = 0; oy < s.OutHeight; oy++)
        {
            float* x = a + oy * s.RowStep;
            float* g = dy + (nint)oy * s.OutWidth * ldw;
            for (int ox = 0; ox < s.OutWidth; ox++, x += ps, g += ldw)
            {
                TV d = TOps.Load(ref *g, 0);
                if (TB.Value) sum = TOps.Add(sum, d);
                c0 = TOps.Fma(TOps.Splat(x[Tap<TW>(0, o1, o2, o3, o4, o5, o6, o7)]), d, c0);
                if (A > 1) c1 = TOps.Fma(TOps.Splat(x[Tap<TW>(1, o1, o2, o3, o4, o5, o6, o7)]), d, c1);
                if (A > 2) c2 = TOps.Fma(TOps.Splat(x[Tap<TW>(2, o1, o2, o3, o4, o5, o6, o7)]), d, c2);
                if (A > 3) c3 = TOps.Fma(TOps.Splat(x[Tap<TW>(3, o1, o2, o3, o4, o5, o6, o7)]), d, c3);
                if (A > 4) c4 = TOps.Fma(TOps.Splat(x[Tap<TW>(4, o1, o2, o3, o4, o5, o6, o7)]), d, c4);
                if (A > 5) c5 = TOps.Fma(TOps.Splat(x[Tap<TW>(5, o1, o2, o3, o4, o5, o6, o7)]), d, c5);
                if (A > 6) c6 = TOps.Fma(TOps.Splat(x[Tap<TW>(6, o1, o2, o3, o4, o5, o6, o7)]), d, c6);
                if (A > 7) c7 = TOps.Fma(TOps.Splat(x[Tap<TW>(7, o1, o2, o3, o4, o5, o6, o7)]), d, c7);
                if (A > 8) c8 = TOps.Fma(TOps.Splat(x[Tap<TW>(8, o1, o2, o3, o4, o5, o6, o7)]), d, c8);
                if (A > 9) c9 = TOps.Fma(TOps.Splat(x[Tap<TW>(9, o1, o2, o3, o4, o5, o6, o7)]), d, c9);
                if (A > 10) c10 = TOps.Fma(TOps.Splat(x[Tap<TW>(10, o1, o2, o3, o4, o5, o6, o7)]), d, c10);
                if (A > 11) c11 = TOps.Fma(TOps.Splat(x[Tap<TW>(11, o1, o2, o3, o4, o5, o6, o7)]), d, c11);
                if (A > 12) c12 = TOps.Fma(TOps.Splat(x[Tap<TW>(12, o1, o2, o3, o4, o5, o6, o7)]), d, c12);
                if (A > 13) c13 = TOps.Fma(TOps.Splat(x[Tap<TW>(13, o1, o2, o3, o4, o5, o6, o7)]), d, c13);
                if (A > 14) c14 = TOps.Fma(TOps.Splat(x[Tap<TW>(14, o1, o2, o3, o4, o5, o6, o7)]), d, c14);
                if (A > 15) c15 = TOps.Fma(TOps.Splat(x[Tap<TW>(15, o1, o2, o3, o4, o5, o6, o7)]), d, c15);
                if (A > 16) c16 = TOps.Fma(TOps.Splat(x[Tap<TW>(16, o1, o2, o3, o4, o5, o6, o7)]), d, c16);
                if (A > 17) c17 = TOps.Fma(TOps.Splat(x[Tap<TW>(17, o1, o2, o3, o4, o5, o6, o7)]), d, c17);
                if (A > 18) c18 = TOps.Fma(TOps.Splat(x[Tap<TW>(18, o1, o2, o3, o4, o5, o6, o7)]), d, c18);
                if (A > 19) c19 = TOps.Fma(TOps.Splat(x[Tap<TW>(19, o1, o2, o3, o4, o5, o6, o7)]), d, c19);
                if (A > 20) c20 = TOps.Fma(TOps.Splat(x[Tap<TW>(20, o1, o2, o3, o4, o5, o6, o7)]), d, c20);
                if (A > 21) c21 = TOps.Fma(TOps.Splat(x[Tap<TW>(21, o1, o2, o3, o4, o5, o6, o7)]), d, c21);
                if (A > 22) c22 = TOps.Fma(TOps.Splat(x[Tap<TW>(22, o1, o2, o3, o4, o5, o6, o7)]), d, c22);
                if (A > 23) c23 = TOps.Fma(TOps.Splat(x[Tap<TW>(23, o1, o2, o3, o4, o5, o6, o7)]), d, c23);
                if (A > 24) c24 = TOps.Fma(TOps.Splat(x[Tap<TW>(24, o1, o2, o3, o4, o5, o6, o7)]), d, c24);
                if (A > 25) c25 = TOps.Fma(TOps.Splat(x[Tap<TW>(25, o1, o2, o3, o4, o5, o6, o7)]), d, c25);
            }
        }
        if (TB.Value) TOps.Store(sum, ref *b, 0);
        TOps.Store(c0, ref *w, Slot<TW>(0, width) * ldw);
        if (A > 1) TOps.Store(c1, ref *w, Slot<TW>(1, width) * ldw);
        if (A > 2) TOps.Store(c2, ref *w, Slot<TW>(2, width) * ldw);
        if (A > 3) TOps.Store(c3, ref *w, Slot<TW>(3, width) * ldw);
        if (A > 4) TOps.Store(c4, ref *w, Slot<TW>(4, width) * ldw);
        if (A > 5) TOps.Store(c5, ref *w, Slot<TW>(5, width) * ldw);
        if (A > 6) TOps.Store(c6, ref *w, Slot<TW>(6, width) * ldw);
        if (A > 7) TOps.Store(c7, ref *w, Slot<TW>(7, width) * ldw);
        if (A > 8) TOps.Store(c8, ref *w, Slot<TW>(8, width) * ldw);
        if (A > 9) TOps.Store(c9, ref *w, Slot<TW>(9, width) * ldw);
        if (A > 10) TOps.Store(c10, ref *w, Slot<TW>(10, width) * ldw);
        if (A > 11) TOps.Store(c11, ref *w, Slot<TW>(11, width) * ldw);
        if (A > 12) TOps.Store(c12, ref *w, Slot<TW>(12, width) * ldw);
        if (A > 13) TOps.Store(c13, ref *w, Slot<TW>(13, width) * ldw);
        if (A > 14) TOps.Store(c14, ref *w, Slot<TW>(14, width) * ldw);
        if (A > 15) TOps.Store(c15, ref *w, Slot<TW>(15, width) * ldw);
        if (A > 16) TOps.Store(c16, ref *w, Slot<TW>(16, width) * ldw);
        if (A > 17) TOps.Store(c17, ref *w, Slot<TW>(17, width) * ldw);
        if (A > 18) TOps.Store(c18, ref *w, Slot<TW>(18, width) * ldw);
        if (A > 19) TOps.Store(c19, ref *w, Slot<TW>(19, width) * ldw);
        if (A > 20) TOps.Store(c20, ref *w, Slot<TW>(20, width) * ldw);
        if (A > 21) TOps.Store(c21, ref *w, Slot<TW>(21, width) * ldw);
        if (A > 22) TOps.Store(c22, ref *w, Slot<TW>(22, width) * ldw);
        if (A > 23) TOps.Store(c23, ref *w, Slot<TW>(23, width) * ldw);
        if (A > 24) TOps.Store(c24, ref *w, Slot<TW>(24, width) * ldw);
        if (A > 25) TOps.Store(c25, ref *w, Slot<TW>(25, width) * ldw);
    }

    /// <summary>The offset of accumulator k's tap from the group's first: kernel row k / TW (a row pointer offset), tap k % TW in it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint Tap<TW>(int k, nint o1, nint o2, nint o3, nint o4, nint o5, nint o6, nint o7) where TW : struct, ITileRows
    {
        int row = k / TW.Value;
        nint offset = row == 0 ? 0 : row == 1 ? o1 : row == 2 ? o2 : row == 3 ? o3 : row == 4 ? o4 : row == 5 ? o5 : row == 6 ? o6 : o7;
        return offset + k % TW.Value;
    }

    /// <summary>The slot row (tap index from the group's first) of accumulator k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint Slot<TW>(int k, int width) where TW : struct, ITileRows => (nint)(k / TW.Value) * width + k % TW.Value;

    /// <summary>One output channel (the last ones when fewer than 4 are left): every tap's sum (and dL/db's), one float at a time.</summary>
    private static void Column(float* image, float* dy, float* slot, bool bias, in ShallowShape s)
    {
        if (bias)
        {
            float sum = 0;
            for (int p = 0; p < s.Pixels; p++) sum += dy[(nint)p * s.N];
            slot[(nint)s.Taps * s.N] = sum;
        }
        for (int ky = 0; ky < s.KernelH; ky++)
            for (int t = 0; t < s.RowTaps; t++)
            {
                float sum = 0;
                for (int oy = 0; oy < s.OutHeight; oy++)
                {
                    float* x = image + oy * s.RowStep + ky * s.KyStep + t;
                    float* g = dy + (nint)oy * s.OutWidth * s.N;
                    for (int ox = 0; ox < s.OutWidth; ox++) sum += x[ox * s.PixelStep] * g[(nint)ox * s.N];
                }
                slot[(nint)(ky * s.RowTaps + t) * s.N] = sum;
            }
    }
}
