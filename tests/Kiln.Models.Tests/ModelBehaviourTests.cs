using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

public sealed class ModelBehaviourTests
{
    [Fact]
    public void Wrong_input_length_names_the_expected_size()
    {
        var model = new ReluNet(IsaPath.Portable);
        var ex = Assert.Throws<ArgumentException>(() => model.TrainStep(new float[19 * 3 - 1], new int[3], 3));
        Assert.Equal("inputs", ex.ParamName);
        Assert.Contains("expected batch × InputSize = 3 × 19 = 57", ex.Message);
        var output = Assert.Throws<ArgumentException>(() => model.Predict(new float[19 * 2], new float[7], 2));
        Assert.Contains("expected batch × OutputSize = 2 × 5 = 10", output.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(-1)]
    public void Batch_outside_one_to_MaxBatch_is_rejected(int batch)
    {
        var model = new ReluNet(IsaPath.Portable);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(new float[19 * Math.Max(batch, 0)], new float[5 * Math.Max(batch, 0)], batch));
        Assert.Contains("MaxBatch (16)", ex.Message);
    }

    [Fact]
    public void Label_out_of_range_names_the_row_and_the_valid_range()
    {
        var model = new ReluNet(IsaPath.Portable);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(new float[19 * 3], new[] { 0, 4, 5 }, 3));
        Assert.Contains("labels[2] = 5", ex.Message);
        Assert.Contains("expected 0 to 4", ex.Message);
        var binary = new BinaryNet(IsaPath.Portable);
        Assert.Throws<ArgumentOutOfRangeException>(() => binary.TrainStep(new float[19], new[] { 2 }, 1));
        var evaluation = Assert.Throws<ArgumentOutOfRangeException>(() => model.Evaluate(new float[19 * 20], Enumerable.Repeat(1, 19).Append(-1).ToArray(), 20));
        Assert.Contains("labels[19] = -1", evaluation.Message);
    }

    [Fact]
    public void Losses_reject_the_wrong_kind_of_target()
    {
        Assert.Throws<NotSupportedException>(() => new RegressionNet(IsaPath.Portable).TrainStep(new float[19], new[] { 0 }, 1));
        Assert.Throws<NotSupportedException>(() => new HingeNet(IsaPath.Portable).TrainStep(new float[19], new float[5], 1));
    }

    [Fact]
    public void Same_seed_gives_identical_parameters_and_trajectories()
    {
        var a = new BnReluDropoutNet(IsaPath.Avx512);
        var b = new BnReluDropoutNet(IsaPath.Avx512);
        ModelCase c = ModelCases.Get("BnReluDropout");
        for (int step = 0; step < 5; step++)
        {
            (float[] x, int[] labels, _) = ModelCases.Batch(a, c, 16, (ulong)step);
            Assert.Equal(a.TrainStep(x, labels, 16), b.TrainStep(x, labels, 16));
        }
        foreach (TensorInfo t in a.Tensors)
            Assert.True(a.TensorData(t).SequenceEqual(b.TensorData(t)), t.Name);
    }

    [Fact]
    public void Initialisation_has_the_declared_statistics()
    {
        // BnReluDropoutNet's dense0 is Init.Auto before ReLU → He normal, std = sqrt(2/19).
        var model = new BnReluDropoutNet(IsaPath.Portable);
        double[] w = ModelCases.ToDouble(model.Dense0Weight);
        double std = Math.Sqrt(w.Select(v => v * v).Average());
        Assert.InRange(std, Math.Sqrt(2.0 / 19) * 0.85, Math.Sqrt(2.0 / 19) * 1.15);
        Assert.All(ModelCases.ToDouble(model.Bn0Gamma), g => Assert.Equal(1, g));
        Assert.All(ModelCases.ToDouble(model.Bn0RunningVariance), v => Assert.Equal(1, v));
        // dense1 has no activation after it → Glorot uniform, bound sqrt(6/(37+5)).
        double bound = Math.Sqrt(6.0 / 42);
        Assert.All(ModelCases.ToDouble(model.Dense1Weight), v => Assert.InRange(v, -bound, bound));
        Assert.True(ModelCases.ToDouble(model.Dense1Weight).Max() > bound * 0.8);
    }

    [Fact]
    public void Paths_agree_with_each_other()
    {
        ModelCase c = ModelCases.Get("BnGeluBnPReluVanillaDropout");
        var outputs = ModelCases.Paths.Select(p =>
        {
            IKilnModel model = c.Create(p);
            (float[] x, int[] labels, _) = ModelCases.Batch(model, c, 16, 1);
            for (int i = 0; i < 3; i++) { model.ResetNoise(7); model.TrainStep(x, labels, 16); }
            var y = new float[16 * 5];
            model.Predict(x, y, 16);
            return y;
        }).ToArray();
        for (int i = 0; i < outputs[0].Length; i++)
        {
            Assert.Equal(outputs[0][i], outputs[1][i], 4);
            Assert.Equal(outputs[0][i], outputs[2][i], 4);
        }
    }

    [Fact]
    public void Tensors_name_every_parameter_once_with_its_shape()
    {
        var model = new BnGeluPReluNet(IsaPath.Portable);
        string[] names = model.Tensors.Select(t => t.Name).ToArray();
        Assert.Equal(new[]
        {
            "dense0.weight", "dense0.bias", "bn0.gamma", "bn0.beta", "bn0.running_mean", "bn0.running_var",
            "dense1.weight", "bn1.gamma", "bn1.beta", "bn1.running_mean", "bn1.running_var", "prelu0.alpha",
            "dense2.weight", "dense2.bias",
        }, names);
        Assert.Equal(new[] { 19, 37 }, model.Tensors[0].Shape);
        Assert.Equal(BnGeluPReluNet.ParameterCount, model.Tensors.Where(t => t.Trainable).Sum(t => t.Length));
        Assert.Throws<ArgumentException>(() => model.LayerOutput("nope"));
    }

    [Fact]
    public void Layers_list_every_layer_in_forward_order_and_LayerOutput_accepts_each()
    {
        var model = new BnGeluPReluNet(IsaPath.Portable);
        var random = new Random(3);
        float[] x = Enumerable.Range(0, 4 * BnGeluPReluNet.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        model.ComputeGradients(x, new[] { 0, 1, 2, 0 }, 4);
        Assert.Equal(new[] { "dense0", "bn0", "gelu0", "dense1", "bn1", "prelu0", "dropout0", "dense2" }, model.Layers.Select(l => l.Name));
        Assert.Equal(new[] { "dense", "batchnorm", "gelu", "dense", "batchnorm", "prelu", "dropout", "dense" }, model.Layers.Select(l => l.Kind));
        foreach (LayerInfo layer in model.Layers)
            Assert.Equal(4 * layer.OutputShape[0], model.LayerOutput(layer.Name).Length);
        Assert.Equal(BnGeluPReluNet.OutputSize, model.Layers[^1].OutputShape[0]);
    }
}
