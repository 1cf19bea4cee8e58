using System;
using Kiln.Kernels;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>
/// Batch-1 Predict of the benchmark MLP reads its folded Dense weights packed into column panels (Kernels.GemvPacked),
/// batches of 2 to 15 the row-major weights with columns split, 16 and more rows split: every route gives the same
/// probabilities as the others within float rounding, on 1 and 2 threads and every ISA path, and the packed copy follows
/// the weights after training steps and after a write through TensorData.
/// </summary>
public sealed class SmallBatchPredictTests
{
    public static TheoryData<IsaPath, int> Cases()
    {
        var d = new TheoryData<IsaPath, int>();
        foreach (IsaPath p in ModelCases.Paths)
        {
            d.Add(p, 1);
            d.Add(p, 2);
        }
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Batch_1_equals_batch_3_and_batch_16_and_follows_the_weights(IsaPath path, int threads)
    {
        using var pool = new WorkerPool(threads);
        BenchmarkMlp model;
        using (WorkerPool.UseOnThisThread(pool)) model = new BenchmarkMlp(path);
        var rnd = new Random(3);
        var x = new float[16 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rnd.NextDouble() * 2 - 1);
        var labels = new int[16];
        for (int i = 0; i < labels.Length; i++) labels[i] = rnd.Next(10);
        for (int s = 0; s < 3; s++) model.TrainStep(x, labels, 16);   // running statistics and weights away from their initial values

        Check(model, x, "after training");
        model.TrainStep(x, labels, 16);   // the packed copy must be refreshed with the fold
        Check(model, x, "after one more step");
        Span<float> w = model.TensorData(model.Tensors[0]);   // dense0.weight
        for (int i = 0; i < w.Length; i += 7) w[i] *= -1.5f;
        Check(model, x, "after a write through TensorData");
    }

    /// <summary>
    /// Batch 1 on two threads (dense0's columns split, dense1's partial products made by both threads and added on the
    /// caller) gives the same bits as on one thread, whichever arm the scheduler takes, on the AVX-512 and AVX2 paths. (The
    /// portable path's row-major product takes dense0's last 16 columns with two chains over alternate k, the packed one in
    /// k order, so there the two differ by rounding: the test above bounds it.)
    /// </summary>
    [Theory, MemberData(nameof(PathCases))]
    public void Batch_1_gives_the_same_bits_on_one_to_four_threads(IsaPath path)
    {
        var rnd = new Random(11);
        var x = new float[16 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rnd.NextDouble() * 2 - 1);
        var labels = new int[16];
        for (int i = 0; i < labels.Length; i++) labels[i] = rnd.Next(10);
        float[] Rows(int threads, bool? narrow)
        {
            using var pool = new WorkerPool(threads);
            BenchmarkMlp model;
            using (WorkerPool.UseOnThisThread(pool)) model = new BenchmarkMlp(path);
            for (int s = 0; s < 2; s++) model.TrainStep(x, labels, 16);   // bit-identical on any thread count
            if (narrow is bool n) model.Scheduler.Override = (_, _) => n;
            var y = new float[16 * 10];
            for (int r = 0; r < 16; r++) model.Predict(x.AsSpan(r * 784, 784), y.AsSpan(r * 10, 10), 1);
            return y;
        }
        int[] one = Bits(Rows(1, null));
        Assert.Equal(one, Bits(Rows(2, false)));   // every stage on both threads
        Assert.Equal(one, Bits(Rows(2, true)));    // the two-thread pool, every stage on the caller
        Assert.Equal(one, Bits(Rows(2, null)));    // the policy's choice
        Assert.Equal(one, Bits(Rows(3, false)));   // three and four threads: the packed blocks split unevenly or
        Assert.Equal(one, Bits(Rows(4, false)));   // some threads get none; never half a block
    }

    public static TheoryData<IsaPath> PathCases() => new(IsaPath.Avx512, IsaPath.Avx2);

    private static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);

    private static void Check(BenchmarkMlp model, float[] x, string when)
    {
        var all = new float[16 * 10];
        model.Predict(x, all, 16);
        var three = new float[3 * 10];
        model.Predict(x.AsSpan(5 * 784, 3 * 784), three, 3);
        var one = new float[10];
        for (int r = 0; r < 16; r++)
        {
            model.Predict(x.AsSpan(r * 784, 784), one, 1);
            for (int j = 0; j < 10; j++)
            {
                float expected = all[r * 10 + j];
                Assert.True(Math.Abs(one[j] - expected) <= 1e-5f, $"{when}: row {r}, class {j}: batch 1 gave {one[j]}, batch 16 gave {expected}");
                if (r >= 5 && r < 8)
                    Assert.True(Math.Abs(three[(r - 5) * 10 + j] - expected) <= 1e-5f, $"{when}: row {r}, class {j}: batch 3 gave {three[(r - 5) * 10 + j]}, batch 16 gave {expected}");
            }
        }
    }
}
