using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// The scalar parameters of Fixup (docs/techniques.md#initialisation): a scalar bias added to every element
/// (dL/db = Σ dL/dy) and a scalar multiplier (dL/ds = Σ dL/dy·x, dL/dx = s·dL/dy via <see cref="Elementwise.Scale{TIsa}"/>).
/// </summary>
/// <remarks>
/// The sums run on one thread over the whole batch: each block of 256 elements is summed in float vector lanes and the
/// blocks are added in order in double, so the result does not depend on the thread count.
/// </remarks>
public static class Fixup
{
    private const int Block = 256;

    /// <summary>y[i] = x[i] + b. y may alias x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScalar<TIsa>(ReadOnlySpan<float> x, float b, Span<float> y) where TIsa : struct, ISimdPath
    {
        int n = x.Length;
        Checks.Length(y.Length, n, nameof(y));
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        var run = new AddScalarRun { X = ref px, B = b, Y = ref py, N = n };
        int i = VectorPath.Run<TIsa, AddScalarRun>(ref run);
        for (; i < n; i++) Unsafe.Add(ref py, i) = Unsafe.Add(ref px, i) + b;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int AddScalar<TO, TV>(ref float x, float b, ref float y, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV vb = TO.Splat(b);
        for (; i + w <= n; i += w) TO.Store(TO.Add(TO.Load(ref x, i), vb), ref y, i);
        return i;
    }

    /// <summary>Σ dy[i]: the gradient of a scalar bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum<TIsa>(ReadOnlySpan<float> dy) where TIsa : struct, ISimdPath => Dot<TIsa>(dy, default);

    /// <summary>Σ dy[i]·x[i]: the gradient of a scalar multiplier (x empty = all ones, which gives <see cref="Sum{TIsa}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot<TIsa>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x) where TIsa : struct, ISimdPath
    {
        int n = dy.Length;
        Checks.Optional(x.Length, n, nameof(x));
        ref float pd = ref MemoryMarshal.GetReference(dy);
        ref float px = ref MemoryMarshal.GetReference(x);
        bool ones = x.IsEmpty;
        double total = 0;
        for (int start = 0; start < n; start += Block)
        {
            int len = Math.Min(Block, n - start);
            ref float d = ref Unsafe.Add(ref pd, start);
            ref float v = ref ones ? ref d : ref Unsafe.Add(ref px, start);
            var run = new BlockDotRun { D = ref d, X = ref v, N = len, Ones = ones };
            VectorPath.Run<TIsa, BlockDotRun>(ref run);
            total += run.Sum;
        }
        return (float)total;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double BlockDot<TO, TV>(ref float d, ref float x, int n, bool ones) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV acc = TO.Zero;
        if (ones)
            for (; i + w <= n; i += w) acc = TO.Add(acc, TO.Load(ref d, i));
        else
            for (; i + w <= n; i += w) acc = TO.Fma(TO.Load(ref d, i), TO.Load(ref x, i), acc);
        double sum = TO.Sum(acc);
        for (; i < n; i++) sum += ones ? Unsafe.Add(ref d, i) : (double)Unsafe.Add(ref d, i) * Unsafe.Add(ref x, i);
        return sum;
    }

    /// <summary>AddScalar's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct AddScalarRun : IVectorKernel
    {
        public ref float X;
        public float B;
        public ref float Y;
        public int N;

        int IVectorKernel.Run<TO, TV>() => AddScalar<TO, TV>(ref X, B, ref Y, N);
    }

    /// <summary>BlockDot's arguments and result (the block's sum, in <see cref="Sum"/>).</summary>
    private ref struct BlockDotRun : IVectorKernel
    {
        public ref float D;
        public ref float X;
        public int N;
        public bool Ones;
        public double Sum;

        int IVectorKernel.Run<TO, TV>()
        {
            Sum = BlockDot<TO, TV>(ref D, ref X, N, Ones);
            return N;
        }
    }
}
