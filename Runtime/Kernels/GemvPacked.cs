using System;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

/// <summary>
/// Batch-1 inference products (one row of x times W) on weights packed once into column blocks, so that each
/// output-column range a thread owns is one contiguous stream of memory. A batch-1 product is bound by reading W: with W
/// kept [k, n] row-major, a thread that owns half of the columns reads half of every row (a 512-byte piece of each 1 KiB row
/// of the benchmark MLP's first layer), a strided pattern that measured as slow as reading all of W; packed, each thread
/// reads its own blocks front to back. (One thread reading all columns does better on the row-major matrix, whole rows one
/// after another.) See docs/architecture.md ("Small-batch Dense layers") and docs/perf/predict-b1.md.
/// </summary>
/// <remarks>
/// Layout: block b holds columns [b·128, (b+1)·128) of all k rows, row after row,
/// <c>packed[b·128·k + i·128 + j] = w[i·n + b·128 + j]</c>; the last block is padded with zero columns. Threads split the
/// columns on <see cref="PanelWidth"/> boundaries (half a block): a thread that owns a whole block reads it as one
/// stream, one that owns half of one reads every other 256 bytes of it. The layout is the same on every ISA path, so a
/// model may change its path at any time.
/// </remarks>
public static unsafe class GemvPacked
{
    /// <summary>Columns per panel, the granularity of a column range (four 512-bit vectors; two panels make a block).</summary>
    public const int PanelWidth = 64;

    /// <summary>Columns per block of the packed layout: two panels, read side by side as one stream.</summary>
    internal const int BlockWidth = 2 * PanelWidth;

    /// <summary>Floats the packed copy of a k×n matrix takes: k rows of every block, the last one padded.</summary>
    public static int PackedLength(int k, int n)
    {
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        return checked(k * ((n + BlockWidth - 1) / BlockWidth * BlockWidth));
    }

    /// <summary>Packs w (k×n, row-major) into column blocks (see the remarks on the class).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(ReadOnlySpan<float> w, Span<float> packed, int k, int n)
    {
        Checks.Length(w.Length, (long)k * n, nameof(w));
        Checks.Length(packed.Length, PackedLength(k, n), nameof(packed));
        for (int j0 = 0; j0 < n; j0 += BlockWidth)
        {
            int width = Math.Min(BlockWidth, n - j0);
            Span<float> block = packed.Slice(j0 * k, k * BlockWidth);
            for (int i = 0; i < k; i++)
            {
                Span<float> row = block.Slice(i * BlockWidth, BlockWidth);
                w.Slice(i * n + j0, width).CopyTo(row);
                row.Slice(width).Clear();
            }
        }
    }

    /// <summary>
    /// y[j] = epi(Σ_i x[i]·w[i, j], j) for the output columns j in [colStart, colEnd), from the packed copy of w (k×n);
    /// y's other columns are left as they are. colStart must be a multiple of <see cref="PanelWidth"/>, and colEnd one
    /// too unless it is n. (Several rows go through <see cref="Gemm"/> on the row-major weights: its 6-row register tiles
    /// over these panels measured slower at 4 rows than over the row-major matrix, for reasons not yet found.)
    /// </summary>
    public static void Forward<TIsa, TEpi>(ReadOnlySpan<float> x, ReadOnlySpan<float> packed, Span<float> y, int k, int n,
        int colStart, int colEnd, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        if (colStart < 0 || colEnd > n || colStart > colEnd || colStart % PanelWidth != 0 || (colEnd != n && colEnd % PanelWidth != 0))
            throw new ArgumentOutOfRangeException(nameof(colStart),
                $"Columns [{colStart}, {colEnd}) must lie within [0, {n}) and start (and end, unless at {n}) on a panel boundary (a multiple of {PanelWidth}).");
        Checks.Length(x.Length, k, nameof(x));
        Checks.Length(packed.Length, PackedLength(k, n), nameof(packed));
        Checks.Length(y.Length, n, nameof(y));
        if (colStart == colEnd) return;
        TEpi e = epi;
        fixed (float* px = x, pw = packed, py = y)
        {
            var run = new ForwardRun<TEpi> { X = px, W = pw, Y = py, K = k, C0 = colStart, C1 = colEnd, Epilogue = e };
            VectorPath.Run<TIsa, ForwardRun<TEpi>>(ref run);
        }
    }

    private ref struct ForwardRun<TEpi> : IVectorKernel where TEpi : IEpilogue, allows ref struct
    {
        public float* X, W, Y;
        public int K, C0, C1;
        public TEpi Epilogue;

        public int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct
        {
            GemvPackedDriver<TO, TV>.Forward(X, W, Y, K, C0, C1, ref Epilogue);
            return 0;
        }
    }
}

/// <summary>The block loop and the register kernels of <see cref="GemvPacked"/> at one vector width.</summary>
internal static unsafe class GemvPackedDriver<TO, TV> where TO : struct, IPathOps<TV> where TV : struct
{
    private const int Panel = GemvPacked.PanelWidth, Block = GemvPacked.BlockWidth;

    /// <summary>
    /// A whole block is read front to back as one stream: with 512-bit vectors 8 accumulators, one broadcast of x per 8 loads
    /// (the same sums, in the same order, as the row-major kernel's). Half a block (a range that starts or ends mid-block)
    /// and narrower vectors go panel by panel over the block's rows: 512-bit vectors with two chains over alternate k,
    /// narrower ones with 8 or 16 accumulators (<see cref="GemmKernel{TO, TV}.GemvWide"/>). A last panel narrower than
    /// 64 columns is computed into a scratch row and its valid columns copied out.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TEpi>(float* x, float* w, float* y, int k, int c0, int c1, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct
    {
        TEpi e = epi;
        float* scratch = stackalloc float[Panel];
        int j0 = c0;
        while (j0 < c1)
        {
            // Column j0's first row: its block's start plus its offset within the block (0 or a panel).
            float* first = w + (nint)(j0 / Block) * Block * k + j0 % Block;
            int width;
            if (j0 % Block == 0 && c1 - j0 >= Block)
            {
                WholeBlock(x, first, k, y + j0);
                width = Block;
            }
            else if (c1 - j0 >= Panel)
            {
                OnePanel(x, first, k, y + j0);
                width = Panel;
            }
            else
            {
                OnePanel(x, first, k, scratch);
                width = c1 - j0;
                new Span<float>(scratch, width).CopyTo(new Span<float>(y + j0, width));
            }
            GemmKernel<TO, TV>.ApplyEpilogueRow(y + j0, width, j0, ref e);
            j0 += width;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WholeBlock(float* x, float* b, int k, float* c)
    {
        if (Block / TO.Count == 8) GemmKernel<TO, TV>.GemvWide(8, x, b, Block, c, k);
        else
        {
            OnePanel(x, b, k, c);
            OnePanel(x, b + Panel, k, c + Panel);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OnePanel(float* x, float* b, int k, float* c)
    {
        if (Panel / TO.Count == 4) TwoChains(x, b, k, c);
        else GemmKernel<TO, TV>.GemvWide(Panel / TO.Count, x, b, Block, c, k);
    }

    /// <summary>One 4-vector panel of a block (row stride <see cref="Block"/>): two chains over alternate k (8 accumulators hide the FMA latency).</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoChains(float* x, float* b, int k, float* c)
    {
        int l = TO.Count;
        TV s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2, b += 2 * Block)
        {
            TV x0 = TO.Splat(x[p]), x1 = TO.Splat(x[p + 1]);
            s0 = TO.Fma(x0, TO.Load(b), s0);
            s1 = TO.Fma(x0, TO.Load(b + l), s1);
            s2 = TO.Fma(x0, TO.Load(b + 2 * l), s2);
            s3 = TO.Fma(x0, TO.Load(b + 3 * l), s3);
            t0 = TO.Fma(x1, TO.Load(b + Block), t0);
            t1 = TO.Fma(x1, TO.Load(b + Block + l), t1);
            t2 = TO.Fma(x1, TO.Load(b + Block + 2 * l), t2);
            t3 = TO.Fma(x1, TO.Load(b + Block + 3 * l), t3);
        }
        if (p < k)
        {
            TV x0 = TO.Splat(x[p]);
            s0 = TO.Fma(x0, TO.Load(b), s0);
            s1 = TO.Fma(x0, TO.Load(b + l), s1);
            s2 = TO.Fma(x0, TO.Load(b + 2 * l), s2);
            s3 = TO.Fma(x0, TO.Load(b + 3 * l), s3);
        }
        TO.Store(TO.Add(s0, t0), c);
        TO.Store(TO.Add(s1, t1), c + l);
        TO.Store(TO.Add(s2, t2), c + 2 * l);
        TO.Store(TO.Add(s3, t3), c + 3 * l);
    }
}
