using System;
using System.Linq;
using Kiln.Kernels;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>
/// The per-stage thread-count decisions (<see cref="StageScheduler"/>) never change results: training and Predict with
/// every stage call's thread count drawn at random give the same bits as on one thread. The draws replace the policy
/// through its test hook, so every mix of one- and two-thread stages within a step occurs.
/// </summary>
public sealed class AdaptiveThreadsTests
{
    /// <summary>One thread or two for stage call (stage, batch), a fixed pseudo-random pattern per seed.</summary>
    private static Func<int, long, bool> Coin(ulong seed) => (stage, batch) =>
    {
        ulong h = (seed ^ (ulong)stage * 0x9E3779B97F4A7C15UL ^ (ulong)batch * 0xC2B2AE3D27D4EB4FUL) * 0xD6E8FEB86659FD93UL;
        return (h >> 61 & 1) == 1;
    };

    public static TheoryData<string, int> Models() => new()
    {
        { "BenchmarkCnn", 64 },
        { "BenchmarkMlp", 256 },
        { "ThreadsResidualCnn", 64 },
        { "ThreadsNormCnn", 64 },
    };

    [Theory, MemberData(nameof(Models))]
    public void Training_is_bit_identical_whichever_stages_run_on_one_thread(string name, int batch)
    {
        IsaPath path = KilnIsa.Best;
        ThreadCountTests.Run one = ThreadCountTests.Train(name, path, batch, threads: 1);
        foreach (ulong seed in new ulong[] { 1, 2 })
        {
            ThreadCountTests.Run mixed = ThreadCountTests.Train(name, path, batch, threads: 2, Coin(seed));
            Assert.True(mixed.Parallel, $"{name}: no stage ran on two threads, so the check would prove nothing");
            ThreadCountTests.AssertSameBits(one, mixed, $"{name} on {path}, stages on 1 or 2 threads at random (pattern {seed}) against 1 thread");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void Predict_is_bit_identical_whichever_stages_run_on_one_thread(int batch)
    {
        float[] Predict(int threads, Func<int, long, bool>? narrow)
        {
            using var pool = new WorkerPool(threads);
            BenchmarkCnn model;
            using (WorkerPool.UseOnThisThread(pool)) model = new BenchmarkCnn();
            if (narrow is not null) model.Scheduler.Override = narrow;
            var rng = new KilnRandom(5);
            var x = new float[batch * 784];
            for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
            var y = new float[batch * 10];
            // Several calls, so the adaptive split of the small-batch convolutions moves between them too.
            for (int call = 0; call < 12; call++) model.Predict(x, y, batch);
            return y;
        }
        float[] one = Predict(1, null);
        float[] mixed = Predict(2, Coin(3));
        float[] policy = Predict(2, null);
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), mixed.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), policy.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Predict_gives_the_same_bits_on_both_joint_arms_of_the_policy(int batch)
    {
        var rng = new KilnRandom(7);
        var x = new float[batch * 784];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        var expected = new float[batch * 10];
        using (var single = new WorkerPool(1))
        using (WorkerPool.UseOnThisThread(single))
            new BenchmarkCnn().Predict(x, expected, batch);

        using var pool = new WorkerPool(2);
        BenchmarkCnn model;
        using (WorkerPool.UseOnThisThread(pool)) model = new BenchmarkCnn();
        var y = new float[batch * 10];
        // Past the first exploration (batch 32) and several more: both arms of the joint decision run.
        for (int call = 0; call < 120; call++)
        {
            model.Predict(x, y, batch);
            Assert.True(expected.SequenceEqual(y), $"call {call}: batch-{batch} Predict on the policy's arm differs from one thread");
        }
        StageScheduler.Stage joint = model.Scheduler.JointStateOf(batch);
        Assert.True(joint.WideSamples > 0 && joint.NarrowSamples > 0, $"only one arm measured: {model.Scheduler.Describe()}");
    }
}
