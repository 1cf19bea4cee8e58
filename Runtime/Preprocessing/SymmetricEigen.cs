using System;
using System.Numerics.Tensors;

namespace Kiln.Preprocessing;

/// <summary>
/// Eigen-decomposition of a real symmetric matrix in double precision, A = Σ_j λ_j u_j u_jᵀ: Householder reduction to
/// tridiagonal form, then implicit symmetric QR steps with Wilkinson shifts on the tridiagonal (Golub and Van Loan,
/// section 8.3), both O(n³) with every inner loop over contiguous rows.
/// </summary>
internal static class SymmetricEigen
{
    private const double Epsilon = 2.220446049250313e-16;

    /// <summary>
    /// Decomposes the n×n symmetric row-major <paramref name="matrix"/> (the mean of a_ij and a_ji is used). Returns the
    /// eigenvalues in descending order and the eigenvectors as the rows of an n×n row-major matrix in the same order,
    /// each signed so that its largest-magnitude component is positive.
    /// </summary>
    public static (double[] Values, double[] Vectors) Decompose(ReadOnlySpan<double> matrix, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (matrix.Length != (long)n * n) throw new ArgumentException($"A {n}×{n} matrix needs {n * n} values, found {matrix.Length}.", nameof(matrix));
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double v = 0.5 * (matrix[i * n + j] + matrix[j * n + i]);
                if (!double.IsFinite(v)) throw new ArgumentException($"Matrix entry ({i}, {j}) is not finite.", nameof(matrix));
                a[i * n + j] = v;
            }

        var reflectors = new double[n * n];   // row k: the unit Householder vector of step k in columns k+1 … n−1 (zero: none)
        Tridiagonalize(a, n, reflectors);
        var d = new double[n];
        var e = new double[n];                // e[i] couples i and i+1
        for (int i = 0; i < n; i++) d[i] = a[i * n + i];
        for (int i = 0; i + 1 < n; i++) e[i] = a[i * n + i + 1];

        var z = new double[n * n];            // rows: eigenvectors of the tridiagonal, then of A
        for (int i = 0; i < n; i++) z[i * n + i] = 1;
        TridiagonalQr(d, e, z, n);
        BackTransform(z, reflectors, n);
        return Sorted(d, z, n);
    }

    /// <summary>
    /// Step k reflects row/column k's part below the diagonal, x = a[k, k+1…], onto α·e₁ with H = I − 2vvᵀ, and updates the
    /// trailing block B ← H B H = B − v wᵀ − w vᵀ with p = B v, w = 2p − 2(vᵀp)v.
    /// </summary>
    private static void Tridiagonalize(double[] a, int n, double[] reflectors)
    {
        var p = new double[n];
        var w = new double[n];
        for (int k = 0; k < n - 2; k++)
        {
            int m = n - k - 1, start = k + 1;
            ReadOnlySpan<double> x = a.AsSpan(k * n + start, m);
            double tail = TensorPrimitives.SumOfSquares(x.Slice(1));
            if (tail == 0) continue;   // already tridiagonal in this column: H = I
            double norm = Math.Sqrt(x[0] * x[0] + tail);
            double alpha = x[0] > 0 ? -norm : norm;
            Span<double> v = reflectors.AsSpan(k * n + start, m);
            x.CopyTo(v);
            v[0] -= alpha;
            TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);

            Span<double> pv = p.AsSpan(0, m), wv = w.AsSpan(0, m);
            for (int i = 0; i < m; i++) pv[i] = TensorPrimitives.Dot(a.AsSpan((start + i) * n + start, m), v);
            double kappa = TensorPrimitives.Dot(v, pv);
            for (int i = 0; i < m; i++) wv[i] = 2 * pv[i] - 2 * kappa * v[i];
            for (int i = 0; i < m; i++)
            {
                Span<double> row = a.AsSpan((start + i) * n + start, m);
                TensorPrimitives.MultiplyAdd(wv, -v[i], row, row);
                TensorPrimitives.MultiplyAdd(v, -wv[i], row, row);
            }
            a[k * n + start] = alpha;
            a[start * n + k] = alpha;
        }
    }

    /// <summary>
    /// Implicit QR on the tridiagonal (d, e): on the last unreduced block [lo, hi], a Wilkinson-shifted Givens sweep chases
    /// the bulge from lo to hi; off-diagonals below ε·(|d_i| + |d_{i+1}|) are set to zero (deflation). Rotations accumulate
    /// into the rows of <paramref name="z"/>.
    /// </summary>
    private static void TridiagonalQr(double[] d, double[] e, double[] z, int n)
    {
        int iterations = 0, limit = 30 * n + 30;
        int hi = n - 1;
        while (hi > 0)
        {
            for (int i = 0; i < hi; i++)
                if (Math.Abs(e[i]) <= Epsilon * (Math.Abs(d[i]) + Math.Abs(d[i + 1])) || Math.Abs(e[i]) < double.Epsilon * 1e10)
                    e[i] = 0;
            while (hi > 0 && e[hi - 1] == 0) hi--;
            if (hi == 0) break;
            int lo = hi - 1;
            while (lo > 0 && e[lo - 1] != 0) lo--;
            if (++iterations > limit)
                throw new ArithmeticException($"The symmetric QR eigen-decomposition of a {n}×{n} matrix did not converge in {limit} steps.");

            // Wilkinson shift: the eigenvalue of the trailing 2×2 block nearer d[hi].
            double delta = (d[hi - 1] - d[hi]) / 2, b = e[hi - 1];
            double mu = d[hi] - b * b / (delta + (delta >= 0 ? 1 : -1) * Math.Sqrt(delta * delta + b * b));
            double x = d[lo] - mu, y = e[lo], bulge = 0;
            for (int k = lo; k < hi; k++)
            {
                double r = Math.Sqrt(x * x + y * y);
                double c = r == 0 ? 1 : x / r, s = r == 0 ? 0 : y / r;
                if (k > lo) e[k - 1] = r;   // the bulge at (k+1, k−1) is rotated into e[k−1]
                double dk = d[k], dk1 = d[k + 1], ek = e[k];
                d[k] = c * c * dk + 2 * c * s * ek + s * s * dk1;
                d[k + 1] = s * s * dk - 2 * c * s * ek + c * c * dk1;
                e[k] = c * s * (dk1 - dk) + (c * c - s * s) * ek;
                if (k + 1 < hi)
                {
                    bulge = s * e[k + 1];
                    e[k + 1] *= c;
                }
                Rotate(z.AsSpan(k * n, n), z.AsSpan((k + 1) * n, n), c, s);
                x = e[k];
                y = bulge;
            }
        }
    }

    /// <summary>u_j = H_0 H_1 … H_{n−3} t_j for every row t_j of <paramref name="z"/> (the last reflector first).</summary>
    private static void BackTransform(double[] z, double[] reflectors, int n)
    {
        for (int k = n - 3; k >= 0; k--)
        {
            int start = k + 1, m = n - start;
            ReadOnlySpan<double> v = reflectors.AsSpan(k * n + start, m);
            if (TensorPrimitives.SumOfSquares(v) == 0) continue;
            for (int j = 0; j < n; j++)
            {
                Span<double> t = z.AsSpan(j * n + start, m);
                double s = TensorPrimitives.Dot(v, t);
                TensorPrimitives.MultiplyAdd(v, -2 * s, t, t);
            }
        }
    }

    /// <summary>x ← c·x + s·y, y ← −s·x + c·y (element-wise, with the old x).</summary>
    private static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        for (int k = 0; k < x.Length; k++)
        {
            double xv = x[k], yv = y[k];
            x[k] = c * xv + s * yv;
            y[k] = -s * xv + c * yv;
        }
    }

    private static (double[] Values, double[] Vectors) Sorted(double[] d, double[] z, int n)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (x, y) => d[y] != d[x] ? d[y].CompareTo(d[x]) : x.CompareTo(y));
        var values = new double[n];
        var vectors = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            int src = order[j];
            values[j] = d[src];
            ReadOnlySpan<double> v = z.AsSpan(src * n, n);
            int big = 0;
            for (int k = 1; k < n; k++) if (Math.Abs(v[k]) > Math.Abs(v[big])) big = k;
            double sign = v[big] < 0 ? -1 : 1;
            for (int k = 0; k < n; k++) vectors[j * n + k] = sign * v[k];
        }
        return (values, vectors);
    }
}
