using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels;

/// <summary>
/// The GEMM micro-kernels, written once for every ISA path: <typeparamref name="TO"/> is the path's vector operations
/// (<see cref="Ops512"/>, <see cref="Ops256"/>, <see cref="Ops128"/>, mapped from the path by <see cref="VectorPath"/>).
/// Every operation is a static call on a struct type argument, so the JIT compiles one copy per path with each call
/// inlined to the instruction it wraps: the code is the same as a kernel written out for that vector type. The tile is
/// 6 rows × <see cref="IPathOps{TV}.TileVectors"/> vectors (4 zmm with AVX-512's 32 registers, 2 vectors with 16); the
/// accumulators a path's tile does not use are never assigned, and the JIT drops them.
/// </summary>
internal static unsafe class GemmKernel<TO, TV> where TO : struct, IPathOps<TV> where TV : struct
{
    /// <summary>Rows of the main micro-tile.</summary>
    public const int TileRows = 6;

    /// <summary>Rows of the tall micro-tile that strips of at most <see cref="TallVectors"/> vectors use.</summary>
    public const int TallRows = 12;

    /// <summary>
    /// Column vectors of the tall tile: half the main tile's, so 12 rows fit the same registers (2 zmm with AVX-512,
    /// 1 vector on the 16-register paths).
    /// </summary>
    public static int TallVectors => TO.TileVectors / 2;

    /// <summary>
    /// Rows of the micro-tile the drivers use for a strip of <paramref name="nv"/> column vectors: tall for two-vector
    /// strips with AVX-512 (conv1's 32 output channels). One-vector strips stay on 6 rows: with 12 they measured slower
    /// (conv0, k = 25: the tile's fixed cost grows and each broadcast still feeds one FMA; docs/perf/gemm.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RowsFor(int nv) => nv > 1 && nv <= TallVectors ? TallRows : TileRows;

    /// <summary>
    /// C[m, 0..cols) (+)= Σ_p A(m, p)·B[p, 0..cols) for m &lt; mr, p &lt; kc, where A(m, p) = a[m·ars + p·acs],
    /// B row p starts at b + p·ldb, C row m at c + m·ldc, and cols = (nv − 1)·Lanes + last.
    /// With <paramref name="accumulate"/> the old C is added; with <paramref name="applyEpi"/> the
    /// epilogue (first column <paramref name="col0"/>) is applied after the store. Up to <see cref="TileRows"/> rows
    /// take any nv ≤ TileVectors; 7 to <see cref="TallRows"/> rows need nv ≤ <see cref="TallVectors"/>.
    /// </summary>
    public static void Tile<TEpi>(int mr, int nv, int last, float* a, nint ars, nint acs, float* b, nint ldb,
        float* c, nint ldc, int kc, int col0, bool accumulate, bool applyEpi, ref TEpi epi, float* prefetchA = null)
        where TEpi : IEpilogue, allows ref struct
    {
        switch (mr)
        {
            case 1: TileCols<R1>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate); break;
            case 2: TileCols<R2>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate); break;
            case 3: TileCols<R3>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate); break;
            case 4: TileCols<R4>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate); break;
            case 5: TileCols<R5>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate); break;
            case 6: TileCols<R6>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate); break;
            case 7: TallCols<R7>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate, prefetchA); break;
            case 8: TallCols<R8>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate, prefetchA); break;
            case 9: TallCols<R9>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate, prefetchA); break;
            case 10: TallCols<R10>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate, prefetchA); break;
            case 11: TallCols<R11>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate, prefetchA); break;
            case 12: TallCols<R12>(nv, last, a, ars, acs, b, ldb, c, ldc, kc, accumulate, prefetchA); break;
            default: throw new ArgumentOutOfRangeException(nameof(mr));
        }
        if (applyEpi) ApplyEpilogue(c, ldc, mr, (nv - 1) * TO.Count + last, col0, ref epi);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileCols<TR>(int nv, int last, float* a, nint ars, nint acs, float* b, nint ldb,
        float* c, nint ldc, int kc, bool accumulate)
        where TR : struct, ITileRows
    {
        switch (last == TO.Count ? nv : -nv)
        {
            case 1: Kernel<TR, V1>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case -1: Kernel<TR, V1M>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case 2: Kernel<TR, V2>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case -2: Kernel<TR, V2M>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case 3: Kernel<TR, V3>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case -3: Kernel<TR, V3M>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case 4: Kernel<TR, V4>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case -4: Kernel<TR, V4M>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            default: throw new ArgumentOutOfRangeException(nameof(nv));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TallCols<TR>(int nv, int last, float* a, nint ars, nint acs, float* b, nint ldb,
        float* c, nint ldc, int kc, bool accumulate, float* pf)
        where TR : struct, ITileRows
    {
        if (nv > TallVectors) throw new ArgumentOutOfRangeException(nameof(nv), nv, $"A tile of {TR.Value} rows holds at most {TallVectors} vectors.");
        switch (last == TO.Count ? nv : -nv)
        {
            case 1: TallKernel<TR, V1>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate, pf); break;
            case -1: TallKernel<TR, V1M>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate, pf); break;
            case 2: TallKernel<TR, V2>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate, pf); break;
            case -2: TallKernel<TR, V2M>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate, pf); break;
            default: throw new ArgumentOutOfRangeException(nameof(nv));
        }
    }

    /// <summary>
    /// The register-blocked micro-kernel: broadcast one A element per row, FMA it with the B vectors of row p.
    /// It contains no calls, so the register allocator keeps every accumulator in a register across the loop
    /// (a call anywhere in the method, even a throw helper after it, makes it spill them).
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TR, TC>(float* a, nint ars, nint acs, float* b, nint ldb, float* c, nint ldc,
        int kc, int last, bool accumulate)
        where TR : struct, ITileRows where TC : struct, ITileCols
    {
        TV mask = TC.Masked ? TO.FirstLanes(last) : default;
        TV c00 = default, c01 = default, c02 = default, c03 = default;
        TV c10 = default, c11 = default, c12 = default, c13 = default;
        TV c20 = default, c21 = default, c22 = default, c23 = default;
        TV c30 = default, c31 = default, c32 = default, c33 = default;
        TV c40 = default, c41 = default, c42 = default, c43 = default;
        TV c50 = default, c51 = default, c52 = default, c53 = default;
        float* a0 = a, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars, a4 = a3 + ars, a5 = a4 + ars;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            TV b0 = Load<TC>(b, 0, mask, last);
            TV b1 = TC.Vectors > 1 ? Load<TC>(b, 1, mask, last) : default;
            TV b2 = TC.Vectors > 2 ? Load<TC>(b, 2, mask, last) : default;
            TV b3 = TC.Vectors > 3 ? Load<TC>(b, 3, mask, last) : default;
            TV x;
            x = TO.Splat(a0[off]);
            c00 = TO.Fma(x, b0, c00);
            if (TC.Vectors > 1) c01 = TO.Fma(x, b1, c01);
            if (TC.Vectors > 2) c02 = TO.Fma(x, b2, c02);
            if (TC.Vectors > 3) c03 = TO.Fma(x, b3, c03);
            if (TR.Value > 1)
            {
                x = TO.Splat(a1[off]);
                c10 = TO.Fma(x, b0, c10);
                if (TC.Vectors > 1) c11 = TO.Fma(x, b1, c11);
                if (TC.Vectors > 2) c12 = TO.Fma(x, b2, c12);
                if (TC.Vectors > 3) c13 = TO.Fma(x, b3, c13);
            }
            if (TR.Value > 2)
            {
                x = TO.Splat(a2[off]);
                c20 = TO.Fma(x, b0, c20);
                if (TC.Vectors > 1) c21 = TO.Fma(x, b1, c21);
                if (TC.Vectors > 2) c22 = TO.Fma(x, b2, c22);
                if (TC.Vectors > 3) c23 = TO.Fma(x, b3, c23);
            }
            if (TR.Value > 3)
            {
                x = TO.Splat(a3[off]);
                c30 = TO.Fma(x, b0, c30);
                if (TC.Vectors > 1) c31 = TO.Fma(x, b1, c31);
                if (TC.Vectors > 2) c32 = TO.Fma(x, b2, c32);
                if (TC.Vectors > 3) c33 = TO.Fma(x, b3, c33);
            }
            if (TR.Value > 4)
            {
                x = TO.Splat(a4[off]);
                c40 = TO.Fma(x, b0, c40);
                if (TC.Vectors > 1) c41 = TO.Fma(x, b1, c41);
                if (TC.Vectors > 2) c42 = TO.Fma(x, b2, c42);
                if (TC.Vectors > 3) c43 = TO.Fma(x, b3, c43);
            }
            if (TR.Value > 5)
            {
                x = TO.Splat(a5[off]);
                c50 = TO.Fma(x, b0, c50);
                if (TC.Vectors > 1) c51 = TO.Fma(x, b1, c51);
                if (TC.Vectors > 2) c52 = TO.Fma(x, b2, c52);
                if (TC.Vectors > 3) c53 = TO.Fma(x, b3, c53);
            }
            off += acs;
            b += ldb;
        }
        StoreRow<TC>(c + 0 * ldc, c00, c01, c02, c03, mask, last, accumulate);
        if (TR.Value > 1) StoreRow<TC>(c + 1 * ldc, c10, c11, c12, c13, mask, last, accumulate);
        if (TR.Value > 2) StoreRow<TC>(c + 2 * ldc, c20, c21, c22, c23, mask, last, accumulate);
        if (TR.Value > 3) StoreRow<TC>(c + 3 * ldc, c30, c31, c32, c33, mask, last, accumulate);
        if (TR.Value > 4) StoreRow<TC>(c + 4 * ldc, c40, c41, c42, c43, mask, last, accumulate);
        if (TR.Value > 5) StoreRow<TC>(c + 5 * ldc, c50, c51, c52, c53, mask, last, accumulate);
    }

    /// <summary>
    /// The tall micro-kernel for narrow outputs: up to 12 rows × 2 vectors (24 accumulators with AVX-512's 32 registers;
    /// paths with 16 registers run it with one vector, 12 accumulators). Each loaded B vector feeds 12 FMAs instead of 6,
    /// and 12–24 independent chains cover the FMA latency on two pipes, which the 6-row tile over one or two vectors
    /// (6–12 chains) does not. Same contract and same no-call rule as <see cref="Kernel{TR, TC}"/>.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TallKernel<TR, TC>(float* a, nint ars, nint acs, float* b, nint ldb, float* c, nint ldc,
        int kc, int last, bool accumulate, float* pf)
        where TR : struct, ITileRows where TC : struct, ITileCols
    {
        TV mask = TC.Masked ? TO.FirstLanes(last) : default;
        TV c0a = default, c0b = default;
        TV c1a = default, c1b = default;
        TV c2a = default, c2b = default;
        TV c3a = default, c3b = default;
        TV c4a = default, c4b = default;
        TV c5a = default, c5b = default;
        TV c6a = default, c6b = default;
        TV c7a = default, c7b = default;
        TV c8a = default, c8b = default;
        TV c9a = default, c9b = default;
        TV c10a = default, c10b = default;
        TV c11a = default, c11b = default;
        float* a0 = a, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars, a4 = a3 + ars, a5 = a4 + ars, a6 = a5 + ars, a7 = a6 + ars, a8 = a7 + ars, a9 = a8 + ars, a10 = a9 + ars, a11 = a10 + ars;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            TV b0 = Load<TC>(b, 0, mask, last);
            TV b1 = TC.Vectors > 1 ? Load<TC>(b, 1, mask, last) : default;
            if (Sse.IsSupported && pf != null) Sse.Prefetch0(pf + off);
            TV x;
            x = TO.Splat(a0[off]);
            c0a = TO.Fma(x, b0, c0a);
            if (TC.Vectors > 1) c0b = TO.Fma(x, b1, c0b);
            if (TR.Value > 1)
            {
                x = TO.Splat(a1[off]);
                c1a = TO.Fma(x, b0, c1a);
                if (TC.Vectors > 1) c1b = TO.Fma(x, b1, c1b);
            }
            if (TR.Value > 2)
            {
                x = TO.Splat(a2[off]);
                c2a = TO.Fma(x, b0, c2a);
                if (TC.Vectors > 1) c2b = TO.Fma(x, b1, c2b);
            }
            if (TR.Value > 3)
            {
                x = TO.Splat(a3[off]);
                c3a = TO.Fma(x, b0, c3a);
                if (TC.Vectors > 1) c3b = TO.Fma(x, b1, c3b);
            }
            if (TR.Value > 4)
            {
                x = TO.Splat(a4[off]);
                c4a = TO.Fma(x, b0, c4a);
                if (TC.Vectors > 1) c4b = TO.Fma(x, b1, c4b);
            }
            if (TR.Value > 5)
            {
                x = TO.Splat(a5[off]);
                c5a = TO.Fma(x, b0, c5a);
                if (TC.Vectors > 1) c5b = TO.Fma(x, b1, c5b);
            }
            if (TR.Value > 6)
            {
                x = TO.Splat(a6[off]);
                c6a = TO.Fma(x, b0, c6a);
                if (TC.Vectors > 1) c6b = TO.Fma(x, b1, c6b);
            }
            if (TR.Value > 7)
            {
                x = TO.Splat(a7[off]);
                c7a = TO.Fma(x, b0, c7a);
                if (TC.Vectors > 1) c7b = TO.Fma(x, b1, c7b);
            }
            if (TR.Value > 8)
            {
                x = TO.Splat(a8[off]);
                c8a = TO.Fma(x, b0, c8a);
                if (TC.Vectors > 1) c8b = TO.Fma(x, b1, c8b);
            }
            if (TR.Value > 9)
            {
                x = TO.Splat(a9[off]);
                c9a = TO.Fma(x, b0, c9a);
                if (TC.Vectors > 1) c9b = TO.Fma(x, b1, c9b);
            }
            if (TR.Value > 10)
            {
                x = TO.Splat(a10[off]);
                c10a = TO.Fma(x, b0, c10a);
                if (TC.Vectors > 1) c10b = TO.Fma(x, b1, c10b);
            }
            if (TR.Value > 11)
            {
                x = TO.Splat(a11[off]);
                c11a = TO.Fma(x, b0, c11a);
                if (TC.Vectors > 1) c11b = TO.Fma(x, b1, c11b);
            }
            off += acs;
            b += ldb;
        }
        StoreRow<TC>(c + 0 * ldc, c0a, c0b, default, default, mask, last, accumulate);
        if (TR.Value > 1) StoreRow<TC>(c + 1 * ldc, c1a, c1b, default, default, mask, last, accumulate);
        if (TR.Value > 2) StoreRow<TC>(c + 2 * ldc, c2a, c2b, default, default, mask, last, accumulate);
        if (TR.Value > 3) StoreRow<TC>(c + 3 * ldc, c3a, c3b, default, default, mask, last, accumulate);
        if (TR.Value > 4) StoreRow<TC>(c + 4 * ldc, c4a, c4b, default, default, mask, last, accumulate);
        if (TR.Value > 5) StoreRow<TC>(c + 5 * ldc, c5a, c5b, default, default, mask, last, accumulate);
        if (TR.Value > 6) StoreRow<TC>(c + 6 * ldc, c6a, c6b, default, default, mask, last, accumulate);
        if (TR.Value > 7) StoreRow<TC>(c + 7 * ldc, c7a, c7b, default, default, mask, last, accumulate);
        if (TR.Value > 8) StoreRow<TC>(c + 8 * ldc, c8a, c8b, default, default, mask, last, accumulate);
        if (TR.Value > 9) StoreRow<TC>(c + 9 * ldc, c9a, c9b, default, default, mask, last, accumulate);
        if (TR.Value > 10) StoreRow<TC>(c + 10 * ldc, c10a, c10b, default, default, mask, last, accumulate);
        if (TR.Value > 11) StoreRow<TC>(c + 11 * ldc, c11a, c11b, default, default, mask, last, accumulate);
    }

    /// <summary>Single-row product c[0..cols) = epi(Σ_p x[p]·B[p, 0..cols)) with two interleaved k chains.</summary>
    public static void Gemv<TEpi>(int nv, int last, float* x, float* b, nint ldb, float* c, int k, int col0, bool applyEpi, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct
    {
        switch (last == TO.Count ? nv : -nv)
        {
            case 1: GemvKernel<V1>(x, b, ldb, c, k, last); break;
            case -1: GemvKernel<V1M>(x, b, ldb, c, k, last); break;
            case 2: GemvKernel<V2>(x, b, ldb, c, k, last); break;
            case -2: GemvKernel<V2M>(x, b, ldb, c, k, last); break;
            case 3: GemvKernel<V3>(x, b, ldb, c, k, last); break;
            case -3: GemvKernel<V3M>(x, b, ldb, c, k, last); break;
            case 4: GemvKernel<V4>(x, b, ldb, c, k, last); break;
            case -4: GemvKernel<V4M>(x, b, ldb, c, k, last); break;
            default: throw new ArgumentOutOfRangeException(nameof(nv));
        }
        if (applyEpi) ApplyEpilogue(c, 0, 1, (nv - 1) * TO.Count + last, col0, ref epi);
    }

    /// <summary>One output row: two k chains per column vector hide the FMA latency; the loop streams B once.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvKernel<TC>(float* x, float* b, nint ldb, float* c, int k, int last)
        where TC : struct, ITileCols
    {
        TV mask = TC.Masked ? TO.FirstLanes(last) : default;
        TV s0 = default, s1 = default, s2 = default, s3 = default;
        TV t0 = default, t1 = default, t2 = default, t3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2)
        {
            TV x0 = TO.Splat(x[p]);
            TV x1 = TO.Splat(x[p + 1]);
            float* b1 = b + ldb;
            { s0 = TO.Fma(x0, Load<TC>(b, 0, mask, last), s0); t0 = TO.Fma(x1, Load<TC>(b1, 0, mask, last), t0); }
            if (TC.Vectors > 1) { s1 = TO.Fma(x0, Load<TC>(b, 1, mask, last), s1); t1 = TO.Fma(x1, Load<TC>(b1, 1, mask, last), t1); }
            if (TC.Vectors > 2) { s2 = TO.Fma(x0, Load<TC>(b, 2, mask, last), s2); t2 = TO.Fma(x1, Load<TC>(b1, 2, mask, last), t2); }
            if (TC.Vectors > 3) { s3 = TO.Fma(x0, Load<TC>(b, 3, mask, last), s3); t3 = TO.Fma(x1, Load<TC>(b1, 3, mask, last), t3); }
            b += 2 * ldb;
        }
        if (p < k)
        {
            TV x0 = TO.Splat(x[p]);
            s0 = TO.Fma(x0, Load<TC>(b, 0, mask, last), s0);
            if (TC.Vectors > 1) s1 = TO.Fma(x0, Load<TC>(b, 1, mask, last), s1);
            if (TC.Vectors > 2) s2 = TO.Fma(x0, Load<TC>(b, 2, mask, last), s2);
            if (TC.Vectors > 3) s3 = TO.Fma(x0, Load<TC>(b, 3, mask, last), s3);
        }
        StoreRow<TC>(c, TO.Add(s0, t0), TO.Add(s1, t1), TO.Add(s2, t2), TO.Add(s3, t3), mask, last, false);
    }

    /// <summary>Single-row product c[0..nv·Lanes) = Σ_p x[p]·B[p, ·] for nv ∈ {8, 12, 16} (up to GemvWideVectors); no epilogue.</summary>
    public static void GemvWide(int nv, float* x, float* b, nint ldb, float* c, int k)
    {
        switch (nv)
        {
            case 8: GemvWideKernel<V8>(x, b, ldb, c, k); break;
            case 12: GemvWideKernel<V12>(x, b, ldb, c, k); break;
            case 16: GemvWideKernel<V16>(x, b, ldb, c, k); break;
            default: throw new ArgumentOutOfRangeException(nameof(nv));
        }
    }

    /// <summary>
    /// One output row over up to a whole row of B: reads B strictly sequentially (row after row), which
    /// the prefetchers stream at full L2/memory bandwidth; the many accumulators are the independent chains.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvWideKernel<TC>(float* x, float* b, nint ldb, float* c, int k) where TC : struct, ITileCols
    {
        int l = TO.Count;
        TV s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            TV xp = TO.Splat(x[p]);
            s0 = TO.Fma(xp, TO.Load(b + 0 * l), s0);
            s1 = TO.Fma(xp, TO.Load(b + 1 * l), s1);
            s2 = TO.Fma(xp, TO.Load(b + 2 * l), s2);
            s3 = TO.Fma(xp, TO.Load(b + 3 * l), s3);
            s4 = TO.Fma(xp, TO.Load(b + 4 * l), s4);
            s5 = TO.Fma(xp, TO.Load(b + 5 * l), s5);
            s6 = TO.Fma(xp, TO.Load(b + 6 * l), s6);
            s7 = TO.Fma(xp, TO.Load(b + 7 * l), s7);
            if (TC.Vectors > 8) s8 = TO.Fma(xp, TO.Load(b + 8 * l), s8);
            if (TC.Vectors > 9) s9 = TO.Fma(xp, TO.Load(b + 9 * l), s9);
            if (TC.Vectors > 10) s10 = TO.Fma(xp, TO.Load(b + 10 * l), s10);
            if (TC.Vectors > 11) s11 = TO.Fma(xp, TO.Load(b + 11 * l), s11);
            if (TC.Vectors > 12) s12 = TO.Fma(xp, TO.Load(b + 12 * l), s12);
            if (TC.Vectors > 13) s13 = TO.Fma(xp, TO.Load(b + 13 * l), s13);
            if (TC.Vectors > 14) s14 = TO.Fma(xp, TO.Load(b + 14 * l), s14);
            if (TC.Vectors > 15) s15 = TO.Fma(xp, TO.Load(b + 15 * l), s15);
        }
        TO.Store(s0, c + 0 * l);
        TO.Store(s1, c + 1 * l);
        TO.Store(s2, c + 2 * l);
        TO.Store(s3, c + 3 * l);
        TO.Store(s4, c + 4 * l);
        TO.Store(s5, c + 5 * l);
        TO.Store(s6, c + 6 * l);
        TO.Store(s7, c + 7 * l);
        if (TC.Vectors > 8) TO.Store(s8, c + 8 * l);
        if (TC.Vectors > 9) TO.Store(s9, c + 9 * l);
        if (TC.Vectors > 10) TO.Store(s10, c + 10 * l);
        if (TC.Vectors > 11) TO.Store(s11, c + 11 * l);
        if (TC.Vectors > 12) TO.Store(s12, c + 12 * l);
        if (TC.Vectors > 13) TO.Store(s13, c + 13 * l);
        if (TC.Vectors > 14) TO.Store(s14, c + 14 * l);
        if (TC.Vectors > 15) TO.Store(s15, c + 15 * l);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TC>(float* c, TV v0, TV v1, TV v2, TV v3, TV mask, int last, bool accumulate)
        where TC : struct, ITileCols
    {
        StoreVector<TC>(c, 0, v0, mask, last, accumulate);
        if (TC.Vectors > 1) StoreVector<TC>(c, 1, v1, mask, last, accumulate);
        if (TC.Vectors > 2) StoreVector<TC>(c, 2, v2, mask, last, accumulate);
        if (TC.Vectors > 3) StoreVector<TC>(c, 3, v3, mask, last, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector<TC>(float* c, int v, TV acc, TV mask, int last, bool accumulate)
        where TC : struct, ITileCols
    {
        float* p = c + v * TO.Count;
        if (TC.Masked && v == TC.Vectors - 1)
        {
            if (accumulate) acc = TO.Add(acc, TO.LoadPartial(p, mask, last));
            TO.StorePartial(acc, p, mask, last);
        }
        else
        {
            if (accumulate) acc = TO.Add(acc, TO.Load(p));
            TO.Store(acc, p);
        }
    }

    /// <summary>
    /// Applies the epilogue to a just-stored tile (still in L1). Kept out of the micro-kernels: the
    /// epilogue may call (bounds-check throw helpers), which would make the kernels spill. Partial vectors
    /// at the right edge use the scalar overload, so a vector Apply never reads per-column data past n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplyEpilogue<TEpi>(float* c, nint ldc, int rows, int cols, int col0, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct
    {
        // A local copy: through the ref, every store to c could alias the epilogue's fields, forcing reloads.
        TEpi e = epi;
        for (int r = 0; r < rows; r++, c += ldc) ApplyEpilogueRow(c, cols, col0, ref e);
    }

    /// <summary>y[j] = epi(y[j], col0 + j) for j &lt; cols (a whole number of vectors is not required).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ApplyEpilogueRow<TEpi>(float* y, int cols, int col0, ref TEpi e) where TEpi : IEpilogue, allows ref struct
    {
        int j = 0;
        for (; j + TO.Count <= cols; j += TO.Count) TO.Store(EpilogueOps.Apply(ref e, TO.Load(y + j), col0 + j), y + j);
        for (; j < cols; j++) y[j] = e.Apply(y[j], col0 + j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Load<TC>(float* b, int v, TV mask, int last) where TC : struct, ITileCols =>
        TC.Masked && v == TC.Vectors - 1 ? TO.LoadPartial(b + v * TO.Count, mask, last) : TO.Load(b + v * TO.Count);

    /// <summary>out[i] = Σ_j v[j]·m[i·n + j] for i &lt; count (dot products with the rows of m).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotRows(float* v, float* m, int n, float* result, int count)
    {
        int full = n - n % TO.Count;
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            float* m0 = m + (nint)i * n, m1 = m0 + n, m2 = m1 + n, m3 = m2 + n;
            TV s0 = default, s1 = default, s2 = default, s3 = default;
            for (int j = 0; j < full; j += TO.Count)
            {
                TV x = TO.Load(v + j);
                s0 = TO.Fma(x, TO.Load(m0 + j), s0);
                s1 = TO.Fma(x, TO.Load(m1 + j), s1);
                s2 = TO.Fma(x, TO.Load(m2 + j), s2);
                s3 = TO.Fma(x, TO.Load(m3 + j), s3);
            }
            float r0 = TO.Sum(s0), r1 = TO.Sum(s1), r2 = TO.Sum(s2), r3 = TO.Sum(s3);
            for (int j = full; j < n; j++)
            {
                r0 += v[j] * m0[j]; r1 += v[j] * m1[j]; r2 += v[j] * m2[j]; r3 += v[j] * m3[j];
            }
            result[i] = r0; result[i + 1] = r1; result[i + 2] = r2; result[i + 3] = r3;
        }
        for (; i < count; i++)
        {
            float* m0 = m + (nint)i * n;
            TV s0 = default;
            for (int j = 0; j < full; j += TO.Count) s0 = TO.Fma(TO.Load(v + j), TO.Load(m0 + j), s0);
            float r0 = TO.Sum(s0);
            for (int j = full; j < n; j++) r0 += v[j] * m0[j];
            result[i] = r0;
        }
    }

    /// <summary>dst[j] = src[j]·s for j &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleRow(float* dst, float* src, float s, int n)
    {
        int j = 0;
        TV vs = TO.Splat(s);
        for (; j + TO.Count <= n; j += TO.Count) TO.Store(TO.Mul(TO.Load(src + j), vs), dst + j);
        for (; j < n; j++) dst[j] = src[j] * s;
    }
}
