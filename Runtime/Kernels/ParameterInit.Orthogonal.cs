using System;

namespace Kiln.Kernels;

public static partial class ParameterInit
{
    /// <summary>
    /// Orthogonal initialisation (Saxe et al. 2013, docs/techniques.md#initialisation): <paramref name="w"/>, a row-major
    /// [<paramref name="rows"/>, <paramref name="columns"/>] matrix (a Dense weight [Din, Dout]; a convolution's
    /// [KH·KW·Cin, filters]), becomes gain·Q, where Q comes from the QR decomposition of a matrix of N(0, 1) draws with
    /// the signs fixed so that R has a positive diagonal (which makes Q uniformly distributed over orthogonal matrices).
    /// Q has orthonormal columns when rows ≥ columns (WᵀW = gain²·I), orthonormal rows otherwise (WWᵀ = gain²·I).
    /// </summary>
    /// <remarks>
    /// The Gaussian matrix is max(rows, columns) × min(rows, columns), drawn row by row with <see cref="Normal"/>, and
    /// factorised in double by modified Gram–Schmidt with a second orthogonalisation pass (its R diagonal is positive
    /// by construction). Cost: 4·max·min² flops, about 0.1 s for a 784 × 256 weight.
    /// </remarks>
    /// <exception cref="ArgumentException">The shape does not match the span, or the gain is not finite.</exception>
    public static void Orthogonal(Span<float> w, int rows, int columns, double gain, ref KilnRandom rng)
    {
        if (rows < 1 || columns < 1 || (long)rows * columns != w.Length)
            throw new ArgumentException($"An orthogonal initialisation of {rows} × {columns} needs a tensor of {(long)rows * columns} floats with both sizes at least 1; this one has {w.Length}.", nameof(w));
        if (!double.IsFinite(gain)) throw new ArgumentOutOfRangeException(nameof(gain), gain, "The gain must be finite.");
        int tall = Math.Max(rows, columns), narrow = Math.Min(rows, columns);
        var gaussian = new float[tall * narrow];
        Normal(gaussian, 1.0, ref rng);
        // Column-major copy in double: column j is q[j*tall .. (j+1)*tall).
        var q = new double[tall * narrow];
        for (int i = 0; i < tall; i++)
            for (int j = 0; j < narrow; j++) q[j * tall + i] = gaussian[i * narrow + j];
        for (int j = 0; j < narrow; j++)
        {
            Span<double> v = q.AsSpan(j * tall, tall);
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < j; k++)
                {
                    ReadOnlySpan<double> u = q.AsSpan(k * tall, tall);
                    double dot = 0;
                    for (int i = 0; i < tall; i++) dot += u[i] * v[i];
                    for (int i = 0; i < tall; i++) v[i] -= dot * u[i];
                }
            double norm = 0;
            for (int i = 0; i < tall; i++) norm += v[i] * v[i];
            norm = Math.Sqrt(norm);
            // A Gaussian matrix has full rank with probability 1; guard the degenerate draw anyway.
            if (!(norm > 1e-12)) throw new InvalidOperationException("The Gaussian matrix of the orthogonal initialisation was rank-deficient.");
            for (int i = 0; i < tall; i++) v[i] /= norm;
        }
        bool columnsOrthonormal = rows >= columns;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                w[r * columns + c] = (float)(gain * (columnsOrthonormal ? q[c * tall + r] : q[r * tall + c]));
    }
}
