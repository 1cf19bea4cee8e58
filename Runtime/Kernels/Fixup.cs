using System;
using System.Numerics.Tensors;
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

    /// <summary>y[i] = x[i] + b. y may alias x. Each sum is exact to rounding on every width, so the path only names
    /// the model's ISA and System.Numerics.Tensors' primitive serves all of them.</summary>
    public static void AddScalar<TIsa>(ReadOnlySpan<float> x, float b, Span<float> y) where TIsa : struct, ISimdPath
    {
        Checks.Length(y.Length, x.Length, nameof(y));
        TensorPrimitives.Add(x, b, y);
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
