using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels;

// Kernel methods with loops are marked AggressiveOptimization: they are always hot, and tier-0 code
// (what a method gets for its first calls) runs them an order of magnitude slower, which a
// batch-1 Predict called a few times would otherwise see.

/// <summary>
/// Dense-layer matrix products on row-major, contiguous matrices ("rows" is the batch). Every product
/// runs on the register-blocked micro-kernels of <see cref="GemmKernel{TO, TV}"/> at the width <see cref="VectorPath"/>
/// maps the path marker to; outputs must not overlap the inputs.
/// </summary>
public static unsafe partial class Gemm
{
    /// <summary>y[r,j] = epi(Σ_i x[r,i]·w[i,j], j); x: rows×k, w: k×n, y: rows×n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TIsa, TEpi>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int rows, int k, int n, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        Checks.Length(x.Length, (long)rows * k, nameof(x));
        Checks.Length(w.Length, (long)k * n, nameof(w));
        Checks.Length(y.Length, (long)rows * n, nameof(y));
        if (rows == 0 || n == 0) return;
        TEpi e = epi;
        fixed (float* px = x, pw = w, py = y)
        {
            var run = new ForwardRun<TEpi> { X = px, W = pw, Y = py, Rows = rows, K = k, N = n, C0 = 0, C1 = n, Epilogue = e };
            VectorPath.Run<TIsa, ForwardRun<TEpi>>(ref run);
        }
    }

    /// <summary>
    /// As the Forward overload without a column range, for output columns [colStart, colEnd) only (y keeps its row stride n).
    /// Small batches split columns across threads, so each core streams only its share of w.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TIsa, TEpi>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int rows, int k, int n, int colStart, int colEnd, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        if (colStart < 0 || colEnd > n || colStart > colEnd)
            throw new ArgumentOutOfRangeException(nameof(colStart), $"Columns [{colStart}, {colEnd}) are not within [0, {n}).");
        Checks.Length(x.Length, (long)rows * k, nameof(x));
        Checks.Length(w.Length, (long)k * n, nameof(w));
        Checks.Length(y.Length, (long)rows * n, nameof(y));
        if (rows == 0 || colStart == colEnd) return;
        TEpi e = epi;
        fixed (float* px = x, pw = w, py = y)
        {
            var run = new ForwardRun<TEpi> { X = px, W = pw, Y = py, Rows = rows, K = k, N = n, C0 = colStart, C1 = colEnd, Epilogue = e };
            VectorPath.Run<TIsa, ForwardRun<TEpi>>(ref run);
        }
    }

    /// <summary>dx[r,i] = Σ_j dy[r,j]·w[i,j]; dy: rows×n, w: k×n, dx: rows×k (overwritten).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardInput<TIsa>(ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, int rows, int k, int n)
        where TIsa : struct, ISimdPath => BackwardInput<TIsa>(dy, w, dx, rows, k, n, 0, k);

    /// <summary>Column ranges of <see cref="BackwardInput{TIsa}(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, int, int)"/>, and of the forward product's column-range overload, that start at a multiple of this give the same bits as the whole product: the widest column strip of any ISA path (16 AVX-512 lanes × 4). A dense layer's fused training stages split their columns on it.</summary>
    public const int BackwardInputColumnAlign = 64;

    /// <summary>
    /// As the BackwardInput overload without a range, for the columns [kStart, kEnd) of dx only (dx keeps its row stride k;
    /// the other columns are not touched), which read only the rows [kStart, kEnd) of w. A training step splits a dense
    /// layer's backward by weight rows, so each thread computes its share of dL/dx from, and then updates, the same rows
    /// of W. A column gets the same bits from any range whose start is a multiple of <see cref="BackwardInputColumnAlign"/>
    /// (the kernels' column strips then start at the same columns as for the whole of dx).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardInput<TIsa>(ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, int rows, int k, int n, int kStart, int kEnd)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        Checks.Range(kStart, kEnd, k, nameof(kStart), nameof(kEnd));
        Checks.Length(dy.Length, (long)rows * n, nameof(dy));
        Checks.Length(w.Length, (long)k * n, nameof(w));
        Checks.Length(dx.Length, (long)rows * k, nameof(dx));
        if (rows == 0 || kStart == kEnd) return;
        fixed (float* pdy = dy, pw = w, pdx = dx)
        {
            var run = new BackwardInputRun { Dy = pdy, W = pw, Dx = pdx, Rows = rows, K = k, N = n, KStart = kStart, KEnd = kEnd };
            VectorPath.Run<TIsa, BackwardInputRun>(ref run);
        }
    }

    /// <summary>
    /// For i in [kStart, kEnd): dw[i,j] = Σ_r x[r,i]·dy[r,j] (dw is the whole k×n gradient; those rows are
    /// overwritten). After each completed panel of rows calls sink.PanelDone(firstRow, rowCount).
    /// </summary>
    /// <remarks>Panels are consecutive, in increasing order, and cover [kStart, kEnd) exactly once.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardWeights<TIsa, TSink>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, int rows, int k, int n, int kStart, int kEnd, ref TSink sink)
        where TIsa : struct, ISimdPath where TSink : IPanelSink, allows ref struct
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        Checks.Range(kStart, kEnd, k, nameof(kStart), nameof(kEnd));
        Checks.Length(x.Length, (long)rows * k, nameof(x));
        Checks.Length(dy.Length, (long)rows * n, nameof(dy));
        Checks.Length(dw.Length, (long)k * n, nameof(dw));
        fixed (float* px = x, pdy = dy, pdw = dw)
        {
            var run = new BackwardWeightsRun<TSink> { X = px, Dy = pdy, Dw = pdw, Rows = rows, K = k, N = n, KStart = kStart, KEnd = kEnd, Sink = sink };
            VectorPath.Run<TIsa, BackwardWeightsRun<TSink>>(ref run);
            sink = run.Sink;
        }
    }

    /// <summary>
    /// sums[j] = Σ_r m[r,j] for j in [c0, c1) (bias gradients); m: rows×cols. Accumulated in double, rows in order (even
    /// and odd rows in two chains), so a column's sum keeps float precision over a convolution's samples·pixels rows and
    /// is the same bits whatever column range it was computed in (the column sums of BatchNorm2D's blocks).
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnSums<TIsa>(ReadOnlySpan<float> m, Span<float> sums, int rows, int cols, int c0, int c1)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(cols, nameof(cols));
        Checks.Range(c0, c1, cols, nameof(c0), nameof(c1));
        Checks.Length(m.Length, (long)rows * cols, nameof(m));
        Checks.Length(sums.Length, c1, nameof(sums));
        const int Chunk = 64;
        Span<double> wide = stackalloc double[Chunk];
        for (int j0 = c0; j0 < c1; j0 += Chunk)
        {
            int width = Math.Min(Chunk, c1 - j0);
            BatchNorm.SumColumns<TIsa>(m, wide, 0, rows, cols, j0, j0 + width);
            for (int j = 0; j < width; j++) sums[j0 + j] = (float)wide[j];
        }
    }

    // The three products' arguments, run at the width VectorPath maps the path marker to.

    private ref struct ForwardRun<TEpi> : IVectorKernel where TEpi : IEpilogue, allows ref struct
    {
        public float* X, W, Y;
        public int Rows, K, N, C0, C1;
        public TEpi Epilogue;

        public int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct
        {
            GemmDriver<TO, TV>.Forward(X, W, Y, Rows, K, N, C0, C1, ref Epilogue);
            return 0;
        }
    }

    private struct BackwardInputRun : IVectorKernel
    {
        public float* Dy, W, Dx;
        public int Rows, K, N, KStart, KEnd;

        public readonly int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct
        {
            GemmDriver<TO, TV>.BackwardInput(Dy, W, Dx, Rows, K, N, KStart, KEnd);
            return 0;
        }
    }

    private ref struct BackwardWeightsRun<TSink> : IVectorKernel where TSink : IPanelSink, allows ref struct
    {
        public float* X, Dy, Dw;
        public int Rows, K, N, KStart, KEnd;
        public TSink Sink;

        public int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct
        {
            GemmDriver<TO, TV>.BackwardWeights(X, Dy, Dw, Rows, K, N, KStart, KEnd, ref Sink);
            return 0;
        }
    }
}

/// <summary>Blocks the three products over one ISA's micro-kernels.</summary>
internal static unsafe class GemmDriver<TO, TV> where TO : struct, IPathOps<TV> where TV : struct
{
    // Forward splits k into blocks of at most this many rows of w, so that a block of the current
    // column strip (KBlock × strip floats; 128 × 64 × 4 B = 32 KiB with AVX-512) stays in L1 while
    // every row tile of x streams past it. Partial sums go through y (accumulate), the epilogue is
    // applied on the last block only.
    private const int KBlock = 128;

    // BackwardInput packs wᵀ for one strip of dx columns and up to this many of the n reduction
    // columns into a stack panel (≤ 32 KiB), so the transposed product runs on the same micro-kernel.
    private const int PackDepth = 128;

    // BackwardWeights switches to Blocked when dy is larger than this (twice a 1-MiB L2): batch 1024 at width 1024,
    // batch 256 at width 4096.
    private const long LargeOperandBytes = 2 << 20;

    // BackwardInput switches to Blocked when w is larger than this (MLP width 2048 and up). Its loop above packs wᵀ for
    // one 64-column strip and 128 reduction columns at a time, reading 64 rows of w as 512-byte pieces 16 KiB apart at
    // width 4096; Blocked reads w in contiguous 4-MiB regions (256 whole rows) and packs them with register transposes
    // (docs/perf/gemm.md). The choice depends on k and n only, never on rows, so every split of rows between threads
    // takes the same path and the same depth blocks, and gives the same bits.
    private const long LargeWeightBytes = 8 << 20;

    // Blocked's block sizes: a packed block of B (depth × columns = 128K floats, 512 KiB) sits in L2 with room for a row
    // block of A (BlockRows × depth). BackwardWeights packs 128 rows × 1024 columns of dy: one strip of the packed block
    // (128 × 64 floats = 32 KiB with AVX-512) stays in L1 while the block's row tiles stream past it. BackwardInput's B is
    // wᵀ, so its block's columns are rows of w: 512 deep × 256 columns, and its column blocks walk w from the top, whole
    // rows at a time (each column block's depth blocks cover 256 rows of w, 4 MiB at width 4096, front to back).
    private const int BlockCols = 1024, BlockDepth = 128, BlockRows = 96;
    private const int TransposedBlockCols = 256, TransposedBlockDepth = 512;

    // BackwardWeights' tall panels prefetch x this many floats (two 64-byte lines) ahead of the panel's columns.
    private const int PrefetchAhead = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TEpi>(float* x, float* w, float* y, int rows, int k, int n, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct => Forward(x, w, y, rows, k, n, 0, n, ref epi);

    /// <summary>Output columns [c0, c1) of x·w; w and y keep their row stride n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TEpi>(float* x, float* w, float* y, int rows, int k, int n, int c0, int c1, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct
    {
        bool hasEpi = typeof(TEpi) != typeof(NoEpilogue);
        int lanes = TO.Count;
        if (rows == 1)
        {
            // Batch-1 inference is a GEMV, bound by reading w. Wide strips (up to 256 columns with
            // AVX-512) read whole rows of w one after another, a single sequential stream; the
            // remaining < 8 vectors of columns go through the 4-vector kernel with two k chains.
            int j0 = c0;
            while (c1 - j0 >= 8 * lanes)
            {
                int wnv = Math.Min(TO.GemvWideVectors, (c1 - j0) / lanes / 4 * 4);
                GemmKernel<TO, TV>.GemvWide(wnv, x, w + j0, n, y + j0, k);
                if (hasEpi) ApplyEpilogueRow(y + j0, wnv * lanes, j0, ref epi);
                j0 += wnv * lanes;
            }
            for (; j0 < c1; j0 += 4 * lanes)
            {
                TileDispatch.Split(Math.Min(4 * lanes, c1 - j0), lanes, out int gnv, out int glast);
                GemmKernel<TO, TV>.Gemv(gnv, glast, x, w + j0, n, y + j0, k, j0, hasEpi, ref epi);
            }
            return;
        }
        int strip = TO.TileVectors * lanes;
        for (int j0 = c0; j0 < c1; j0 += strip)
        {
            TileDispatch.Split(Math.Min(strip, c1 - j0), lanes, out int nv, out int last);
            // Narrow strips take a proportionally deeper k block (and two-vector ones the tall tile): the block of w stays the
            // same size in L1, and C is reloaded and stored fewer times.
            int mr = GemmKernel<TO, TV>.RowsFor(nv), kBlock = KBlock * TO.TileVectors / nv;
            int kBlocks = Math.Max(1, (k + kBlock - 1) / kBlock);
            for (int kb = 0; kb < kBlocks; kb++)
            {
                // Near-equal k blocks (784 → 7 × 112) rather than a short remainder block.
                int p0 = (int)((long)k * kb / kBlocks), p1 = (int)((long)k * (kb + 1) / kBlocks);
                bool lastBlock = kb == kBlocks - 1;
                for (int r0 = 0; r0 < rows; r0 += mr)
                {
                    GemmKernel<TO, TV>.Tile(Math.Min(mr, rows - r0), nv, last, x + (nint)r0 * k + p0, k, 1, w + (nint)p0 * n + j0, n,
                        y + (nint)r0 * n + j0, n, p1 - p0, j0, kb > 0, hasEpi && lastBlock, ref epi);
                }
            }
        }
    }

    /// <summary>y[j] = epi(y[j], col0 + j) for j &lt; cols (a whole number of vectors is not required).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplyEpilogueRow<TEpi>(float* y, int cols, int col0, ref TEpi epi) where TEpi : IEpilogue, allows ref struct
    {
        TEpi e = epi;
        GemmKernel<TO, TV>.ApplyEpilogueRow(y, cols, col0, ref e);
    }

    public static void BackwardInput(float* dy, float* w, float* dx, int rows, int k, int n) => BackwardInput(dy, w, dx, rows, k, n, 0, k);

    /// <summary>Columns [k0, k1) of dx = dy·wᵀ (rows [k0, k1) of w); dx keeps its row stride k.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardInput(float* dy, float* w, float* dx, int rows, int k, int n, int k0, int k1)
    {
        NoEpilogue none = default;
        if (n == 0)
        {
            for (int r = 0; r < rows; r++) new Span<float>(dx + (nint)r * k + k0, k1 - k0).Clear();
            return;
        }
        if (rows == 1)
        {
            // Batch 1: dot products of dy with the contiguous rows of w, no packing.
            GemmKernel<TO, TV>.DotRows(dy, w + (nint)k0 * n, n, dx + k0, k1 - k0);
            return;
        }
        if ((long)k * n * sizeof(float) > LargeWeightBytes)
        {
            // B = wᵀ: each block packs TransposedBlockCols rows of w (dx columns) × TransposedBlockDepth of its columns.
            // Only rows [k0, k1) of w: a fused dense backward stage gives each thread its own range of dx columns.
            NoPanelSink sink = default;
            Blocked(dy, n, 1, w + (nint)k0 * n, n, true, dx + k0, k, rows, n, k1 - k0, TransposedBlockDepth, TransposedBlockCols, 0, ref sink);
            return;
        }
        int lanes = TO.Count, strip = TO.TileVectors * lanes;
        float* panel = stackalloc float[PackDepth * strip];
        for (int i0 = k0; i0 < k1; i0 += strip)
        {
            int iw = Math.Min(strip, k1 - i0);
            TileDispatch.Split(iw, lanes, out int nv, out int last);
            int mr = GemmKernel<TO, TV>.RowsFor(nv);
            for (int j0 = 0; j0 < n; j0 += PackDepth)
            {
                int jc = Math.Min(PackDepth, n - j0);
                PackTransposed(w + (nint)i0 * n + j0, n, iw, jc, panel, strip);
                for (int r0 = 0; r0 < rows; r0 += mr)
                {
                    GemmKernel<TO, TV>.Tile(Math.Min(mr, rows - r0), nv, last, dy + (nint)r0 * n + j0, n, 1, panel, strip,
                        dx + (nint)r0 * k + i0, k, jc, i0, j0 > 0, false, ref none);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardWeights<TSink>(float* x, float* dy, float* dw, int rows, int k, int n, int kStart, int kEnd, ref TSink sink)
        where TSink : IPanelSink, allows ref struct
    {
        NoEpilogue none = default;
        int lanes = TO.Count, mr = GemmKernel<TO, TV>.TileRows, strip = TO.TileVectors * lanes;
        if (rows == 1)
        {
            // Batch 1: dw is the outer product x ⊗ dy, one scaled copy of dy per row (a micro-tile with
            // a reduction of length 1 would be all overhead).
            for (int i0 = kStart; i0 < kEnd; i0 += mr)
            {
                int pr = Math.Min(mr, kEnd - i0);
                for (int i = i0; i < i0 + pr; i++) GemmKernel<TO, TV>.ScaleRow(dw + (nint)i * n, dy, x[i], n);
                sink.PanelDone(i0, pr);
            }
            return;
        }
        if ((long)rows * n * sizeof(float) > LargeOperandBytes)
        {
            // dy is far larger than L2: the panels below would stream all of it from memory once per 6 rows of dw.
            // The blocked path packs a block of dy's rows once and runs every row block of dw past it.
            Blocked(x + kStart, 1, k, dy, n, false, dw + (nint)kStart * n, n, kEnd - kStart, rows, n, BlockDepth, BlockCols, kStart, ref sink);
            return;
        }
        // A panel is one micro-tile height of dw rows: A(m, r) = x[r, i0 + m] (stride 1 down the tile,
        // k along the reduction), B = dy. When the panel's last column strip is stored, its rows are
        // final and still in L1 for the optimiser. Outputs of one two-vector strip take the tall tile (RowsFor).
        TileDispatch.Split(Math.Min(strip, n), lanes, out int firstNv, out _);
        if (n <= strip) mr = GemmKernel<TO, TV>.RowsFor(firstNv);
        for (int i0 = kStart; i0 < kEnd; i0 += mr)
        {
            int pr = Math.Min(mr, kEnd - i0);
            for (int j0 = 0; j0 < n; j0 += strip)
            {
                TileDispatch.Split(Math.Min(strip, n - j0), lanes, out int nv, out int last);
                // A walks down a column block of x (one cache line per row of x): the tall tile fetches, two lines
                // ahead in each row, the line a later panel will read, so those rows arrive from memory
                // while this panel computes instead of stalling the next panel. (Near the last columns the address
                // can lie past x's end: a prefetch is only a hint and never faults.)
                float* pf = pr > GemmKernel<TO, TV>.TileRows && i0 + pr < kEnd ? x + i0 + PrefetchAhead : null;
                GemmKernel<TO, TV>.Tile(pr, nv, last, x + i0, 1, k, dy + j0, n, dw + (nint)i0 * n + j0, n, rows, j0, false, false, ref none, pf);
            }
            sink.PanelDone(i0, pr);
        }
    }


    /// <summary>
    /// C[i, j] = Σ_p A(i, p)·B(p, j) for i &lt; m, j &lt; n, p &lt; depth, blocked for the caches when B is far larger
    /// than L2: A(i, p) = a[i·ars + p·acs]; B(p, j) = b[p·ldb + j], or b[j·ldb + p] when <paramref name="bTransposed"/>;
    /// C row i at c + i·ldc. Loops: column blocks of <paramref name="blockCols"/> → depth blocks of ≤
    /// <paramref name="blockDepth"/> (B's block packed strip by strip into a contiguous, L2-sized, per-thread buffer: read
    /// from memory once per block instead of once per row tile, with no cache-set conflicts) → row blocks of
    /// <see cref="BlockRows"/> → strips → row tiles. The depth blocks depend on depth only, so an element of C is the
    /// same sum in the same order whatever m, n or column block it is in. C is stored on the first depth block and
    /// accumulated on the others.
    /// sink.PanelDone(rowBase + i0, count) is called for each row block once its rows are final (last column block, last
    /// depth block), in increasing order.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked<TSink>(float* a, nint ars, nint acs, float* b, nint ldb, bool bTransposed, float* c, nint ldc,
        int m, int depth, int n, int blockDepth, int blockCols, int rowBase, ref TSink sink)
        where TSink : IPanelSink, allows ref struct
    {
        NoEpilogue none = default;
        int lanes = TO.Count, strip = TO.TileVectors * lanes;
        float* packed = GemmScratch.Packed(blockCols * blockDepth);
        int depthBlocks = Math.Max(1, (depth + blockDepth - 1) / blockDepth);
        for (int jc = 0; jc < n; jc += blockCols)
        {
            int nc = Math.Min(blockCols, n - jc);
            bool lastCols = jc + nc >= n;
            for (int pb = 0; pb < depthBlocks; pb++)
            {
                int p0 = (int)((long)depth * pb / depthBlocks), kc = (int)((long)depth * (pb + 1) / depthBlocks) - p0;
                bool lastDepth = pb == depthBlocks - 1;
                if (bTransposed) PackTransposedBlock(b + jc * ldb + p0, ldb, kc, nc, packed, strip, blockDepth);
                else PackRows(b + p0 * ldb + jc, ldb, kc, nc, packed, strip, blockDepth);
                for (int ic = 0; ic < m; ic += BlockRows)
                {
                    int mc = Math.Min(BlockRows, m - ic);
                    for (int jr = 0; jr < nc; jr += strip)
                    {
                        TileDispatch.Split(Math.Min(strip, nc - jr), lanes, out int nv, out int last);
                        int mr = GemmKernel<TO, TV>.RowsFor(nv);
                        float* bp = packed + (nint)(jr / strip) * blockDepth * strip;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int i = ic + ir;
                            GemmKernel<TO, TV>.Tile(Math.Min(mr, mc - ir), nv, last, a + i * ars + p0 * acs, ars, acs, bp, strip,
                                c + i * ldc + jc + jr, ldc, kc, jc + jr, pb > 0, false, ref none);
                        }
                    }
                    if (lastCols && lastDepth) sink.PanelDone(rowBase + ic, mc);
                }
            }
        }
    }

    /// <summary>
    /// Copies rows × cols of src (row stride ld) into strips of <paramref name="strip"/> columns, each strip contiguous
    /// (row p of strip s at dst + (s·depth + p)·strip), reading each source row once from left to right.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRows(float* src, nint ld, int rows, int cols, float* dst, int strip, int depth)
    {
        int lanes = TO.Count;
        for (int p = 0; p < rows; p++, src += ld)
            for (int j0 = 0; j0 < cols; j0 += strip)
            {
                float* d = dst + ((nint)(j0 / strip) * depth + p) * strip - j0;
                int end = Math.Min(cols, j0 + strip), j = j0;
                for (; j + lanes <= end; j += lanes) TO.Store(TO.Load(src + j), d + j);
                for (; j < end; j++) d[j] = src[j];
            }
    }

    /// <summary>
    /// The transposed counterpart of <see cref="PackRows"/>: B(p, j) = src[j·ld + p] for p &lt; rows, j &lt; cols, stored as
    /// dst[(s·depth + p)·strip + j − s·strip] for strip s = j / strip. Reads each source row j left to right in one run;
    /// squares of 16 × 16 (AVX-512) or 8 × 8 (AVX2) are transposed in registers, the edges and the 128-bit path element
    /// by element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposedBlock(float* src, nint ld, int rows, int cols, float* dst, int strip, int depth)
    {
        int t = typeof(TV) == typeof(Vector512<float>) && Avx512F.IsSupported ? 16
            : typeof(TV) == typeof(Vector256<float>) && Avx.IsSupported ? 8 : 1;
        for (int j0 = 0; j0 < cols; j0 += strip)
        {
            int end = Math.Min(cols, j0 + strip);
            float* d0 = dst + (nint)(j0 / strip) * depth * strip - j0;   // B(p, j) at d0 + p·strip + j
            int j = j0;
            if (t > 1)
                for (; j + t <= end; j += t)
                {
                    int p = 0;
                    for (; p + t <= rows; p += t)
                    {
                        if (t == 16) Transpose16(src + j * ld + p, ld, d0 + (nint)p * strip + j, strip);
                        else Transpose8(src + j * ld + p, ld, d0 + (nint)p * strip + j, strip);
                    }
                    for (; p < rows; p++)
                        for (int jj = j; jj < j + t; jj++) d0[(nint)p * strip + jj] = src[jj * ld + p];
                }
            for (; j < end; j++)
            {
                float* s = src + j * ld, d = d0 + j;
                for (int p = 0; p < rows; p++) d[(nint)p * strip] = s[p];
            }
        }
    }

    /// <summary>dst[q·ldd + r] = src[r·lds + q] for r, q &lt; 16 (unpack → 64-bit shuffles → two rounds of 128-bit lane shuffles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16(float* src, nint lds, float* dst, nint ldd)
    {
        // uG_q: in 128-bit lane L, rows 4G..4G+3 of column 4L + q.
        Quad16(src, lds, out var u00, out var u01, out var u02, out var u03);
        Quad16(src + 4 * lds, lds, out var u10, out var u11, out var u12, out var u13);
        Quad16(src + 8 * lds, lds, out var u20, out var u21, out var u22, out var u23);
        Quad16(src + 12 * lds, lds, out var u30, out var u31, out var u32, out var u33);
        Columns16(u00, u10, u20, u30, dst, ldd);
        Columns16(u01, u11, u21, u31, dst + ldd, ldd);
        Columns16(u02, u12, u22, u32, dst + 2 * ldd, ldd);
        Columns16(u03, u13, u23, u33, dst + 3 * ldd, ldd);
    }

    /// <summary>Rows 0..3 at src: u_q holds, in each 128-bit lane L, the four rows' elements of column 4L + q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad16(float* src, nint lds, out Vector512<float> u0, out Vector512<float> u1, out Vector512<float> u2, out Vector512<float> u3)
    {
        Vector512<float> r0 = Vector512.Load(src), r1 = Vector512.Load(src + lds), r2 = Vector512.Load(src + 2 * lds), r3 = Vector512.Load(src + 3 * lds);
        if (!Avx512F.IsSupported) throw new PlatformNotSupportedException();
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<float> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        u0 = Avx512F.Shuffle(t0, t2, 0x44);
        u1 = Avx512F.Shuffle(t0, t2, 0xEE);
        u2 = Avx512F.Shuffle(t1, t3, 0x44);
        u3 = Avx512F.Shuffle(t1, t3, 0xEE);
    }

    /// <summary>From the four row groups' u_q, stores columns q, 4 + q, 8 + q, 12 + q at dst, dst + 4·ldd, ….</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns16(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3, float* dst, nint ldd)
    {
        if (!Avx512F.IsSupported) throw new PlatformNotSupportedException();
        Vector512<float> x0 = Avx512F.Shuffle4x128(g0, g1, 0x88), x1 = Avx512F.Shuffle4x128(g0, g1, 0xDD);
        Vector512<float> x2 = Avx512F.Shuffle4x128(g2, g3, 0x88), x3 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        Avx512F.Store(dst, Avx512F.Shuffle4x128(x0, x2, 0x88));
        Avx512F.Store(dst + 4 * ldd, Avx512F.Shuffle4x128(x1, x3, 0x88));
        Avx512F.Store(dst + 8 * ldd, Avx512F.Shuffle4x128(x0, x2, 0xDD));
        Avx512F.Store(dst + 12 * ldd, Avx512F.Shuffle4x128(x1, x3, 0xDD));
    }

    /// <summary>dst[q·ldd + r] = src[r·lds + q] for r, q &lt; 8 (unpack → 64-bit shuffles → 128-bit lane permutes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(float* src, nint lds, float* dst, nint ldd)
    {
        Quad8(src, lds, out var u0, out var u1, out var u2, out var u3);
        Quad8(src + 4 * lds, lds, out var u4, out var u5, out var u6, out var u7);
        if (!Avx.IsSupported) throw new PlatformNotSupportedException();
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>Rows 0..3 at src: u_q holds, in each 128-bit lane L, the four rows' elements of column 4L + q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad8(float* src, nint lds, out Vector256<float> u0, out Vector256<float> u1, out Vector256<float> u2, out Vector256<float> u3)
    {
        Vector256<float> r0 = Vector256.Load(src), r1 = Vector256.Load(src + lds), r2 = Vector256.Load(src + 2 * lds), r3 = Vector256.Load(src + 3 * lds);
        if (!Avx.IsSupported) throw new PlatformNotSupportedException();
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        u0 = Avx.Shuffle(t0, t2, 0x44);
        u1 = Avx.Shuffle(t0, t2, 0xEE);
        u2 = Avx.Shuffle(t1, t3, 0x44);
        u3 = Avx.Shuffle(t1, t3, 0xEE);
    }

    /// <summary>panel[jj·ld + ii] = src[ii·n + jj] for ii &lt; iw, jj &lt; jc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposed(float* src, int n, int iw, int jc, float* panel, int ld)
    {
        int ii = 0;
        // Four source rows at a time: four sequential read streams, and each destination row gets
        // four adjacent floats per visit.
        for (; ii + 4 <= iw; ii += 4)
        {
            float* s0 = src + (nint)ii * n, s1 = s0 + n, s2 = s1 + n, s3 = s2 + n;
            float* d = panel + ii;
            for (int jj = 0; jj < jc; jj++, d += ld)
            {
                d[0] = s0[jj]; d[1] = s1[jj]; d[2] = s2[jj]; d[3] = s3[jj];
            }
        }
        for (; ii < iw; ii++)
        {
            float* s0 = src + (nint)ii * n;
            float* d = panel + ii;
            for (int jj = 0; jj < jc; jj++, d += ld) *d = s0[jj];
        }
    }
}

/// <summary>Per-thread packing buffers of the blocked GEMM path, allocated once per thread and reused by every call.</summary>
internal static unsafe class GemmScratch
{
    [ThreadStatic] private static float[]? _packed;

    /// <summary>A 64-byte-aligned buffer of at least <paramref name="floats"/> floats, pinned, owned by the calling thread.</summary>
    public static float* Packed(int floats)
    {
        float[]? buffer = _packed;
        if (buffer is null || buffer.Length < floats + 16)
            _packed = buffer = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return p + (int)((64 - (nuint)p % 64) % 64 / sizeof(float));
    }
}
