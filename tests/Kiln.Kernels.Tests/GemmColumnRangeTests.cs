using System;

namespace Kiln.Kernels.Tests;

/// <summary>The column-range forward (used for small-batch inference split across threads) against the naive product.</summary>
public sealed class GemmColumnRangeTests
{
    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Column_range_matches_the_reference_and_leaves_other_columns(IsaPath path) => Isa.Invoke(this, nameof(Core), path);

    private void Core<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(17);
        foreach ((int rows, int k, int n, int c0, int c1) in new[] { (1, 784, 256, 0, 128), (1, 784, 256, 128, 256), (3, 33, 129, 16, 113), (8, 64, 10, 0, 10), (5, 19, 37, 32, 37) })
        {
            float[] x = Data.Uniform(rnd, rows * k, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1), b = Data.Uniform(rnd, n, -1, 1);
            var y = new float[rows * n];
            Array.Fill(y, 123f);
            Gemm.Forward<TIsa, BiasActivationEpilogue<Relu>>(x, w, y, rows, k, n, c0, c1, new BiasActivationEpilogue<Relu>(b, new Relu()));
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++)
                {
                    if (j < c0 || j >= c1) { Assert.Equal(123f, y[r * n + j]); continue; }
                    double s = b[j];
                    for (int i = 0; i < k; i++) s += (double)x[r * k + i] * w[i * n + j];
                    double expected = Math.Max(0, s);
                    Assert.True(Math.Abs(y[r * n + j] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"rows {rows}, k {k}, n {n}, [{c0},{c1}): y[{r},{j}] = {y[r * n + j]}, expected {expected}");
                }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Forward<TIsa, NoEpilogue>(new float[4], new float[8], new float[2], 1, 4, 2, 1, 3, new NoEpilogue()));
    }
}
