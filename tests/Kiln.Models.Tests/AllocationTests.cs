using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection { }

/// <summary>
/// After construction (and JIT warm-up), TrainStep, Predict and Evaluate allocate nothing. The small
/// model runs every stage on the calling thread, so its own allocation counter is exact. The
/// benchmark model uses the worker pool, so the process-wide counter is read; other threads of the
/// test host may allocate now and then, so the test takes the smallest of up to 40 windows: a model
/// that allocated would show it in every window.
/// </summary>
[Collection(nameof(AllocationCollection))]
public sealed class AllocationTests
{
    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Training_and_inference_allocate_nothing(IsaPath path)
    {
        var model = new BnGeluPReluNet(path);
        ModelCase c = ModelCases.Get("BnGeluBnPReluVanillaDropout");
        (float[] x, int[] labels, _) = ModelCases.Batch(model, c, 16, 2);
        var output = new float[16 * 5];
        void Work()
        {
            model.TrainStep(x, labels, 16);
            model.Predict(x, output, 16);
            model.Predict(x.AsSpan(0, 19), output.AsSpan(0, 5), 1);
            model.Evaluate(x, labels, 16);
        }
        for (int i = 0; i < 100; i++) Work();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Work();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Convolutional_training_and_inference_allocate_nothing(IsaPath path)
    {
        var model = new SmallCnn(path);
        ModelCase c = ModelCases.Get("SmallCnn");
        (float[] x, int[] labels, _) = ModelCases.Batch(model, c, 8, 2);
        var output = new float[8 * SmallCnn.OutputSize];
        void Work()
        {
            model.TrainStep(x, labels, 8);
            model.Predict(x, output, 8);
            model.Predict(x.AsSpan(0, SmallCnn.InputSize), output.AsSpan(0, SmallCnn.OutputSize), 1);
            model.Evaluate(x, labels, 8);
        }
        for (int i = 0; i < 100; i++) Work();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Work();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Benchmark_CNN_on_the_worker_pool_allocates_nothing()
    {
        var model = new BenchmarkCnn();
        var rng = new KilnRandom(1);
        var x = new float[64 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() - 0.5f;
        var labels = new int[64];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.NextInt(10);
        var output = new float[64 * 10];
        void Work()
        {
            model.TrainStep(x, labels, 64);
            model.Predict(x, output, 64);
            model.Predict(x.AsSpan(0, 784), output.AsSpan(0, 10), 1);
        }
        for (int i = 0; i < 80; i++) Work(); // past the JIT's tier-up of every stage (tiering itself allocates)

        Assert.Equal(0, SmallestProcessWindow(Work, callsPerWindow: 2));
    }

    [Fact]
    public void Benchmark_model_on_the_worker_pool_allocates_nothing()
    {
        var model = new BenchmarkMlp();
        var rng = new KilnRandom(1);
        var x = new float[256 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() - 0.5f;
        var labels = new int[256];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.NextInt(10);
        var output = new float[256 * 10];
        void Work()
        {
            model.TrainStep(x, labels, 256);
            model.Predict(x, output, 256);
            model.Predict(x.AsSpan(0, 784), output.AsSpan(0, 10), 1);
        }
        for (int i = 0; i < 40; i++) Work();

        Assert.Equal(0, SmallestProcessWindow(Work, callsPerWindow: 3));
    }

    /// <summary>
    /// The fewest bytes the whole process allocated over one window of <paramref name="callsPerWindow"/> calls of
    /// <paramref name="work"/>. Short windows: the test host's own periodic work (e.g. its long-running-test timer) then
    /// misses some. On a loaded machine (CI runs test assemblies in parallel) background tier-up compilations arrive late
    /// and allocate, so windows keep opening for up to 20 s until one is clean; an allocation per call leaves none clean.
    /// </summary>
    private static long SmallestProcessWindow(Action work, int callsPerWindow)
    {
        long smallest = long.MaxValue;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int window = 0; smallest != 0 && (window < 12 || clock.Elapsed < TimeSpan.FromSeconds(20)); window++)
        {
            System.Threading.Thread.Sleep(20);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < callsPerWindow; i++) work();
            smallest = Math.Min(smallest, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        return smallest;
    }
}
