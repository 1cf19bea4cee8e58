using System;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The input-split product (small-batch Dense after a fused conv+pool stage): partial products over flattened input
/// ranges, cut anywhere (mid-row, across rows, empty), then summed with the epilogue, against the product in double.
/// </summary>
public sealed class GemmSplitKTests
{
    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Parts_add_up_to_the_product(IsaPath path) => Isa.Invoke(this, nameof(Core), path);

    private void Core<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(23);
        // (rows, k, n, cut points in the flattened rows·k inputs): the benchmark CNN's 1568 → 128 at batch 1 split as two
        // threads split 49 pooled pixels of 32 channels; three parts cutting rows mid-way; a part with nothing; odd widths.
        foreach ((int rows, int k, int n, int[] cuts) in new[]
        {
            (1, 1568, 128, new[] { 0, 25 * 32, 1568 }),
            (3, 50, 37, new[] { 0, 20, 120, 150 }),
            (2, 33, 10, new[] { 0, 0, 40, 66 }),
            (4, 17, 21, new[] { 0, 17, 17, 50, 68 }),
        })
        {
            int parts = cuts.Length - 1, stride = rows * n + 16;
            string ctx = $"{typeof(TIsa).Name} rows {rows}, k {k}, n {n}, cuts [{string.Join(", ", cuts)}]";
            float[] x = Data.Uniform(rnd, rows * k, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1), b = Data.Uniform(rnd, n, -1, 1);
            float[] partials = Data.Filled(parts * stride, float.NaN);   // stale contents: every part overwrites its whole slot
            for (int p = 0; p < parts; p++)
                Gemm.PartialForward<TIsa>(x, w, partials.AsSpan(p * stride, rows * n), rows, k, n, cuts[p], cuts[p + 1]);

            // Each part alone is the product over its inputs.
            for (int p = 0; p < parts; p++)
            {
                var expectedPart = new double[rows * n];
                for (int f = cuts[p]; f < cuts[p + 1]; f++)
                    for (int j = 0; j < n; j++) expectedPart[f / k * n + j] += (double)x[f] * w[f % k * n + j];
                Near.All(partials.AsSpan(p * stride, rows * n), expectedPart, 1e-4, 1e-5, $"{ctx}: part {p}");
            }

            var y = Data.Filled(rows * n, float.NaN);
            Gemm.SumParts<TIsa, BiasActivationEpilogue<Relu>>(partials, parts, stride, y, rows, n, new BiasActivationEpilogue<Relu>(b, new Relu()));
            var expected = new double[rows * n];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < n; j++)
                {
                    double s = b[j];
                    for (int i = 0; i < k; i++) s += (double)x[r * k + i] * w[i * n + j];
                    expected[r * n + j] = Math.Max(0, s);
                }
            Near.All(y, expected, 1e-4, 1e-5, ctx + ": sum");
        }
    }

    [Fact]
    public void Rejects_ranges_outside_the_input_and_short_buffers()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PartialForward<Avx512Path>(new float[8], new float[8], new float[4], 2, 4, 2, 0, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.PartialForward<Avx512Path>(new float[8], new float[8], new float[4], 2, 4, 2, 5, 3));
        var e = Assert.Throws<ArgumentException>(() => Gemm.PartialForward<Avx512Path>(new float[8], new float[8], new float[3], 2, 4, 2, 0, 8));
        Assert.Contains("partial", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.SumParts<Avx512Path, NoEpilogue>(new float[8], 2, 3, new float[4], 2, 2, new NoEpilogue()));
        e = Assert.Throws<ArgumentException>(() => Gemm.SumParts<Avx512Path, NoEpilogue>(new float[7], 2, 4, new float[4], 2, 2, new NoEpilogue()));
        Assert.Contains("partials", e.Message);
    }
}
