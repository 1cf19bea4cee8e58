using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>Applied to each output tile of Gemm.Forward before it is stored.</summary>
/// <remarks>
/// The GEMM calls the vector overloads only for lanes that are all inside the output row
/// (col + width ≤ n); partial vectors at the right edge go through the scalar overload lane by lane,
/// so an implementation may load <c>width</c> consecutive per-column values without bounds worries.
/// </remarks>
public interface IEpilogue
{
    /// <summary><paramref name="col"/> is the output column of the first lane.</summary>
    float Apply(float acc, int col);
    /// <summary>The same for each lane; <paramref name="col"/> is the output column of lane 0.</summary>
    Vector128<float> Apply(Vector128<float> acc, int col);
    /// <summary>The same for each lane; <paramref name="col"/> is the output column of lane 0.</summary>
    Vector256<float> Apply(Vector256<float> acc, int col);
    /// <summary>The same for each lane; <paramref name="col"/> is the output column of lane 0.</summary>
    Vector512<float> Apply(Vector512<float> acc, int col);
}

/// <summary>Stores the accumulators unchanged.</summary>
public readonly struct NoEpilogue : IEpilogue
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Apply(float acc, int col) => acc;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector128<float> Apply(Vector128<float> acc, int col) => acc;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector256<float> Apply(Vector256<float> acc, int col) => acc;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector512<float> Apply(Vector512<float> acc, int col) => acc;
}

/// <summary>y = acc + bias[col].</summary>
public readonly ref struct BiasEpilogue : IEpilogue
{
    private readonly ReadOnlySpan<float> _bias;

    /// <summary>Adds <paramref name="bias"/>[col] to each accumulator.</summary>
    public BiasEpilogue(ReadOnlySpan<float> bias) => _bias = bias;

    /// <summary>The bias, one value per output column.</summary>
    public ReadOnlySpan<float> Bias => _bias;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Apply(float acc, int col) => acc + _bias[col];

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Apply(Vector128<float> acc, int col) => acc + EpilogueLoad.V128(_bias, col);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(Vector256<float> acc, int col) => acc + EpilogueLoad.V256(_bias, col);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(Vector512<float> acc, int col) => acc + EpilogueLoad.V512(_bias, col);
}

/// <summary>y = act(acc + bias[col]); an empty bias means no bias.</summary>
public readonly ref struct BiasActivationEpilogue<TAct> : IEpilogue where TAct : struct, IActivation
{
    private readonly ReadOnlySpan<float> _bias;
    private readonly TAct _act;

    /// <summary>Adds <paramref name="bias"/>[col] (none when empty), then applies <paramref name="act"/>.</summary>
    public BiasActivationEpilogue(ReadOnlySpan<float> bias, TAct act)
    {
        _bias = bias;
        _act = act;
    }

    /// <summary>The bias (empty when the layer has none).</summary>
    public ReadOnlySpan<float> Bias => _bias;

    /// <summary>The activation applied after the bias.</summary>
    public TAct Activation => _act;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Apply(float acc, int col) => _act.Forward(_bias.IsEmpty ? acc : acc + _bias[col]);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Apply(Vector128<float> acc, int col) => _act.Forward(_bias.IsEmpty ? acc : acc + EpilogueLoad.V128(_bias, col));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(Vector256<float> acc, int col) => _act.Forward(_bias.IsEmpty ? acc : acc + EpilogueLoad.V256(_bias, col));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(Vector512<float> acc, int col) => _act.Forward(_bias.IsEmpty ? acc : acc + EpilogueLoad.V512(_bias, col));
}

/// <summary>Bounds-checked vector loads of per-column values (one compare per stored vector, off the hot loop).</summary>
internal static class EpilogueLoad
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> V128(ReadOnlySpan<float> s, int col)
    {
        if ((uint)col > (uint)s.Length || (uint)(s.Length - col) < (uint)Vector128<float>.Count) ThrowShort(s.Length, col, Vector128<float>.Count);
        return Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)col);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> V256(ReadOnlySpan<float> s, int col)
    {
        if ((uint)col > (uint)s.Length || (uint)(s.Length - col) < (uint)Vector256<float>.Count) ThrowShort(s.Length, col, Vector256<float>.Count);
        return Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)col);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> V512(ReadOnlySpan<float> s, int col)
    {
        if ((uint)col > (uint)s.Length || (uint)(s.Length - col) < (uint)Vector512<float>.Count) ThrowShort(s.Length, col, Vector512<float>.Count);
        return Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)col);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShort(int length, int col, int width) =>
        throw new ArgumentException($"Epilogue bias has length {length}; columns {col}..{col + width - 1} are out of range (the bias needs one value per output column).", "bias");
}

/// <summary>Calls an epilogue from kernels written once over <see cref="IVectorOps{TV}"/>.</summary>
internal static class EpilogueOps
{
    /// <summary>The epilogue's overload for the vector type TV, float included (the JIT keeps only the matching branch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TEpi>(ref TEpi e, TV acc, int col) where TV : struct where TEpi : IEpilogue, allows ref struct
    {
        if (typeof(TV) == typeof(Vector512<float>)) { Vector512<float> r = e.Apply(Unsafe.As<TV, Vector512<float>>(ref acc), col); return Unsafe.As<Vector512<float>, TV>(ref r); }
        if (typeof(TV) == typeof(Vector256<float>)) { Vector256<float> r = e.Apply(Unsafe.As<TV, Vector256<float>>(ref acc), col); return Unsafe.As<Vector256<float>, TV>(ref r); }
        if (typeof(TV) == typeof(Vector128<float>)) { Vector128<float> q = e.Apply(Unsafe.As<TV, Vector128<float>>(ref acc), col); return Unsafe.As<Vector128<float>, TV>(ref q); }
        float f = e.Apply(Unsafe.As<TV, float>(ref acc), col);
        return Unsafe.As<float, TV>(ref f);
    }
}
