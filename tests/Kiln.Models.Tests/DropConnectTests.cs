using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>DropConnect: gradients with the step's fixed weight masks vs finite differences, and all weights at test.</summary>
public sealed class DropConnectTests
{
    private static readonly RefOp[] Ops =
    {
        new RefImage(1, 6, 6), new RefConv("conv0", 3, 3, Padding: 1), new RefActivation("ReLU"), new RefMaxPool(2, 2), new RefFlatten(),
        new RefDense("dense0"), new RefActivation("Tanh"), new RefDense("dense1"),
    };

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Gradients_with_the_masks_match_finite_differences(IsaPath path)
    {
        var model = new DropConnectCnn(path);
        (float[] x, int[] labels, _) = ModelCases.Batch(model, new ModelCase("DropConnect", _ => model, LossKind.SoftmaxCrossEntropy, Ops), 7, seed: 5);
        float loss = model.ComputeGradients(x, labels, 7);

        var reference = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, Ops);
        double[] conv0Mask = ModelCases.ToDouble(model.Conv0DropConnectMask), dense0Mask = ModelCases.ToDouble(model.Dense0DropConnectMask);
        reference.WeightMasks["conv0"] = conv0Mask;
        reference.WeightMasks["dense0"] = dense0Mask;
        // The masks really drop weights, at about the declared rates (within 3.5 binomial standard deviations: conv0 has
        // only 36 weights), and scale the rest by 1/keep.
        static void DropsAboutRate(double[] mask, double rate)
        {
            double dropped = mask.Count(m => m == 0), sd = Math.Sqrt(mask.Length * rate * (1 - rate));
            Assert.InRange(dropped, Math.Max(1, mask.Length * rate - 3.5 * sd), mask.Length * rate + 3.5 * sd);
        }
        DropsAboutRate(conv0Mask, 0.3);
        DropsAboutRate(dense0Mask, 0.5);
        Assert.All(dense0Mask.Where(m => m != 0), m => Assert.Equal(2.0, m, 5));

        double[] xd = x.Select(v => (double)v).ToArray();
        Func<double> referenceLoss = () => reference.LossWithLabels(xd, labels, 7, training: true);
        Assert.True(Math.Abs(loss - referenceLoss()) <= 1e-4 * Math.Max(1, Math.Abs(loss)), $"loss {loss} vs reference {referenceLoss()}");
        foreach (TensorInfo tensor in model.Tensors.Where(t => t.Trainable))
        {
            double[] analytic = ModelCases.ToDouble(model.TensorGradient(tensor));
            double[] numeric = reference.NumericGradient(tensor.Name, referenceLoss);
            double error = ModelCases.RelativeError(analytic, numeric, floor: 1e-4);
            Assert.True(error < 1e-3, $"{path}: {tensor.Name} relative gradient error {error:E2}");
        }
        // A dropped weight gets no gradient.
        float[] g = model.TensorGradient(model.Tensors.Single(t => t.Name == "dense0.weight")).ToArray();
        for (int i = 0; i < g.Length; i++) if (dense0Mask[i] == 0) Assert.Equal(0f, g[i]);
    }

    [Fact]
    public void Predict_uses_every_weight()
    {
        var model = new DropConnectCnn(IsaPath.Avx512);
        (float[] x, int[] labels, _) = ModelCases.Batch(model, new ModelCase("DropConnect", _ => model, LossKind.SoftmaxCrossEntropy, Ops), 7, seed: 6);
        for (int i = 0; i < 3; i++) model.TrainStep(x, labels, 7);
        var output = new float[7 * 3];
        model.Predict(x, output, 7);
        double[] z = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, Ops).Forward(x.Select(v => (double)v).ToArray(), 7, training: false);
        double[] expected = GradientCheckTests.Softmax(z, 3);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], output[i], 4);
    }
}
