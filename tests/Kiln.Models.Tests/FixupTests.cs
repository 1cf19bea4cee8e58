using System;
using System.Linq;
using Kiln.Data;
using Kiln.Training;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Models.Tests;

/// <summary>[Fixup] initialisation and its scalar layers in generated models (docs/techniques.md#initialisation).</summary>
public sealed class FixupTests
{
    private readonly ITestOutputHelper _output;

    public FixupTests(ITestOutputHelper output) => _output = output;

    private static float[] Data(IKilnModel model, string name) => model.TensorData(model.Tensors.Single(t => t.Name == name)).ToArray();

    [Theory]
    // L = 3 residual blocks. Block 0: m = 3 (dense1, dense2 scaled by 3^(-1/4), dense3 zero); block 1: m = 2 (dense4
    // scaled by 3^(-1/2), dense5 zero); block 2: m = 1 (dense6 zero); dense0 and dense7 are outside every branch.
    [InlineData("dense0.weight", 1.0)]
    [InlineData("dense1.weight", 0.75983568565159254)] // 3^(-1/4) = L^(-1/(2m-2)) with L = 3, m = 3
    [InlineData("dense2.weight", 0.75983568565159254)]
    [InlineData("dense3.weight", 0.0)]
    [InlineData("dense4.weight", 0.57735026918962573)] // 3^(-1/2): m = 2
    [InlineData("dense5.weight", 0.0)]
    [InlineData("dense6.weight", 0.0)]
    [InlineData("dense7.weight", 1.0)]
    public void Fixup_scales_branch_weights_by_L_to_the_minus_1_over_2m_minus_2_and_zeroes_the_last(string tensor, double factor)
    {
        // The same model with ZeroInitLast and no [Fixup] draws the same random numbers (zero weights draw none).
        float[] fixup = Data(new FixupInitNet(), tensor), plain = Data(new ZeroInitLastNet(), tensor);
        Assert.Equal(plain.Length, fixup.Length);
        if (factor == 0)
        {
            Assert.All(fixup, v => Assert.Equal(0f, v));
            return;
        }
        Assert.Contains(plain, v => v != 0);
        for (int i = 0; i < plain.Length; i++)
            Assert.True(Math.Abs(fixup[i] - factor * plain[i]) <= 1e-6 * Math.Abs(plain[i]) + 1e-12,
                $"{tensor}[{i}]: {fixup[i]} but {factor} × {plain[i]} = {factor * plain[i]}");
    }

    [Fact]
    public void Scalar_layers_start_at_bias_0_and_multiplier_1()
    {
        var model = new FixupDigitsNet();
        TensorInfo[] biases = model.Tensors.Where(t => t.Name.StartsWith("scalarbias", StringComparison.Ordinal)).ToArray();
        TensorInfo[] scales = model.Tensors.Where(t => t.Name.StartsWith("multiplier", StringComparison.Ordinal)).ToArray();
        Assert.Equal(16, biases.Length);
        Assert.Equal(4, scales.Length);
        Assert.All(biases.Concat(scales), t => Assert.True(t.Trainable && t.Length == 1, t.Name));
        Assert.All(biases, t => Assert.Equal(0f, model.TensorData(t)[0]));
        Assert.All(scales, t => Assert.Equal(1f, model.TensorData(t)[0]));
    }

    [Fact]
    public void A_residual_net_without_normalisation_trains_on_digits_with_Fixup()
    {
        DataSplit split = EmbeddedData.DigitsSplit(0.8, seed: 1);
        var standardizer = new Standardizer().Fit(split.Train);
        Dataset train = standardizer.Transform(split.Train), test = standardizer.Transform(split.Test);
        var model = new FixupDigitsNet();
        Trainer.Fit(model, train, null, new TrainerOptions { Epochs = 10, BatchSize = 32, Seed = 4 });
        double accuracy = model.Evaluate(test.Features, test.Labels, test.Count).Accuracy;
        float[] scales = model.Tensors.Where(t => t.Name.StartsWith("multiplier", StringComparison.Ordinal)).Select(t => model.TensorData(t)[0]).ToArray();
        _output.WriteLine($"FixupDigitsNet: test accuracy {accuracy:P1}; multipliers after training {string.Join(", ", scales)}");
        Assert.True(accuracy >= 0.94, $"test accuracy {accuracy:P1}");
        Assert.Contains(scales, s => s != 1f); // the multipliers were trained
    }
}
