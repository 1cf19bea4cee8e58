using System;
using System.Linq;
using Kiln.Kernels;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>
/// BatchNorm2D's training forward and backward with the batch's samples split across the worker pool (each thread
/// its samples, per-channel partial sums combined), against the double reference: loss, then dγ, dβ and the
/// convolution's gradients (which flow through BatchNorm's dL/dz) by finite differences of the reference loss.
/// </summary>
public sealed class BatchNormSplitModelTests
{
    private const int Batch = 128;

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Row_split_BatchNorm2D_matches_the_double_reference(IsaPath path)
    {
        // The split only happens with more than one thread; with one core the check still holds (one part).
        Assert.True(WorkerPool.Shared.Parallelism >= 1);
        var c = new ModelCase("WideBatchCnn", p => new WideBatchCnn(p), LossKind.SoftmaxCrossEntropy, new RefOp[]
        {
            new RefImage(1, 12, 12), new RefConv("conv0", 3, 3, Padding: 1), new RefBatchNorm("bn0"), new RefActivation("ReLU"),
            new RefDropout("dropout0", 0.2), new RefGlobalAvgPool(), new RefDense("dense0"),
        });
        IKilnModel model = c.Create(path);
        GradientCheckTests.Perturb(model, 0.05, seed: 3);
        (float[] x, int[] labels, _) = ModelCases.Batch(model, c, Batch, seed: 4);
        model.ResetNoise(7);
        float loss = model.ComputeGradients(x, labels, Batch);

        var reference = new ReferenceNet(model, c.Loss, c.Ops);
        reference.CaptureMasks(model, layer => model.LayerOutput(layer).ToArray());
        double[] xd = x.Select(v => (double)v).ToArray();
        Func<double> referenceLoss = () => reference.LossWithLabels(xd, labels, Batch, training: true);
        Assert.True(Math.Abs(loss - referenceLoss()) <= 1e-4 * Math.Max(1, Math.Abs(referenceLoss())), $"{path}: loss {loss} vs {referenceLoss()}");

        foreach (string name in new[] { "bn0.gamma", "bn0.beta", "conv0.weight" })
        {
            TensorInfo tensor = model.Tensors.Single(t => t.Name == name);
            double[] analytic = ModelCases.ToDouble(model.TensorGradient(tensor));
            double[] numeric = reference.NumericGradient(name, referenceLoss);
            double error = ModelCases.RelativeError(analytic, numeric, floor: 1e-4);
            Assert.True(error < 1e-3, $"{path}: {name} relative gradient error {error:E2}");
        }
    }
}
