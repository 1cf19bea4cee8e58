using System;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

/// <summary>One-lane "vector" operations, so a kernel written over <see cref="IVectorOps{TV}"/> also handles its tail with the same code.</summary>
internal readonly struct OpsScalar : IVectorOps<float>
{
    public static int Count => 1;
    public static float Zero => 0f;
    public static float One => 1f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ref float p, nint i) => Unsafe.Add(ref p, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float v, ref float p, nint i) => Unsafe.Add(ref p, i) = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Splat(float x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sub(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Mul(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Div(float a, float b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Fma(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sqrt(float a) => MathF.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MinZero(float a) => a < 0f ? a : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float IfPositive(float cond, float a, float b) => cond > 0f ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float v) => v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Forward<TAct>(in TAct act, float u) where TAct : struct, IActivation => act.Forward(u);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Derivative<TAct>(in TAct act, float u, float a) where TAct : struct, IActivation => act.Derivative(u, a);
}
