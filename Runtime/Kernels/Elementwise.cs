using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>Element-wise kernels. The element count is the length of the first input span.</summary>
public static partial class Elementwise
{
    /// <summary>y[i] = f(u[i])·mask[i] (mask empty = 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ActivationForward<TIsa, TAct>(ReadOnlySpan<float> u, ReadOnlySpan<float> mask, Span<float> y, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        int n = u.Length;
        Checks.Optional(mask.Length, n, nameof(mask));
        Checks.Length(y.Length, n, nameof(y));
        ref float pu = ref MemoryMarshal.GetReference(u);
        ref float pm = ref MemoryMarshal.GetReference(mask);
        ref float py = ref MemoryMarshal.GetReference(y);
        bool masked = !mask.IsEmpty;
        int i;
        var run = new ActivationForwardRun<TAct> { U = ref pu, M = ref pm, Y = ref py, N = n, Masked = masked, Act = act };
        i = VectorPath.Run<TIsa, ActivationForwardRun<TAct>>(ref run);
        for (; i < n; i++)
        {
            float a = act.Forward(Unsafe.Add(ref pu, i));
            Unsafe.Add(ref py, i) = masked ? a * Unsafe.Add(ref pm, i) : a;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ActivationForward<TO, TV, TAct>(ref float u, ref float m, ref float y, int n, bool masked, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TAct : struct, IActivation
    {
        int w = TO.Count, i = 0;
        if (masked)
            for (; i + w <= n; i += w) TO.Store(TO.Mul(TO.Forward(act, TO.Load(ref u, i)), TO.Load(ref m, i)), ref y, i);
        else
            for (; i + w <= n; i += w) TO.Store(TO.Forward(act, TO.Load(ref u, i)), ref y, i);
        return i;
    }

    /// <summary>du[i] = dy[i]·mask[i]·f'(u[i], f(u[i])) (mask empty = 1). du may alias dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ActivationBackward<TIsa, TAct>(ReadOnlySpan<float> u, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> du, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        int n = u.Length;
        Checks.Length(dy.Length, n, nameof(dy));
        Checks.Optional(mask.Length, n, nameof(mask));
        Checks.Length(du.Length, n, nameof(du));
        ref float pu = ref MemoryMarshal.GetReference(u);
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref float pm = ref MemoryMarshal.GetReference(mask);
        ref float pdu = ref MemoryMarshal.GetReference(du);
        bool masked = !mask.IsEmpty;
        int i;
        var run = new ActivationBackwardRun<TAct> { U = ref pu, Dy = ref pdy, M = ref pm, Du = ref pdu, N = n, Masked = masked, Act = act };
        i = VectorPath.Run<TIsa, ActivationBackwardRun<TAct>>(ref run);
        for (; i < n; i++)
        {
            float ui = Unsafe.Add(ref pu, i);
            float g = Unsafe.Add(ref pdy, i) * act.Derivative(ui, act.Forward(ui));
            Unsafe.Add(ref pdu, i) = masked ? g * Unsafe.Add(ref pm, i) : g;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ActivationBackward<TO, TV, TAct>(ref float u, ref float dy, ref float m, ref float du, int n, bool masked, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TAct : struct, IActivation
    {
        int w = TO.Count, i = 0;
        for (; i + w <= n; i += w)
        {
            TV ui = TO.Load(ref u, i);
            TV g = TO.Mul(TO.Load(ref dy, i), TO.Derivative(act, ui, TO.Forward(act, ui)));
            if (masked) g = TO.Mul(g, TO.Load(ref m, i));
            TO.Store(g, ref du, i);
        }
        return i;
    }

    /// <summary>y[i] = x[i]·s. y may alias x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale<TIsa>(ReadOnlySpan<float> x, float s, Span<float> y) where TIsa : struct, ISimdPath
    {
        int n = x.Length;
        Checks.Length(y.Length, n, nameof(y));
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int i;
        var run = new ScaleRun { X = ref px, S = s, Y = ref py, N = n };
        i = VectorPath.Run<TIsa, ScaleRun>(ref run);
        for (; i < n; i++) Unsafe.Add(ref py, i) = Unsafe.Add(ref px, i) * s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Scale<TO, TV>(ref float x, float s, ref float y, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV vs = TO.Splat(s);
        for (; i + w <= n; i += w) TO.Store(TO.Mul(TO.Load(ref x, i), vs), ref y, i);
        return i;
    }

    /// <summary>y[i] = x[i]·m[i]. y may alias x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<TIsa>(ReadOnlySpan<float> x, ReadOnlySpan<float> m, Span<float> y) where TIsa : struct, ISimdPath
    {
        int n = x.Length;
        Checks.Length(m.Length, n, nameof(m));
        Checks.Length(y.Length, n, nameof(y));
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pm = ref MemoryMarshal.GetReference(m);
        ref float py = ref MemoryMarshal.GetReference(y);
        int i;
        var run = new MultiplyRun { X = ref px, M = ref pm, Y = ref py, N = n };
        i = VectorPath.Run<TIsa, MultiplyRun>(ref run);
        for (; i < n; i++) Unsafe.Add(ref py, i) = Unsafe.Add(ref px, i) * Unsafe.Add(ref pm, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Multiply<TO, TV>(ref float x, ref float m, ref float y, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        for (; i + w <= n; i += w) TO.Store(TO.Mul(TO.Load(ref x, i), TO.Load(ref m, i)), ref y, i);
        return i;
    }

    /// <summary>Row-wise softmax (max-subtracted); y may alias u.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxForward(ReadOnlySpan<float> u, Span<float> y, int rows, int cols)
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(cols, nameof(cols));
        Checks.Length(u.Length, (long)rows * cols, nameof(u));
        Checks.Length(y.Length, (long)rows * cols, nameof(y));
        for (int r = 0; r < rows; r++)
        {
            int o = r * cols;
            RowSoftmax(u.Slice(o, cols), y.Slice(o, cols));
        }
    }

    /// <summary>du[r,j] = y[r,j]·(dy[r,j] − Σ_c dy[r,c]·y[r,c]); du may alias dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> du, int rows, int cols)
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(cols, nameof(cols));
        Checks.Length(y.Length, (long)rows * cols, nameof(y));
        Checks.Length(dy.Length, (long)rows * cols, nameof(dy));
        Checks.Length(du.Length, (long)rows * cols, nameof(du));
        for (int r = 0; r < rows; r++)
        {
            int o = r * cols;
            double dot = 0;
            for (int j = 0; j < cols; j++) dot += (double)dy[o + j] * y[o + j];
            float d = (float)dot;
            for (int j = 0; j < cols; j++) du[o + j] = y[o + j] * (dy[o + j] - d);
        }
    }

    /// <summary>One row of max-subtracted softmax; the exponent sum in double. y may alias u.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RowSoftmax(ReadOnlySpan<float> u, Span<float> y)
    {
        if (u.IsEmpty) return;
        double sum = ExpShifted(u, RowMax(u), y);
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < u.Length; j++) y[j] *= inv;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float RowMax(ReadOnlySpan<float> u)
    {
        float max = u[0];
        for (int j = 1; j < u.Length; j++) max = MathF.Max(max, u[j]);
        return max;
    }

    /// <summary>
    /// e[j] = exp(z[j] − shift) and returns Σ e[j] in double; e may alias z. Four lanes at a time with the
    /// vector exp (cross-platform Vector128: these row-wise output kernels are not ISA-generic), each
    /// lane widened to double for the sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double ExpShifted(ReadOnlySpan<float> z, float shift, Span<float> e)
    {
        ref float pz = ref MemoryMarshal.GetReference(z);
        ref float pe = ref MemoryMarshal.GetReference(e);
        int n = z.Length, j = 0;
        Checks.Length(e.Length, n, nameof(e));
        Vector128<double> acc = Vector128<double>.Zero;
        Vector128<float> vs = Vector128.Create(shift);
        for (; j + 4 <= n; j += 4)
        {
            Vector128<float> v = VectorMath.Exp(Vector128.LoadUnsafe(ref pz, (nuint)j) - vs);
            v.StoreUnsafe(ref pe, (nuint)j);
            (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(v);
            acc += lo + hi;
        }
        double sum = acc[0] + acc[1];
        for (; j < n; j++)
        {
            float v = MathF.Exp(Unsafe.Add(ref pz, j) - shift);
            Unsafe.Add(ref pe, j) = v;
            sum += v;
        }
        return sum;
    }

    /// <summary>ActivationForward's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct ActivationForwardRun<TAct> : IVectorKernel where TAct : struct, IActivation
    {
        public ref float U;
        public ref float M;
        public ref float Y;
        public int N;
        public bool Masked;
        public TAct Act;

        int IVectorKernel.Run<TO, TV>() => ActivationForward<TO, TV, TAct>(ref U, ref M, ref Y, N, Masked, in Act);
    }

    /// <summary>ActivationBackward's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct ActivationBackwardRun<TAct> : IVectorKernel where TAct : struct, IActivation
    {
        public ref float U;
        public ref float Dy;
        public ref float M;
        public ref float Du;
        public int N;
        public bool Masked;
        public TAct Act;

        int IVectorKernel.Run<TO, TV>() => ActivationBackward<TO, TV, TAct>(ref U, ref Dy, ref M, ref Du, N, Masked, in Act);
    }

    /// <summary>Scale's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct ScaleRun : IVectorKernel
    {
        public ref float X;
        public float S;
        public ref float Y;
        public int N;

        int IVectorKernel.Run<TO, TV>() => Scale<TO, TV>(ref X, S, ref Y, N);
    }

    /// <summary>Multiply's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct MultiplyRun : IVectorKernel
    {
        public ref float X;
        public ref float M;
        public ref float Y;
        public int N;

        int IVectorKernel.Run<TO, TV>() => Multiply<TO, TV>(ref X, ref M, ref Y, N);
    }
}
