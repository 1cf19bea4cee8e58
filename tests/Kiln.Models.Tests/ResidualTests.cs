using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>Stochastic depth and zero-initialised residual branches against the double reference.</summary>
public sealed class ResidualTests
{
    private static readonly RefOp[] Ops =
    {
        new RefImage(2, 5, 5), new RefConv("conv0", 3, 3, Padding: 1), new RefActivation("ReLU"),
        new RefResidualStart(), new RefConv("conv1", 3, 3, Padding: 1), new RefActivation("ReLU"), new RefConv("conv2", 3, 3, Padding: 1),
        new RefResidualEnd("residual0", Survival: 0.5), new RefFlatten(), new RefDense("dense0"),
    };

    private static (float[] X, int[] Labels) Batch(int seed)
    {
        var rng = new KilnRandom((ulong)seed);
        var x = new float[7 * StochasticDepthCnn.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        return (x, Enumerable.Range(0, 7).Select(i => i % 3).ToArray());
    }

    [Fact]
    public void Zero_initialised_last_layer_makes_the_block_start_as_the_identity()
    {
        var model = new StochasticDepthCnn(IsaPath.Avx512);
        Assert.All(model.TensorData(model.Tensors.Single(t => t.Name == "conv2.weight")).ToArray(), w => Assert.Equal(0f, w));
        Assert.Contains(model.TensorData(model.Tensors.Single(t => t.Name == "conv1.weight")).ToArray(), w => w != 0f);
        (float[] x, int[] labels) = Batch(1);
        model.ComputeGradients(x, labels, 7);
        Assert.Equal(model.LayerOutput("relu0").ToArray(), model.LayerOutput("residual0").ToArray());
        Assert.Contains("residual", model.Layers.Select(l => l.Kind));
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Both_gates_are_drawn_and_each_matches_the_reference(IsaPath path)
    {
        var model = new StochasticDepthCnn(path);
        // Move the zero-initialised weights so the branch matters.
        var rng = new KilnRandom(3);
        Span<float> w2 = model.TensorData(model.Tensors.Single(t => t.Name == "conv2.weight"));
        for (int i = 0; i < w2.Length; i++) w2[i] = (float)(0.3 * ModelCases.Gaussian(ref rng));
        (float[] x, int[] labels) = Batch(2);
        double[] xd = x.Select(v => (double)v).ToArray();
        bool[] seen = new bool[2];
        int kept = 0, draws = 0;
        for (ulong seed = 0; seed < 40; seed++)
        {
            model.ResetNoise(seed);
            float loss = model.ComputeGradients(x, labels, 7);
            float gate = model.Residual0Gate;
            Assert.True(gate is 0f or 1f, $"gate {gate}");
            seen[(int)gate] = true;
            kept += (int)gate;
            draws++;
            var reference = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, Ops);
            reference.Gates["residual0"] = gate;
            Func<double> referenceLoss = () => reference.LossWithLabels(xd, labels, 7, training: true);
            Assert.True(Math.Abs(loss - referenceLoss()) <= 1e-4 * Math.Max(1, Math.Abs(loss)), $"gate {gate}: loss {loss} vs {referenceLoss()}");
            if (seed > 3) continue; // finite differences for the first few draws only
            foreach (TensorInfo tensor in model.Tensors.Where(t => t.Trainable))
            {
                double[] analytic = ModelCases.ToDouble(model.TensorGradient(tensor));
                double[] numeric = reference.NumericGradient(tensor.Name, referenceLoss);
                Assert.True(ModelCases.RelativeError(analytic, numeric, floor: 1e-4) < 1e-3, $"gate {gate}: {tensor.Name}");
            }
        }
        Assert.True(seen[0] && seen[1], "40 draws with survival 0.5 should keep and skip the block");
        Assert.InRange(kept / (double)draws, 0.25, 0.75);

        // Test time: every block, the branch scaled by its survival probability.
        var output = new float[7 * 3];
        model.Predict(x, output, 7);
        double[] z = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, Ops).Forward(xd, 7, training: false);
        double[] expected = GradientCheckTests.Softmax(z, 3);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], output[i], 4);
    }

    private static readonly RefOp[] ProjectionOps =
    {
        new RefImage(2, 7, 7), new RefConv("conv0", 3, 3, Padding: 1), new RefActivation("ReLU"),
        new RefResidualStart(), new RefConv("conv1", 3, 3, Stride: 2, Padding: 1), new RefBatchNorm("bn0"), new RefActivation("ReLU"), new RefConv("conv2", 3, 3, Padding: 1),
        new RefResidualEnd("residual0", Projection: true), new RefActivation("ReLU"), new RefFlatten(), new RefDense("dense0"),
    };

    private static readonly RefOp[] MixedProjectionOps =
    {
        new RefImage(2, 4, 4), new RefConv("conv0", 3, 3, Padding: 1), new RefActivation("ReLU"),
        new RefResidualStart(), new RefConv("conv1", 3, 3, Padding: 1), new RefResidualEnd("residual0", Survival: 0.5, Projection: true), new RefActivation("ReLU"),
        new RefFlatten(), new RefDense("dense0"), new RefActivation("Tanh"),
        new RefResidualStart(), new RefDense("dense1"), new RefActivation("Tanh"), new RefResidualEnd("residual1", Projection: true), new RefDense("dense2"),
    };

    private static (float[] X, int[] Labels) Batch(int seed, int inputSize)
    {
        var rng = new KilnRandom((ulong)seed);
        var x = new float[7 * inputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        return (x, Enumerable.Range(0, 7).Select(i => i % 3).ToArray());
    }

    private static void CheckGradients(IKilnModel model, ReferenceNet reference, float loss, Func<double> referenceLoss, string what)
    {
        Assert.True(Math.Abs(loss - referenceLoss()) <= 1e-4 * Math.Max(1, Math.Abs(loss)), $"{what}: loss {loss} vs {referenceLoss()}");
        foreach (TensorInfo tensor in model.Tensors.Where(t => t.Trainable))
        {
            double[] analytic = ModelCases.ToDouble(model.TensorGradient(tensor));
            double[] numeric = reference.NumericGradient(tensor.Name, referenceLoss);
            Assert.True(ModelCases.RelativeError(analytic, numeric, floor: 1e-4) < 1e-3, $"{what}: {tensor.Name}");
        }
    }

    [Fact]
    public void Projection_shortcut_is_a_trainable_He_initialised_1x1_convolution_without_bias()
    {
        var model = new ProjectionCnn(IsaPath.Portable);
        TensorInfo projection = model.Tensors.Single(t => t.Name == "residual0.projection");
        Assert.True(projection.Trainable);
        Assert.Equal(new[] { 1, 1, 4, 8 }, projection.Shape.ToArray());
        Assert.DoesNotContain(model.Tensors, t => t.Name.StartsWith("residual0.", StringComparison.Ordinal) && t != projection);
        double[] w = ModelCases.ToDouble(model.TensorData(projection));
        double std = Math.Sqrt(w.Select(v => v * v).Average());
        Assert.InRange(std, 0.5 * Math.Sqrt(2.0 / 4), 1.5 * Math.Sqrt(2.0 / 4)); // He: sqrt(2 / C_in)
        Assert.Equal(new[] { 8, 4, 4 }, model.Layers.Single(l => l.Name == "residual0").OutputShape);

        // Training moves the projection like any other weight.
        (float[] x, int[] labels) = Batch(4, ProjectionCnn.InputSize);
        float[] before = model.TensorData(projection).ToArray();
        model.TrainStep(x, labels, 7);
        Assert.NotEqual(before, model.TensorData(projection).ToArray());
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Projection_block_gradients_and_eval_match_the_reference(IsaPath path)
    {
        var model = new ProjectionCnn(path);
        (float[] x, int[] labels) = Batch(5, ProjectionCnn.InputSize);
        double[] xd = x.Select(v => (double)v).ToArray();
        float loss = model.ComputeGradients(x, labels, 7);
        var reference = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, ProjectionOps);
        CheckGradients(model, reference, loss, () => reference.LossWithLabels(xd, labels, 7, training: true), path.ToString());

        // Eval: running statistics, the projection on the shortcut.
        var output = new float[7 * 3];
        model.Predict(x, output, 7);
        double[] z = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, ProjectionOps).Forward(xd, 7, training: false);
        double[] expected = GradientCheckTests.Softmax(z, 3);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], output[i], 4);
        // Batch-1 inference takes the small-batch paths.
        var single = new float[3];
        model.Predict(x.AsSpan(0, ProjectionCnn.InputSize), single, 1);
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], single[i], 4);
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Stride_one_and_dense_projections_match_the_reference(IsaPath path)
    {
        var model = new ProjectionMixedCnn(path);
        Assert.Equal(new[] { 1, 1, 4, 6 }, model.Tensors.Single(t => t.Name == "residual0.projection").Shape.ToArray());
        Assert.Equal(new[] { 5, 4 }, model.Tensors.Single(t => t.Name == "residual1.projection").Shape.ToArray());
        (float[] x, int[] labels) = Batch(6, ProjectionMixedCnn.InputSize);
        double[] xd = x.Select(v => (double)v).ToArray();
        for (ulong seed = 0; seed < 2; seed++)
        {
            model.ResetNoise(seed * 7 + 1);
            float loss = model.ComputeGradients(x, labels, 7);
            var reference = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, MixedProjectionOps);
            reference.Gates["residual0"] = model.Residual0Gate;
            CheckGradients(model, reference, loss, () => reference.LossWithLabels(xd, labels, 7, training: true), $"{path}, gate {model.Residual0Gate}");
        }
        var output = new float[7 * 3];
        model.Predict(x, output, 7);
        double[] expected = GradientCheckTests.Softmax(new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, MixedProjectionOps).Forward(xd, 7, training: false), 3);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], output[i], 4);
    }

    [Fact]
    public void Projection_network_fits_a_fixed_batch()
    {
        var model = new ProjectionCnn(IsaPath.Avx2);
        var rng = new KilnRandom(9);
        var x = new float[8 * ProjectionCnn.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        int[] labels = Enumerable.Range(0, 8).Select(i => i % 3).ToArray();
        float first = model.TrainStep(x, labels, 8), last = first;
        for (int step = 0; step < 40; step++) last = model.TrainStep(x, labels, 8);
        Assert.True(last < 0.5f * first, $"loss {first} → {last}");
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Portable)]
    public void Parallel_projection_stages_give_the_mean_of_sub_batch_gradients(IsaPath path)
    {
        var model = new WideProjectionCnn(path);
        var rng = new KilnRandom(11);
        var x = new float[64 * WideProjectionCnn.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        int[] labels = Enumerable.Range(0, 64).Select(i => i % 3).ToArray();
        TensorInfo[] trainable = model.Tensors.Where(t => t.Trainable).ToArray();
        model.ComputeGradients(x, labels, 64);
        double[][] whole = trainable.Select(t => ModelCases.ToDouble(model.TensorGradient(t))).ToArray();
        var mean = trainable.Select(t => new double[t.Length]).ToArray();
        for (int b = 0; b < 8; b++)
        {
            model.ComputeGradients(x.AsSpan(b * 8 * WideProjectionCnn.InputSize, 8 * WideProjectionCnn.InputSize), labels.AsSpan(b * 8, 8), 8);
            for (int t = 0; t < trainable.Length; t++)
            {
                double[] g = ModelCases.ToDouble(model.TensorGradient(trainable[t]));
                for (int i = 0; i < g.Length; i++) mean[t][i] += g[i] / 8;
            }
        }
        for (int t = 0; t < trainable.Length; t++)
            Assert.True(ModelCases.RelativeError(whole[t], mean[t], floor: 1e-5) < 1e-4, trainable[t].Name);
    }
}
