using System;
using Kiln.Preprocessing;

namespace Kiln.Data.Tests;

public class EigenTests
{
    /// <summary>A = Q·diag(λ)·Qᵀ with a known spectrum (repeated and zero eigenvalues included).</summary>
    [Theory]
    [InlineData(1, new[] { 3.5 })]
    [InlineData(2, new[] { 1.0, 1.0 })]
    [InlineData(3, new[] { 5.0, 2.0, 0.0 })]
    [InlineData(6, new[] { 9.0, 4.0, 4.0, 1.0, 0.25, 1e-6 })]
    [InlineData(17, new[] { 17.0, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 })]
    public void Recovers_a_known_spectrum_and_orthonormal_vectors(int n, double[] spectrum)
    {
        double[,] q = TestData.RandomOrthogonal(n, (ulong)n * 31);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++) a[i * n + j] += q[i, k] * spectrum[k] * q[j, k];

        (double[] values, double[] vectors) = SymmetricEigen.Decompose(a, n);

        double[] expected = (double[])spectrum.Clone();
        Array.Sort(expected, (x, y) => y.CompareTo(x));
        for (int j = 0; j < n; j++) Assert.Equal(expected[j], values[j], 1e-11 * Math.Max(1, expected[0]));
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n; k++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += vectors[j * n + i] * vectors[k * n + i];
                Assert.Equal(j == k ? 1.0 : 0.0, dot, 1e-12);
            }
        // A·u_j = λ_j·u_j
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int k = 0; k < n; k++) av += a[i * n + k] * vectors[j * n + k];
                Assert.Equal(values[j] * vectors[j * n + i], av, 1e-11 * Math.Max(1, expected[0]));
            }
    }

    [Theory]
    [InlineData(4, 1UL)]
    [InlineData(33, 2UL)]
    [InlineData(70, 3UL)]
    public void Agrees_with_an_independent_jacobi_solver_on_random_and_covariance_matrices(int n, ulong seed)
    {
        var rng = new KilnRandom(seed);
        var random = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) random[i * n + j] = random[j * n + i] = TestData.Normal(ref rng);
        // A rank-deficient covariance (n/2 samples) with tied zero eigenvalues, as pixel data gives.
        Dataset few = TestData.Uniform(n / 2, n, seed);
        double[,] c = TestData.Covariance(few.Features, n);
        var covariance = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) covariance[i * n + j] = c[i, j];

        foreach (double[] a in new[] { random, covariance })
        {
            (double[] values, double[] vectors) = SymmetricEigen.Decompose(a, n);
            (double[] reference, _) = JacobiEigen.Decompose(a, n);
            double scale = Math.Max(Math.Abs(reference[0]), Math.Abs(reference[n - 1]));
            for (int j = 0; j < n; j++) Assert.Equal(reference[j], values[j], 1e-12 * scale);
            // Residual ‖A u − λ u‖ and orthonormality.
            for (int j = 0; j < n; j++)
            {
                for (int i = 0; i < n; i++)
                {
                    double av = 0;
                    for (int k = 0; k < n; k++) av += a[i * n + k] * vectors[j * n + k];
                    Assert.Equal(values[j] * vectors[j * n + i], av, 1e-11 * scale);
                }
                for (int k = j; k < n; k++)
                {
                    double dot = 0;
                    for (int i = 0; i < n; i++) dot += vectors[j * n + i] * vectors[k * n + i];
                    Assert.Equal(j == k ? 1.0 : 0.0, dot, 1e-12);
                }
            }
        }
    }

    [Fact]
    public void Vectors_have_a_positive_largest_component_and_zero_matrix_works()
    {
        (double[] values, double[] vectors) = SymmetricEigen.Decompose(new double[] { 2, -1, -1, 2 }, 2);
        Assert.Equal(3, values[0], 1e-14);
        Assert.Equal(1, values[1], 1e-14);
        for (int j = 0; j < 2; j++)
        {
            double big = Math.Abs(vectors[j * 2]) >= Math.Abs(vectors[j * 2 + 1]) ? vectors[j * 2] : vectors[j * 2 + 1];
            Assert.True(big > 0);
        }
        (double[] zero, _) = SymmetricEigen.Decompose(new double[9], 3);
        Assert.Equal(new double[3], zero);
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(new double[] { 1, double.NaN, double.NaN, 1 }, 2));
    }
}
