using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.Checkpoints;
using Kiln.Kernels;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>A residual CNN big enough at batch 64 that its BatchNorm2D, convolution and residual stages split across threads; a projection block, PReLU and dropout.</summary>
[Model(InputShape = new[] { 3, 16, 16 }, MaxBatch = 64, Seed = 31)]
[Conv2D(16, 3, Padding = 1), BatchNorm, ReLU]
[Residual, Conv2D(16, 3, Padding = 1), BatchNorm, PReLU, Conv2D(16, 3, Padding = 1), BatchNorm, EndResidual, ReLU]
[Residual(Projection = true), Conv2D(32, 2, Stride = 2), BatchNorm, ReLU, Conv2D(32, 3, Padding = 1), BatchNorm, EndResidual, ReLU]
[GlobalAvgPool, Dense(32), ReLU, Dropout(0.2), Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class ThreadsResidualCnn;

/// <summary>GroupNorm, LayerNorm and InstanceNorm on activations big enough at batch 64 to split across threads.</summary>
[Model(InputShape = new[] { 3, 16, 16 }, MaxBatch = 64, Seed = 32)]
[Conv2D(16, 3, Padding = 1), GroupNorm(4), ReLU, Conv2D(16, 3, Padding = 1), LayerNorm, ELU, MaxPool(2)]
[Conv2D(16, 3, Padding = 1), InstanceNorm, ReLU, Flatten, Dense(64), LayerNorm, ReLU, Dense(10), SoftmaxCrossEntropy]
[Momentum(0.01)]
public partial class ThreadsNormCnn;

/// <summary>
/// Dense layers whose widths are not multiples of the fused stages' 64-column blocks (200 split as 128 + 72 on 2 threads
/// and 64 + 64 + 72 on 3; 100 as 64 + 36 and 0 + 64 + 36), each followed by a flat BatchNorm chain that runs inside the dense layer's
/// forward and backward stages (docs/threads.md), big enough at batch 128 that those stages split across threads.
/// </summary>
[Model(Input = 300, MaxBatch = 128, Seed = 33)]
[Dense(200), BatchNorm, ReLU, Dropout(0.1)]
[Dense(100), BatchNorm, ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class ThreadsOddMlp;

/// <summary>
/// Training on 1, 2 and 3 threads gives the same bits: the loss of every step, every tensor (weights, running statistics,
/// optimiser state) and a checkpoint's bytes, on each ISA path (paths may differ from each other). The pool is chosen
/// per model with <see cref="WorkerPool.UseOnThisThread"/>, the same switch KILN_THREADS makes for the shared pool.
/// </summary>
public sealed class ThreadCountTests
{
    internal const int Steps = 10;

    public static TheoryData<string, IsaPath, int> Models()
    {
        var d = new TheoryData<string, IsaPath, int>();
        foreach (IsaPath p in ModelCases.Paths)
        {
            d.Add("BenchmarkCnn", p, 64);
            d.Add("BenchmarkMlp", p, 256);
            d.Add("ThreadsResidualCnn", p, 64);
            d.Add("ThreadsNormCnn", p, 64);
            d.Add("ThreadsOddMlp", p, 128);
        }
        return d;
    }

    internal static IKilnModel Create(string name, IsaPath path) => name switch
    {
        "BenchmarkCnn" => new BenchmarkCnn(path),
        "BenchmarkMlp" => new BenchmarkMlp(path),
        "ThreadsResidualCnn" => new ThreadsResidualCnn(path),
        "ThreadsNormCnn" => new ThreadsNormCnn(path),
        "ThreadsOddMlp" => new ThreadsOddMlp(path),
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(Models))]
    public void Training_is_bit_identical_on_1_2_and_3_threads(string name, IsaPath path, int batch)
    {
        Run one = Train(name, path, batch, threads: 1);
        foreach (int threads in new[] { 2, 3 })
        {
            Run other = Train(name, path, batch, threads);
            Assert.True(other.Parallel, $"{name}: no stage ran on the pool's {threads} threads, so the check would prove nothing");
            AssertSameBits(one, other, $"{name} on {path}, {threads} threads against 1");
        }
    }

    /// <summary>Every step's loss, every tensor and the checkpoint's bytes of <paramref name="other"/> equal <paramref name="one"/>'s.</summary>
    internal static void AssertSameBits(Run one, Run other, string ctx)
    {
        for (int s = 0; s < Steps; s++)
            Assert.True(BitConverter.SingleToInt32Bits(one.Losses[s]) == BitConverter.SingleToInt32Bits(other.Losses[s]),
                $"{ctx}: step {s + 1} loss {other.Losses[s]:R} vs {one.Losses[s]:R}");
        foreach ((string tensor, int[] bits) in one.Tensors)
        {
            int[] actual = other.Tensors[tensor];
            int at = Enumerable.Range(0, bits.Length).FirstOrDefault(i => bits[i] != actual[i], -1);
            Assert.True(at < 0, $"{ctx}: {tensor}[{at}] differs after {Steps} steps");
        }
        Assert.True(one.Checkpoint.AsSpan().SequenceEqual(other.Checkpoint), $"{ctx}: the checkpoints' bytes differ");
    }

    internal sealed record Run(float[] Losses, Dictionary<string, int[]> Tensors, byte[] Checkpoint, bool Parallel);

    /// <summary>Trains <see cref="Steps"/> steps; <paramref name="narrow"/>, when given, picks each stage call's thread count (true: one thread) instead of the model's policy.</summary>
    internal static Run Train(string name, IsaPath path, int batch, int threads, Func<int, long, bool>? narrow = null)
    {
        using var pool = new WorkerPool(threads);
        IKilnModel model;
        using (WorkerPool.UseOnThisThread(pool)) model = Create(name, path);
        if (narrow is not null) ((KilnModel)model).Scheduler.Override = narrow;
        var rng = new KilnRandom(17);
        var losses = new float[Steps];
        for (int s = 0; s < Steps; s++)
        {
            var x = new float[batch * model.InputSize];
            for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng) + 0.5f;
            int[] labels = Enumerable.Range(0, batch).Select(_ => rng.NextInt(model.OutputSize)).ToArray();
            losses[s] = model.TrainStep(x, labels, batch);
        }
        var tensors = model.Tensors.ToDictionary(t => t.Name, t => model.TensorData(t).ToArray().Select(BitConverter.SingleToInt32Bits).ToArray());
        using var stream = new MemoryStream();
        Checkpoint.Write(model, stream);
        // A model on a 1-thread pool runs every stage inline; on more, stages must have been shared.
        return new Run(losses, tensors, stream.ToArray(), threads == 1 || pool.ParallelStages > 0);
    }
}
