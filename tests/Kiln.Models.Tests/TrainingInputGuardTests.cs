using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

// 16 rows × 300 features = 4,800 floats: the batch spans three of the blocks DataGuard.CopyTrainingInputs copies and checks.
[Model(Input = 300, MaxBatch = 16, Seed = 5)]
[Dense(8), ReLU, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class WideInputGuardNet;

/// <summary>
/// Training steps refuse NaN/∞ inputs (docs/reliability.md), whether the default input copy checks as it copies or a
/// model's own CopyInputs (input normalisation) is followed by a separate check: the exception names the first bad
/// row and feature, and the model is unchanged.
/// </summary>
public sealed class TrainingInputGuardTests
{
    private static float[] Inputs(int rows, int features, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows * features).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
    }

    [Theory]
    [InlineData(0, float.NaN)]
    [InlineData(2047, float.PositiveInfinity)] // last float of the first block
    [InlineData(2048, float.NegativeInfinity)] // first float of the second
    [InlineData(4799, float.NaN)]              // last float of the batch
    public void The_default_copy_names_the_first_bad_row_and_feature_and_leaves_the_model_unchanged(int index, float value)
    {
        var model = new WideInputGuardNet(IsaPath.Avx512);
        float[] x = Inputs(16, 300, 3);
        int[] labels = Enumerable.Range(0, 16).Select(i => i % 3).ToArray();
        model.TrainStep(x, labels, 16);
        float[] before = model.Tensors.SelectMany(t => model.TensorData(t).ToArray()).ToArray();
        x[index] = value;
        if (index + 700 < x.Length) x[index + 700] = float.NaN; // a later bad value must not be the one reported
        var e = Assert.Throws<NonFiniteInputException>(() => model.TrainStep(x, labels, 16));
        Assert.Equal(index / 300, e.Row);
        Assert.Equal(index % 300, e.Feature);
        Assert.Equal(value, e.Value);
        Assert.Contains($"inputs row {index / 300}, feature {index % 300}", e.Message);
        Assert.Equal(before, model.Tensors.SelectMany(t => model.TensorData(t).ToArray()).ToArray());
        Assert.Throws<NonFiniteInputException>(() => model.ComputeGradients(x, labels, 16));
        // The next good batch trains normally, and a model that never saw the bad one gives the same result.
        x[index] = 0.25f;
        if (index + 700 < x.Length) x[index + 700] = 0.25f;
        var twin = new WideInputGuardNet(IsaPath.Avx512);
        twin.TrainStep(Inputs(16, 300, 3), labels, 16);
        Assert.Equal(twin.TrainStep(x, labels, 16), model.TrainStep(x, labels, 16));
    }

    [Fact]
    public void A_model_with_its_own_input_copy_still_refuses_bad_inputs()
    {
        var model = new PerFeatureNormalizedNet(IsaPath.Portable);
        float[] x = Inputs(4, 19, 8);
        x[2 * 19 + 7] = float.PositiveInfinity;
        var e = Assert.Throws<NonFiniteInputException>(() => model.TrainStep(x, new[] { 0, 1, 2, 3 }, 4));
        Assert.Equal((2, 7), (e.Row, e.Feature));
    }

    [Fact]
    public void CopyTrainingInputs_copies_exactly_and_checks_its_destination_size()
    {
        float[] x = Inputs(7, 1000, 1), copy = new float[7000];
        DataGuard.CopyTrainingInputs(x, copy, 1000, "m");
        Assert.Equal(x, copy);
        Assert.Throws<ArgumentException>("destination", () => DataGuard.CopyTrainingInputs(x, new float[6999], 1000, "m"));
    }
}
