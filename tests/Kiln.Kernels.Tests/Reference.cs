using System;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.Kernels.Tests;

/// <summary>Straightforward double-precision references: naive loops, Math.Exp, no tricks.</summary>
internal static class Reference
{
    public const double SeluAlpha = 1.6732632423543772, SeluLambda = 1.0507009873554805;

    /// <summary>One activation under test: the kernel struct and its double-precision forward.</summary>
    public sealed record Activation(string Name, Type Type, object Instance, Func<double, double> Forward, bool Smooth);

    public static readonly IReadOnlyList<Activation> Activations = new Activation[]
    {
        new("Identity", typeof(Identity), new Identity(), u => u, true),
        new("Relu", typeof(Relu), new Relu(), u => Math.Max(0, u), false),
        new("LeakyRelu", typeof(LeakyRelu), new LeakyRelu(0.1f), u => u > 0 ? u : (double)0.1f * u, false),
        new("Elu", typeof(Elu), new Elu(0.7f), u => u > 0 ? u : (double)0.7f * (Math.Exp(u) - 1), false),
        new("Selu", typeof(Selu), new Selu(), u => SeluLambda * (u > 0 ? u : SeluAlpha * (Math.Exp(u) - 1)), false),
        new("Swish", typeof(Swish), new Swish(1.5f), u => u / (1 + Math.Exp(-(double)1.5f * u)), true),
        new("Gelu", typeof(Gelu), new Gelu(), u => u * NormCdf(u), true),
        new("Sigmoid", typeof(Sigmoid), new Sigmoid(), u => 1 / (1 + Math.Exp(-u)), true),
        new("Tanh", typeof(Tanh), new Tanh(), Math.Tanh, true),
    };

    public static Activation Find(string name) => Activations.First(a => a.Name == name);

    public static TheoryData<IsaPath, string> PathsAndActivations()
    {
        var data = new TheoryData<IsaPath, string>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            foreach (Activation a in Activations) data.Add(p, a.Name);
        return data;
    }

    /// <summary>Central finite difference of f at u (step relative to |u|).</summary>
    public static double Derivative(Func<double, double> f, double u)
    {
        double h = 1e-5 * Math.Max(1, Math.Abs(u));
        return (f(u + h) - f(u - h)) / (2 * h);
    }

    // ---- erf / Φ in double (the BCL has none) ----

    /// <summary>erfc(x), relative accuracy ~1e-13: Taylor series of erf for |x| &lt; 2.5, continued fraction beyond.</summary>
    public static double Erfc(double x)
    {
        if (x < 0) return 2 - Erfc(-x);
        if (x < 2.5)
        {
            double sum = 0, term = x, x2 = x * x;
            for (int n = 0; n < 200; n++)
            {
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
                term *= -x2 / (n + 1);
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))).
        double f = x;
        for (int n = 300; n >= 1; n--) f = x + n / 2.0 / f;
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    public static double NormCdf(double u) => 0.5 * Erfc(-u / Math.Sqrt(2));

    // ---- GEMM ----

    /// <summary>y = x·w (x: rows×k, w: k×n), and the sums of |terms| for each element.</summary>
    public static double[] Gemm(float[] x, float[] w, int rows, int k, int n, out double[] absSum) =>
        Gemm(x, rows, k, n, n, 1, w, out absSum);

    /// <summary>dx = dy·wᵀ (dy: rows×n, w: k×n), and the sums of |terms| for each element.</summary>
    public static double[] GemmTransposedW(float[] dy, float[] w, int rows, int k, int n, out double[] absSum) =>
        Gemm(dy, rows, n, k, 1, n, w, out absSum);

    // y[r, j] = Σ_i a[r, i]·w[i·si + j·sj] for a: rows × depth, y: rows × cols.
    private static double[] Gemm(float[] a, int rows, int depth, int cols, int si, int sj, float[] w, out double[] absSum)
    {
        var y = new double[rows * cols];
        absSum = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
            {
                double s = 0, sa = 0;
                for (int i = 0; i < depth; i++)
                {
                    double t = (double)a[r * depth + i] * w[(long)i * si + (long)j * sj];
                    s += t;
                    sa += Math.Abs(t);
                }
                y[r * cols + j] = s;
                absSum[r * cols + j] = sa;
            }
        return y;
    }

    // ---- BatchNorm (training forward, all columns) ----

    public static double[] BatchNormTrain(double[] z, double[] gamma, double[] beta, float[]? mask, int rows, int cols, double eps,
        Func<double, double> act, out double[] mean, out double[] variance)
    {
        mean = new double[cols];
        variance = new double[cols];
        var y = new double[rows * cols];
        for (int c = 0; c < cols; c++)
        {
            double m = 0;
            for (int r = 0; r < rows; r++) m += z[r * cols + c];
            m /= rows;
            double v = 0;
            for (int r = 0; r < rows; r++) v += (z[r * cols + c] - m) * (z[r * cols + c] - m);
            v /= rows;
            mean[c] = m;
            variance[c] = v;
            for (int r = 0; r < rows; r++)
            {
                double xh = (z[r * cols + c] - m) / Math.Sqrt(v + eps);
                double a = act(gamma[c] * xh + beta[c]);
                y[r * cols + c] = mask is null ? a : a * mask[r * cols + c];
            }
        }
        return y;
    }

    public static double[] ToDouble(float[] a) => Array.ConvertAll(a, v => (double)v);
}
