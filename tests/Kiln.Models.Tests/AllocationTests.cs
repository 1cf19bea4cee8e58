using System;
using Xunit;

namespace Kiln.Models.Tests;

[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection { }

/// <summary>After construction, TrainStep, Predict and Evaluate allocate nothing, on any thread (the worker pool included).</summary>
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
        for (int i = 0; i < 3; i++) { model.TrainStep(x, labels, 16); model.Predict(x, output, 16); model.Evaluate(x, labels, 16); }

        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 20; i++)
        {
            model.TrainStep(x, labels, 16);
            model.Predict(x, output, 16);
            model.Predict(x.AsSpan(0, 19), output.AsSpan(0, 5), 1);
            model.Evaluate(x, labels, 16);
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(0, allocated);
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
        for (int i = 0; i < 3; i++) { model.TrainStep(x, labels, 256); model.Predict(x, output, 256); }

        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 10; i++)
        {
            model.TrainStep(x, labels, 256);
            model.Predict(x, output, 256);
            model.Predict(x.AsSpan(0, 784), output.AsSpan(0, 10), 1);
        }
        Assert.Equal(0, GC.GetTotalAllocatedBytes(precise: true) - before);
    }
}
