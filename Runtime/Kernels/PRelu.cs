using System;
using System.Buffers;
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
            var run = new ForwardRowRun { U = ref ur, Alpha = ref pa, M = ref mr, Y = ref yr, Cols = cols, Masked = masked };
            c = VectorPath.Run<TIsa, ForwardRowRun>(ref run);
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

    /// <summary>
    /// g = dy·mask; du = g·(u &gt; 0 ? 1 : alpha[c]); dalpha[c] = Σ_r g·min(u, 0) (overwritten), accumulated in double in row
    /// order (a per-channel slope sums a convolution's samples·pixels rows). du may alias dy.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        // The double sums: on the stack for typical widths, pooled beyond (nothing allocates per call).
        double[]? rented = cols > StackColumns ? ArrayPool<double>.Shared.Rent(cols) : null;
        Span<double> sums = rented is null ? stackalloc double[StackColumns] : rented.AsSpan();
        try
        {
            sums.Slice(0, cols).Clear();
            ref float pu = ref MemoryMarshal.GetReference(u);
            ref float pa = ref MemoryMarshal.GetReference(alpha);
            ref float pdy = ref MemoryMarshal.GetReference(dy);
            ref float pm = ref MemoryMarshal.GetReference(mask);
            ref float pdu = ref MemoryMarshal.GetReference(du);
            ref double ps = ref MemoryMarshal.GetReference(sums);
            bool masked = !mask.IsEmpty;
            // Row by row, accumulating the sums in place: every pass is a contiguous sweep.
            for (int r = 0; r < rows; r++)
            {
                nint o = (nint)r * cols;
                ref float ur = ref Unsafe.Add(ref pu, o);
                ref float dyr = ref Unsafe.Add(ref pdy, o);
                ref float mr = ref masked ? ref Unsafe.Add(ref pm, o) : ref pm;
                ref float dur = ref Unsafe.Add(ref pdu, o);
                int c;
                var run = new BackwardRowRun { U = ref ur, Alpha = ref pa, Dy = ref dyr, M = ref mr, Du = ref dur, Sums = ref ps, Cols = cols, Masked = masked };
                c = VectorPath.RunWide<TIsa, BackwardRowRun>(ref run);
                for (; c < cols; c++)
                {
                    float v = Unsafe.Add(ref ur, c);
                    float g = Unsafe.Add(ref dyr, c);
                    if (masked) g *= Unsafe.Add(ref mr, c);
                    Unsafe.Add(ref ps, c) = double.MultiplyAddEstimate(g, MathF.Min(v, 0f), Unsafe.Add(ref ps, c));
                    Unsafe.Add(ref dur, c) = v > 0f ? g : g * Unsafe.Add(ref pa, c);
                }
            }
            for (int c = 0; c < cols; c++) dalpha[c] = (float)sums[c];
        }
        finally
        {
            if (rented is not null) ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>Column counts up to this keep PReLU's double slope sums on the stack.</summary>
    private const int StackColumns = 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int BackwardRow<TO, TV, TW, TD>(ref float u, ref float alpha, ref float dy, ref float m, ref float du, ref double sums, int cols, bool masked)
        where TO : struct, IVectorOps<TV> where TV : struct where TW : struct, IWideOps<TV, TD> where TD : struct
    {
        int w = TO.Count, c = 0;
        for (; c + w <= cols; c += w)
        {
            TV v = TO.Load(ref u, c);
            TV g = TO.Load(ref dy, c);
            if (masked) g = TO.Mul(g, TO.Load(ref m, c));
            TV neg = TO.MinZero(v);
            TW.Store(TW.Fma(TW.Lower(g), TW.Lower(neg), TW.Load(ref sums, c)), ref sums, c);
            TW.Store(TW.Fma(TW.Upper(g), TW.Upper(neg), TW.Load(ref sums, c + w / 2)), ref sums, c + w / 2);
            TO.Store(TO.IfPositive(v, g, TO.Mul(g, TO.Load(ref alpha, c))), ref du, c);
        }
        return c;
    }

    /// <summary>ForwardRow's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct ForwardRowRun : IVectorKernel
    {
        public ref float U;
        public ref float Alpha;
        public ref float M;
        public ref float Y;
        public int Cols;
        public bool Masked;

        int IVectorKernel.Run<TO, TV>() => ForwardRow<TO, TV>(ref U, ref Alpha, ref M, ref Y, Cols, Masked);
    }

    /// <summary>BackwardRow's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct BackwardRowRun : IWideKernel
    {
        public ref float U;
        public ref float Alpha;
        public ref float Dy;
        public ref float M;
        public ref float Du;
        public ref double Sums;
        public int Cols;
        public bool Masked;

        int IWideKernel.Run<TO, TV, TW, TD>() => BackwardRow<TO, TV, TW, TD>(ref U, ref Alpha, ref Dy, ref M, ref Du, ref Sums, Cols, Masked);
    }
}
