using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// Double accumulation for reductions over many float rows (BatchNorm2D's statistics and gradient sums): a float vector
// of one width widens to two double vectors of the same width, so a kernel written over IVectorOps<TV> for the
// element-wise float work sums in double with the matching IWideOps<TV, TD>.

/// <summary>Double vectors paired with the float vectors of one width (<see cref="IVectorOps{TV}"/>).</summary>
internal interface IWideOps<TV, TD> where TV : struct where TD : struct
{
    static abstract TD Zero { get; }
    /// <summary>The lower and upper halves of <paramref name="v"/>'s lanes as doubles.</summary>
    static abstract TD Lower(TV v);
    static abstract TD Upper(TV v);
    static abstract TD Add(TD a, TD b);
    static abstract TD Sub(TD a, TD b);
    /// <summary>a·b + c (fused where the path has FMA).</summary>
    static abstract TD Fma(TD a, TD b, TD c);
    static abstract TD Load(ref double p, nint i);
    static abstract void Store(TD v, ref double p, nint i);
}

/// <summary>512-bit double vectors (AVX-512 path).</summary>
internal readonly struct Wide512 : IWideOps<Vector512<float>, Vector512<double>>
{
    public static Vector512<double> Zero => Vector512<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Lower(Vector512<float> v) => Vector512.WidenLower(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Upper(Vector512<float> v) => Vector512.WidenUpper(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Sub(Vector512<double> a, Vector512<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Fma(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Load(ref double p, nint i) => Vector512.LoadUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<double> v, ref double p, nint i) => v.StoreUnsafe(ref p, (nuint)i);
}

/// <summary>256-bit double vectors (AVX2 + FMA path).</summary>
internal readonly struct Wide256 : IWideOps<Vector256<float>, Vector256<double>>
{
    public static Vector256<double> Zero => Vector256<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Lower(Vector256<float> v) => Vector256.WidenLower(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Upper(Vector256<float> v) => Vector256.WidenUpper(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Sub(Vector256<double> a, Vector256<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Fma(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Load(ref double p, nint i) => Vector256.LoadUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<double> v, ref double p, nint i) => v.StoreUnsafe(ref p, (nuint)i);
}

/// <summary>128-bit double vectors (portable path: cross-platform APIs only).</summary>
internal readonly struct Wide128 : IWideOps<Vector128<float>, Vector128<double>>
{
    public static Vector128<double> Zero => Vector128<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Lower(Vector128<float> v) => Vector128.WidenLower(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Upper(Vector128<float> v) => Vector128.WidenUpper(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Add(Vector128<double> a, Vector128<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Sub(Vector128<double> a, Vector128<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Fma(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Vector128.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Load(ref double p, nint i) => Vector128.LoadUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<double> v, ref double p, nint i) => v.StoreUnsafe(ref p, (nuint)i);
}
