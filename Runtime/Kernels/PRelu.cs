using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>PReLU with one learned slope per column.</summary>
public static partial class PRelu
{
    /// <summary>y[r,c] = (u &gt; 0 ? u : alpha[c]·u)·mask[r,c] (mask empty = 1); u, y: rows×cols.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TIsa>(ReadOnlySpan<float> u, ReadOnlySpan<float> alpha, ReadOnlySpan<float> mask, Span<float> y, int rows, int cols)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(cols, nameof(cols));
        long size = (long)rows * cols;
        Checks.Length(u.Length, size, nameof(u));
        Checks.Length(alpha.Length, cols, nameof(alpha));
        Checks.Optional(mask.Length, size, nameof(mask));
        Checks.Length(y.Length, size, nameof(y));
        ref float pu = ref MemoryMarshal.GetReference(u);
        ref float pa = ref MemoryMarshal.GetReference(alpha);
        ref float pm = ref MemoryMarshal.GetReference(mask);
        ref float py = ref MemoryMarshal.GetReference(y);
        bool masked = !mask.IsEmpty;
        for (int r = 0; r < rows; r++)
        {
            nint o = (nint)r * cols;
            ref float ur = ref Unsafe.Add(ref pu, o);
            ref float mr = ref masked ? ref Unsafe.Add(ref pm, o) : ref pm;
            ref float yr = ref Unsafe.Add(ref py, o);
            int c;
            if (VectorPath.Is512<TIsa>()) c = ForwardRow<Ops512, Vector512<float>>(ref ur, ref pa, ref mr, ref yr, cols, masked);
            else if (VectorPath.Is256<TIsa>()) c = ForwardRow<Ops256, Vector256<float>>(ref ur, ref pa, ref mr, ref yr, cols, masked);
            else c = ForwardRow<Ops128, Vector128<float>>(ref ur, ref pa, ref mr, ref yr, cols, masked);
            for (; c < cols; c++)
            {
                float v = Unsafe.Add(ref ur, c);
                v = v > 0f ? v : Unsafe.Add(ref pa, c) * v;
                Unsafe.Add(ref yr, c) = masked ? v * Unsafe.Add(ref mr, c) : v;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ForwardRow<TO, TV>(ref float u, ref float alpha, ref float m, ref float y, int cols, bool masked)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, c = 0;
        for (; c + w <= cols; c += w)
        {
            TV v = TO.Load(ref u, c);
            v = TO.IfPositive(v, v, TO.Mul(TO.Load(ref alpha, c), v));
            if (masked) v = TO.Mul(v, TO.Load(ref m, c));
            TO.Store(v, ref y, c);
        }
        return c;
    }

    /// <summary>g = dy·mask; du = g·(u &gt; 0 ? 1 : alpha[c]); dalpha[c] = Σ_r g·min(u, 0) (overwritten). du may alias dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<TIsa>(ReadOnlySpan<float> u, ReadOnlySpan<float> alpha, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> du, Span<float> dalpha, int rows, int cols)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(cols, nameof(cols));
        long size = (long)rows * cols;
        Checks.Length(u.Length, size, nameof(u));
        Checks.Length(alpha.Length, cols, nameof(alpha));
        Checks.Length(dy.Length, size, nameof(dy));
        Checks.Optional(mask.Length, size, nameof(mask));
        Checks.Length(du.Length, size, nameof(du));
        Checks.Length(dalpha.Length, cols, nameof(dalpha));
        ref float pu = ref MemoryMarshal.GetReference(u);
        ref float pa = ref MemoryMarshal.GetReference(alpha);
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref float pm = ref MemoryMarshal.GetReference(mask);
        ref float pdu = ref MemoryMarshal.GetReference(du);
        ref float pda = ref MemoryMarshal.GetReference(dalpha);
        bool masked = !mask.IsEmpty;
        dalpha.Slice(0, cols).Clear();
        // Row by row, accumulating dalpha in place: every pass is a contiguous sweep.
        for (int r = 0; r < rows; r++)
        {
            nint o = (nint)r * cols;
            ref float ur = ref Unsafe.Add(ref pu, o);
            ref float dyr = ref Unsafe.Add(ref pdy, o);
            ref float mr = ref masked ? ref Unsafe.Add(ref pm, o) : ref pm;
            ref float dur = ref Unsafe.Add(ref pdu, o);
            int c;
            if (VectorPath.Is512<TIsa>()) c = BackwardRow<Ops512, Vector512<float>>(ref ur, ref pa, ref dyr, ref mr, ref dur, ref pda, cols, masked);
            else if (VectorPath.Is256<TIsa>()) c = BackwardRow<Ops256, Vector256<float>>(ref ur, ref pa, ref dyr, ref mr, ref dur, ref pda, cols, masked);
            else c = BackwardRow<Ops128, Vector128<float>>(ref ur, ref pa, ref dyr, ref mr, ref dur, ref pda, cols, masked);
            for (; c < cols; c++)
            {
                float v = Unsafe.Add(ref ur, c);
                float g = Unsafe.Add(ref dyr, c);
                if (masked) g *= Unsafe.Add(ref mr, c);
                Unsafe.Add(ref pda, c) += g * MathF.Min(v, 0f);
                Unsafe.Add(ref dur, c) = v > 0f ? g : g * Unsafe.Add(ref pa, c);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int BackwardRow<TO, TV>(ref float u, ref float alpha, ref float dy, ref float m, ref float du, ref float dalpha, int cols, bool masked)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, c = 0;
        for (; c + w <= cols; c += w)
        {
            TV v = TO.Load(ref u, c);
            TV g = TO.Load(ref dy, c);
            if (masked) g = TO.Mul(g, TO.Load(ref m, c));
            TO.Store(TO.Fma(g, TO.MinZero(v), TO.Load(ref dalpha, c)), ref dalpha, c);
            TO.Store(TO.IfPositive(v, g, TO.Mul(g, TO.Load(ref alpha, c))), ref du, c);
        }
        return c;
    }
}
