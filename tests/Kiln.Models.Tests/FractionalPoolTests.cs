using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>Fractional max pooling: random regions per step in training (gradients vs finite differences with those regions), averaged fixed layouts at test.</summary>
public sealed class FractionalPoolTests
{
    private static readonly RefOp[] Ops =
    {
        new RefImage(2, 9, 9), new RefConv("conv0", 3, 3, Padding: 1), new RefActivation("ReLU"),
        new RefFractionalMaxPool("fractionalmaxpool0", 6, 6, 3), new RefFlatten(), new RefDense("dense0"),
    };

    private static (float[] X, int[] Labels) Batch(int seed)
    {
        var rng = new KilnRandom((ulong)seed);
        var x = new float[7 * FractionalPoolCnn.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
        return (x, Enumerable.Range(0, 7).Select(i => i % 3).ToArray());
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Gradients_with_the_steps_regions_match_finite_differences(IsaPath path)
    {
        var model = new FractionalPoolCnn(path);
        (float[] x, int[] labels) = Batch(4);
        double[] xd = x.Select(v => (double)v).ToArray();
        var layouts = new System.Collections.Generic.HashSet<string>();
        for (ulong seed = 0; seed < 3; seed++)
        {
            model.ResetNoise(seed);
            float loss = model.ComputeGradients(x, labels, 7);
            int[] rows = model.Fractionalmaxpool0RowStarts.ToArray(), cols = model.Fractionalmaxpool0ColumnStarts.ToArray();
            layouts.Add(string.Join(",", rows) + "|" + string.Join(",", cols));
            Assert.Equal(0, rows[0]);
            Assert.Equal(9, rows[^1]);
            Assert.All(Enumerable.Range(0, 6), i => Assert.InRange(rows[i + 1] - rows[i], 1, 2)); // disjoint regions of 1 or 2 cells (α = 1.5)

            var reference = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, Ops);
            reference.Regions["fractionalmaxpool0"] = (rows, cols);
            Func<double> referenceLoss = () => reference.LossWithLabels(xd, labels, 7, training: true);
            Assert.True(Math.Abs(loss - referenceLoss()) <= 1e-4 * Math.Max(1, Math.Abs(loss)), $"loss {loss} vs {referenceLoss()}");
            foreach (TensorInfo tensor in model.Tensors.Where(t => t.Trainable))
            {
                double[] analytic = ModelCases.ToDouble(model.TensorGradient(tensor));
                double[] numeric = reference.NumericGradient(tensor.Name, referenceLoss);
                Assert.True(ModelCases.RelativeError(analytic, numeric, floor: 1e-4) < 1e-3, $"{path}: {tensor.Name}");
            }
        }
        Assert.True(layouts.Count > 1, "the regions should change from one training step to the next");
    }

    [Fact]
    public void Predict_averages_the_fixed_layouts()
    {
        var model = new FractionalPoolCnn(IsaPath.Avx512);
        (float[] x, int[] labels) = Batch(5);
        for (int i = 0; i < 3; i++) model.TrainStep(x, labels, 7);
        var output = new float[7 * 3];
        model.Predict(x, output, 7);
        double[] z = new ReferenceNet(model, LossKind.SoftmaxCrossEntropy, Ops).Forward(x.Select(v => (double)v).ToArray(), 7, training: false);
        double[] expected = GradientCheckTests.Softmax(z, 3);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], output[i], 4);
        Assert.Equal(new[] { 4, 6, 6 }, model.Layers.Single(l => l.Kind == "fractionalmaxpool").OutputShape);
    }
}
