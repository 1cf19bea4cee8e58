using System;

namespace Kiln.Kernels.Tests;

/// <summary>Scale, Multiply, softmax and PReLU against double references.</summary>
public sealed class ElementwiseTests
{
    private static readonly int[] Lengths = { 1, 10, 17, 33, 129 };

    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void ScaleAndMultiply(IsaPath path) => Isa.Invoke(this, nameof(ScaleCore), path);

    private void ScaleCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(31);
        foreach (int n in Lengths)
        {
            float[] x = Data.Uniform(rnd, n, -3, 3), m = Data.Uniform(rnd, n, -2, 2);
            float[] y = Data.Filled(n + 1, float.NaN);
            Elementwise.Scale<TIsa>(x, 0.37f, y);
            for (int i = 0; i < n; i++) Near.Check(y[i], (double)x[i] * 0.37f, 0, 1e-7, $"scale n={n} [{i}]");
            Assert.True(float.IsNaN(y[n]));
            Elementwise.Multiply<TIsa>(x, m, y);
            for (int i = 0; i < n; i++) Near.Check(y[i], (double)x[i] * m[i], 0, 1e-7, $"multiply n={n} [{i}]");
            // In place.
            float[] z = (float[])x.Clone();
            Elementwise.Multiply<TIsa>(z, m, z);
            Assert.Equal(y.AsSpan(0, n).ToArray(), z);
            Elementwise.Scale<TIsa>(z, 2f, z);
            for (int i = 0; i < n; i++) Assert.Equal(y[i] * 2f, z[i]);
        }
    }

    [Fact]
    public void SoftmaxForwardAndBackward()
    {
        var rnd = new Random(32);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int cols in new[] { 1, 2, 10, 17 })
            {
                float[] u = Data.Uniform(rnd, rows * cols, -20, 20);
                float[] y = new float[rows * cols];
                Elementwise.SoftmaxForward(u, y, rows, cols);
                var expected = new double[rows * cols];
                for (int r = 0; r < rows; r++)
                {
                    double max = double.NegativeInfinity, sum = 0;
                    for (int j = 0; j < cols; j++) max = Math.Max(max, u[r * cols + j]);
                    for (int j = 0; j < cols; j++) sum += Math.Exp(u[r * cols + j] - max);
                    for (int j = 0; j < cols; j++) expected[r * cols + j] = Math.Exp(u[r * cols + j] - max) / sum;
                }
                Near.All(y, expected, 1e-9, 1e-6, $"softmax rows={rows} cols={cols}");
                float[] alias = (float[])u.Clone();
                Elementwise.SoftmaxForward(alias, alias, rows, cols);
                Assert.Equal(y, alias);

                float[] dy = Data.Uniform(rnd, rows * cols, -1, 1);
                float[] du = new float[rows * cols];
                Elementwise.SoftmaxBackward(y, dy, du, rows, cols);
                var dexp = new double[rows * cols];
                for (int r = 0; r < rows; r++)
                {
                    double dot = 0;
                    for (int c = 0; c < cols; c++) dot += (double)dy[r * cols + c] * y[r * cols + c];
                    for (int j = 0; j < cols; j++) dexp[r * cols + j] = y[r * cols + j] * (dy[r * cols + j] - dot);
                }
                Near.All(du, dexp, 1e-7, 1e-5, $"softmax backward rows={rows} cols={cols}");
                float[] dalias = (float[])dy.Clone();
                Elementwise.SoftmaxBackward(y, dalias, dalias, rows, cols);
                Assert.Equal(du, dalias);
            }
    }

    /// <summary>
    /// A per-channel PReLU after a convolution sums its slope gradient over samples·pixels rows (50,176 for a 28×28 layer at
    /// batch 64): accumulated in double it keeps float precision where a float chain lost about 1e-5.
    /// </summary>
    [Theory, MemberData(nameof(Paths))]
    public void PReluSlopeGradientKeepsPrecisionOverLongReductions(IsaPath path) => Isa.Invoke(this, nameof(PReluLongCore), path);

    private void PReluLongCore<TIsa>() where TIsa : struct, ISimdPath
    {
        const int rows = 64 * 784, cols = 19;
        var rnd = new Random(41);
        float[] u = Data.Uniform(rnd, rows * cols, -2, -1), dy = Data.Uniform(rnd, rows * cols, 0.5, 1.5);
        float[] alpha = Data.Filled(cols, 0.25f), du = new float[rows * cols], dalpha = Data.Filled(cols, float.NaN);
        PRelu.Backward<TIsa>(u, alpha, dy, default, du, dalpha, rows, cols);
        for (int c = 0; c < cols; c++)
        {
            double s = 0;
            for (int r = 0; r < rows; r++) s += (double)dy[r * cols + c] * u[r * cols + c];
            Near.Check(dalpha[c], s, 0, 1e-7, $"{typeof(TIsa).Name} dα[{c}] over {rows} rows");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void PReluForwardAndBackward(IsaPath path) => Isa.Invoke(this, nameof(PReluCore), path);

    private void PReluCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(33);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int cols in Lengths)
                foreach (bool masked in new[] { false, true })
                {
                    string ctx = $"rows={rows} cols={cols} masked={masked}";
                    int size = rows * cols;
                    float[] u = Data.Uniform(rnd, size, -3, 3), alpha = Data.Uniform(rnd, cols, 0, 0.5), dy = Data.Uniform(rnd, size, -1, 1);
                    float[]? mask = masked ? Data.Mask(rnd, size, 0.6, 1.5f) : null;
                    float[] y = new float[size];
                    PRelu.Forward<TIsa>(u, alpha, mask, y, rows, cols);
                    var ey = new double[size];
                    for (int i = 0; i < size; i++) ey[i] = (u[i] > 0 ? u[i] : (double)alpha[i % cols] * u[i]) * (mask?[i] ?? 1);
                    Near.All(y, ey, 0, 1e-6, "prelu forward " + ctx);

                    float[] du = new float[size], dalpha = Data.Filled(cols, float.NaN);
                    PRelu.Backward<TIsa>(u, alpha, dy, mask, du, dalpha, rows, cols);
                    var edu = new double[size];
                    var eda = new double[cols];
                    var abs = new double[cols];
                    for (int i = 0; i < size; i++)
                    {
                        double g = (double)dy[i] * (mask?[i] ?? 1);
                        edu[i] = g * (u[i] > 0 ? 1 : alpha[i % cols]);
                        eda[i % cols] += g * Math.Min(u[i], 0);
                        abs[i % cols] += Math.Abs(g * Math.Min(u[i], 0));
                    }
                    Near.All(du, edu, 0, 1e-6, "prelu du " + ctx);
                    Near.Scaled(dalpha, eda, abs, 1e-7, 1e-5, "prelu dalpha " + ctx);
                    // dalpha by finite differences of Σ dy·y in α (PReLU is linear in α).
                    for (int c = 0; c < cols; c++)
                    {
                        double plus = 0, minus = 0, h = 1e-3;
                        for (int r = 0; r < rows; r++)
                        {
                            int i = r * cols + c;
                            double m = mask?[i] ?? 1;
                            plus += dy[i] * m * (u[i] > 0 ? u[i] : (alpha[c] + h) * u[i]);
                            minus += dy[i] * m * (u[i] > 0 ? u[i] : (alpha[c] - h) * u[i]);
                        }
                        Near.Check(dalpha[c], (plus - minus) / (2 * h), 1e-5, 1e-4, $"prelu dalpha FD {ctx} col {c}");
                    }
                    float[] alias = (float[])dy.Clone();
                    PRelu.Backward<TIsa>(u, alpha, alias, mask, alias, dalpha, rows, cols);
                    Assert.Equal(du, alias);
                }
    }
}
