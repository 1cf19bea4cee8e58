using System;
using System.Linq;
using Kiln.Data;
using Kiln.Training;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Models.Tests;

/// <summary>Orthogonal initialisation and alpha dropout in generated models (docs/techniques.md).</summary>
public sealed class TechniqueTests
{
    private readonly ITestOutputHelper _output;

    public TechniqueTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("conv0.weight", 1.4142135623730951)] // 27 × 8, ReLU follows: gain √2
    [InlineData("conv1.weight", 0.5)]                // 72 × 40, InitScale = 0.5
    [InlineData("dense0.weight", 1.0)]               // 640 × 20, Tanh follows: gain 1
    public void Orthogonal_weights_have_orthonormal_columns_times_the_gain(string tensorName, double gain)
    {
        var model = new OrthogonalNet();
        TensorInfo tensor = model.Tensors.Single(t => t.Name == tensorName);
        float[] w = model.TensorData(tensor).ToArray();
        int columns = tensor.Shape[^1], rows = tensor.Length / columns;
        Assert.True(rows >= columns);
        for (int p = 0; p < columns; p++)
            for (int q = 0; q < columns; q++)
            {
                double dot = 0;
                for (int r = 0; r < rows; r++) dot += (double)w[r * columns + p] * w[r * columns + q];
                Assert.True(Math.Abs(dot - (p == q ? gain * gain : 0)) < 1e-5, $"{tensorName}: (WᵀW)[{p},{q}] = {dot}, expected {(p == q ? gain * gain : 0)}");
            }
        // Re-initialising gives the same weights (the draw comes from the model's seed).
        model.TensorData(tensor).Clear();
        model.InitializeParameters();
        Assert.Equal(w, model.TensorData(tensor).ToArray());
    }

    [Fact]
    public void Alpha_dropout_keeps_SELU_activations_at_mean_0_and_variance_1()
    {
        var model = new DeepSeluNet();
        const int batch = 256;
        var rng = new KilnRandom(9);
        var x = new float[batch * DeepSeluNet.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        model.ComputeGradients(x, new int[batch], batch);
        foreach (string layer in new[] { "alphadropout0", "alphadropout1", "alphadropout2", "alphadropout3" })
        {
            double[] y = model.LayerOutput(layer).ToArray().Select(v => (double)v).ToArray();
            double mean = y.Average(), variance = y.Average(v => (v - mean) * (v - mean));
            // The dropped value a·α′ + b is the most frequent value: about a tenth of the units.
            double dropped = y.GroupBy(v => v).OrderByDescending(g => g.Count()).First().Count() / (double)y.Length;
            _output.WriteLine($"{layer}: mean {mean:F3}, variance {variance:F3}, dropped {dropped:P1}");
            Assert.InRange(mean, -0.15, 0.15);
            Assert.InRange(variance, 0.8, 1.2);
            Assert.InRange(dropped, 0.08, 0.12);
        }
    }

    [Fact]
    public void A_SELU_net_with_alpha_dropout_trains_on_digits()
    {
        DataSplit split = EmbeddedData.DigitsSplit(0.8, seed: 1);
        var standardizer = new Standardizer().Fit(split.Train);
        Dataset train = standardizer.Transform(split.Train), test = standardizer.Transform(split.Test);
        var model = new DeepSeluNet();
        Trainer.Fit(model, train, null, new TrainerOptions { Epochs = 10, BatchSize = 32, Seed = 4 });
        double accuracy = model.Evaluate(test.Features, test.Labels, test.Count).Accuracy;
        _output.WriteLine($"DeepSeluNet with alpha dropout: test accuracy {accuracy:P1}");
        Assert.True(accuracy >= 0.94, $"test accuracy {accuracy:P1}");
    }
}
