using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// y = x·W with the inputs (k) split across threads instead of the outputs: each thread multiplies the inputs it already
// holds — the features a fused convolution-and-pool stage just computed on its core — by their rows of W, one partial
// product per fixed block of inputs (a pool row), and one thread adds the blocks in order. At batch 1 this keeps the
// pooled features on the core that wrote them (an output split makes every thread read all of them) and needs no stage
// of its own; fixed blocks keep the sum's order, and so the result, independent of which thread took which block.

public static unsafe partial class Gemm
{
    /// <summary>
    /// For each block b in [b0, b1): partials[b·slotStride + j] = Σ_f x[f]·w[f mod k, j] over the flattened inputs f in
    /// [b·block, (b+1)·block), j &lt; n. <paramref name="block"/> divides k, so a block lies within one row of x; a row's
    /// blocks add up to that row of x·W (<see cref="SumParts{TIsa, TEpi}"/>), in a fixed order whichever thread computed
    /// which block, so the result does not depend on how the blocks were split. x: rows×k, w: k×n.
    /// </summary>
    public static void PartialForward<TIsa>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> partials, int rows, int k, int n,
        int block, int b0, int b1, int slotStride)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(n, nameof(n));
        if (k < 1 || block < 1 || k % block != 0)
            throw new ArgumentOutOfRangeException(nameof(block), block, $"A block of {block} inputs must divide the row of {k}.");
        int blocks = rows * (k / block);
        Checks.Range(b0, b1, blocks, nameof(b0), nameof(b1));
        if (slotStride < n) throw new ArgumentOutOfRangeException(nameof(slotStride), slotStride, $"A block's partial product holds {n} floats, more than the stride.");
        Checks.Length(x.Length, (long)rows * k, nameof(x));
        Checks.Length(w.Length, (long)k * n, nameof(w));
        if (b1 > b0) Checks.Length(partials.Length, (long)(b1 - 1) * slotStride + n, nameof(partials));
        for (int b = b0; b < b1; b++)
        {
            int first = (int)((long)b * block % k);   // the block's first input within its row
            Forward<TIsa, NoEpilogue>(x.Slice(b * block, block), w.Slice(first * n, block * n), partials.Slice(b * slotStride, n), 1, block, n, default);
        }
    }

    /// <summary>
    /// y[r, j] = epi(Σ_(i &lt; blocksPerRow) partials[(r·blocksPerRow + i)·slotStride + j], j) for r &lt; rows, j &lt; n: adds each
    /// row's block products of <see cref="PartialForward{TIsa}"/> in block order and applies the epilogue (bias, activation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SumParts<TIsa, TEpi>(ReadOnlySpan<float> partials, int blocksPerRow, int slotStride, Span<float> y, int rows, int n, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        if (blocksPerRow < 1) throw new ArgumentOutOfRangeException(nameof(blocksPerRow), blocksPerRow, "A row needs at least one block.");
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(n, nameof(n));
        if (slotStride < n) throw new ArgumentOutOfRangeException(nameof(slotStride), slotStride, $"A block's partial product holds {n} floats, more than the stride.");
        if (rows > 0) Checks.Length(partials.Length, ((long)rows * blocksPerRow - 1) * slotStride + n, nameof(partials));
        Checks.Length(y.Length, (long)rows * n, nameof(y));
        TEpi e = epi;
        ref float p0 = ref MemoryMarshal.GetReference(partials);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int r = 0; r < rows; r++)
        {
            nint first = (nint)r * blocksPerRow * slotStride;
            int j = 0;
            if (VectorPath.Lanes<TIsa>() >= 16)
                for (; j + 16 <= n; j += 16) SumVector<Vector512<float>, Ops512, TEpi>(ref p0, first + j, blocksPerRow, slotStride, ref y0, (nint)r * n + j, j, ref e);
            if (VectorPath.Lanes<TIsa>() >= 8)
                for (; j + 8 <= n; j += 8) SumVector<Vector256<float>, Ops256, TEpi>(ref p0, first + j, blocksPerRow, slotStride, ref y0, (nint)r * n + j, j, ref e);
            for (; j + 4 <= n; j += 4) SumVector<Vector128<float>, Ops128, TEpi>(ref p0, first + j, blocksPerRow, slotStride, ref y0, (nint)r * n + j, j, ref e);
            for (; j < n; j++) SumVector<float, OpsScalar, TEpi>(ref p0, first + j, blocksPerRow, slotStride, ref y0, (nint)r * n + j, j, ref e);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SumVector<TV, TOps, TEpi>(ref float partials, nint at, int count, nint stride, ref float y, nint to, int col, ref TEpi e)
        where TV : struct where TOps : struct, IVectorOps<TV> where TEpi : IEpilogue, allows ref struct
    {
        TV sum = TOps.Load(ref partials, at);
        for (int i = 1; i < count; i++) sum = TOps.Add(sum, TOps.Load(ref partials, at + i * stride));
        TOps.Store(EpilogueOps.Apply(ref e, sum, col), ref y, to);
    }
}
