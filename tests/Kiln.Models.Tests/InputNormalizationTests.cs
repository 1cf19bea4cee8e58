using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

// [Model(Normalize = …)]: the model fits its own input statistics and applies them to every batch. The twins below
// have the same architecture and seed without the declaration, so a normalising model fed raw inputs must compute
// exactly what its twin computes on inputs standardised by an independent double-precision reference.

[Model(Input = 19, MaxBatch = 16, Seed = 21, Normalize = InputNormalization.PerFeature)]
[Dense(23), ReLU, Dense(4), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class PerFeatureNormalizedNet;

[Model(Input = 19, MaxBatch = 16, Seed = 21, Normalize = InputNormalization.None)]
[Dense(23), ReLU, Dense(4), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class PerFeatureTwinNet;

[Model(InputShape = new[] { 3, 4, 5 }, MaxBatch = 16, Seed = 22, Normalize = InputNormalization.PerChannel)]
[Flatten, Dense(9), Tanh, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class PerChannelNormalizedNet;

[Model(InputShape = new[] { 3, 4, 5 }, MaxBatch = 16, Seed = 22, Normalize = InputNormalization.None)]
[Flatten, Dense(9), Tanh, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class PerChannelTwinNet;

// A multi-channel image input is transposed to NHWC on the way in; the statistics still follow the NCHW input.
[Model(InputShape = new[] { 3, 5, 5 }, MaxBatch = 8, Seed = 23, Normalize = InputNormalization.PerChannel)]
[Conv2D(4, 3), ReLU, Flatten, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class ConvPerChannelNet;

[Model(InputShape = new[] { 3, 5, 5 }, MaxBatch = 8, Seed = 23, Normalize = InputNormalization.PerFeature)]
[Conv2D(4, 3), ReLU, Flatten, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class ConvPerFeatureNet;

[Model(InputShape = new[] { 3, 5, 5 }, MaxBatch = 8, Seed = 23, Normalize = InputNormalization.None)]
[Conv2D(4, 3), ReLU, Flatten, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class ConvTwinNet;

public class InputNormalizationTests
{
    public static TheoryData<IsaPath> Paths => new() { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable };

    /// <summary>Raw inputs with a different offset and scale per feature (so an unnormalised model would see very different values).</summary>
    private static float[] RawInputs(int count, int features, int seed)
    {
        var random = new Random(seed);
        var x = new float[count * features];
        for (int s = 0; s < count; s++)
            for (int f = 0; f < features; f++)
                x[s * features + f] = (float)(50 * f - 200 + (f + 1) * 3.0 * (random.NextDouble() - 0.5));
        return x;
    }

    /// <summary>The reference: mean and population std in double over each group of features (groups × pixels).</summary>
    private static (double[] Mean, double[] Std) Statistics(float[] x, int count, int features, int groups)
    {
        int pixels = features / groups;
        var mean = new double[groups];
        var std = new double[groups];
        for (int g = 0; g < groups; g++)
        {
            var values = Enumerable.Range(0, count).SelectMany(s => Enumerable.Range(g * pixels, pixels).Select(f => (double)x[s * features + f])).ToArray();
            mean[g] = values.Average();
            std[g] = Math.Sqrt(values.Select(v => (v - mean[g]) * (v - mean[g])).Average());
        }
        return (mean, std);
    }

    private static float[] Standardise(float[] x, int features, int groups, double[] mean, double[] std)
    {
        int pixels = features / groups;
        return x.Select((v, i) => (float)((v - mean[i % features / pixels]) / std[i % features / pixels])).ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Theory, MemberData(nameof(Paths))]
    public void Per_feature_model_on_raw_inputs_equals_its_twin_on_standardised_inputs(IsaPath path)
    {
        const int count = 40, batch = 16;
        float[] train = RawInputs(count, 19, seed: 1);
        var model = new PerFeatureNormalizedNet(path);
        var twin = new PerFeatureTwinNet(path);
        model.FitInputNormalization(train, count);

        (double[] mean, double[] std) = Statistics(train, count, 19, 19);
        TensorInfo meanTensor = model.Tensors.Single(t => t.Name == "input.mean"), stdTensor = model.Tensors.Single(t => t.Name == "input.std");
        Assert.False(meanTensor.Trainable);
        AssertClose(mean.Select(v => (float)v).ToArray(), model.TensorData(meanTensor).ToArray(), 1e-5);
        AssertClose(std.Select(v => (float)v).ToArray(), model.TensorData(stdTensor).ToArray(), 1e-5);

        float[] raw = RawInputs(batch, 19, seed: 2);
        float[] standardised = Standardise(raw, 19, 19, mean, std);
        var expected = new float[batch * 4];
        var actual = new float[batch * 4];
        twin.Predict(standardised, expected, batch);
        model.Predict(raw, actual, batch);
        AssertClose(expected, actual, 1e-4);

        // Training sees the same normalised inputs: one step gives the same loss and the same weights.
        int[] labels = Enumerable.Range(0, batch).Select(i => i % 4).ToArray();
        Assert.Equal(twin.TrainStep(standardised, labels, batch), model.TrainStep(raw, labels, batch), 4);
        TensorInfo w = model.Tensors.Single(t => t.Name == "dense0.weight");
        AssertClose(twin.TensorData(twin.Tensors.Single(t => t.Name == "dense0.weight")).ToArray(), model.TensorData(w).ToArray(), 1e-4);
    }

    [Theory, MemberData(nameof(Paths))]
    public void Per_channel_model_uses_one_mean_and_std_per_channel_plane(IsaPath path)
    {
        const int count = 30, batch = 7, features = 60;
        float[] train = RawInputs(count, features, seed: 3);
        var model = new PerChannelNormalizedNet(path);
        var twin = new PerChannelTwinNet(path);
        model.FitInputNormalization(train, count);
        (double[] mean, double[] std) = Statistics(train, count, features, 3);
        Assert.Equal(new[] { 3 }, model.Tensors.Single(t => t.Name == "input.mean").Shape);
        AssertClose(std.Select(v => (float)v).ToArray(), model.TensorData(model.Tensors.Single(t => t.Name == "input.std")).ToArray(), 1e-5);

        float[] raw = RawInputs(batch, features, seed: 4);
        var expected = new float[batch * 3];
        var actual = new float[batch * 3];
        twin.Predict(Standardise(raw, features, 3, mean, std), expected, batch);
        model.Predict(raw, actual, batch);
        AssertClose(expected, actual, 1e-4);
    }

    [Theory, MemberData(nameof(Paths))]
    public void Conv_models_normalise_while_transposing_the_input(IsaPath path)
    {
        const int count = 12, batch = 5, features = 75;
        float[] train = RawInputs(count, features, seed: 8);
        float[] raw = RawInputs(batch, features, seed: 9);
        var twin = new ConvTwinNet(path);
        foreach ((IKilnModel model, int groups) in new (IKilnModel, int)[] { (new ConvPerChannelNet(path), 3), (new ConvPerFeatureNet(path), features) })
        {
            model.FitInputNormalization(train, count);
            (double[] mean, double[] std) = Statistics(train, count, features, groups);
            var expected = new float[batch * 3];
            var actual = new float[batch * 3];
            twin.Predict(Standardise(raw, features, groups, mean, std), expected, batch);
            model.Predict(raw, actual, batch);
            AssertClose(expected, actual, 1e-4);
        }
    }

    [Fact]
    public void Unfitted_statistics_are_the_identity_and_reinitialising_keeps_fitted_ones()
    {
        var model = new PerFeatureNormalizedNet(IsaPath.Portable);
        var twin = new PerFeatureTwinNet(IsaPath.Portable);
        float[] raw = RawInputs(3, 19, seed: 5);
        var a = new float[12];
        var b = new float[12];
        model.Predict(raw, a, 3);
        twin.Predict(raw, b, 3);
        Assert.Equal(b, a);

        model.FitInputNormalization(RawInputs(20, 19, seed: 6), 20);
        float[] fitted = model.TensorData(model.Tensors.Single(t => t.Name == "input.std")).ToArray();
        model.InitializeParameters();
        Assert.Equal(fitted, model.TensorData(model.Tensors.Single(t => t.Name == "input.std")).ToArray());
        Assert.Equal(InputNormalization.PerFeature, ((IKilnModel)model).InputNormalization);
        Assert.Equal(InputNormalization.None, ((IKilnModel)twin).InputNormalization);
    }

    [Fact]
    public void Fitting_rejects_bad_input_and_undeclared_models_say_how_to_declare()
    {
        var model = new PerFeatureNormalizedNet(IsaPath.Portable);
        Assert.Throws<ArgumentException>(() => model.FitInputNormalization(new float[19 * 2 + 1], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.FitInputNormalization(ReadOnlySpan<float>.Empty, 0));
        float[] bad = RawInputs(2, 19, seed: 7);
        bad[5] = float.NaN;
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => model.FitInputNormalization(bad, 2)).Message);

        IKilnModel twin = new PerFeatureTwinNet(IsaPath.Portable);
        var e = Assert.Throws<NotSupportedException>(() => twin.FitInputNormalization(new float[19], 1));
        Assert.Contains("Normalize = InputNormalization.PerFeature", e.Message);
    }
}
