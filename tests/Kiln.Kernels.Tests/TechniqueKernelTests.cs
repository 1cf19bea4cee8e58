using System;
using System.Linq;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The kernels of alpha dropout, Fixup's scalar parameters and orthogonal initialisation (docs/techniques.md) against
/// straightforward double references, with finite differences in double for the backward formulas.
/// </summary>
public sealed class TechniqueKernelTests
{
    private static readonly int[] Lengths = { 1, 10, 17, 33, 129, 1000 };

    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Fact]
    public void AlphaDropout_affine_matches_the_paper()
    {
        // α′ = −λα with SELU's constants.
        Assert.Equal(-1.7580993408473766, AlphaDropout.DroppedValue, 12);
        Assert.Equal((1.0, 0.0), AlphaDropout.Affine(0));
        foreach (double rate in new[] { 0.05, 0.1, 0.2, 0.5 })
        {
            (double a, double b) = AlphaDropout.Affine(rate);
            double q = 1 - rate, ap = AlphaDropout.DroppedValue;
            // Exact moments of y = a·(d·x + (1 − d)·α′) + b with x ~ (0, 1), d ~ Bernoulli(q):
            // E[y] = a·(1 − q)·α′ + b, E[(y − b)²]/a² = q + (1 − q)·α′².
            double mean = a * (1 - q) * ap + b;
            double second = a * a * (q + (1 - q) * ap * ap);
            double variance = second - (mean - b) * (mean - b);
            Assert.Equal(0, mean, 12);
            Assert.Equal(1, variance, 12);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => AlphaDropout.Affine(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AlphaDropout.Affine(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AlphaDropout.Affine(double.NaN));
    }

    [Theory, MemberData(nameof(Paths))]
    public void AlphaDropout_forward_backward(IsaPath path) => Isa.Invoke(this, nameof(AlphaDropoutCore), path);

    private void AlphaDropoutCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(41);
        const double rate = 0.1;
        (double a, double b) = AlphaDropout.Affine(rate);
        float dropped = (float)AlphaDropout.DroppedValue, offset = (float)(a * AlphaDropout.DroppedValue + b);
        foreach (int n in Lengths)
        {
            float[] x = Data.Uniform(rnd, n, -3, 3);
            float[] mask = Data.Mask(rnd, n, 1 - rate, (float)a);
            float[] y = Data.Filled(n + 1, float.NaN);
            AlphaDropout.Forward<TIsa>(x, mask, dropped, offset, y);
            for (int i = 0; i < n; i++)
                Near.Check(y[i], mask[i] != 0 ? (float)a * (double)x[i] + b : a * AlphaDropout.DroppedValue + b, 1e-6, 1e-6, $"alpha dropout n={n} [{i}]");
            Assert.True(float.IsNaN(y[n]));
            float[] alias = (float[])x.Clone();
            AlphaDropout.Forward<TIsa>(alias, mask, dropped, offset, alias);
            Assert.Equal(y.AsSpan(0, n).ToArray(), alias);

            // Backward dL/dx = mask·dL/dy, against central differences of L = Σ c·y on the double formula.
            float[] c = Data.Uniform(rnd, n, -1, 1), dx = new float[n];
            Elementwise.Multiply<TIsa>(c, mask, dx);
            for (int i = 0; i < n; i++)
            {
                double Loss(double xi) => c[i] * (mask[i] * (xi - AlphaDropout.DroppedValue) + offset);
                const double h = 1e-3;
                double numeric = (Loss(x[i] + h) - Loss(x[i] - h)) / (2 * h);
                Near.Check(dx[i], numeric, 1e-9, 1e-7, $"alpha dropout dL/dx n={n} [{i}]");
            }
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void AlphaDropout_keeps_zero_mean_unit_variance(IsaPath path) => Isa.Invoke(this, nameof(MomentsCore), path);

    private void MomentsCore<TIsa>() where TIsa : struct, ISimdPath
    {
        const int n = 400_000;
        var rnd = new Random(42);
        var x = new float[n];
        for (int i = 0; i < n; i += 2)
        {
            // Standard normal inputs (Box–Muller in double).
            double r = Math.Sqrt(-2 * Math.Log(1 - rnd.NextDouble())), t = 2 * Math.PI * rnd.NextDouble();
            x[i] = (float)(r * Math.Cos(t));
            x[i + 1] = (float)(r * Math.Sin(t));
        }
        foreach (double rate in new[] { 0.05, 0.2 })
        {
            (double a, double b) = AlphaDropout.Affine(rate);
            var mask = new float[n];
            var rng = new KilnRandom(7);
            Dropout.FillMask(mask, (float)(1 - rate), (float)a, ref rng);
            var y = new float[n];
            AlphaDropout.Forward<TIsa>(x, mask, (float)AlphaDropout.DroppedValue, (float)(a * AlphaDropout.DroppedValue + b), y);
            double mean = y.Average(v => (double)v), variance = y.Average(v => (v - mean) * (v - mean));
            double plainMean = x.Average(v => (double)v), plainVar = x.Average(v => (v - plainMean) * (v - plainMean));
            // The sample moments of the input itself are off by ~1/sqrt(n); the layer must add no more than that.
            Near.Check(mean, plainMean, 0.01, 0, $"mean at rate {rate}");
            Near.Check(variance, plainVar, 0.02, 0, $"variance at rate {rate}");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Fixup_scalar_bias_and_multiplier(IsaPath path) => Isa.Invoke(this, nameof(FixupCore), path);

    private void FixupCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(43);
        foreach (int n in Lengths.Append(70_000))
        {
            float[] x = Data.Uniform(rnd, n, -3, 3), dy = Data.Uniform(rnd, n, -1, 1);
            float[] y = Data.Filled(n + 1, float.NaN);
            Fixup.AddScalar<TIsa>(x, 0.37f, y);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] + 0.37f, y[i]);
            Assert.True(float.IsNaN(y[n]));

            // dL/db of L = Σ dy·(x + b) and dL/ds of L = Σ dy·(s·x), by central differences of the double formulas.
            const double h = 1e-3, b0 = 0.37, s0 = 0.8;
            double BiasLoss(double bias) { double l = 0; for (int i = 0; i < n; i++) l += dy[i] * (x[i] + bias); return l; }
            double ScaleLoss(double scale) { double l = 0; for (int i = 0; i < n; i++) l += dy[i] * (scale * x[i]); return l; }
            double absSum = 0, absDot = 0;
            for (int i = 0; i < n; i++) { absSum += Math.Abs(dy[i]); absDot += Math.Abs((double)dy[i] * x[i]); }
            Near.Check(Fixup.Sum<TIsa>(dy), (BiasLoss(b0 + h) - BiasLoss(b0 - h)) / (2 * h), 1e-9 + 1e-6 * absSum, 0, $"dL/db n={n}");
            Near.Check(Fixup.Dot<TIsa>(dy, x), (ScaleLoss(s0 + h) - ScaleLoss(s0 - h)) / (2 * h), 1e-9 + 1e-6 * absDot, 0, $"dL/ds n={n}");
        }
        Assert.Throws<ArgumentException>(() => Fixup.Dot<TIsa>(new float[4], new float[3]));
    }

    [Theory]
    [InlineData(64, 16, 1.0)]
    [InlineData(16, 64, 1.0)]
    [InlineData(400, 32, 1.4142135623730951)] // a 5×5×16 → 32 convolution as [KH·KW·Cin, filters], ReLU gain
    [InlineData(10, 10, 2.0)]
    [InlineData(1, 5, 1.0)]
    [InlineData(7, 1, 0.5)]
    public void Orthogonal_init_is_orthogonal(int rows, int columns, double gain)
    {
        var w = new float[rows * columns];
        var rng = new KilnRandom(5);
        ParameterInit.Orthogonal(w, rows, columns, gain, ref rng);
        // Gram matrix of the columns (rows ≥ columns) or of the rows: gain²·I.
        bool byColumns = rows >= columns;
        int k = Math.Min(rows, columns), len = Math.Max(rows, columns);
        double Element(int vector, int i) => byColumns ? w[i * columns + vector] : w[vector * columns + i];
        for (int p = 0; p < k; p++)
            for (int q = 0; q < k; q++)
            {
                double dot = 0;
                for (int i = 0; i < len; i++) dot += Element(p, i) * Element(q, i);
                Near.Check(dot, p == q ? gain * gain : 0, 1e-5 * gain * gain, 0, $"{rows}×{columns} Gram [{p},{q}]");
            }

        // Sign correction: Q comes from QR of the Gaussian draw A with R = QᵀA upper triangular with a positive diagonal.
        var again = new KilnRandom(5);
        var a = new float[len * k];
        ParameterInit.Normal(a, 1.0, ref again);
        for (int p = 0; p < k; p++)
            for (int j = 0; j < k; j++)
            {
                double r = 0;
                for (int i = 0; i < len; i++) r += Element(p, i) / gain * a[i * k + j];
                if (j < p) Near.Check(r, 0, 1e-4, 0, $"{rows}×{columns} R [{p},{j}] below the diagonal");
                if (j == p) Assert.True(r > 0, $"{rows}×{columns}: R[{p},{p}] = {r} is not positive");
            }

        // Reproducible from the seed.
        var w2 = new float[rows * columns];
        var rng2 = new KilnRandom(5);
        ParameterInit.Orthogonal(w2, rows, columns, gain, ref rng2);
        Assert.Equal(w, w2);
    }

    [Fact]
    public void Orthogonal_init_rejects_bad_shapes()
    {
        var rng = new KilnRandom(1);
        var e = Assert.Throws<ArgumentException>(() => ParameterInit.Orthogonal(new float[10], 3, 4, 1, ref rng));
        Assert.Contains("3 × 4", e.Message);
        Assert.Throws<ArgumentException>(() => ParameterInit.Orthogonal(new float[0], 0, 4, 1, ref rng));
        Assert.Throws<ArgumentOutOfRangeException>(() => ParameterInit.Orthogonal(new float[4], 2, 2, double.NaN, ref rng));
    }
}
