using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    static abstract TV One { get; }
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

/// <summary>
/// The vector operations of one ISA path (<see cref="VectorPath"/> maps each path to one): besides
/// <see cref="IVectorOps{TV}"/>, pointer access, partial vectors at a strip's right edge (masked where the ISA
/// has masked loads and stores) and the register budget the GEMM micro-kernel is blocked for.
/// </summary>
internal unsafe interface IPathOps<TV> : IVectorOps<TV> where TV : struct
{
    /// <summary>Whether the hardware runs this width natively (the JIT folds it to a constant).</summary>
    static abstract bool IsSupported { get; }
    /// <summary>Column vectors of the GEMM micro-tile (6 rows × this many vectors of accumulators).</summary>
    static abstract int TileVectors { get; }
    /// <summary>Most vectors of a wide single-row GEMV strip (a multiple of 4, at least 8).</summary>
    static abstract int GemvWideVectors { get; }
    static abstract TV Load(float* p);
    static abstract void Store(TV v, float* p);
    /// <summary>The mask of the first <paramref name="count"/> lanes (paths without masked memory operations ignore it).</summary>
    static abstract TV FirstLanes(int count);
    /// <summary>The first <paramref name="count"/> floats at p, zero elsewhere, without reading past them.</summary>
    static abstract TV LoadPartial(float* p, TV mask, int count);
    /// <summary>Stores the first <paramref name="count"/> lanes of v at p, without writing past them.</summary>
    static abstract void StorePartial(TV v, float* p, TV mask, int count);

    // For VectorMath's formulas.
    /// <summary>min(max(x, lo), hi) (either operand on NaN, as the hardware's min/max give it).</summary>
    static abstract TV Clamp(TV x, TV lo, TV hi);
    /// <summary>Round to nearest, ties to even.</summary>
    static abstract TV Round(TV x);
    static abstract TV Abs(TV x);
    static abstract TV Neg(TV x);
    /// <summary>|a| with the sign of b.</summary>
    static abstract TV CopySign(TV a, TV b);
    /// <summary>a &lt; b ? x : y, lane-wise.</summary>
    static abstract TV IfLess(TV a, TV b, TV x, TV y);
    /// <summary>p·2ⁿ for integral n in [−150, 150], as two normal factors 2^(n/2)·2^(n − n/2) built from their exponent bits.</summary>
    static abstract TV ScaleByPowerOf2(TV p, TV n);
}

/// <summary>
/// A kernel body written once over the vector operations of a width; <see cref="VectorPath"/> runs it with the
/// operations of a path. The struct carries the kernel's arguments; the result is the kernel's to define (most return
/// how many elements the vectors covered, the scalar tail being the caller's).
/// </summary>
internal interface IVectorKernel
{
    int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct;
}

/// <summary>As <see cref="IVectorKernel"/>, for kernels that also accumulate in double vectors of the same width.</summary>
internal interface IWideKernel
{
    int Run<TO, TV, TW, TD>() where TO : struct, IPathOps<TV> where TV : struct where TW : struct, IWideOps<TV, TD> where TD : struct;
}

/// <summary>
/// The one mapping from an ISA path marker to the vector operations that run it: AVX-512 → <see cref="Ops512"/>,
/// AVX2 + FMA → <see cref="Ops256"/>, anything else (or a path the hardware lacks) → <see cref="Ops128"/>. The
/// conditions are JIT-time constants, so each instantiation keeps exactly one call.
/// </summary>
internal static class VectorPath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Run<TIsa, TK>(ref TK kernel) where TIsa : struct, ISimdPath where TK : IVectorKernel, allows ref struct
    {
        if (typeof(TIsa) == typeof(Avx512Path) && Ops512.IsSupported) return kernel.Run<Ops512, Vector512<float>>();
        if (typeof(TIsa) == typeof(Avx2Path) && Ops256.IsSupported) return kernel.Run<Ops256, Vector256<float>>();
        return kernel.Run<Ops128, Vector128<float>>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RunWide<TIsa, TK>(ref TK kernel) where TIsa : struct, ISimdPath where TK : IWideKernel, allows ref struct
    {
        if (typeof(TIsa) == typeof(Avx512Path) && Ops512.IsSupported) return kernel.Run<Ops512, Vector512<float>, Wide512, Vector512<double>>();
        if (typeof(TIsa) == typeof(Avx2Path) && Ops256.IsSupported) return kernel.Run<Ops256, Vector256<float>, Wide256, Vector256<double>>();
        return kernel.Run<Ops128, Vector128<float>, Wide128, Vector128<double>>();
    }

    /// <summary>
    /// Floats per vector of the operations <typeparamref name="TIsa"/> maps to: for the kernels that run the widest
    /// vectors first and narrower ones over what is left (a pixel's channels, a row's columns).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Lanes<TIsa>() where TIsa : struct, ISimdPath =>
        typeof(TIsa) == typeof(Avx512Path) && Ops512.IsSupported ? Ops512.Count : typeof(TIsa) == typeof(Avx2Path) && Ops256.IsSupported ? Ops256.Count : Ops128.Count;

}

/// <summary>512-bit operations (AVX-512 path): GEMM tiles of 6 rows × 4 zmm = 24 accumulators + 4 B vectors + 1 broadcast of 32 registers.</summary>
internal readonly unsafe struct Ops512 : IPathOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    public static Vector512<float> One => Vector512<float>.One;
    public static bool IsSupported => Avx512F.IsSupported;
    public static int TileVectors => 4;
    public static int GemvWideVectors => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> v, float* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> FirstLanes(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> LoadPartial(float* p, Vector512<float> mask, int count) => Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StorePartial(Vector512<float> v, float* p, Vector512<float> mask, int count) => Avx512F.MaskStore(p, mask, v);
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Clamp(Vector512<float> x, Vector512<float> lo, Vector512<float> hi) => Vector512.ClampNative(x, lo, hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Round(Vector512<float> x) => Vector512.Round(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Abs(Vector512<float> x) => Vector512.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Neg(Vector512<float> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> CopySign(Vector512<float> a, Vector512<float> b) => Vector512.CopySign(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> IfLess(Vector512<float> a, Vector512<float> b, Vector512<float> x, Vector512<float> y) => Vector512.ConditionalSelect(Vector512.LessThan(a, b), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ScaleByPowerOf2(Vector512<float> p, Vector512<float> n)
    {
        Vector512<int> ni = Vector512.ConvertToInt32Native(n), half = Vector512.ShiftRightArithmetic(ni, 1);
        return p * Vector512.ShiftLeft(half + Vector512.Create(127), 23).AsSingle() * Vector512.ShiftLeft(ni - half + Vector512.Create(127), 23).AsSingle();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Forward<TAct>(in TAct act, Vector512<float> u) where TAct : struct, IActivation => act.Forward(u);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Derivative<TAct>(in TAct act, Vector512<float> u, Vector512<float> a) where TAct : struct, IActivation => act.Derivative(u, a);
}

/// <summary>256-bit operations (AVX2 + FMA path): GEMM tiles of 6 rows × 2 ymm = 12 accumulators + 2 B vectors + 1 broadcast of 16 registers.</summary>
internal readonly unsafe struct Ops256 : IPathOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    public static Vector256<float> One => Vector256<float>.One;
    public static bool IsSupported => Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported;
    public static int TileVectors => 2;
    public static int GemvWideVectors => 12;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, float* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> FirstLanes(int count) => Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> LoadPartial(float* p, Vector256<float> mask, int count) => Avx.MaskLoad(p, mask);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StorePartial(Vector256<float> v, float* p, Vector256<float> mask, int count) => Avx.MaskStore(p, mask, v);
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Clamp(Vector256<float> x, Vector256<float> lo, Vector256<float> hi) => Vector256.ClampNative(x, lo, hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> x) => Vector256.Round(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Abs(Vector256<float> x) => Vector256.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Neg(Vector256<float> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> CopySign(Vector256<float> a, Vector256<float> b) => Vector256.CopySign(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> IfLess(Vector256<float> a, Vector256<float> b, Vector256<float> x, Vector256<float> y) => Vector256.ConditionalSelect(Vector256.LessThan(a, b), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ScaleByPowerOf2(Vector256<float> p, Vector256<float> n)
    {
        Vector256<int> ni = Vector256.ConvertToInt32Native(n), half = Vector256.ShiftRightArithmetic(ni, 1);
        return p * Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle() * Vector256.ShiftLeft(ni - half + Vector256.Create(127), 23).AsSingle();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Forward<TAct>(in TAct act, Vector256<float> u) where TAct : struct, IActivation => act.Forward(u);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Derivative<TAct>(in TAct act, Vector256<float> u, Vector256<float> a) where TAct : struct, IActivation => act.Derivative(u, a);
}

/// <summary>
/// 128-bit operations (portable path: cross-platform APIs only; FMA only where the hardware has it). GEMM tiles of
/// 6 rows × 2 vectors = 12 accumulators fit the 16 registers of SSE and leave room on NEON; partial vectors are
/// loaded and stored lane by lane.
/// </summary>
internal readonly unsafe struct Ops128 : IPathOps<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    public static Vector128<float> One => Vector128<float>.One;
    public static bool IsSupported => true;
    public static int TileVectors => 2;
    public static int GemvWideVectors => 12;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> v, float* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> FirstLanes(int count) => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> LoadPartial(float* p, Vector128<float> mask, int count) => count switch
    {
        1 => Vector128.CreateScalar(p[0]),
        2 => Vector128.CreateScalar(Unsafe.ReadUnaligned<double>(p)).AsSingle(),
        3 => Vector128.CreateScalar(Unsafe.ReadUnaligned<double>(p)).AsSingle().WithElement(2, p[2]),
        _ => Vector128.Load(p),
    };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StorePartial(Vector128<float> v, float* p, Vector128<float> mask, int count) 
    {
        for (int l = 0; l < count; l++) p[l] = v.GetElement(l);
    }
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Clamp(Vector128<float> x, Vector128<float> lo, Vector128<float> hi) => Vector128.ClampNative(x, lo, hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Round(Vector128<float> x) => Vector128.Round(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Abs(Vector128<float> x) => Vector128.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Neg(Vector128<float> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> CopySign(Vector128<float> a, Vector128<float> b) => Vector128.CopySign(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> IfLess(Vector128<float> a, Vector128<float> b, Vector128<float> x, Vector128<float> y) => Vector128.ConditionalSelect(Vector128.LessThan(a, b), x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ScaleByPowerOf2(Vector128<float> p, Vector128<float> n)
    {
        Vector128<int> ni = Vector128.ConvertToInt32Native(n), half = Vector128.ShiftRightArithmetic(ni, 1);
        return p * Vector128.ShiftLeft(half + Vector128.Create(127), 23).AsSingle() * Vector128.ShiftLeft(ni - half + Vector128.Create(127), 23).AsSingle();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Forward<TAct>(in TAct act, Vector128<float> u) where TAct : struct, IActivation => act.Forward(u);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Derivative<TAct>(in TAct act, Vector128<float> u, Vector128<float> a) where TAct : struct, IActivation => act.Derivative(u, a);
}
