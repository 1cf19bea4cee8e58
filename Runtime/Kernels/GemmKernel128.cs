using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// Expanded from the same template as the other GemmKernel*.cs files (only the vector type, the
// FMA and the partial-vector load/store differ): keep the three in step.

/// <summary>Portable micro-kernels on cross-platform Vector128 APIs only: 6 rows × 2 vectors (6×8 floats) = 12 accumulators, which fits the 16 registers of SSE and leaves room on NEON.</summary>
internal readonly unsafe struct GemmKernel128 : IGemmKernel
{
    public static bool IsSupported => true;
    public static int Lanes => 4;
    public static int TileRows => 6;
    public static int TileVectors => 2;
    public static int GemvWideVectors => 12;

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
        if (applyEpi) ApplyEpilogue(c, ldc, mr, (nv - 1) * 4 + last, col0, ref epi);
    }

    private static void TileCols<TR>(int nv, int last, float* a, nint ars, nint acs, float* b, nint ldb,
        float* c, nint ldc, int kc, bool accumulate)
        where TR : struct, ITileRows
    {
        switch (last == 4 ? nv : -nv)
        {
            case 1: Kernel<TR, V1>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case -1: Kernel<TR, V1M>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case 2: Kernel<TR, V2>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
            case -2: Kernel<TR, V2M>(a, ars, acs, b, ldb, c, ldc, kc, last, accumulate); break;
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
        Vector128<float> mask = TC.Masked ? default : default;
        Vector128<float> c00 = default, c01 = default;
        Vector128<float> c10 = default, c11 = default;
        Vector128<float> c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default;
        Vector128<float> c40 = default, c41 = default;
        Vector128<float> c50 = default, c51 = default;
        float* a0 = a, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars, a4 = a3 + ars, a5 = a4 + ars;
        nint off = 0;
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Load<TC>(b, 0, mask, last);
            Vector128<float> b1 = TC.Vectors > 1 ? Load<TC>(b, 1, mask, last) : default;
            Vector128<float> x;
            x = Vector128.Create(a0[off]);
            c00 = Vector128.MultiplyAddEstimate(x, b0, c00);
            if (TC.Vectors > 1) c01 = Vector128.MultiplyAddEstimate(x, b1, c01);
            if (TR.Value > 1)
            {
                x = Vector128.Create(a1[off]);
                c10 = Vector128.MultiplyAddEstimate(x, b0, c10);
                if (TC.Vectors > 1) c11 = Vector128.MultiplyAddEstimate(x, b1, c11);
            }
            if (TR.Value > 2)
            {
                x = Vector128.Create(a2[off]);
                c20 = Vector128.MultiplyAddEstimate(x, b0, c20);
                if (TC.Vectors > 1) c21 = Vector128.MultiplyAddEstimate(x, b1, c21);
            }
            if (TR.Value > 3)
            {
                x = Vector128.Create(a3[off]);
                c30 = Vector128.MultiplyAddEstimate(x, b0, c30);
                if (TC.Vectors > 1) c31 = Vector128.MultiplyAddEstimate(x, b1, c31);
            }
            if (TR.Value > 4)
            {
                x = Vector128.Create(a4[off]);
                c40 = Vector128.MultiplyAddEstimate(x, b0, c40);
                if (TC.Vectors > 1) c41 = Vector128.MultiplyAddEstimate(x, b1, c41);
            }
            if (TR.Value > 5)
            {
                x = Vector128.Create(a5[off]);
                c50 = Vector128.MultiplyAddEstimate(x, b0, c50);
                if (TC.Vectors > 1) c51 = Vector128.MultiplyAddEstimate(x, b1, c51);
            }
            off += acs;
            b += ldb;
        }
        StoreRow<TC>(c + 0 * ldc, c00, c01, default, default, mask, last, accumulate);
        if (TR.Value > 1) StoreRow<TC>(c + 1 * ldc, c10, c11, default, default, mask, last, accumulate);
        if (TR.Value > 2) StoreRow<TC>(c + 2 * ldc, c20, c21, default, default, mask, last, accumulate);
        if (TR.Value > 3) StoreRow<TC>(c + 3 * ldc, c30, c31, default, default, mask, last, accumulate);
        if (TR.Value > 4) StoreRow<TC>(c + 4 * ldc, c40, c41, default, default, mask, last, accumulate);
        if (TR.Value > 5) StoreRow<TC>(c + 5 * ldc, c50, c51, default, default, mask, last, accumulate);
    }

    public static void Gemv<TEpi>(int nv, int last, float* x, float* b, nint ldb, float* c, int k, int col0, bool applyEpi, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct
    {
        switch (last == 4 ? nv : -nv)
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
        if (applyEpi) ApplyEpilogue(c, 0, 1, (nv - 1) * 4 + last, col0, ref epi);
    }

    /// <summary>One output row: two k chains per column vector hide the FMA latency; the loop streams B once.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvKernel<TC>(float* x, float* b, nint ldb, float* c, int k, int last)
        where TC : struct, ITileCols
    {
        Vector128<float> mask = TC.Masked ? default : default;
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
        Vector128<float> t0 = default, t1 = default, t2 = default, t3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2)
        {
            Vector128<float> x0 = Vector128.Create(x[p]);
            Vector128<float> x1 = Vector128.Create(x[p + 1]);
            float* b1 = b + ldb;
            { s0 = Vector128.MultiplyAddEstimate(x0, Load<TC>(b, 0, mask, last), s0); t0 = Vector128.MultiplyAddEstimate(x1, Load<TC>(b1, 0, mask, last), t0); }
            if (TC.Vectors > 1) { s1 = Vector128.MultiplyAddEstimate(x0, Load<TC>(b, 1, mask, last), s1); t1 = Vector128.MultiplyAddEstimate(x1, Load<TC>(b1, 1, mask, last), t1); }
            if (TC.Vectors > 2) { s2 = Vector128.MultiplyAddEstimate(x0, Load<TC>(b, 2, mask, last), s2); t2 = Vector128.MultiplyAddEstimate(x1, Load<TC>(b1, 2, mask, last), t2); }
            if (TC.Vectors > 3) { s3 = Vector128.MultiplyAddEstimate(x0, Load<TC>(b, 3, mask, last), s3); t3 = Vector128.MultiplyAddEstimate(x1, Load<TC>(b1, 3, mask, last), t3); }
            b += 2 * ldb;
        }
        if (p < k)
        {
            Vector128<float> x0 = Vector128.Create(x[p]);
            s0 = Vector128.MultiplyAddEstimate(x0, Load<TC>(b, 0, mask, last), s0);
            if (TC.Vectors > 1) s1 = Vector128.MultiplyAddEstimate(x0, Load<TC>(b, 1, mask, last), s1);
            if (TC.Vectors > 2) s2 = Vector128.MultiplyAddEstimate(x0, Load<TC>(b, 2, mask, last), s2);
            if (TC.Vectors > 3) s3 = Vector128.MultiplyAddEstimate(x0, Load<TC>(b, 3, mask, last), s3);
        }
        StoreRow<TC>(c, s0 + t0, s1 + t1, s2 + t2, s3 + t3, mask, last, false);
    }

    public static void GemvWide(int nv, float* x, float* b, nint ldb, float* c, int k)
    {
        switch (nv)
        {
            case 8: GemvWideKernel<V8>(x, b, ldb, c, k); break;
            case 12: GemvWideKernel<V12>(x, b, ldb, c, k); break;
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
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default;
        for (int p = 0; p < k; p++, b += ldb)
        {
            Vector128<float> xp = Vector128.Create(x[p]);
            s0 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 0), s0);
            s1 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 4), s1);
            s2 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 8), s2);
            s3 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 12), s3);
            s4 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 16), s4);
            s5 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 20), s5);
            s6 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 24), s6);
            s7 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 28), s7);
            if (TC.Vectors > 8) s8 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 32), s8);
            if (TC.Vectors > 9) s9 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 36), s9);
            if (TC.Vectors > 10) s10 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 40), s10);
            if (TC.Vectors > 11) s11 = Vector128.MultiplyAddEstimate(xp, Vector128.Load(b + 44), s11);
        }
        s0.Store(c + 0);
        s1.Store(c + 4);
        s2.Store(c + 8);
        s3.Store(c + 12);
        s4.Store(c + 16);
        s5.Store(c + 20);
        s6.Store(c + 24);
        s7.Store(c + 28);
        if (TC.Vectors > 8) s8.Store(c + 32);
        if (TC.Vectors > 9) s9.Store(c + 36);
        if (TC.Vectors > 10) s10.Store(c + 40);
        if (TC.Vectors > 11) s11.Store(c + 44);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TC>(float* c, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3, Vector128<float> mask, int last, bool accumulate)
        where TC : struct, ITileCols
    {
        StoreVector<TC>(c, 0, v0, mask, last, accumulate);
        if (TC.Vectors > 1) StoreVector<TC>(c, 1, v1, mask, last, accumulate);
        if (TC.Vectors > 2) StoreVector<TC>(c, 2, v2, mask, last, accumulate);
        if (TC.Vectors > 3) StoreVector<TC>(c, 3, v3, mask, last, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector<TC>(float* c, int v, Vector128<float> acc, Vector128<float> mask, int last, bool accumulate)
        where TC : struct, ITileCols
    {
        float* p = c + v * 4;
        if (TC.Masked && v == TC.Vectors - 1)
        {
            if (accumulate) acc += LoadPartial(p, last);
            StorePartial(p, last, acc);
        }
        else
        {
            if (accumulate) acc += Vector128.Load(p);
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
            for (; j + 4 <= cols; j += 4) e.Apply(Vector128.Load(c + j), col0 + j).Store(c + j);
            for (; j < cols; j++) c[j] = e.Apply(c[j], col0 + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Load<TC>(float* b, int v, Vector128<float> mask, int last) where TC : struct, ITileCols =>
        TC.Masked && v == TC.Vectors - 1 ? LoadPartial(b + v * 4, last) : Vector128.Load(b + v * 4);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotRows(float* v, float* m, int n, float* result, int count)
    {
        int full = n - n % 4;
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            float* m0 = m + (nint)i * n, m1 = m0 + n, m2 = m1 + n, m3 = m2 + n;
            Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int j = 0; j < full; j += 4)
            {
                Vector128<float> x = Vector128.Load(v + j);
                s0 = Vector128.MultiplyAddEstimate(x, Vector128.Load(m0 + j), s0);
                s1 = Vector128.MultiplyAddEstimate(x, Vector128.Load(m1 + j), s1);
                s2 = Vector128.MultiplyAddEstimate(x, Vector128.Load(m2 + j), s2);
                s3 = Vector128.MultiplyAddEstimate(x, Vector128.Load(m3 + j), s3);
            }
            float r0 = Vector128.Sum(s0), r1 = Vector128.Sum(s1), r2 = Vector128.Sum(s2), r3 = Vector128.Sum(s3);
            for (int j = full; j < n; j++)
            {
                r0 += v[j] * m0[j]; r1 += v[j] * m1[j]; r2 += v[j] * m2[j]; r3 += v[j] * m3[j];
            }
            result[i] = r0; result[i + 1] = r1; result[i + 2] = r2; result[i + 3] = r3;
        }
        for (; i < count; i++)
        {
            float* m0 = m + (nint)i * n;
            Vector128<float> s0 = default;
            for (int j = 0; j < full; j += 4) s0 = Vector128.MultiplyAddEstimate(Vector128.Load(v + j), Vector128.Load(m0 + j), s0);
            float r0 = Vector128.Sum(s0);
            for (int j = full; j < n; j++) r0 += v[j] * m0[j];
            result[i] = r0;
        }
    }

    /// <summary>The first <paramref name="count"/> (1..3) floats at p, zero elsewhere, without reading past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> LoadPartial(float* p, int count) => count switch
    {
        1 => Vector128.CreateScalar(p[0]),
        2 => Vector128.CreateScalar(Unsafe.ReadUnaligned<double>(p)).AsSingle(),
        3 => Vector128.CreateScalar(Unsafe.ReadUnaligned<double>(p)).AsSingle().WithElement(2, p[2]),
        _ => Vector128.Load(p),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePartial(float* p, int count, Vector128<float> v)
    {
        for (int l = 0; l < count; l++) p[l] = v.GetElement(l);
    }
}
