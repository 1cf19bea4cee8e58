using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// y = x·W with the inputs (k) split across threads instead of the outputs: each thread multiplies the inputs it already
// holds — the features a fused convolution-and-pool stage just computed on its core — by its rows of W into its own
// partial sums, and one thread adds the parts. At batch 1 this keeps the pooled features on the core that wrote them
// (an output split makes every thread read all of them) and needs no stage of its own.

public static unsafe partial class Gemm
{
    /// <summary>
    /// partial[r, j] = Σ_f x[r, f]·w[f, j] over the inputs whose flattened index r·k + f lies in [f0, f1), for every row
    /// r &lt; rows (0 for a row with none of them): one thread's share of y = x·W when the inputs are split across threads.
    /// x: rows×k, w: k×n, partial: rows×n (overwritten). The parts add up to x·W (<see cref="SumParts{TIsa, TEpi}"/>).
    /// </summary>
    public static void PartialForward<TIsa>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> partial, int rows, int k, int n, long f0, long f1)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        if (f0 < 0 || f1 > (long)rows * k || f0 > f1)
            throw new ArgumentOutOfRangeException(nameof(f0), $"Inputs [{f0}, {f1}) are not within the {rows}×{k} input.");
        Checks.Length(x.Length, (long)rows * k, nameof(x));
        Checks.Length(w.Length, (long)k * n, nameof(w));
        Checks.Length(partial.Length, (long)rows * n, nameof(partial));
        for (int r = 0; r < rows; r++)
        {
            long rowStart = (long)r * k;
            int a = (int)(Math.Max(f0, rowStart) - rowStart), b = (int)(Math.Min(f1, rowStart + k) - rowStart);
            Span<float> row = partial.Slice(r * n, n);
            if (a >= b) row.Clear();
            else Forward<TIsa, NoEpilogue>(x.Slice((int)rowStart + a, b - a), w.Slice(a * n, (b - a) * n), row, 1, b - a, n, default);
        }
    }

    /// <summary>
    /// y[r, j] = epi(Σ_p partials[p·partStride + r·n + j], j) for r &lt; rows, j &lt; n: adds the <paramref name="parts"/> partial
    /// products of <see cref="PartialForward{TIsa}"/> (part p at p·partStride, so that parts written by different threads
    /// need not share a cache line) and applies the epilogue (bias, activation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumParts<TIsa, TEpi>(ReadOnlySpan<float> partials, int parts, int partStride, Span<float> y, int rows, int n, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        if (parts < 1) throw new ArgumentOutOfRangeException(nameof(parts), parts, "At least one part is needed.");
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(n, nameof(n));
        if (partStride < rows * n) throw new ArgumentOutOfRangeException(nameof(partStride), partStride, $"A part holds {rows}×{n} floats, more than the stride.");
        Checks.Length(partials.Length, (long)(parts - 1) * partStride + (long)rows * n, nameof(partials));
        Checks.Length(y.Length, (long)rows * n, nameof(y));
        TEpi e = epi;
        ref float p0 = ref MemoryMarshal.GetReference(partials);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        nint stride = partStride;
        for (int r = 0; r < rows; r++)
        {
            int j = 0;
            if (typeof(TIsa) == typeof(Avx512Path) && Vector512.IsHardwareAccelerated)
                for (; j + 16 <= n; j += 16) SumVector<Vector512<float>, Ops512, TEpi>(ref p0, parts, stride, ref y0, (nint)r * n + j, j, ref e);
            if (typeof(TIsa) != typeof(PortablePath) && Vector256.IsHardwareAccelerated)
                for (; j + 8 <= n; j += 8) SumVector<Vector256<float>, Ops256, TEpi>(ref p0, parts, stride, ref y0, (nint)r * n + j, j, ref e);
            for (; j + 4 <= n; j += 4) SumVector<Vector128<float>, Ops128, TEpi>(ref p0, parts, stride, ref y0, (nint)r * n + j, j, ref e);
            for (; j < n; j++) SumVector<float, OpsScalar, TEpi>(ref p0, parts, stride, ref y0, (nint)r * n + j, j, ref e);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SumVector<TV, TOps, TEpi>(ref float partials, int parts, nint stride, ref float y, nint at, int col, ref TEpi e)
        where TV : struct where TOps : struct, IVectorOps<TV> where TEpi : IEpilogue, allows ref struct
    {
        TV sum = TOps.Load(ref partials, at);
        for (int p = 1; p < parts; p++) sum = TOps.Add(sum, TOps.Load(ref partials, at + p * stride));
        TOps.Store(EpilogueOps.Apply(ref e, sum, col), ref y, at);
    }
}
