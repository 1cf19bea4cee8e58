using System;
using System.Linq;

namespace Kiln.Kernels.Tests;

/// <summary>
/// BatchNorm2D's one-pass statistics (BlockMoments: shifted Σd, Σd² per fixed block; CombineMoments: merged in block
/// order) against straightforward double formulas on every ISA path, including a large mean over a small spread
/// (where a naive one-pass Σz² − (Σz)²/n would cancel), and the same bits whatever the split of the blocks into parts.
/// </summary>
public sealed class BatchNormMomentsTests
{
    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void One_pass_statistics_match_double_formulas_and_ignore_the_split(IsaPath path) => Isa.Invoke(this, nameof(Core), path);

    private void Core<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(31);
        // (rows, cols, rows per block, lo, hi): the benchmark CNN's shapes, tails, a short last block, and an offset mean.
        foreach ((int rows, int cols, int blockRows, double lo, double hi) in new[]
                 { (4 * 784, 16, 784, -2.0, 3.0), (6 * 196, 32, 196, -1.0, 1.0), (37, 5, 8, -2.0, 3.0), (50, 37, 7, 0.0, 1.0), (64 * 784, 16, 784, 1000.0, 1000.5), (9, 3, 9, -1.0, 1.0) })
        {
            string ctx = $"{typeof(TIsa).Name} {rows}×{cols} blocks of {blockRows}, z in [{lo}, {hi}]";
            float[] z = Data.Uniform(rnd, rows * cols, lo, hi);
            int blocks = BatchNorm.BlockCount(rows, blockRows);
            float[] runMean0 = Data.Uniform(rnd, cols, -0.1, 0.1), runVar0 = Data.Uniform(rnd, cols, 0.8, 1.2);
            float[]? first = null;
            foreach (int parts in new[] { 1, 2, 3, 7 })
            {
                double[] moments = new double[2 * blocks * cols];
                for (int p = parts - 1; p >= 0; p--)
                {
                    (int b0, int b1) = Partition.Range(blocks, p, parts, 1);
                    BatchNorm.BlockMoments<TIsa>(z, moments, rows, cols, blockRows, b0, b1);
                }
                float[] mean = new float[cols], invStd = new float[cols], runMean = (float[])runMean0.Clone(), runVar = (float[])runVar0.Clone();
                BatchNorm.CombineMoments(z, moments, mean, invStd, runMean, runVar, rows, cols, blockRows, 1e-5f, 0.1f, updateRunning: true);
                float[] all = mean.Concat(invStd).Concat(runMean).Concat(runVar).ToArray();
                if (first is null) first = all;
                else Assert.True(first.SequenceEqual(all), $"{ctx}: {parts} parts changed the statistics");
                for (int c = 0; c < cols; c++)
                {
                    double mu = 0, m2 = 0;
                    for (int r = 0; r < rows; r++) mu += z[r * cols + c];
                    mu /= rows;
                    for (int r = 0; r < rows; r++) m2 += (z[r * cols + c] - mu) * (z[r * cols + c] - mu);
                    double variance = m2 / rows;
                    Near.Check(mean[c], mu, 0, 1e-7, $"{ctx} mean[{c}]");
                    Near.Check(invStd[c], 1 / Math.Sqrt(variance + 1e-5), 0, 2e-6, $"{ctx} invStd[{c}]");
                    Near.Check(runMean[c], 0.9 * runMean0[c] + 0.1 * mu, 1e-7, 1e-6, $"{ctx} runMean[{c}]");
                    Near.Check(runVar[c], 0.9 * runVar0[c] + 0.1 * variance * rows / (rows - 1), 1e-7, 1e-6, $"{ctx} runVar[{c}]");
                }
            }
        }
    }

    [Fact]
    public void Combine_rejects_a_batch_too_small_for_the_running_variance()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BatchNorm.CombineMoments(new float[3], new double[6], new float[3], new float[3], new float[3], new float[3], 1, 3, 1, 1e-5f, 0.1f, true));
        Assert.Contains("batch of one row", e.Message);
    }
}
