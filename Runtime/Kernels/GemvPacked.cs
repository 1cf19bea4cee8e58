using System;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

/// <summary>
/// Small-batch inference products (1 to <see cref="MaxRows"/> rows) on weights packed once into column panels, so that
/// each output-column range a thread owns is one contiguous stream of memory. A batch-1 product is bound by reading
/// W: with W kept [k, n] row-major, a thread that owns half of the columns reads half of every row (a 512-byte piece of
/// each 1 KiB row of the benchmark MLP's first layer), a strided pattern that measured as slow as reading all of W;
/// packed, each thread reads its own panels front to back. See docs/architecture.md ("Small-batch Dense layers").
/// </summary>
/// <remarks>
/// Layout: panel p holds columns [p·<see cref="PanelWidth"/>, (p+1)·<see cref="PanelWidth"/>) of all k rows,
/// row after row, <c>packed[p·PanelWidth·k + i·PanelWidth + j] = w[i·n + p·PanelWidth + j]</c>; the last panel is
/// padded with zero columns. The layout is the same on every ISA path, so a model may change its path at any time.
/// </remarks>
public static unsafe class GemvPacked
{
    /// <summary>Columns per panel (four 512-bit vectors).</summary>
    public const int PanelWidth = 64;

    /// <summary>The most rows (samples) one call multiplies.</summary>
    public const int MaxRows = 16;

    /// <summary>Floats the packed copy of a k×n matrix takes: k rows of every panel, the last one padded.</summary>
    public static int PackedLength(int k, int n)
    {
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        return checked(k * ((n + PanelWidth - 1) / PanelWidth * PanelWidth));
    }

    /// <summary>Packs w (k×n, row-major) into column panels (see the remarks on the class).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(ReadOnlySpan<float> w, Span<float> packed, int k, int n)
    {
        Checks.Length(w.Length, (long)k * n, nameof(w));
        Checks.Length(packed.Length, PackedLength(k, n), nameof(packed));
        for (int j0 = 0; j0 < n; j0 += PanelWidth)
        {
            int width = Math.Min(PanelWidth, n - j0);
            Span<float> panel = packed.Slice(j0 * k, k * PanelWidth);
            for (int i = 0; i < k; i++)
            {
                Span<float> row = panel.Slice(i * PanelWidth, PanelWidth);
                w.Slice(i * n + j0, width).CopyTo(row);
                row.Slice(width).Clear();
            }
        }
    }

    /// <summary>
    /// y[r, j] = epi(Σ_i x[r, i]·w[i, j], j) for r &lt; rows and output columns j in [colStart, colEnd), from the packed
    /// copy of w (k×n); y keeps its row stride n and its other columns are left as they are. colStart must be a
    /// multiple of <see cref="PanelWidth"/>, and colEnd one too unless it is n.
    /// </summary>
    public static void Forward<TIsa, TEpi>(ReadOnlySpan<float> x, ReadOnlySpan<float> packed, Span<float> y, int rows, int k, int n,
        int colStart, int colEnd, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct
    {
        if (rows < 1 || rows > MaxRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"GemvPacked multiplies 1 to {MaxRows} rows; use Gemm.Forward for more.");
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        if (colStart < 0 || colEnd > n || colStart > colEnd || colStart % PanelWidth != 0 || (colEnd != n && colEnd % PanelWidth != 0))
            throw new ArgumentOutOfRangeException(nameof(colStart),
                $"Columns [{colStart}, {colEnd}) must lie within [0, {n}) and start (and end, unless at {n}) on a panel boundary (a multiple of {PanelWidth}).");
        Checks.Length(x.Length, (long)rows * k, nameof(x));
        Checks.Length(packed.Length, PackedLength(k, n), nameof(packed));
        Checks.Length(y.Length, (long)rows * n, nameof(y));
        if (colStart == colEnd) return;
        TEpi e = epi;
        fixed (float* px = x, pw = packed, py = y)
        {
            var run = new ForwardRun<TEpi> { X = px, W = pw, Y = py, Rows = rows, K = k, N = n, C0 = colStart, C1 = colEnd, Epilogue = e };
            VectorPath.Run<TIsa, ForwardRun<TEpi>>(ref run);
        }
    }

    private ref struct ForwardRun<TEpi> : IVectorKernel where TEpi : IEpilogue, allows ref struct
    {
        public float* X, W, Y;
        public int Rows, K, N, C0, C1;
        public TEpi Epilogue;

        public int Run<TO, TV>() where TO : struct, IPathOps<TV> where TV : struct
        {
            GemvPackedDriver<TO, TV>.Forward(X, W, Y, Rows, K, N, C0, C1, ref Epilogue);
            return 0;
        }
    }
}

/// <summary>The panel loop and the register kernels of <see cref="GemvPacked"/> at one vector width.</summary>
internal static unsafe class GemvPackedDriver<TO, TV> where TO : struct, IPathOps<TV> where TV : struct
{
    private const int Panel = GemvPacked.PanelWidth;
    // With more than one row, k runs in blocks of this many rows of a panel (64 × 64 floats = 16 KiB), which stay
    // in L1 while every row of x passes over them: W is still read from L2 or memory only once.
    private const int KBlock = 64;

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TEpi>(float* x, float* w, float* y, int rows, int k, int n, int c0, int c1, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct
    {
        TEpi e = epi;
        // One panel row of sums per sample; the panel's valid columns are copied out with the epilogue.
        float* tile = stackalloc float[GemvPacked.MaxRows * Panel];
        float* part = stackalloc float[Panel];   // a block's sums before they are added to the tile (narrow vectors)
        int block = rows == 1 ? Math.Max(k, 1) : KBlock;
        for (int j0 = c0; j0 < c1; j0 += Panel)
        {
            float* panel = w + (nint)j0 * k;
            if (k == 0) new Span<float>(tile, rows * Panel).Clear();
            for (int p0 = 0; p0 < k; p0 += block)
            {
                int len = Math.Min(block, k - p0);
                for (int r = 0; r < rows; r++)
                    PanelRow(x + (nint)r * k + p0, panel + (nint)p0 * Panel, len, tile + r * Panel, p0 > 0, part);
            }
            int width = Math.Min(Panel, c1 - j0);
            for (int r = 0; r < rows; r++)
            {
                float* src = tile + r * Panel, dst = y + (nint)r * n + j0;
                int j = 0;
                for (; j + TO.Count <= width; j += TO.Count) TO.Store(EpilogueOps.Apply(ref e, TO.Load(src + j), j0 + j), dst + j);
                for (; j < width; j++) dst[j] = e.Apply(src[j], j0 + j);
            }
        }
    }

    /// <summary>
    /// c[0..64) (+)= Σ_(p &lt; len) x[p]·b[p·64 .. p·64 + 64): one panel row of sums over len consecutive panel rows.
    /// 512-bit: 4 vectors per panel row, two chains over alternate k (8 accumulators hide the FMA latency); narrower
    /// vectors: 8 or 16 accumulators in one chain (<see cref="GemmKernel{TO, TV}.GemvWide"/>). Either way the panel is
    /// read front to back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PanelRow(float* x, float* b, int len, float* c, bool accumulate, float* part)
    {
        int l = TO.Count;
        if (Panel / l == 4) TwoChains(x, b, len, c, accumulate);
        else OneChain(x, b, len, c, accumulate, part);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwoChains(float* x, float* b, int len, float* c, bool accumulate)
    {
        int l = TO.Count;
        TV s0 = accumulate ? TO.Load(c) : default, s1 = accumulate ? TO.Load(c + l) : default;
        TV s2 = accumulate ? TO.Load(c + 2 * l) : default, s3 = accumulate ? TO.Load(c + 3 * l) : default;
        TV t0 = default, t1 = default, t2 = default, t3 = default;
        int p = 0;
        for (; p + 2 <= len; p += 2, b += 2 * Panel)
        {
            TV x0 = TO.Splat(x[p]), x1 = TO.Splat(x[p + 1]);
            s0 = TO.Fma(x0, TO.Load(b), s0);
            s1 = TO.Fma(x0, TO.Load(b + l), s1);
            s2 = TO.Fma(x0, TO.Load(b + 2 * l), s2);
            s3 = TO.Fma(x0, TO.Load(b + 3 * l), s3);
            t0 = TO.Fma(x1, TO.Load(b + Panel), t0);
            t1 = TO.Fma(x1, TO.Load(b + Panel + l), t1);
            t2 = TO.Fma(x1, TO.Load(b + Panel + 2 * l), t2);
            t3 = TO.Fma(x1, TO.Load(b + Panel + 3 * l), t3);
        }
        if (p < len)
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

    /// <summary>Narrower vectors: 8 or 16 accumulators in one chain, the single-row kernel of the GEMM over the panel rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OneChain(float* x, float* b, int len, float* c, bool accumulate, float* part)
    {
        if (!accumulate)
        {
            GemmKernel<TO, TV>.GemvWide(Panel / TO.Count, x, b, Panel, c, len);
            return;
        }
        GemmKernel<TO, TV>.GemvWide(Panel / TO.Count, x, b, Panel, part, len);
        for (int j = 0; j < Panel; j += TO.Count) TO.Store(TO.Add(TO.Load(c + j), TO.Load(part + j)), c + j);
    }
}
