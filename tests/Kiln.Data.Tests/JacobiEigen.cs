using System;
using System.Numerics;

namespace Kiln.Data.Tests;

/// <summary>
/// Test reference for the runtime's tridiagonal QR eigen-solver: the cyclic Jacobi method, a different algorithm.
/// Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method, in double precision:
/// A = Σ_j λ_j u_j u_jᵀ with orthonormal u_j. Jacobi is slower than tridiagonalisation + QL for large n but
/// simple, unconditionally stable and accurate to a few ulps of ‖A‖, which is what whitening needs.
/// </summary>
/// <remarks>
/// Each rotation J(p, q, θ) zeroes a_pq: with θ = (a_qq − a_pp) / (2 a_pq), t = sign(θ) / (|θ| + √(θ² + 1)),
/// c = 1/√(t² + 1), s = t·c, the rows p and q become c·row_p − s·row_q and s·row_p + c·row_q (and by symmetry the
/// columns), a_pp −= t·a_pq, a_qq += t·a_pq. The same rotation accumulates into the eigenvector rows. Rows are
/// contiguous, so the O(n) part of every rotation runs on <see cref="Vector{T}"/>.
/// </remarks>
internal static class JacobiEigen
{
    private const int MaxSweeps = 100;

    /// <summary>
    /// Decomposes the n×n symmetric row-major <paramref name="matrix"/> (only read; symmetry is assumed, the mean of
    /// a_ij and a_ji is used). Returns the eigenvalues in descending order and the eigenvectors as the rows of an n×n
    /// row-major matrix in the same order, each signed so that its largest-magnitude component is positive.
    /// </summary>
    public static (double[] Values, double[] Vectors) Decompose(ReadOnlySpan<double> matrix, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (matrix.Length != (long)n * n) throw new ArgumentException($"A {n}×{n} matrix needs {n * n} values, found {matrix.Length}.", nameof(matrix));
        var a = new double[n * n];
        double norm2 = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double v = 0.5 * (matrix[i * n + j] + matrix[j * n + i]);
                if (!double.IsFinite(v)) throw new ArgumentException($"Matrix entry ({i}, {j}) is not finite.", nameof(matrix));
                a[i * n + j] = v;
                norm2 += v * v;
            }
        var vt = new double[n * n];   // rows: eigenvectors
        for (int i = 0; i < n; i++) vt[i * n + i] = 1;

        // Converged when the off-diagonal mass is negligible next to the whole matrix (relative 1e-15 in norm).
        double tolerance2 = norm2 * 1e-30;
        int sweep = 0;
        for (; sweep < MaxSweeps; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
            if (off <= tolerance2 || off == 0) break;

            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0) continue;
                    double app = a[p * n + p], aqq = a[q * n + q];
                    double theta = (aqq - app) / (2 * apq);
                    double t = (theta >= 0 ? 1 : -1) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (double.IsInfinity(theta * theta)) t = 1 / (2 * theta);   // |θ| huge: t ≈ 1/(2θ) without overflow
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;

                    Span<double> rowP = a.AsSpan(p * n, n), rowQ = a.AsSpan(q * n, n);
                    Rotate(rowP, rowQ, c, s);
                    for (int k = 0; k < n; k++)
                    {
                        a[k * n + p] = rowP[k];
                        a[k * n + q] = rowQ[k];
                    }
                    a[p * n + p] = app - t * apq;
                    a[q * n + q] = aqq + t * apq;
                    a[p * n + q] = 0;
                    a[q * n + p] = 0;
                    Rotate(vt.AsSpan(p * n, n), vt.AsSpan(q * n, n), c, s);
                }
        }
        if (sweep == MaxSweeps)
            throw new ArithmeticException($"The Jacobi eigen-decomposition of a {n}×{n} matrix did not converge in {MaxSweeps} sweeps.");

        // Sort descending (stable on ties, by original index) and fix each vector's sign.
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (x, y) => a[y * n + y] != a[x * n + x] ? a[y * n + y].CompareTo(a[x * n + x]) : x.CompareTo(y));
        var values = new double[n];
        var vectors = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            int src = order[j];
            values[j] = a[src * n + src];
            ReadOnlySpan<double> v = vt.AsSpan(src * n, n);
            int big = 0;
            for (int k = 1; k < n; k++) if (Math.Abs(v[k]) > Math.Abs(v[big])) big = k;
            double sign = v[big] < 0 ? -1 : 1;
            for (int k = 0; k < n; k++) vectors[j * n + k] = sign * v[k];
        }
        return (values, vectors);
    }

    /// <summary>x ← c·x − s·y, y ← s·x + c·y (element-wise, with the old x).</summary>
    private static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vc = new Vector<double>(c);
            var vs = new Vector<double>(s);
            for (; k <= x.Length - Vector<double>.Count; k += Vector<double>.Count)
            {
                var xv = new Vector<double>(x.Slice(k));
                var yv = new Vector<double>(y.Slice(k));
                (vc * xv - vs * yv).CopyTo(x.Slice(k));
                (vs * xv + vc * yv).CopyTo(y.Slice(k));
            }
        }
        for (; k < x.Length; k++)
        {
            double xv = x[k], yv = y[k];
            x[k] = c * xv - s * yv;
            y[k] = s * xv + c * yv;
        }
    }
}
