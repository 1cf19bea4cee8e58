using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels;

/// <summary>
/// Convolution for shallow kernels at small batches (a one-channel image's first layer): a tile of output pixels
/// keeps its output channels in registers through every tap (ky, kx, c) of the kernel, each tap one broadcast of
/// the input and one FMA per pixel. Reads the same zero-bordered NHWC image as <see cref="DirectConv"/> and writes
/// the same NHWC output.
/// </summary>
/// <remarks>
/// <para>The implicit GEMM of <see cref="DirectConv"/> makes one micro-kernel call per kernel row, Kw·C floats deep;
/// for C = 1 that is 5 multiply-adds per call, and the calls' set-up and partial-sum traffic dominate. im2col + GEMM
/// writes and re-reads a patch matrix Kh·Kw times the image. Here up to 16 pixels (12 with 16 vector registers) × one
/// vector of output channels stay in registers for all Kh·Kw·C taps: per tap one load of the weight vector and one
/// broadcast FMA per pixel. Tiles that tall keep enough independent FMA chains in flight to hide the FMA latency
/// (25 taps of 8 pixels would be latency-bound).</para>
/// <para>Each output row segment is cut into near-equal tiles (28 pixels: 14 + 14 on AVX-512), so no pixel is
/// computed twice. The output channels go in the widest vectors that fit, then narrower ones (24 on AVX-512: 16 + 8);
/// fewer than 4 left over are summed one float at a time.</para>
/// </remarks>
public static unsafe class ShallowConv
{
    /// <summary>
    /// Output rows [r0, r1) of the convolution, a row being one (sample, pixel) pair (row = sample·OutPixels +
    /// oy·OutWidth + ox): y[row, j] = epi(Σ_(ky,kx,c) image(row)·w[(ky·Kw + kx)·C + c, j], j) for j &lt; n, reading
    /// <paramref name="padded"/> in <see cref="DirectConv.Pad"/>'s layout (the input itself when the geometry has no
    /// padding). w: PatchSize × n, the im2col GEMM's weights.
    /// </summary>
    public static void Forward<TIsa, TEpi>(ReadOnlySpan<float> padded, ReadOnlySpan<float> w, Span<float> y, in ConvGeometry g, int n,
        int r0, int r1, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        DirectConv.ValidateForward(padded.Length, w.Length, y.Length, g, n, r0, r1);
        if (r0 == r1 || n == 0) return;
        TEpi e = epi;
        var shape = new ShallowShape(g, n);
        // The widest vector first, then narrower ones for the output channels left over (n = 24 on AVX-512: one zmm and
        // one ymm strip), the last few channels one float at a time.
        int widest = VectorPath.Lanes<TIsa>();
        fixed (float* pp = padded, pw = w, py = y)
        {
            int r = r0;
            while (r < r1)
            {
                int sample = r / shape.Pixels, pixel = r - sample * shape.Pixels, oy = pixel / shape.OutWidth, ox = pixel - oy * shape.OutWidth;
                int count = Math.Min(r1 - r, shape.OutWidth - ox);   // the rest of this output row (within the range)
                float* image = pp + sample * shape.ImageSize + oy * shape.RowStep + ox * shape.PixelStep;
                float* output = py + (nint)r * n;
                int j = 0;
                if (widest == 16)
                    for (; j + 16 <= n; j += 16) Strip<Vector512<float>, Ops512, TEpi>(image, pw + j, output + j, count, shape, j, ref e);
                if (widest >= 8)
                    for (; j + 8 <= n; j += 8) Strip<Vector256<float>, Ops256, TEpi>(image, pw + j, output + j, count, shape, j, ref e);
                for (; j + 4 <= n; j += 4) Strip<Vector128<float>, Ops128, TEpi>(image, pw + j, output + j, count, shape, j, ref e);
                for (; j < n; j++)
                    for (int m = 0; m < count; m++)
                        output[(nint)m * n + j] = e.Apply(Dot(image + m * shape.PixelStep, pw + j, shape), j);
                r += count;
            }
        }
    }

    /// <summary>
    /// <paramref name="count"/> consecutive output pixels of one row × one vector of output channels (starting at
    /// <paramref name="col"/>), in near-equal tiles of at most MaxTile pixels: 28 → 14 + 14 (16 accumulators), 10 + 9 + 9 (12).
    /// </summary>
    private static void Strip<TV, TOps, TEpi>(float* image, float* w, float* y, int count, in ShallowShape s, int col, ref TEpi e)
        where TV : struct where TOps : struct, IVectorOps<TV> where TEpi : IEpilogue, allows ref struct
    {
        int maxTile = MaxTile(TOps.Count);
        int tiles = (count + maxTile - 1) / maxTile, size = count / tiles, taller = count - size * tiles;
        for (int t = 0, m = 0; t < tiles; t++)
        {
            int rows = t < taller ? size + 1 : size;
            Tile<TV, TOps, TEpi>(rows, image + m * s.PixelStep, w, y + (nint)m * s.N, s, col, ref e);
            m += rows;
        }
    }

    private static void Tile<TV, TOps, TEpi>(int rows, float* a, float* w, float* y, in ShallowShape s, int col, ref TEpi e)
        where TV : struct where TOps : struct, IVectorOps<TV> where TEpi : IEpilogue, allows ref struct
    {
        switch (rows)
        {
            case 1: Run<TV, TOps, R1>(a, w, y, s); break;
            case 2: Run<TV, TOps, R2>(a, w, y, s); break;
            case 3: Run<TV, TOps, R3>(a, w, y, s); break;
            case 4: Run<TV, TOps, R4>(a, w, y, s); break;
            case 5: Run<TV, TOps, R5>(a, w, y, s); break;
            case 6: Run<TV, TOps, R6>(a, w, y, s); break;
            case 7: Run<TV, TOps, R7>(a, w, y, s); break;
            case 8: Run<TV, TOps, R8>(a, w, y, s); break;
            case 9: Run<TV, TOps, R9>(a, w, y, s); break;
            case 10: Run<TV, TOps, R10>(a, w, y, s); break;
            case 11: Run<TV, TOps, R11>(a, w, y, s); break;
            case 12: Run<TV, TOps, R12>(a, w, y, s); break;
            case 13: Run<TV, TOps, R13>(a, w, y, s); break;
            case 14: Run<TV, TOps, R14>(a, w, y, s); break;
            case 15: Run<TV, TOps, R15>(a, w, y, s); break;
            case 16: Run<TV, TOps, R16>(a, w, y, s); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows));
        }
        // The epilogue runs on the just-stored tile (still in L1), outside the register-blocked loop: it may call
        // (bounds-check throw helpers), which would make the tile spill its accumulators.
        if (typeof(TEpi) != typeof(NoEpilogue))
            for (int m = 0; m < rows; m++, y += s.N) TOps.Store(EpilogueOps.Apply(ref e, TOps.Load(ref *y, 0), col), ref *y, 0);
    }

    /// <summary>
    /// The tile for one input float per pixel step (one channel, stride 1: the first layer of an image model), where every
    /// pixel's input is a constant offset from the tile's (no address arithmetic per FMA), or for any step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run<TV, TOps, TR>(float* a, float* w, float* y, in ShallowShape s)
        where TV : struct where TOps : struct, IVectorOps<TV> where TR : struct, ITileRows
    {
        if (s.PixelStep == 1) Tile<TV, TOps, TR, UnitStep>(a, w, y, s);
        else Tile<TV, TOps, TR, AnyStep>(a, w, y, s);
    }

    /// <summary>Whether a pixel's input follows the previous pixel's by one float (then offsets fold to constants).</summary>
    private interface IPixelStep { static abstract bool Unit { get; } }
    private readonly struct UnitStep : IPixelStep { public static bool Unit => true; }
    private readonly struct AnyStep : IPixelStep { public static bool Unit => false; }

    /// <summary>
    /// TR pixels (consecutive in one output row) × one vector of output channels, all taps accumulated in registers.
    /// It contains no calls, so the register allocator keeps every accumulator in a register across the loops.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TV, TOps, TR, TP>(float* a, float* w, float* y, in ShallowShape s)
        where TV : struct where TOps : struct, IVectorOps<TV> where TR : struct, ITileRows where TP : struct, IPixelStep
    {
        TV c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        TV c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        nint ps = TP.Unit ? 1 : s.PixelStep, ldw = s.N;
        float* wt = w;
        for (int ky = 0; ky < s.KernelH; ky++)
            for (int kx = 0; kx < s.KernelW; kx++)
            {
                float* x = a + ky * s.KyStep + kx * s.KxStep;
                for (int c = 0; c < s.Channels; c++, wt += ldw, x++)
                {
                    TV b = TOps.Load(ref *wt, 0);
                    c0 = TOps.Fma(TOps.Splat(x[0]), b, c0);
                    if (TR.Value > 1) c1 = TOps.Fma(TOps.Splat(x[ps]), b, c1);
                    if (TR.Value > 2) c2 = TOps.Fma(TOps.Splat(x[2 * ps]), b, c2);
                    if (TR.Value > 3) c3 = TOps.Fma(TOps.Splat(x[3 * ps]), b, c3);
                    if (TR.Value > 4) c4 = TOps.Fma(TOps.Splat(x[4 * ps]), b, c4);
                    if (TR.Value > 5) c5 = TOps.Fma(TOps.Splat(x[5 * ps]), b, c5);
                    if (TR.Value > 6) c6 = TOps.Fma(TOps.Splat(x[6 * ps]), b, c6);
                    if (TR.Value > 7) c7 = TOps.Fma(TOps.Splat(x[7 * ps]), b, c7);
                    if (TR.Value > 8) c8 = TOps.Fma(TOps.Splat(x[8 * ps]), b, c8);
                    if (TR.Value > 9) c9 = TOps.Fma(TOps.Splat(x[9 * ps]), b, c9);
                    if (TR.Value > 10) c10 = TOps.Fma(TOps.Splat(x[10 * ps]), b, c10);
                    if (TR.Value > 11) c11 = TOps.Fma(TOps.Splat(x[11 * ps]), b, c11);
                    if (TR.Value > 12) c12 = TOps.Fma(TOps.Splat(x[12 * ps]), b, c12);
                    if (TR.Value > 13) c13 = TOps.Fma(TOps.Splat(x[13 * ps]), b, c13);
                    if (TR.Value > 14) c14 = TOps.Fma(TOps.Splat(x[14 * ps]), b, c14);
                    if (TR.Value > 15) c15 = TOps.Fma(TOps.Splat(x[15 * ps]), b, c15);
                }
            }
        nint ldy = s.N;
        TOps.Store(c0, ref *y, 0);
        if (TR.Value > 1) TOps.Store(c1, ref *y, ldy);
        if (TR.Value > 2) TOps.Store(c2, ref *y, 2 * ldy);
        if (TR.Value > 3) TOps.Store(c3, ref *y, 3 * ldy);
        if (TR.Value > 4) TOps.Store(c4, ref *y, 4 * ldy);
        if (TR.Value > 5) TOps.Store(c5, ref *y, 5 * ldy);
        if (TR.Value > 6) TOps.Store(c6, ref *y, 6 * ldy);
        if (TR.Value > 7) TOps.Store(c7, ref *y, 7 * ldy);
        if (TR.Value > 8) TOps.Store(c8, ref *y, 8 * ldy);
        if (TR.Value > 9) TOps.Store(c9, ref *y, 9 * ldy);
        if (TR.Value > 10) TOps.Store(c10, ref *y, 10 * ldy);
        if (TR.Value > 11) TOps.Store(c11, ref *y, 11 * ldy);
        if (TR.Value > 12) TOps.Store(c12, ref *y, 12 * ldy);
        if (TR.Value > 13) TOps.Store(c13, ref *y, 13 * ldy);
        if (TR.Value > 14) TOps.Store(c14, ref *y, 14 * ldy);
        if (TR.Value > 15) TOps.Store(c15, ref *y, 15 * ldy);
    }

    /// <summary>Σ over the taps for one pixel and one output channel (the last channels when fewer than 4 are left).</summary>
    private static float Dot(float* a, float* w, in ShallowShape s)
    {
        float sum = 0;
        for (int ky = 0; ky < s.KernelH; ky++)
            for (int kx = 0; kx < s.KernelW; kx++)
            {
                float* x = a + ky * s.KyStep + kx * s.KxStep;
                float* wr = w + (nint)(ky * s.KernelW + kx) * s.Channels * s.N;
                for (int c = 0; c < s.Channels; c++) sum += x[c] * wr[(nint)c * s.N];
            }
        return sum;
    }

    /// <summary>Most pixels per tile for a vector of <paramref name="lanes"/> floats: accumulators that fit the register file
    /// beside the weight vector (16 of AVX-512's 32 zmm; 12 of the 16 ymm/xmm registers, leaving room for the broadcast).</summary>
    private static int MaxTile(int lanes) => lanes == 16 ? 16 : 12;
}
