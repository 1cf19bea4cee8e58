using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// Alpha dropout for SELU networks (docs/techniques.md#regularisation). A dropped unit takes SELU's negative saturation
/// value α′ = −λα instead of 0, and the affine map a·x + b restores mean 0 and variance 1:
/// a = (p + α′²·p·(1 − p))^(−1/2), b = −a·(1 − p)·α′ with p the keep probability.
/// </summary>
/// <remarks>
/// The mask holds a for a kept unit and 0 for a dropped one (drawn by <see cref="Dropout.Draw{TIsa}"/> with scale a), so the
/// forward pass is y = mask·(x − α′) + (a·α′ + b) — a kept unit gives a·x + b, a dropped one a·α′ + b — and the
/// backward pass is dL/dx = mask·dL/dy (<see cref="Elementwise.Multiply{TIsa}"/>). At test the layer is the identity.
/// </remarks>
public static class AlphaDropout
{
    /// <summary>SELU's α (the same constant as the SELU activation).</summary>
    public const double SeluAlpha = 1.6732632423543772848170429916717;
    /// <summary>SELU's scale λ.</summary>
    public const double SeluLambda = 1.0507009873554804934193349852946;
    /// <summary>The value a dropped unit takes before the affine map: α′ = −λα ≈ −1.7581.</summary>
    public const double DroppedValue = -SeluLambda * SeluAlpha;

    /// <summary>The affine map's a and b for drop probability <paramref name="rate"/> in [0, 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1).</exception>
    public static (double A, double B) Affine(double rate)
    {
        if (!(rate >= 0 && rate < 1)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "The alpha dropout rate must be in [0, 1).");
        double keep = 1 - rate;
        double a = 1 / Math.Sqrt(keep + DroppedValue * DroppedValue * keep * rate);
        return (a, -a * rate * DroppedValue);
    }

    /// <summary>y[i] = mask[i]·(x[i] − α′) + offset, with offset = a·α′ + b (see <see cref="Affine"/>). y may alias x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TIsa>(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, float dropped, float offset, Span<float> y)
        where TIsa : struct, ISimdPath
    {
        int n = x.Length;
        Checks.Length(mask.Length, n, nameof(mask));
        Checks.Length(y.Length, n, nameof(y));
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pm = ref MemoryMarshal.GetReference(mask);
        ref float py = ref MemoryMarshal.GetReference(y);
        var run = new ForwardRun { X = ref px, M = ref pm, Dropped = dropped, Offset = offset, Y = ref py, N = n };
        int i = VectorPath.Run<TIsa, ForwardRun>(ref run);
        for (; i < n; i++) Unsafe.Add(ref py, i) = MathF.FusedMultiplyAdd(Unsafe.Add(ref pm, i), Unsafe.Add(ref px, i) - dropped, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Forward<TO, TV>(ref float x, ref float m, float dropped, float offset, ref float y, int n)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV vd = TO.Splat(dropped), vc = TO.Splat(offset);
        for (; i + w <= n; i += w) TO.Store(TO.Fma(TO.Load(ref m, i), TO.Sub(TO.Load(ref x, i), vd), vc), ref y, i);
        return i;
    }

    /// <summary>Forward's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct ForwardRun : IVectorKernel
    {
        public ref float X;
        public ref float M;
        public float Dropped;
        public float Offset;
        public ref float Y;
        public int N;

        int IVectorKernel.Run<TO, TV>() => Forward<TO, TV>(ref X, ref M, Dropped, Offset, ref Y, N);
    }
}
