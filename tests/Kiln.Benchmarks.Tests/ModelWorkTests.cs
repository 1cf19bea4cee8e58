using System;
using System.Linq;
using Kiln;
using Kiln.Benchmarks;

namespace Kiln.Benchmarks.Tests;

/// <summary>
/// The work docs/perf/limits.md sets against the machine's limits, counted from the benchmark models' own layer and
/// tensor lists (LimitsWork.cs), checked against the layer sizes written out by hand.
/// </summary>
public class ModelWorkTests
{
    [Fact]
    public void The_mlp_counts_784_256_128_10()
    {
        ModelWork w = ModelWork.Of("mlp", new BenchMlp());
        long[] macs = { 784L * 256, 256L * 128, 128L * 10 };
        Assert.Equal(macs, w.Layers.Where(l => l.ForwardMacs > 0).Select(l => l.ForwardMacs));
        // First layer: forward + weight gradient; the others also the input gradient.
        Assert.Equal(2 * (2 * macs[0] + 3 * macs[1] + 3 * macs[2]), w.TrainingFlopPerSample);
        Assert.Equal(1_007_104, w.TrainingFlopPerSample);
        Assert.Equal(TrainingFlops.PerSample("mlp"), w.TrainingFlopPerSample);
        Assert.Equal(2 * macs.Sum(), w.InferenceFlopPerSample);
        // Weights and biases of the three products: 939,048 bytes.
        Assert.Equal(4 * (784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10), w.ProductWeightBytes);
        // Adam: every trainable float (the products plus both BatchNorms' gamma and beta), 7 floats moved each.
        long parameters = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10 + 2 * 256 + 2 * 128;
        Assert.Equal(parameters, w.ParameterFloats);
        Assert.Equal(28 * parameters, w.AdamBytesPerStep);
    }

    [Fact]
    public void The_cnn_counts_its_convolutions_as_direct_ones()
    {
        ModelWork w = ModelWork.Of("cnn", new BenchCnn());
        long conv0 = 28L * 28 * 16 * 5 * 5 * 1, conv1 = 14L * 14 * 32 * 5 * 5 * 16, dense0 = 32L * 7 * 7 * 128, dense1 = 128L * 10;
        Assert.Equal(new[] { conv0, conv1, dense0, dense1 }, w.Layers.Where(l => l.ForwardMacs > 0).Select(l => l.ForwardMacs));
        Assert.Equal(2 * (2 * conv0 + 3 * (conv1 + dense0 + dense1)), w.TrainingFlopPerSample);
        Assert.Equal(17_519_104, w.TrainingFlopPerSample);
        Assert.Equal(TrainingFlops.PerSample("cnn"), w.TrainingFlopPerSample);
        // conv1 (16 → 32, 5×5, 14×14) runs Winograd F(2×2, 5×5): 7 × 7 tiles of 6 × 6 products per channel pair, the
        // 1,806,336 FLOP docs/perf/predict-b1.md counts; conv0 (one input channel) stays direct.
        Assert.Equal(49L * 36 * 16 * 32, w.Layers.Single(l => l.Name == "conv1").WinogradMacs);
        Assert.Equal(1_806_336, 2 * w.Layers.Single(l => l.Name == "conv1").WinogradMacs);
        Assert.Equal(conv0, w.Layers.Single(l => l.Name == "conv0").WinogradMacs);
        long conv1Fast = 49L * 36 * 16 * 32;
        Assert.Equal(2 * (2 * conv0 + 2 * conv1Fast + conv1 + 3 * (dense0 + dense1)), w.TrainingFlopExecutedPerSample);
        Assert.Equal(2 * (conv0 + conv1Fast + dense0 + dense1), w.InferenceFlopExecutedPerSample);
        Assert.Equal(4 * (400 + 16 + 12800 + 32 + 200704 + 128 + 1280 + 10), w.ProductWeightBytes);
        // Input 784, then conv0/bn0/relu0 12,544 each, maxpool0 3,136, conv1/bn1/relu1 6,272 each, maxpool1 1,568,
        // dense0/relu2/dropout0 128 each, dense1 10.
        Assert.Equal(4 * (784 + 3 * 12544 + 3136 + 3 * 6272 + 1568 + 3 * 128 + 10), w.ActivationBytesPerSample);
    }

    [Theory]
    [InlineData(5, 16, 32, 14, 14, true)]  // conv1 of the benchmark CNN, padding 2
    [InlineData(3, 8, 16, 10, 8, true)]    // 3×3, no padding: 10 − 3 + 1
    [InlineData(5, 1, 16, 28, 28, false)]  // one input channel: the shallow direct kernel
    [InlineData(5, 16, 8, 14, 14, false)]  // too few filters
    [InlineData(7, 16, 32, 14, 14, false)] // 7×7
    [InlineData(3, 16, 32, 14, 7, false)]  // stride 2
    public void Winograd_eligibility_follows_the_runtime_rule(int r, int inChannels, int filters, int inSide, int outSide, bool eligible) =>
        Assert.Equal(eligible, ModelWork.WinogradEligible(new[] { r, r, inChannels, filters }, (long)inSide * inSide, new[] { filters, outSide, outSide }));

    [Fact]
    public void The_mlp_runs_every_product_as_counted()
    {
        ModelWork w = ModelWork.Of("mlp", new BenchMlp());
        Assert.Equal(w.TrainingFlopPerSample, w.TrainingFlopExecutedPerSample);
        Assert.Equal(w.InferenceFlopPerSample, w.InferenceFlopExecutedPerSample);
    }

    [Fact]
    public void A_weight_that_does_not_fit_its_input_names_the_layer()
    {
        var layers = new[] { new LayerInfo("dense0", "dense", new[] { 8 }) };
        var tensors = new[] { new TensorInfo("dense0.weight", "dense0", TensorRole.Weight, new[] { 5, 8 }, 0, 40, true) };
        var e = Assert.Throws<ArgumentException>(() => ModelWork.Of("toy", 4, layers, tensors));
        Assert.Contains("dense0", e.Message);
        Assert.Contains("input width 4", e.Message);

        var conv = new[] { new LayerInfo("conv0", "conv2d", new[] { 6, 4, 4 }) };
        var convW = new[] { new TensorInfo("conv0.weight", "conv0", TensorRole.Weight, new[] { 3, 3, 2, 5 }, 0, 90, true) };
        e = Assert.Throws<ArgumentException>(() => ModelWork.Of("toy", 32, conv, convW));
        Assert.Contains("conv0", e.Message);
    }

    [Fact]
    public void A_weighted_layer_of_an_uncounted_kind_is_refused()
    {
        var layers = new[] { new LayerInfo("lstm0", "lstm", new[] { 8 }) };
        var tensors = new[] { new TensorInfo("lstm0.weight", "lstm0", TensorRole.Weight, new[] { 4, 32 }, 0, 128, true) };
        var e = Assert.Throws<NotSupportedException>(() => ModelWork.Of("toy", 4, layers, tensors));
        Assert.Contains("lstm0", e.Message);
    }
}
