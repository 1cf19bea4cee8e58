using System;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

/// <summary>
/// Batch-1 inference products (one row of x times W) on weights packed once into column panels, so that
/// each output-column range a thread owns is one contiguous stream of memory. A batch-1 product is bound by reading
/// W: with W kept [k, n] row-major, a thread that owns half of the columns reads half of every row (a 512-byte piece of
/// each 1 KiB row of the benchmark MLP's first layer), a strided pattern that measured as slow as reading all of W;
/// packed, each thread reads its own panels front to back. (One thread reading all columns does better on the
/// row-major matrix, whole rows one after another.) See docs/architecture.md ("Small-batch Dense layers").
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

/// <summary>The panel loop and the register kernels of <see cref="GemvPacked"/> at one vector width.</summary>
internal static unsafe class GemvPackedDriver<TO, TV> where TO : struct, IPathOps<TV> where TV : struct
{
    private const int Panel = GemvPacked.PanelWidth;

    /// <summary>
    /// Each panel is read front to back. 512-bit vectors take two panels at a time (8 accumulators, one broadcast of x
    /// per 8 loads; four side by side measured slower), a last odd one with two chains over alternate k; narrower
    /// vectors one panel at a time with 8 or 16 accumulators (<see cref="GemmKernel{TO, TV}.GemvWide"/>). A last panel
    /// narrower than 64 columns is computed into a scratch row and its valid columns copied out.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TEpi>(float* x, float* w, float* y, int k, int c0, int c1, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct
    {
        TEpi e = epi;
        float* scratch = stackalloc float[Panel];
        bool fourVectors = Panel / TO.Count == 4;
        int j0 = c0;
        while (j0 < c1)
        {
            int full = (c1 - j0) / Panel;   // whole panels left
            float* panel = w + (nint)j0 * k;
            int width;
            if (full == 0)
            {
                Panels(1, x, panel, k, scratch, fourVectors);
                width = c1 - j0;
                new Span<float>(scratch, width).CopyTo(new Span<float>(y + j0, width));
            }
            else
            {
                int take = fourVectors && full >= 2 ? 2 : 1;
                Panels(take, x, panel, k, y + j0, fourVectors);
                width = take * Panel;
            }
            GemmKernel<TO, TV>.ApplyEpilogueRow(y + j0, width, j0, ref e);
            j0 += width;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Panels(int count, float* x, float* b, int k, float* c, bool fourVectors)
    {
        if (!fourVectors) GemmKernel<TO, TV>.GemvWide(Panel / TO.Count, x, b, Panel, c, k);
        else if (count == 2) TwoPanels(x, b, k, c);
        else TwoChains(x, b, k, c);
    }

    /// <summary>Two whole 4-vector panels, read side by side as one row of 8 vectors of sums.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoPanels(float* x, float* b, int k, float* c)
    {
        int l = TO.Count;
        float* b0 = b, b1 = b + (nint)k * Panel;
        TV s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int p = 0; p < k; p++, b0 += Panel, b1 += Panel)
        {
            TV xp = TO.Splat(x[p]);
            s0 = TO.Fma(xp, TO.Load(b0), s0);
            s1 = TO.Fma(xp, TO.Load(b0 + l), s1);
            s2 = TO.Fma(xp, TO.Load(b0 + 2 * l), s2);
            s3 = TO.Fma(xp, TO.Load(b0 + 3 * l), s3);
            s4 = TO.Fma(xp, TO.Load(b1), s4);
            s5 = TO.Fma(xp, TO.Load(b1 + l), s5);
            s6 = TO.Fma(xp, TO.Load(b1 + 2 * l), s6);
            s7 = TO.Fma(xp, TO.Load(b1 + 3 * l), s7);
        }
        TO.Store(s0, c); TO.Store(s1, c + l); TO.Store(s2, c + 2 * l); TO.Store(s3, c + 3 * l);
        TO.Store(s4, c + 4 * l); TO.Store(s5, c + 5 * l); TO.Store(s6, c + 6 * l); TO.Store(s7, c + 7 * l);
    }

    /// <summary>One 4-vector panel: two chains over alternate k (8 accumulators hide the FMA latency).</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoChains(float* x, float* b, int k, float* c)
    {
        int l = TO.Count;
        TV s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
        int p = 0;
        for (; p + 2 <= k; p += 2, b += 2 * Panel)
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
