using System;
using System.Collections.Generic;

namespace Kiln.Kernels.Tests;

/// <summary>GEMM kernels against naive double loops, over shapes that hit every tile, tail and k-block case.</summary>
public sealed class GemmTests
{
    // Float accumulation over k terms: allow 1e-5 of Σ|x·w| (the worst case is ~k·2⁻²⁴ of it, the
    // typical error far less), plus a tiny absolute floor.
    private const double Atol = 1e-6, Rel = 1e-5;

    // 13, 25, 31, 64: the tall 12-row tile of narrow strips with remainders of 1, 1, 7 and 4 rows.
    private static readonly int[] Rows = { 1, 2, 3, 5, 7, 13, 25, 31, 64 };

    // (k, n): single elements, n below/above every vector width and tile strip (16, 64 floats for
    // AVX-512; 8, 16 for AVX2; 4, 8 portable), k across the 128-row k-blocks and the 128-column pack depth.
    private static readonly (int K, int N)[] Shapes =
    {
        (1, 1), (3, 10), (17, 33), (33, 17), (10, 129), (129, 65), (300, 70), (64, 32), (128, 10), (32, 10), (5, 200),
        // Convolution shapes (conv0: k 25, n 16; conv1: k 400, n 32) and a narrow strip deep enough for its longer
        // k blocks (256 rows at two vectors, 512 at one, with AVX-512).
        (25, 16), (400, 32), (600, 16),
    };

    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void ForwardMatchesReference(IsaPath path) => Isa.Invoke(this, nameof(ForwardCore), path);

    private void ForwardCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(21);
        foreach (int rows in Rows)
            foreach (var (k, n) in Shapes)
            {
                float[] x = Data.Uniform(rnd, rows * k, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1), b = Data.Uniform(rnd, n, -1, 1);
                double[] expected = Reference.Gemm(x, w, rows, k, n, out double[] abs);
                string ctx = $"rows={rows} k={k} n={n}";

                float[] y = Data.Filled(rows * n + 3, float.NaN);
                Gemm.Forward<TIsa, NoEpilogue>(x, w, y, rows, k, n, default);
                Near.Scaled(y, expected, abs, Atol, Rel, "no epilogue " + ctx);
                Assert.True(float.IsNaN(y[rows * n]), "Forward wrote past rows·n");

                Gemm.Forward<TIsa, BiasEpilogue>(x, w, y, rows, k, n, new BiasEpilogue(b));
                Near.Scaled(y, Map(expected, (i, v) => v + b[i % n]), Plus(abs, 1), Atol, Rel, "bias " + ctx);

                Gemm.Forward<TIsa, BiasActivationEpilogue<Relu>>(x, w, y, rows, k, n, new BiasActivationEpilogue<Relu>(b, new Relu()));
                Near.Scaled(y, Map(expected, (i, v) => Math.Max(0, v + b[i % n])), Plus(abs, 1), Atol, Rel, "bias+relu " + ctx);

                // Empty bias means none.
                Gemm.Forward<TIsa, BiasActivationEpilogue<Tanh>>(x, w, y, rows, k, n, new BiasActivationEpilogue<Tanh>(default, new Tanh()));
                Near.Scaled(y, Map(expected, (i, v) => Math.Tanh(v)), abs, 2e-6, Rel, "tanh, no bias " + ctx);

                Gemm.Forward<TIsa, BiasActivationEpilogue<Gelu>>(x, w, y, rows, k, n, new BiasActivationEpilogue<Gelu>(b, new Gelu()));
                Near.Scaled(y, Map(expected, (i, v) => (v + b[i % n]) * Reference.NormCdf(v + b[i % n])), Plus(abs, 1), 2e-6, 2 * Rel, "bias+gelu " + ctx);
            }
    }

    [Theory, MemberData(nameof(Paths))]
    public void ForwardAtModelShapes(IsaPath path) => Isa.Invoke(this, nameof(ModelShapesCore), path);

    private void ModelShapesCore<TIsa>() where TIsa : struct, ISimdPath
    {
        // The MLP of the design notes (784 → 256 → 128 → 10) at a few batch sizes, all three products.
        var rnd = new Random(22);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (var (k, n) in new[] { (784, 256), (256, 128), (128, 10) })
            {
                float[] x = Data.Uniform(rnd, rows * k, -1, 1), w = Data.Uniform(rnd, k * n, -0.1, 0.1), dy = Data.Uniform(rnd, rows * n, -1, 1);
                string ctx = $"rows={rows} k={k} n={n}";
                double[] y0 = Reference.Gemm(x, w, rows, k, n, out double[] abs);
                float[] y = new float[rows * n];
                Gemm.Forward<TIsa, NoEpilogue>(x, w, y, rows, k, n, default);
                Near.Scaled(y, y0, abs, Atol, Rel, "forward " + ctx);

                CheckBackwardInput<TIsa>(dy, w, rows, k, n, ctx);
                CheckBackwardWeights<TIsa>(x, dy, rows, k, n, 0, k, ctx);
            }
    }

    [Theory, MemberData(nameof(Paths))]
    public void BackwardInputMatchesReference(IsaPath path) => Isa.Invoke(this, nameof(BackwardInputCore), path);

    private void BackwardInputCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(23);
        foreach (int rows in Rows)
            foreach (var (k, n) in Shapes)
            {
                float[] dy = Data.Uniform(rnd, rows * n, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1);
                CheckBackwardInput<TIsa>(dy, w, rows, k, n, $"rows={rows} k={k} n={n}");
            }
    }

    private static void CheckBackwardInput<TIsa>(float[] dy, float[] w, int rows, int k, int n, string ctx) where TIsa : struct, ISimdPath
    {
        double[] expected = Reference.GemmTransposedW(dy, w, rows, k, n, out double[] abs);
        float[] dx = Data.Filled(rows * k + 2, float.NaN); // overwritten, not accumulated
        Gemm.BackwardInput<TIsa>(dy, w, dx, rows, k, n);
        Near.Scaled(dx, expected, abs, Atol, Rel, "backward input " + ctx);
        Assert.True(float.IsNaN(dx[rows * k]), "BackwardInput wrote past rows·k");
    }

    [Theory, MemberData(nameof(Paths))]
    public void BackwardWeightsMatchesReferenceOnRowRanges(IsaPath path) => Isa.Invoke(this, nameof(BackwardWeightsCore), path);

    private void BackwardWeightsCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(24);
        foreach (int rows in Rows)
            foreach (var (k, n) in Shapes)
            {
                float[] x = Data.Uniform(rnd, rows * k, -1, 1), dy = Data.Uniform(rnd, rows * n, -1, 1);
                string ctx = $"rows={rows} k={k} n={n}";
                CheckBackwardWeights<TIsa>(x, dy, rows, k, n, 0, k, ctx);
                // Sub-ranges as a worker pool splits them (Partition with align 4), and an empty one.
                for (int parts = 2; parts <= 3; parts++)
                    for (int part = 0; part < parts; part++)
                    {
                        var (k0, k1) = Partition.Range(k, part, parts, 4);
                        CheckBackwardWeights<TIsa>(x, dy, rows, k, n, k0, k1, $"{ctx} range [{k0},{k1})");
                    }
                if (k > 2) CheckBackwardWeights<TIsa>(x, dy, rows, k, n, 1, k - 1, $"{ctx} range [1,{k - 1})");
            }
    }

    [Theory, MemberData(nameof(Paths))]
    public void BackwardWeightsBlockedPathMatchesReference(IsaPath path) => Isa.Invoke(this, nameof(BlockedBackwardWeightsCore), path);

    private void BlockedBackwardWeightsCore<TIsa>() where TIsa : struct, ISimdPath
    {
        // dy of 520 × 1100 floats (2.3 MB) takes the blocked path: two column blocks (1024 + 76, a narrow masked last
        // strip), five depth blocks of 104 rows, row blocks of 96 with remainders, panels reported per row block.
        var rnd = new Random(25);
        const int rows = 520, k = 200, n = 1100;
        float[] x = Data.Uniform(rnd, rows * k, -1, 1), dy = Data.Uniform(rnd, rows * n, -1, 1);
        CheckBackwardWeights<TIsa>(x, dy, rows, k, n, 0, k, "blocked");
        CheckBackwardWeights<TIsa>(x, dy, rows, k, n, 3, 197, "blocked range [3,197)");
    }

    /// <summary>Checks dw on [k0, k1), that rows outside are untouched, and the panel calls.</summary>
    private static void CheckBackwardWeights<TIsa>(float[] x, float[] dy, int rows, int k, int n, int k0, int k1, string ctx) where TIsa : struct, ISimdPath
    {
        var expected = new double[k * n];
        var abs = new double[k * n];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, a = 0;
                for (int r = 0; r < rows; r++)
                {
                    double t = (double)x[r * k + i] * dy[r * n + j];
                    s += t;
                    a += Math.Abs(t);
                }
                expected[i * n + j] = s;
                abs[i * n + j] = a;
            }
        const float sentinel = -12345f;
        float[] dw = Data.Filled(k * n, sentinel);
        var sink = new RecordingSink(dw, expected, abs, n, ctx);
        Gemm.BackwardWeights<TIsa, RecordingSink>(x, dy, dw, rows, k, n, k0, k1, ref sink);
        for (int i = 0; i < k; i++)
        {
            if (i >= k0 && i < k1) continue;
            for (int j = 0; j < n; j++) Assert.True(dw[i * n + j] == sentinel, $"{ctx}: row {i} outside [{k0},{k1}) was written");
        }
        Near.Scaled(dw.AsSpan(k0 * n, (k1 - k0) * n), expected.AsSpan(k0 * n, (k1 - k0) * n), abs.AsSpan(k0 * n, (k1 - k0) * n), Atol, Rel, "backward weights " + ctx);
        // PanelDone covers [k0, k1) exactly once, in order, each panel non-empty.
        int next = k0;
        foreach (var (start, count) in sink.Calls)
        {
            Assert.True(start == next && count > 0, $"{ctx}: panel ({start}, {count}) after row {next}");
            next = start + count;
        }
        Assert.Equal(k1, next);
    }

    /// <summary>Records panels and checks that each panel's rows are already final when it is reported.</summary>
    private sealed class RecordingSink : IPanelSink
    {
        private readonly float[] _dw;
        private readonly double[] _expected, _abs;
        private readonly int _n;
        private readonly string _ctx;
        public readonly List<(int Start, int Count)> Calls = new();

        public RecordingSink(float[] dw, double[] expected, double[] abs, int n, string ctx)
        {
            _dw = dw; _expected = expected; _abs = abs; _n = n; _ctx = ctx;
        }

        public void PanelDone(int rowStart, int rowCount)
        {
            Calls.Add((rowStart, rowCount));
            int o = rowStart * _n, len = rowCount * _n;
            Near.Scaled(_dw.AsSpan(o, len), _expected.AsSpan(o, len), _abs.AsSpan(o, len), Atol, Rel, $"{_ctx}: rows {rowStart}..{rowStart + rowCount - 1} at PanelDone");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void ColumnSumsMatchReference(IsaPath path) => Isa.Invoke(this, nameof(ColumnSumsCore), path);

    private void ColumnSumsCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(25);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int cols in new[] { 1, 10, 17, 33, 129 })
                foreach (var (c0, c1) in new[] { (0, cols), (cols / 3, cols), (1 % cols, Math.Max(1 % cols, cols - 1)) })
                {
                    float[] m = Data.Uniform(rnd, rows * cols, -1, 1);
                    float[] sums = Data.Filled(cols, float.NaN);
                    Gemm.ColumnSums<TIsa>(m, sums, rows, cols, c0, c1);
                    for (int j = 0; j < cols; j++)
                    {
                        if (j < c0 || j >= c1)
                        {
                            Assert.True(float.IsNaN(sums[j]), $"column {j} outside [{c0},{c1}) written");
                            continue;
                        }
                        double s = 0;
                        for (int r = 0; r < rows; r++) s += m[r * cols + j];
                        Near.Check(sums[j], s, 1e-6, 1e-5, $"rows={rows} cols={cols} [{c0},{c1}) col {j}");
                    }
                }
    }

    /// <summary>
    /// Bias gradients of a convolution sum samples·pixels rows (50,176 for the benchmark CNN's first layer at batch 64):
    /// summed in double they keep float precision even where |mean| ≫ deviation, and a column's sum is the same bits
    /// whichever column range (thread's share) it was computed in.
    /// </summary>
    [Theory, MemberData(nameof(Paths))]
    public void ColumnSumsKeepPrecisionAndIgnoreTheColumnSplit(IsaPath path) => Isa.Invoke(this, nameof(LongColumnSumsCore), path);

    private void LongColumnSumsCore<TIsa>() where TIsa : struct, ISimdPath
    {
        const int rows = 64 * 784, cols = 37;
        var rnd = new Random(26);
        float[] m = Data.Uniform(rnd, rows * cols, 4.5, 5.5);
        float[] whole = new float[cols];
        Gemm.ColumnSums<TIsa>(m, whole, rows, cols, 0, cols);
        for (int j = 0; j < cols; j++)
        {
            double s = 0;
            for (int r = 0; r < rows; r++) s += m[r * cols + j];
            Near.Check(whole[j], s, 0, 1e-7, $"{typeof(TIsa).Name} column {j} of {rows} rows");
        }
        foreach (int parts in new[] { 2, 3, 7 })
        {
            float[] split = Data.Filled(cols, float.NaN);
            for (int p = parts - 1; p >= 0; p--)
            {
                (int c0, int c1) = Partition.Range(cols, p, parts, 1);
                Gemm.ColumnSums<TIsa>(m, split, rows, cols, c0, c1);
            }
            for (int j = 0; j < cols; j++)
                Assert.True(BitConverter.SingleToInt32Bits(whole[j]) == BitConverter.SingleToInt32Bits(split[j]),
                    $"{typeof(TIsa).Name} {parts} parts: column {j} is {split[j]:R}, {whole[j]:R} in one range");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void ZeroDepthGivesEpilogueOfZero(IsaPath path) => Isa.Invoke(this, nameof(ZeroDepthCore), path);

    private void ZeroDepthCore<TIsa>() where TIsa : struct, ISimdPath
    {
        float[] b = { 1, -2, 3 };
        float[] y = Data.Filled(6, float.NaN);
        Gemm.Forward<TIsa, BiasActivationEpilogue<Relu>>(default, default, y, 2, 0, 3, new BiasActivationEpilogue<Relu>(b, new Relu()));
        Assert.Equal(new float[] { 1, 0, 3, 1, 0, 3 }, y);
        float[] dx = Data.Filled(6, float.NaN);
        Gemm.BackwardInput<TIsa>(default, default, dx, 2, 3, 0);
        Assert.Equal(new float[6], dx);
    }

    [Fact]
    public void BadLengthsThrowNamingTheParameter()
    {
        float[] x = new float[2 * 3], w = new float[3 * 4], y = new float[2 * 4];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Forward<Avx512Path, NoEpilogue>(x.AsSpan(1), w, y, 2, 3, 4, default));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("6", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Forward<Avx2Path, NoEpilogue>(x, w.AsSpan(0, 11), y, 2, 3, 4, default));
        Assert.Equal("w", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Gemm.BackwardInput<PortablePath>(y, w, x.AsSpan(0, 5), 2, 3, 4));
        Assert.Equal("dx", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            var s = new NoPanelSink();
            Gemm.BackwardWeights<Avx512Path, NoPanelSink>(x, y, w, 2, 3, 4, 2, 4, ref s);
        });
        // A bias shorter than n is caught by the epilogue, not read past.
        Assert.Throws<ArgumentException>(() => Gemm.Forward<Avx512Path, BiasEpilogue>(new float[64], new float[64 * 32], new float[32], 1, 64, 32, new BiasEpilogue(new float[20])));
    }

    private static double[] Map(double[] a, Func<int, double, double> f)
    {
        var r = new double[a.Length];
        for (int i = 0; i < a.Length; i++) r[i] = f(i, a[i]);
        return r;
    }

    private static double[] Plus(double[] a, double c) => Map(a, (_, v) => v + c);
}
