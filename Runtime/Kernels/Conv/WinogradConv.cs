using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels;

/// <summary>
/// Winograd convolution F(2×2, r×r) for 3×3 and 5×5 kernels (stride 1, no dilation), for inference: each 2×2 block of
/// output pixels (a tile) is computed from a (r+1)×(r+1) block of the zero-bordered NHWC input with (r+1)² multiplies
/// per input channel and output channel instead of 4·r² (5×5: 36 against 100, 3×3: 16 against 36).
/// </summary>
/// <remarks>
/// <para>With T = r + 1, the output tile is Y = Aᵀ·[Σ_c (G·g_c·Gᵀ) ⊙ (Bᵀ·d_c·B)]·A (Lavin &amp; Gray's minimal filtering,
/// the Toom-Cook construction on the points 0, ±1 (and ±2 for 5×5) and ∞). The weight transform U = G·g·Gᵀ is done once
/// per weight change (<see cref="TransformWeights"/>, in double). Per block of up to six tiles (anywhere in the batch), the kernel
/// transforms each input tile with channels in vectors (NHWC keeps a pixel's channels contiguous), multiplies the T²
/// transformed planes by U (tiles × channels by channels × filters, one product per plane, in register tiles that loop over the planes)
/// and transforms the products back, applying the epilogue (folded bias, activation) to the output tile.</para>
/// <para>The transforms use only the exact constants 1, 2, 4 and 5 (input) and 1, 2 (output); the 1/6 and 1/24 of the
/// 5×5 weight transform are rounded once into U. The result differs from the direct sum by rounding only (a few ulps
/// of the largest partial sum; the tests bound it against a double reference).</para>
/// <para>Reads the same zero-bordered image as <see cref="DirectConv"/> (<see cref="DirectConv.Pad"/>'s layout, or the input
/// itself without padding) and writes the same NHWC output. When an output side is odd, the last tile's second row or
/// column is not stored, and the input it would read past the image is taken as zero.</para>
/// </remarks>
public static unsafe partial class WinogradConv
{
    /// <summary>Output pixels per tile side.</summary>
    public const int OutputTile = 2;

    /// <summary>True when the geometry has a Winograd form here: a square 3×3 or 5×5 kernel, stride 1, no dilation.</summary>
    public static bool Supports(in ConvGeometry g) =>
        g.KernelH == g.KernelW && (g.KernelH == 3 || g.KernelH == 5) && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1;

    /// <summary>Tile rows per sample: ⌈OutHeight / 2⌉.</summary>
    public static int TilesHigh(in ConvGeometry g) => (g.OutHeight + OutputTile - 1) / OutputTile;

    /// <summary>Tiles per row of tiles: ⌈OutWidth / 2⌉.</summary>
    public static int TilesWide(in ConvGeometry g) => (g.OutWidth + OutputTile - 1) / OutputTile;

    /// <summary>Tiles per sample; tile t of a batch is sample t / TilesPerSample, then row-major (tile row, tile column).</summary>
    public static int TilesPerSample(in ConvGeometry g) => TilesHigh(g) * TilesWide(g);

    /// <summary>Floats of the transformed weights for <paramref name="n"/> filters: (r+1)²·Channels·n.</summary>
    public static int TransformedWeightsSize(in ConvGeometry g, int n) => (g.KernelH + 1) * (g.KernelH + 1) * g.Channels * n;

    /// <summary>
    /// U[(ξ1·T + ξ2)·C·n + c·n + j] = Σ_(ky,kx) G[ξ1, ky]·G[ξ2, kx]·w[(ky·r + kx)·C + c, j], computed in double: the weights of
    /// <see cref="Forward{TIsa, TEpi}"/>. w: PatchSize × n (the im2col GEMM's weights, patch order ky, kx, c).
    /// </summary>
    public static void TransformWeights(ReadOnlySpan<float> w, Span<float> u, in ConvGeometry g, int n)
    {
        RequireSupported(g);
        Checks.NonNegative(n, nameof(n));
        Checks.Length(w.Length, (long)g.PatchSize * n, nameof(w));
        Checks.Length(u.Length, TransformedWeightsSize(g, n), nameof(u));
        int r = g.KernelH, t = r + 1, c = g.Channels;
        double[,] gm = r == 3 ? F23.G : F25.G;
        Span<double> half = stackalloc double[t * r];     // G·g for one (c, j): T × r
        for (int ci = 0; ci < c; ci++)
            for (int j = 0; j < n; j++)
            {
                for (int xi = 0; xi < t; xi++)
                    for (int kx = 0; kx < r; kx++)
                    {
                        double sum = 0;
                        for (int ky = 0; ky < r; ky++) sum += gm[xi, ky] * w[((ky * r + kx) * c + ci) * n + j];
                        half[xi * r + kx] = sum;
                    }
                for (int x1 = 0; x1 < t; x1++)
                    for (int x2 = 0; x2 < t; x2++)
                    {
                        double sum = 0;
                        for (int kx = 0; kx < r; kx++) sum += half[x1 * r + kx] * gm[x2, kx];
                        u[((x1 * t + x2) * c + ci) * n + j] = (float)sum;
                    }
            }
    }

    /// <summary>Throws unless the geometry is valid and has a Winograd form here (<see cref="Supports"/>).</summary>
    private static void RequireSupported(in ConvGeometry g)
    {
        g.Validate(nameof(g));
        if (!Supports(g))
            throw new ArgumentException($"{nameof(g)}: Winograd F(2×2, r×r) needs a square 3×3 or 5×5 kernel with stride 1 and no dilation (got {g.KernelH}×{g.KernelW}, stride {g.StrideH}×{g.StrideW}, dilation {g.DilationH}×{g.DilationW}).", nameof(g));
    }

    /// <summary>
    /// Tiles [t0, t1) of the convolution (see <see cref="TilesPerSample"/>): for every output pixel (oy, ox) of those tiles
    /// inside the output, y[(sample·OutPixels + oy·OutWidth + ox)·n + j] = epi(conv, j) for j &lt; n, reading
    /// <paramref name="padded"/> in <see cref="DirectConv.Pad"/>'s layout and the <see cref="TransformWeights"/> of the weights.
    /// </summary>
    public static void Forward<TIsa, TEpi>(ReadOnlySpan<float> padded, ReadOnlySpan<float> u, Span<float> y, in ConvGeometry g, int n,
        int t0, int t1, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        RequireSupported(g);
        Checks.NonNegative(n, nameof(n));
        Checks.Range(t0, t1, int.MaxValue, nameof(t0), nameof(t1));
        int perSample = TilesPerSample(g), samples = (int)(((long)t1 + perSample - 1) / perSample);
        Checks.Length(padded.Length, (long)samples * DirectConv.PaddedSize(g), nameof(padded));
        Checks.Length(u.Length, TransformedWeightsSize(g, n), nameof(u));
        Checks.Length(y.Length, (long)samples * g.OutPixels * n, nameof(y));
        if (t0 == t1 || n == 0) return;
        TEpi e = epi;
        var shape = new Shape(g, n);
        fixed (float* pp = padded, pu = u, py = y)
        {
            if (g.KernelH == 3) Dispatch<TIsa, F23, TEpi>(pp, pu, py, shape, t0, t1, ref e);
            else Dispatch<TIsa, F25, TEpi>(pp, pu, py, shape, t0, t1, ref e);
        }
    }

    private static void Dispatch<TIsa, TF, TEpi>(float* padded, float* u, float* y, in Shape s, int t0, int t1, ref TEpi e)
        where TIsa : struct, ISimdPath where TF : struct, ITransform where TEpi : IEpilogue, allows ref struct
    {
        var run = new Run<TF, TEpi> { Padded = padded, U = u, Y = y, Shape = s, T0 = t0, T1 = t1, Epilogue = e };
        VectorPath.Run<TIsa, Run<TF, TEpi>>(ref run);
    }

    /// <summary>Forward's arguments, run at the width <see cref="VectorPath"/> maps the path marker to.</summary>
    private ref struct Run<TF, TEpi> : IVectorKernel where TF : struct, ITransform where TEpi : IEpilogue, allows ref struct
    {
        public float* Padded, U, Y;
        public Shape Shape;
        public int T0, T1;
        public TEpi Epilogue;

        int IVectorKernel.Run<TO, TV>()
        {
            Driver<TO, TV, TF>.Forward(Padded, U, Y, Shape, T0, T1, ref Epilogue, TO.Count);
            return 0;
        }
    }

    /// <summary>Sizes and strides of one convolution, in floats.</summary>
    private readonly struct Shape
    {
        public Shape(in ConvGeometry g, int n)
        {
            Channels = g.Channels;
            N = n;
            OutHeight = g.OutHeight;
            OutWidth = g.OutWidth;
            TilesWide = WinogradConv.TilesWide(g);
            PerSample = TilesPerSample(g);
            PaddedHeight = g.Height + 2 * g.PadH;
            PaddedWidth = g.Width + 2 * g.PadW;
            RowStride = (nint)PaddedWidth * g.Channels;
            ImageSize = DirectConv.PaddedSize(g);
            Pixels = g.OutPixels;
        }

        public readonly int Channels, N, OutHeight, OutWidth, TilesWide, PerSample, PaddedHeight, PaddedWidth, Pixels;

        /// <summary>The sample of tile <paramref name="tile"/>, and its first output pixel (also its first padded input pixel, stride 1).</summary>
        public int Locate(int tile, out int oy, out int ox)
        {
            int sample = tile / PerSample, rest = tile - sample * PerSample, ty = rest / TilesWide;
            oy = OutputTile * ty;
            ox = OutputTile * (rest - ty * TilesWide);
            return sample;
        }
        public readonly nint RowStride, ImageSize;
    }

    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>This thread's scratch for a block's transformed tiles and products, grown on first use and then reused.</summary>
    private static float[] Scratch(int floats)
    {
        float[]? s = t_scratch;
        if (s is null || s.Length < floats) t_scratch = s = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        return s;
    }

    private static class Driver<TP, TPV, TF> where TP : struct, IPathOps<TPV> where TPV : struct where TF : struct, ITransform
    {
        // SkipLocalsInit: the two stack buffers are written before they are read, so zeroing them each call is wasted.
        [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Forward<TEpi>(float* padded, float* u, float* y, in Shape s, int t0, int t1, ref TEpi e, int widest)
            where TEpi : IEpilogue, allows ref struct
        {
            int t = TF.Size, planes = t * t, block = GemmKernel<TP, TPV>.TileRows, c = s.Channels, n = s.N;
            float[] scratch = Scratch(planes * block * (c + n));
            // One channel vector of a tile between the two passes of a transform, and an edge tile's zero-extended input.
            float* between = stackalloc float[planes * 16];
            float* edge = stackalloc float[planes * 16];
            fixed (float* v = scratch)
            {
                float* m = v + planes * block * c;
                // Blocks of near-equal size (49 tiles: 6,6,6,6,5,5,5,5,5), each tile anywhere in the batch: a block may span
                // tile rows and samples, since every tile is transformed from and into its own place.
                int total = t1 - t0, blocks = (total + block - 1) / block, size = total / blocks, larger = total - size * blocks;
                for (int k = 0, tile = t0; k < blocks; k++)
                {
                    int count = k < larger ? size + 1 : size;
                    for (int b = 0; b < count; b++)
                    {
                        int sample = s.Locate(tile + b, out int oy, out int ox);
                        TransformInput(padded + sample * s.ImageSize + (nint)oy * s.RowStride, oy, ox, v + b * c, count * c, s, between, edge, widest);
                    }
                    Multiply(v, u, m, count, c, n, planes);
                    for (int b = 0; b < count; b++)
                    {
                        int sample = s.Locate(tile + b, out int oy, out int ox);
                        TransformOutput(m + b * n, count * n, y + ((nint)sample * s.Pixels) * n, oy, ox, s, between, ref e, widest);
                    }
                    tile += count;
                }
            }
        }

        /// <summary>V[ξ][b][·] = Bᵀ·d·B for the input block at padded (iy, ix), channel by channel in the widest vectors that fit.</summary>
        private static void TransformInput(float* image, int iy, int ix, float* v, nint planeStride, in Shape s,
            float* between, float* edge, int widest)
        {
            int t = TF.Size, c = s.Channels;
            float* origin = image + (nint)ix * c;
            bool inside = iy + t <= s.PaddedHeight && ix + t <= s.PaddedWidth;
            int ch = 0;
            if (widest == 16)
                for (; ch + 16 <= c; ch += 16) InputChannels<Vector512<float>, Ops512>(origin, ch, inside, iy, ix, v, planeStride, s, between, edge);
            if (widest >= 8)
                for (; ch + 8 <= c; ch += 8) InputChannels<Vector256<float>, Ops256>(origin, ch, inside, iy, ix, v, planeStride, s, between, edge);
            for (; ch + 4 <= c; ch += 4) InputChannels<Vector128<float>, Ops128>(origin, ch, inside, iy, ix, v, planeStride, s, between, edge);
            for (; ch < c; ch++) InputChannels<float, OpsScalar>(origin, ch, inside, iy, ix, v, planeStride, s, between, edge);
        }

        private static void InputChannels<TV, TOps>(float* origin, int ch, bool inside, int iy, int ix, float* v, nint planeStride, in Shape s,
            float* between, float* edge)
            where TV : struct where TOps : struct, IVectorOps<TV>
        {
            int t = TF.Size, lanes = TOps.Count;
            float* src = origin + ch;
            nint rowStride = s.RowStride, colStride = s.Channels;
            if (!inside)
            {
                // Past the image's bottom or right edge (an odd output side): the missing input is zero.
                int rows = Math.Min(t, s.PaddedHeight - iy), cols = Math.Min(t, s.PaddedWidth - ix);
                for (int i = 0; i < t; i++)
                    for (int k = 0; k < t; k++)
                        TOps.Store(i < rows && k < cols ? TOps.Load(ref *(src + i * rowStride + k * colStride), 0) : TOps.Zero, ref *(edge + (i * t + k) * lanes), 0);
                src = edge;
                rowStride = t * lanes;
                colStride = lanes;
            }
            // Rows: between[i][ξ2] = Σ_k d[i][k]·B[k][ξ2]; then columns: V[ξ1][ξ2] = Σ_i Bᵀ[ξ1][i]·between[i][ξ2].
            for (int i = 0; i < t; i++) TF.Input<TV, TOps>(src + i * rowStride, colStride, between + i * t * lanes, lanes);
            for (int x2 = 0; x2 < t; x2++) TF.Input<TV, TOps>(between + x2 * lanes, t * lanes, v + x2 * planeStride + ch, t * planeStride);
        }

        /// <summary>M[ξ] (count × n) = V[ξ] (count × C) · U[ξ] (C × n) for each of the T² planes.</summary>
        private static void Multiply(float* v, float* u, float* m, int count, int c, int n, int planes)
        {
            int lanes = TP.Count, strip = TP.TileVectors * lanes;
            // Whole strips of the micro-kernel's widest tile where it is wider than two vectors (AVX-512: 6 × 4 zmm).
            int full = TP.TileVectors > 2 ? n / strip * strip : 0;
            NoEpilogue none = default;
            if (full > 0)
                for (int p = 0; p < planes; p++)
                    for (int j = 0; j < full; j += strip)
                        GemmKernel<TP, TPV>.Tile(count, TP.TileVectors, lanes, v + (nint)p * count * c, c, 1, u + (nint)p * c * n + j, n, m + (nint)p * count * n + j, n, c, j, false, false, ref none);
            // Then strips of two whole vectors (the benchmark CNN's 32 filters on AVX-512) through PlaneStrips, which loops
            // over the planes itself: one dispatch per block instead of one per plane, whose set-up is a large part of a
            // call only C (16) deep. One core, 5×5 16→32 on 14×14: 16.5 µs against 19.0 µs with a call per plane (AVX2:
            // 26.4 against 28.8); a 6 × 4 zmm tile stays faster where it fits (3×3 64→64 on 8×8: 13.6 against 16.1 µs).
            int j0 = full;
            j0 += PlaneStrips<TPV, TP>(v, u + full, m + full, count, c, n, n - full, planes);
            if (j0 == n) return;
            for (int p = 0; p < planes; p++)
            {
                float* a = v + (nint)p * count * c, b = u + (nint)p * c * n, out_ = m + (nint)p * count * n;
                for (int j = j0; j < n; j += strip)
                {
                    TileDispatch.Split(Math.Min(strip, n - j), lanes, out int nv, out int last);
                    GemmKernel<TP, TPV>.Tile(count, nv, last, a, c, 1, b + j, n, out_ + j, n, c, j, false, false, ref none);
                }
            }
        }

        /// <summary>
        /// M[ξ][·][j..j+2L) for every plane ξ and every whole two-vector strip of the <paramref name="cols"/> filters from
        /// u and m on (rows n apart); returns how many columns it did.
        /// </summary>
        private static int PlaneStrips<TV, TOps>(float* v, float* u, float* m, int count, int c, int n, int cols, int planes)
            where TV : struct where TOps : struct, IVectorOps<TV>
        {
            int width = 2 * TOps.Count, j = 0;
            for (; j + width <= cols; j += width)
                switch (count)
                {
                    case 1: PlaneStrip<TV, TOps, R1>(v, u + j, m + j, c, n, planes); break;
                    case 2: PlaneStrip<TV, TOps, R2>(v, u + j, m + j, c, n, planes); break;
                    case 3: PlaneStrip<TV, TOps, R3>(v, u + j, m + j, c, n, planes); break;
                    case 4: PlaneStrip<TV, TOps, R4>(v, u + j, m + j, c, n, planes); break;
                    case 5: PlaneStrip<TV, TOps, R5>(v, u + j, m + j, c, n, planes); break;
                    default: PlaneStrip<TV, TOps, R6>(v, u + j, m + j, c, n, planes); break;
                }
            return j;
        }

        /// <summary>
        /// For each plane: TR tiles × two vectors of filters, accumulated over the C channels in registers (12 accumulators
        /// at most) and stored. It contains no calls, so the accumulators stay in registers.
        /// </summary>
        [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void PlaneStrip<TV, TOps, TR>(float* v, float* u, float* m, int c, int n, int planes)
            where TV : struct where TOps : struct, IVectorOps<TV> where TR : struct, ITileRows
        {
            int rows = TR.Value, lanes = TOps.Count;
            for (int p = 0; p < planes; p++)
            {
                float* a = v + (nint)p * rows * c, b = u + (nint)p * c * n, o = m + (nint)p * rows * n;
                TV c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero, c20 = TOps.Zero, c21 = TOps.Zero;
                TV c30 = TOps.Zero, c31 = TOps.Zero, c40 = TOps.Zero, c41 = TOps.Zero, c50 = TOps.Zero, c51 = TOps.Zero;
                for (int k = 0; k < c; k++, b += n, a++)
                {
                    TV b0 = TOps.Load(ref *b, 0), b1 = TOps.Load(ref *b, lanes);
                    TV x = TOps.Splat(a[0]);
                    c00 = TOps.Fma(x, b0, c00); c01 = TOps.Fma(x, b1, c01);
                    if (TR.Value > 1) { x = TOps.Splat(a[c]); c10 = TOps.Fma(x, b0, c10); c11 = TOps.Fma(x, b1, c11); }
                    if (TR.Value > 2) { x = TOps.Splat(a[2 * c]); c20 = TOps.Fma(x, b0, c20); c21 = TOps.Fma(x, b1, c21); }
                    if (TR.Value > 3) { x = TOps.Splat(a[3 * c]); c30 = TOps.Fma(x, b0, c30); c31 = TOps.Fma(x, b1, c31); }
                    if (TR.Value > 4) { x = TOps.Splat(a[4 * c]); c40 = TOps.Fma(x, b0, c40); c41 = TOps.Fma(x, b1, c41); }
                    if (TR.Value > 5) { x = TOps.Splat(a[5 * c]); c50 = TOps.Fma(x, b0, c50); c51 = TOps.Fma(x, b1, c51); }
                }
                TOps.Store(c00, ref *o, 0); TOps.Store(c01, ref *o, lanes);
                if (TR.Value > 1) { TOps.Store(c10, ref *o, n); TOps.Store(c11, ref *o, n + lanes); }
                if (TR.Value > 2) { TOps.Store(c20, ref *o, 2 * n); TOps.Store(c21, ref *o, 2 * n + lanes); }
                if (TR.Value > 3) { TOps.Store(c30, ref *o, 3 * n); TOps.Store(c31, ref *o, 3 * n + lanes); }
                if (TR.Value > 4) { TOps.Store(c40, ref *o, 4 * n); TOps.Store(c41, ref *o, 4 * n + lanes); }
                if (TR.Value > 5) { TOps.Store(c50, ref *o, 5 * n); TOps.Store(c51, ref *o, 5 * n + lanes); }
            }
        }

        /// <summary>Y = Aᵀ·M·A for one tile (M[ξ] at m + ξ·planeStride), the epilogue applied, pixels inside the output stored.</summary>
        private static void TransformOutput<TEpi>(float* m, nint planeStride, float* output, int oy, int ox, in Shape s, float* between,
            ref TEpi e, int widest)
            where TEpi : IEpilogue, allows ref struct
        {
            int n = s.N, j = 0;
            if (widest == 16)
                for (; j + 16 <= n; j += 16) OutputChannels<Vector512<float>, Ops512, TEpi>(m, planeStride, output, oy, ox, j, s, between, ref e);
            if (widest >= 8)
                for (; j + 8 <= n; j += 8) OutputChannels<Vector256<float>, Ops256, TEpi>(m, planeStride, output, oy, ox, j, s, between, ref e);
            for (; j + 4 <= n; j += 4) OutputChannels<Vector128<float>, Ops128, TEpi>(m, planeStride, output, oy, ox, j, s, between, ref e);
            for (; j < n; j++) OutputChannels<float, OpsScalar, TEpi>(m, planeStride, output, oy, ox, j, s, between, ref e);
        }

        private static void OutputChannels<TV, TOps, TEpi>(float* m, nint planeStride, float* output, int oy, int ox, int j, in Shape s,
            float* between, ref TEpi e)
            where TV : struct where TOps : struct, IVectorOps<TV> where TEpi : IEpilogue, allows ref struct
        {
            int t = TF.Size, lanes = TOps.Count;
            float* src = m + j;
            // Rows: between[ξ1][x] = Σ_ξ2 M[ξ1][ξ2]·A[ξ2][x]; then columns: Y[y][x] = Σ_ξ1 Aᵀ[y][ξ1]·between[ξ1][x].
            for (int x1 = 0; x1 < t; x1++)
            {
                TF.Output<TV, TOps>(src + x1 * t * planeStride, planeStride, out TV r0, out TV r1);
                TOps.Store(r0, ref *(between + (2 * x1) * lanes), 0);
                TOps.Store(r1, ref *(between + (2 * x1 + 1) * lanes), 0);
            }
            for (int x = 0; x < OutputTile && ox + x < s.OutWidth; x++)
            {
                TF.Output<TV, TOps>(between + x * lanes, 2 * lanes, out TV y0, out TV y1);
                float* pixel = output + ((nint)oy * s.OutWidth + ox + x) * s.N + j;
                TOps.Store(EpilogueOps.Apply(ref e, y0, j), ref *pixel, 0);
                if (oy + 1 < s.OutHeight) TOps.Store(EpilogueOps.Apply(ref e, y1, j), ref *(pixel + (nint)s.OutWidth * s.N), 0);
            }
        }
    }

    /// <summary>One Winograd F(2, r) transform set: T = r + 1 points.</summary>
    private interface ITransform
    {
        /// <summary>T, the input tile side.</summary>
        static abstract int Size { get; }

        /// <summary>dst[i·ds] = Σ_k Bᵀ[i, k]·src[k·ss] for i, k &lt; T.</summary>
        static abstract void Input<TV, TOps>(float* src, nint ss, float* dst, nint ds) where TV : struct where TOps : struct, IVectorOps<TV>;

        /// <summary>(y0, y1) = Aᵀ·src, src[k·ss] for k &lt; T.</summary>
        static abstract void Output<TV, TOps>(float* src, nint ss, out TV y0, out TV y1) where TV : struct where TOps : struct, IVectorOps<TV>;
    }

    /// <summary>F(2, 3) on the points 0, 1, −1, ∞.</summary>
    private readonly struct F23 : ITransform
    {
        /// <summary>G (4 × 3): U = G·g·Gᵀ.</summary>
        public static readonly double[,] G = { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } };

        public static int Size => 4;

        // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 −1 0 1]
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input<TV, TOps>(float* src, nint ss, float* dst, nint ds) where TV : struct where TOps : struct, IVectorOps<TV>
        {
            TV d0 = TOps.Load(ref *src, 0), d1 = TOps.Load(ref *(src + ss), 0), d2 = TOps.Load(ref *(src + 2 * ss), 0), d3 = TOps.Load(ref *(src + 3 * ss), 0);
            TOps.Store(TOps.Sub(d0, d2), ref *dst, 0);
            TOps.Store(TOps.Add(d1, d2), ref *(dst + ds), 0);
            TOps.Store(TOps.Sub(d2, d1), ref *(dst + 2 * ds), 0);
            TOps.Store(TOps.Sub(d3, d1), ref *(dst + 3 * ds), 0);
        }

        // Aᵀ = [1 1 1 0; 0 1 −1 1]
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Output<TV, TOps>(float* src, nint ss, out TV y0, out TV y1) where TV : struct where TOps : struct, IVectorOps<TV>
        {
            TV m0 = TOps.Load(ref *src, 0), m1 = TOps.Load(ref *(src + ss), 0), m2 = TOps.Load(ref *(src + 2 * ss), 0), m3 = TOps.Load(ref *(src + 3 * ss), 0);
            y0 = TOps.Add(TOps.Add(m0, m1), m2);
            y1 = TOps.Add(TOps.Sub(m1, m2), m3);
        }
    }

    /// <summary>F(2, 5) on the points 0, 1, −1, 2, −2, ∞.</summary>
    private readonly struct F25 : ITransform
    {
        /// <summary>G (6 × 5): U = G·g·Gᵀ.</summary>
        public static readonly double[,] G =
        {
            { 1.0 / 4, 0, 0, 0, 0 },
            { -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6 },
            { -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6 },
            { 1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3 },
            { 1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3 },
            { 0, 0, 0, 0, 1 },
        };

        public static int Size => 6;

        // Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input<TV, TOps>(float* src, nint ss, float* dst, nint ds) where TV : struct where TOps : struct, IVectorOps<TV>
        {
            TV d0 = TOps.Load(ref *src, 0), d1 = TOps.Load(ref *(src + ss), 0), d2 = TOps.Load(ref *(src + 2 * ss), 0);
            TV d3 = TOps.Load(ref *(src + 3 * ss), 0), d4 = TOps.Load(ref *(src + 4 * ss), 0), d5 = TOps.Load(ref *(src + 5 * ss), 0);
            TV four = TOps.Splat(4f), two = TOps.Splat(2f), minusFive = TOps.Splat(-5f);
            TV d34 = TOps.Add(d3, d4), d12 = TOps.Add(d1, d2), d43 = TOps.Sub(d4, d3), d12m = TOps.Sub(d1, d2);
            TV d42 = TOps.Sub(d4, d2), d31 = TOps.Sub(d3, d1);
            TOps.Store(TOps.Fma(four, d0, TOps.Fma(minusFive, d2, d4)), ref *dst, 0);          // 4d0 − 5d2 + d4
            TOps.Store(TOps.Fma(TOps.Splat(-4f), d12, d34), ref *(dst + ds), 0);                // (d3 + d4) − 4(d1 + d2)
            TOps.Store(TOps.Fma(four, d12m, d43), ref *(dst + 2 * ds), 0);                     // (d4 − d3) + 4(d1 − d2)
            TOps.Store(TOps.Fma(two, d31, d42), ref *(dst + 3 * ds), 0);                       // (d4 − d2) + 2(d3 − d1)
            TOps.Store(TOps.Fma(TOps.Splat(-2f), d31, d42), ref *(dst + 4 * ds), 0);           // (d4 − d2) − 2(d3 − d1)
            TOps.Store(TOps.Fma(four, d1, TOps.Fma(minusFive, d3, d5)), ref *(dst + 5 * ds), 0); // 4d1 − 5d3 + d5
        }

        // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1]
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Output<TV, TOps>(float* src, nint ss, out TV y0, out TV y1) where TV : struct where TOps : struct, IVectorOps<TV>
        {
            TV m0 = TOps.Load(ref *src, 0), m1 = TOps.Load(ref *(src + ss), 0), m2 = TOps.Load(ref *(src + 2 * ss), 0);
            TV m3 = TOps.Load(ref *(src + 3 * ss), 0), m4 = TOps.Load(ref *(src + 4 * ss), 0), m5 = TOps.Load(ref *(src + 5 * ss), 0);
            TV s12 = TOps.Add(m1, m2), s34 = TOps.Add(m3, m4);
            y0 = TOps.Add(TOps.Add(m0, s12), s34);
            y1 = TOps.Add(TOps.Fma(TOps.Splat(2f), TOps.Sub(m3, m4), TOps.Sub(m1, m2)), m5);
        }
    }
}
