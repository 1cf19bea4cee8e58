using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels;

// Expanded from the same template as the other GemmKernel*.cs files (only the vector type, the
// FMA and the partial-vector load/store differ): keep the three in step.

/// <summary>AVX-512 micro-kernels: 6 rows × 4 zmm (6×64 floats) = 24 accumulators + 4 B vectors + 1 broadcast of 32 registers.</summary>
internal readonly unsafe struct GemmKernel512 : IGemmKernel
{
    public static bool IsSupported => Avx512F.IsSupported;
    public static int Lanes => 16;
    public static int TileRows => 6;
    public static int TileVectors => 4;
    public static int GemvWideVectors => 16;

    public static void Tile<TEpi>(int mr, int nv, int last, float* a, nint ars, nint acs, float* b, nint ldb,
        float* c, nint ldc, int kc, int col0, bool accumulate, bool applyEpi, ref TEpi epi)
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
            default: throw new ArgumentOutOfRangeException(nameof(mr));
        }
        if (applyEpi) ApplyEpilogue(c, ldc, mr, (nv - 1) * 16 + last, col0, ref epi);
    }

    private static void TileCols<TR>(int nv, int last, float* a, nint ars, nint acs, float* b, nint ldb,
        float* c, nint ldc, int kc, bool accumulate)
        where TR : struct, ITileRows
    {
        switch (last == 16 ? nv : -nv)
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
        Vector512<float> mask = TC.Masked ? Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(last)).AsSingle() : default;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        float* a0 = a, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars, a4 = a3 + ars, a5 = a4 + ars;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Load<TC>(b, 0, mask, last);
            Vector512<float> b1 = TC.Vectors > 1 ? Load<TC>(b, 1, mask, last) : default;
            Vector512<float> b2 = TC.Vectors > 2 ? Load<TC>(b, 2, mask, last) : default;
            Vector512<float> b3 = TC.Vectors > 3 ? Load<TC>(b, 3, mask, last) : default;
            Vector512<float> x;
            x = Vector512.Create(a0[off]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            if (TC.Vectors > 1) c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            if (TC.Vectors > 2) c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            if (TC.Vectors > 3) c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            if (TR.Value > 1)
            {
                x = Vector512.Create(a1[off]);
                c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
                if (TC.Vectors > 1) c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
                if (TC.Vectors > 2) c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
                if (TC.Vectors > 3) c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            }
            if (TR.Value > 2)
            {
                x = Vector512.Create(a2[off]);
                c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
                if (TC.Vectors > 1) c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
                if (TC.Vectors > 2) c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
                if (TC.Vectors > 3) c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            }
            if (TR.Value > 3)
            {
                x = Vector512.Create(a3[off]);
                c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
                if (TC.Vectors > 1) c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
                if (TC.Vectors > 2) c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
                if (TC.Vectors > 3) c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            }
            if (TR.Value > 4)
            {
                x = Vector512.Create(a4[off]);
                c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
                if (TC.Vectors > 1) c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
                if (TC.Vectors > 2) c42 = Vector512.FusedMultiplyAdd(x, b2, c42);
                if (TC.Vectors > 3) c43 = Vector512.FusedMultiplyAdd(x, b3, c43);
            }
            if (TR.Value > 5)
            {
                x = Vector512.Create(a5[off]);
                c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
                if (TC.Vectors > 1) c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
                if (TC.Vectors > 2) c52 = Vector512.FusedMultiplyAdd(x, b2, c52);
                if (TC.Vectors > 3) c53 = Vector512.FusedMultiplyAdd(x, b3, c53);
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

    public static void Gemv<TEpi>(int nv, int last, float* x, float* b, nint ldb, float* c, int k, int col0, bool applyEpi, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct
    {
        switch (last == 16 ? nv : -nv)
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
        if (applyEpi) ApplyEpilogue(c, 0, 1, (nv - 1) * 16 + last, col0, ref epi);
    }

    /// <summary>One output row: two k chains per column vector hide the FMA latency; the loop streams B once.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvKernel<TC>(float* x, float* b, nint ldb, float* c, int k, int last)
        where TC : struct, ITileCols
    {
        Vector512<float> mask = TC.Masked ? Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(last)).AsSingle() : default;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2)
        {
            Vector512<float> x0 = Vector512.Create(x[p]);
            Vector512<float> x1 = Vector512.Create(x[p + 1]);
            float* b1 = b + ldb;
            { s0 = Vector512.FusedMultiplyAdd(x0, Load<TC>(b, 0, mask, last), s0); t0 = Vector512.FusedMultiplyAdd(x1, Load<TC>(b1, 0, mask, last), t0); }
            if (TC.Vectors > 1) { s1 = Vector512.FusedMultiplyAdd(x0, Load<TC>(b, 1, mask, last), s1); t1 = Vector512.FusedMultiplyAdd(x1, Load<TC>(b1, 1, mask, last), t1); }
            if (TC.Vectors > 2) { s2 = Vector512.FusedMultiplyAdd(x0, Load<TC>(b, 2, mask, last), s2); t2 = Vector512.FusedMultiplyAdd(x1, Load<TC>(b1, 2, mask, last), t2); }
            if (TC.Vectors > 3) { s3 = Vector512.FusedMultiplyAdd(x0, Load<TC>(b, 3, mask, last), s3); t3 = Vector512.FusedMultiplyAdd(x1, Load<TC>(b1, 3, mask, last), t3); }
            b += 2 * ldb;
        }
        if (p < k)
        {
            Vector512<float> x0 = Vector512.Create(x[p]);
            s0 = Vector512.FusedMultiplyAdd(x0, Load<TC>(b, 0, mask, last), s0);
            if (TC.Vectors > 1) s1 = Vector512.FusedMultiplyAdd(x0, Load<TC>(b, 1, mask, last), s1);
            if (TC.Vectors > 2) s2 = Vector512.FusedMultiplyAdd(x0, Load<TC>(b, 2, mask, last), s2);
            if (TC.Vectors > 3) s3 = Vector512.FusedMultiplyAdd(x0, Load<TC>(b, 3, mask, last), s3);
        }
        StoreRow<TC>(c, s0 + t0, s1 + t1, s2 + t2, s3 + t3, mask, last, false);
    }

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
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            Vector512<float> xp = Vector512.Create(x[p]);
            s0 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 0), s0);
            s1 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 48), s3);
            s4 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 64), s4);
            s5 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 80), s5);
            s6 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 96), s6);
            s7 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 112), s7);
            if (TC.Vectors > 8) s8 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 128), s8);
            if (TC.Vectors > 9) s9 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 144), s9);
            if (TC.Vectors > 10) s10 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 160), s10);
            if (TC.Vectors > 11) s11 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 176), s11);
            if (TC.Vectors > 12) s12 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 192), s12);
            if (TC.Vectors > 13) s13 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 208), s13);
            if (TC.Vectors > 14) s14 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 224), s14);
            if (TC.Vectors > 15) s15 = Vector512.FusedMultiplyAdd(xp, Vector512.Load(b + 240), s15);
        }
        s0.Store(c + 0);
        s1.Store(c + 16);
        s2.Store(c + 32);
        s3.Store(c + 48);
        s4.Store(c + 64);
        s5.Store(c + 80);
        s6.Store(c + 96);
        s7.Store(c + 112);
        if (TC.Vectors > 8) s8.Store(c + 128);
        if (TC.Vectors > 9) s9.Store(c + 144);
        if (TC.Vectors > 10) s10.Store(c + 160);
        if (TC.Vectors > 11) s11.Store(c + 176);
        if (TC.Vectors > 12) s12.Store(c + 192);
        if (TC.Vectors > 13) s13.Store(c + 208);
        if (TC.Vectors > 14) s14.Store(c + 224);
        if (TC.Vectors > 15) s15.Store(c + 240);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TC>(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, Vector512<float> mask, int last, bool accumulate)
        where TC : struct, ITileCols
    {
        StoreVector<TC>(c, 0, v0, mask, last, accumulate);
        if (TC.Vectors > 1) StoreVector<TC>(c, 1, v1, mask, last, accumulate);
        if (TC.Vectors > 2) StoreVector<TC>(c, 2, v2, mask, last, accumulate);
        if (TC.Vectors > 3) StoreVector<TC>(c, 3, v3, mask, last, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector<TC>(float* c, int v, Vector512<float> acc, Vector512<float> mask, int last, bool accumulate)
        where TC : struct, ITileCols
    {
        float* p = c + v * 16;
        if (TC.Masked && v == TC.Vectors - 1)
        {
            if (accumulate) acc += Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);
            Avx512F.MaskStore(p, mask, acc);
        }
        else
        {
            if (accumulate) acc += Vector512.Load(p);
            acc.Store(p);
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
        for (int r = 0; r < rows; r++, c += ldc)
        {
            int j = 0;
            for (; j + 16 <= cols; j += 16) e.Apply(Vector512.Load(c + j), col0 + j).Store(c + j);
            for (; j < cols; j++) c[j] = e.Apply(c[j], col0 + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load<TC>(float* b, int v, Vector512<float> mask, int last) where TC : struct, ITileCols =>
        TC.Masked && v == TC.Vectors - 1 ? Avx512F.MaskLoad(b + v * 16, mask, Vector512<float>.Zero) : Vector512.Load(b + v * 16);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotRows(float* v, float* m, int n, float* result, int count)
    {
        int full = n - n % 16;
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            float* m0 = m + (nint)i * n, m1 = m0 + n, m2 = m1 + n, m3 = m2 + n;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int j = 0; j < full; j += 16)
            {
                Vector512<float> x = Vector512.Load(v + j);
                s0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(m0 + j), s0);
                s1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(m1 + j), s1);
                s2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(m2 + j), s2);
                s3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(m3 + j), s3);
            }
            float r0 = Vector512.Sum(s0), r1 = Vector512.Sum(s1), r2 = Vector512.Sum(s2), r3 = Vector512.Sum(s3);
            for (int j = full; j < n; j++)
            {
                r0 += v[j] * m0[j]; r1 += v[j] * m1[j]; r2 += v[j] * m2[j]; r3 += v[j] * m3[j];
            }
            result[i] = r0; result[i + 1] = r1; result[i + 2] = r2; result[i + 3] = r3;
        }
        for (; i < count; i++)
        {
            float* m0 = m + (nint)i * n;
            Vector512<float> s0 = default;
            for (int j = 0; j < full; j += 16) s0 = Vector512.FusedMultiplyAdd(Vector512.Load(v + j), Vector512.Load(m0 + j), s0);
            float r0 = Vector512.Sum(s0);
            for (int j = full; j < n; j++) r0 += v[j] * m0[j];
            result[i] = r0;
        }
    }
}
