using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// The element-wise kernels (activations, PReLU, BatchNorm, ...) are written once against these
// width-generic operations and instantiated with Ops512 / Ops256 / Ops128: all calls are static on
// struct type arguments, so the JIT inlines them into plain Vector512/256/128 code per path.

/// <summary>Vector operations of one width, for kernels written once over all three ISA paths.</summary>
internal interface IVectorOps<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Load(ref float p, nint i);
    static abstract void Store(TV v, ref float p, nint i);
    static abstract TV Splat(float x);
    static abstract TV Zero { get; }
    static abstract TV Add(TV a, TV b);
    static abstract TV Sub(TV a, TV b);
    static abstract TV Mul(TV a, TV b);
    static abstract TV Div(TV a, TV b);
    /// <summary>a·b + c (fused where the path has FMA).</summary>
    static abstract TV Fma(TV a, TV b, TV c);
    static abstract TV Sqrt(TV a);
    /// <summary>min(a, 0).</summary>
    static abstract TV MinZero(TV a);
    /// <summary>cond &gt; 0 ? a : b, lane-wise.</summary>
    static abstract TV IfPositive(TV cond, TV a, TV b);
    static abstract float Sum(TV v);
    static abstract TV Forward<TAct>(in TAct act, TV u) where TAct : struct, IActivation;
    static abstract TV Derivative<TAct>(in TAct act, TV u, TV a) where TAct : struct, IActivation;
}

/// <summary>Dispatch from a path marker to its vector operations.</summary>
internal static class VectorPath
{
    /// <summary>True for the 512-bit path.</summary>
    public static bool Is512<TIsa>() where TIsa : struct, ISimdPath => typeof(TIsa) == typeof(Avx512Path);
    /// <summary>True for the 256-bit path.</summary>
    public static bool Is256<TIsa>() where TIsa : struct, ISimdPath => typeof(TIsa) == typeof(Avx2Path);
}

/// <summary>512-bit operations (AVX-512 path).</summary>
internal readonly struct Ops512 : IVectorOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float p, nint i) => Vector512.LoadUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> v, ref float p, nint i) => v.StoreUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MinZero(Vector512<float> a) => Vector512.MinNative(a, Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> IfPositive(Vector512<float> cond, Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(Vector512.GreaterThan(cond, Vector512<float>.Zero), a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> v) => Vector512.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Forward<TAct>(in TAct act, Vector512<float> u) where TAct : struct, IActivation => act.Forward(u);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Derivative<TAct>(in TAct act, Vector512<float> u, Vector512<float> a) where TAct : struct, IActivation => act.Derivative(u, a);
}

/// <summary>256-bit operations (AVX2 + FMA path).</summary>
internal readonly struct Ops256 : IVectorOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float p, nint i) => Vector256.LoadUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, ref float p, nint i) => v.StoreUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Div(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MinZero(Vector256<float> a) => Vector256.MinNative(a, Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> IfPositive(Vector256<float> cond, Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(Vector256.GreaterThan(cond, Vector256<float>.Zero), a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> v) => Vector256.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Forward<TAct>(in TAct act, Vector256<float> u) where TAct : struct, IActivation => act.Forward(u);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Derivative<TAct>(in TAct act, Vector256<float> u, Vector256<float> a) where TAct : struct, IActivation => act.Derivative(u, a);
}

/// <summary>128-bit operations (portable path: cross-platform APIs only; FMA only where the hardware has it).</summary>
internal readonly struct Ops128 : IVectorOps<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float p, nint i) => Vector128.LoadUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> v, ref float p, nint i) => v.StoreUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Splat(float x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sub(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Mul(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Div(Vector128<float> a, Vector128<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sqrt(Vector128<float> a) => Vector128.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MinZero(Vector128<float> a) => Vector128.MinNative(a, Vector128<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> IfPositive(Vector128<float> cond, Vector128<float> a, Vector128<float> b) => Vector128.ConditionalSelect(Vector128.GreaterThan(cond, Vector128<float>.Zero), a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> v) => Vector128.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Forward<TAct>(in TAct act, Vector128<float> u) where TAct : struct, IActivation => act.Forward(u);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Derivative<TAct>(in TAct act, Vector128<float> u, Vector128<float> a) where TAct : struct, IActivation => act.Derivative(u, a);
}
