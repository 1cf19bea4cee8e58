using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>Spatial models: layer listing, initialisation fan-in, BatchNorm2D freezing, input layout, folding.</summary>
public sealed class ConvBehaviourTests
{
    [Fact]
    public void Layers_list_spatial_shapes_and_LayerOutput_accepts_each()
    {
        var model = new SmallCnn(IsaPath.Portable);
        (float[] x, int[] labels, _) = ModelCases.Batch(model, ModelCases.Get("SmallCnn"), 3, seed: 1);
        model.TrainStep(x, labels, 3);

        Assert.Equal(new[] { "conv0", "bn0", "relu0", "maxpool0", "conv1", "bn1", "relu1", "dropout0", "dense0", "relu2", "dense1" }, model.Layers.Select(l => l.Name));
        Assert.Equal(new[] { "conv2d", "batchnorm2d", "relu", "maxpool", "conv2d", "batchnorm2d", "relu", "dropout", "dense", "relu", "dense" }, model.Layers.Select(l => l.Kind));
        Assert.Equal(new[] { 5, 9, 9 }, model.Layers[0].OutputShape);
        Assert.Equal(new[] { 5, 8, 8 }, model.Layers[3].OutputShape);
        Assert.Equal(new[] { 6, 3, 3 }, model.Layers[4].OutputShape);
        Assert.Equal(new[] { 7 }, model.Layers[8].OutputShape);
        foreach (LayerInfo layer in model.Layers)
            Assert.Equal(3 * layer.OutputShape.Aggregate(1, (a, b) => a * b), model.LayerOutput(layer.Name).Length);
        Assert.Equal(new[] { 3, 3, 2, 5 }, model.Tensors.Single(t => t.Name == "conv0.weight").Shape);
    }

    [Fact]
    public void Conv_weights_use_kernel_area_times_input_channels_as_fan_in()
    {
        // Init.Auto before ReLU is He normal: std = sqrt(2 / (5·5·16)) for conv1 of the benchmark CNN.
        var model = new BenchmarkCnn(IsaPath.Portable);
        TensorInfo w = model.Tensors.Single(t => t.Name == "conv1.weight");
        float[] values = model.TensorData(w).ToArray();
        double std = Math.Sqrt(values.Select(v => (double)v * v).Average());
        double expected = Math.Sqrt(2.0 / (5 * 5 * 16));
        Assert.Equal(new[] { 5, 5, 16, 32 }, w.Shape);
        Assert.True(Math.Abs(std - expected) < 0.03 * expected, $"conv1 weights have std {std}, He normal with fan-in 400 gives {expected}");
    }

    [Fact]
    public void BatchNorm2D_with_learning_rate_scale_zero_is_frozen_statistics_included()
    {
        var model = new SmallCnn(IsaPath.Avx2);
        (float[] x, int[] labels, _) = ModelCases.Batch(model, ModelCases.Get("SmallCnn"), 8, seed: 3);
        model.TrainStep(x, labels, 8);
        model.SetLearningRateScale("bn0", 0f);
        float[] Snapshot(string name) => model.TensorData(model.Tensors.Single(t => t.Name == name)).ToArray();
        string[] frozen = { "bn0.gamma", "bn0.beta", "bn0.running_mean", "bn0.running_var" };
        var before = frozen.Select(Snapshot).ToArray();
        float[] conv0Before = Snapshot("conv0.weight"), bn1Before = Snapshot("bn1.running_mean");

        for (int i = 0; i < 3; i++) model.TrainStep(x, labels, 8);

        for (int t = 0; t < frozen.Length; t++) Assert.Equal(before[t], Snapshot(frozen[t]));
        Assert.NotEqual(conv0Before, Snapshot("conv0.weight")); // the rest still trains
        Assert.NotEqual(bn1Before, Snapshot("bn1.running_mean"));

        model.SetLearningRateScale("bn0", 1f);
        model.TrainStep(x, labels, 8);
        Assert.NotEqual(before[2], Snapshot("bn0.running_mean"));
    }

    [Fact]
    public void Input_is_read_channels_first()
    {
        // One channel of a 3-channel NCHW input set to a constant: swapping which block of the input is
        // that channel must change the output (a model that read the input channels-last would mix them).
        var model = new DilatedCnn(IsaPath.Avx512);
        var rng = new KilnRandom(4);
        var x = new float[DilatedCnn.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() - 0.5f;
        var expected = new float[DilatedCnn.OutputSize];
        model.Predict(x, expected, 1);

        var reference = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, ModelCases.Get("DilatedCnn").Ops);
        double[] z = reference.Forward(x.Select(v => (double)v).ToArray(), 1, training: false);
        double[] p = GradientCheckTests.Softmax(z, z.Length);
        for (int j = 0; j < p.Length; j++) Assert.Equal(p[j], expected[j], 5);
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Folded_BatchNorm_and_small_and_large_batches_agree(IsaPath path)
    {
        // Batch 1 takes the im2col-then-row-split path, batch 40 the chunked per-sample path.
        var model = new BenchmarkCnn(path);
        var rng = new KilnRandom(9);
        var x = new float[40 * BenchmarkCnn.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        var labels = Enumerable.Range(0, 40).Select(i => i % 10).ToArray();
        for (int i = 0; i < 3; i++) model.TrainStep(x, labels, 40);

        var all = new float[40 * 10];
        model.Predict(x, all, 40);
        var one = new float[10];
        for (int s = 0; s < 40; s += 13)
        {
            model.Predict(x.AsSpan(s * BenchmarkCnn.InputSize, BenchmarkCnn.InputSize), one, 1);
            // An absolute tolerance: rounding both to 5 decimals fails whenever a rounding boundary falls between them.
            for (int j = 0; j < 10; j++) Assert.Equal(all[s * 10 + j], one[j], 1e-5f);
        }
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Winograd_weights_follow_training_steps_and_tensor_writes(IsaPath path)
    {
        // WinogradCnn's convolutions have no BatchNorm: Predict reads weights transformed from the parameters, which
        // must be redone after each training step and after any write through TensorData, not only before the first Predict.
        ModelCase c = ModelCases.Get("WinogradCnn");
        var model = new WinogradCnn(path);
        (float[] x, int[] labels, _) = ModelCases.Batch(model, c, 5, seed: 3);
        var output = new float[5 * WinogradCnn.OutputSize];
        model.Predict(x, output, 5);
        AssertMatchesReference(model, c, x, output, "before training");

        model.TrainStep(x, labels, 5);
        model.Predict(x, output, 5);
        AssertMatchesReference(model, c, x, output, "after a training step");

        Span<float> w = model.TensorData(model.Tensors.Single(t => t.Name == "conv1.weight"));
        for (int i = 0; i < w.Length; i += 3) w[i] = -w[i];
        model.Predict(x, output, 5);
        AssertMatchesReference(model, c, x, output, "after a TensorData write");
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Portable)]
    public void Split_input_dense_ignores_what_an_idle_part_left_from_a_larger_batch(IsaPath path)
    {
        var c = new ModelCase("OnePixelCnn", p => new OnePixelCnn(p), LossKind.SoftmaxCrossEntropy, new RefOp[]
        {
            new RefImage(128, 2, 2), new RefConv("conv0", 3, 3, Padding: 1), new RefActivation("ReLU"), new RefMaxPool(2, 2),
            new RefFlatten(), new RefDense("dense0"),
        });
        var model = new OnePixelCnn(path);
        (float[] x, _, _) = ModelCases.Batch(model, c, 3, seed: 6);
        var three = new float[3 * OnePixelCnn.OutputSize];
        model.Predict(x, three, 3);                       // every part has a pixel and writes its partial product
        AssertMatchesReference(model, c, x, three, "batch 3");
        var one = new float[OnePixelCnn.OutputSize];
        float[] first = x.AsSpan(0, OnePixelCnn.InputSize).ToArray();
        model.Predict(first, one, 1);                     // one pixel: with two threads, part 1 has none
        AssertMatchesReference(model, c, first, one, "batch 1 after batch 3");
    }

    [Fact]
    public void Batch_one_predictions_repeat_bit_for_bit_while_the_thread_split_adapts()
    {
        // Small-batch stages split their pixels by the threads' measured speeds, so the split moves between calls; the
        // outputs must not (every pixel and every block of the split-input Dense is computed and summed the same way).
        var model = new BenchmarkCnn(IsaPath.Avx512);
        var rng = new KilnRandom(12);
        var x = new float[BenchmarkCnn.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        var first = new float[10];
        model.Predict(x, first, 1);
        var again = new float[10];
        for (int call = 0; call < 300; call++)
        {
            model.Predict(x, again, 1);
            Assert.Equal(first, again);
        }
    }

    private static void AssertMatchesReference(IKilnModel model, ModelCase c, float[] x, float[] output, string when)
    {
        int batch = x.Length / model.InputSize;
        double[] z = new ReferenceNet(model, c.Loss, c.Ops).Forward(x.Select(v => (double)v).ToArray(), batch, training: false);
        double[] p = GradientCheckTests.Softmax(z, model.OutputSize);
        for (int i = 0; i < p.Length; i++)
            Assert.True(Math.Abs(output[i] - p[i]) <= 2e-5 + 2e-4 * Math.Abs(p[i]), $"{when}: output[{i}] = {output[i]}, reference {p[i]}");
    }
}
