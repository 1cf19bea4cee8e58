using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// In NHWC the channels of one pixel are contiguous, so the convolution and pooling kernels move whole
// channel runs (and, with unit dilation, whole rows of kx·C floats). These helpers do one run at the
// path's width; the short tails that channel counts like 3 or 17 leave drop to 128-bit lanes and
// then scalars, so a 5-float run of the single-channel first layer does not go one float at a time.

/// <summary>Copies and accumulations of one contiguous float run.</summary>
internal static class ChannelRuns
{
    /// <summary>dst[0..n) = src[0..n). src and dst must not overlap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy<TO, TV>(ref float src, ref float dst, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count;
        if (n >= w)
        {
            int i = 0;
            for (; i + w <= n; i += w) TO.Store(TO.Load(ref src, i), ref dst, i);
            // The tail as one more full vector ending at n: it rewrites a few floats with the same values.
            if (i < n) TO.Store(TO.Load(ref src, n - w), ref dst, n - w);
        }
        else if (n >= 4)
        {
            int i = 0;
            for (; i + 4 <= n; i += 4) Vector128.LoadUnsafe(ref src, (nuint)i).StoreUnsafe(ref dst, (nuint)i);
            if (i < n) Vector128.LoadUnsafe(ref src, (nuint)(n - 4)).StoreUnsafe(ref dst, (nuint)(n - 4));
        }
        else
        {
            for (int i = 0; i < n; i++) Unsafe.Add(ref dst, i) = Unsafe.Add(ref src, i);
        }
    }

    /// <summary>dst[0..n) += src[0..n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddInto<TO, TV>(ref float src, ref float dst, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        for (; i + w <= n; i += w) TO.Store(TO.Add(TO.Load(ref dst, i), TO.Load(ref src, i)), ref dst, i);
        if (w > 4)
            for (; i + 4 <= n; i += 4)
                (Vector128.LoadUnsafe(ref dst, (nuint)i) + Vector128.LoadUnsafe(ref src, (nuint)i)).StoreUnsafe(ref dst, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref dst, i) += Unsafe.Add(ref src, i);
    }

    /// <summary>dst[0..n) += a·src[0..n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddScaledInto<TO, TV>(ref float src, float a, ref float dst, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV va = TO.Splat(a);
        for (; i + w <= n; i += w) TO.Store(TO.Fma(TO.Load(ref src, i), va, TO.Load(ref dst, i)), ref dst, i);
        if (w > 4)
        {
            Vector128<float> a4 = Vector128.Create(a);
            for (; i + 4 <= n; i += 4)
                (Vector128.LoadUnsafe(ref dst, (nuint)i) + Vector128.LoadUnsafe(ref src, (nuint)i) * a4).StoreUnsafe(ref dst, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref dst, i) += a * Unsafe.Add(ref src, i);
    }

    /// <summary>dst[0..n) = a·src[0..n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyScaled<TO, TV>(ref float src, float a, ref float dst, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV va = TO.Splat(a);
        for (; i + w <= n; i += w) TO.Store(TO.Mul(TO.Load(ref src, i), va), ref dst, i);
        if (w > 4)
        {
            Vector128<float> a4 = Vector128.Create(a);
            for (; i + 4 <= n; i += 4) (Vector128.LoadUnsafe(ref src, (nuint)i) * a4).StoreUnsafe(ref dst, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref dst, i) = a * Unsafe.Add(ref src, i);
    }

    /// <summary>dst[0..n) = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(ref float dst, int n) => MemoryMarshal.CreateSpan(ref dst, n).Clear();

    /// <summary>Zeroes samples [s0, s1) of a buffer of <paramref name="perSample"/> floats per sample.</summary>
    public static void ClearSamples(Span<float> buffer, int perSample, int s0, int s1) =>
        buffer.Slice(s0 * perSample, (s1 - s0) * perSample).Clear();
}

/// <summary>The lane operations a running max with argmax needs, beyond <see cref="IVectorOps{TV}"/>.</summary>
/// <remarks>
/// A lane takes a new value only when it is strictly greater, so ties keep the first element in scan
/// order, and the inference form (no argmax) uses the same compare so both forms pick the same value.
/// </remarks>
internal interface IArgMaxLanes<TV, TI> where TV : struct where TI : struct
{
    /// <summary>v &gt; best ? v : best, lane-wise.</summary>
    static abstract TV KeepGreater(TV best, TV v);
    /// <summary>index + lane.</summary>
    static abstract TI Indices(int index);
    /// <summary>Where v &gt; best: best = v and arg = index + lane.</summary>
    static abstract void Update(ref TV best, ref TI arg, TV v, int index);
    static abstract void StoreIndices(TI arg, ref int p, nint i);
}

internal readonly struct ArgMax512 : IArgMaxLanes<Vector512<float>, Vector512<int>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> KeepGreater(Vector512<float> best, Vector512<float> v) => Vector512.ConditionalSelect(Vector512.GreaterThan(v, best), v, best);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Indices(int index) => Vector512.Create(index) + Vector512<int>.Indices;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update(ref Vector512<float> best, ref Vector512<int> arg, Vector512<float> v, int index)
    {
        Vector512<float> m = Vector512.GreaterThan(v, best);
        best = Vector512.ConditionalSelect(m, v, best);
        arg = Vector512.ConditionalSelect(m.AsInt32(), Indices(index), arg);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreIndices(Vector512<int> arg, ref int p, nint i) => arg.StoreUnsafe(ref p, (nuint)i);
}

internal readonly struct ArgMax256 : IArgMaxLanes<Vector256<float>, Vector256<int>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> KeepGreater(Vector256<float> best, Vector256<float> v) => Vector256.ConditionalSelect(Vector256.GreaterThan(v, best), v, best);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Indices(int index) => Vector256.Create(index) + Vector256<int>.Indices;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update(ref Vector256<float> best, ref Vector256<int> arg, Vector256<float> v, int index)
    {
        Vector256<float> m = Vector256.GreaterThan(v, best);
        best = Vector256.ConditionalSelect(m, v, best);
        arg = Vector256.ConditionalSelect(m.AsInt32(), Indices(index), arg);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreIndices(Vector256<int> arg, ref int p, nint i) => arg.StoreUnsafe(ref p, (nuint)i);
}

internal readonly struct ArgMax128 : IArgMaxLanes<Vector128<float>, Vector128<int>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> KeepGreater(Vector128<float> best, Vector128<float> v) => Vector128.ConditionalSelect(Vector128.GreaterThan(v, best), v, best);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Indices(int index) => Vector128.Create(index) + Vector128<int>.Indices;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update(ref Vector128<float> best, ref Vector128<int> arg, Vector128<float> v, int index)
    {
        Vector128<float> m = Vector128.GreaterThan(v, best);
        best = Vector128.ConditionalSelect(m, v, best);
        arg = Vector128.ConditionalSelect(m.AsInt32(), Indices(index), arg);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreIndices(Vector128<int> arg, ref int p, nint i) => arg.StoreUnsafe(ref p, (nuint)i);
}

internal readonly struct ArgMaxScalar : IArgMaxLanes<float, int>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float KeepGreater(float best, float v) => v > best ? v : best;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Indices(int index) => index;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update(ref float best, ref int arg, float v, int index)
    {
        if (v > best) { best = v; arg = index; }
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreIndices(int arg, ref int p, nint i) => Unsafe.Add(ref p, i) = arg;
}
