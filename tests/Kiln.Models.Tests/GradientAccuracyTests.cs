using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Models.Tests;

/// <summary>
/// How close the benchmark CNN's first-step float32 gradients come to analytic double gradients of the same step
/// (<see cref="DoubleBackprop"/>: same weights, inputs and dropout mask) at batch 64, where BatchNorm2D and the
/// convolutions' dW and bias gradients reduce over 64·784 = 50,176 rows. Norm-wise relative error per tensor,
/// ‖g − g64‖ / ‖g64‖; PyTorch's float32 CPU gradients of this network reach about 1.8e-5 (docs/architecture.md,
/// "Reductions"). The bound is that of float rounding of the forward activations, not of the reductions.
/// </summary>
public sealed class GradientAccuracyTests
{
    private const int Batch = 64;

    /// <summary>The largest per-tensor relative error allowed (float32 arithmetic against double).</summary>
    private const double Bound = 2e-6;

    private readonly ITestOutputHelper _output;

    public GradientAccuracyTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void Benchmark_cnn_first_step_gradients_match_double_backprop(IsaPath path)
    {
        RefOp[] ops =
        {
            new RefImage(1, 28, 28), new RefConv("conv0", 5, 5, Padding: 2), new RefBatchNorm("bn0"), new RefActivation("ReLU"), new RefMaxPool(2, 2),
            new RefConv("conv1", 5, 5, Padding: 2), new RefBatchNorm("bn1"), new RefActivation("ReLU"), new RefMaxPool(2, 2),
            new RefFlatten(), new RefDense("dense0"), new RefActivation("ReLU"), new RefDropout("dropout0", 0.3), new RefDense("dense1"),
        };
        var c = new ModelCase("BenchmarkCnn", p => new BenchmarkCnn(p), LossKind.SoftmaxCrossEntropy, ops);
        IKilnModel model = c.Create(path);
        (float[] x, int[] labels) = FashionLike(Batch, seed: 42);
        model.ResetNoise(5);
        float loss = model.ComputeGradients(x, labels, Batch);

        var reference = new ReferenceNet(model, c.Loss, ops);
        reference.CaptureMasks(model, layer => model.LayerOutput(layer).ToArray());
        (double referenceLoss, Dictionary<string, double[]> expected) =
            new DoubleBackprop(reference, model.InputSize, ops).Run(x.Select(v => (double)v).ToArray(), labels, Batch);
        Assert.True(Math.Abs(loss - referenceLoss) <= 1e-5 * Math.Abs(referenceLoss), $"{path}: loss {loss} vs {referenceLoss}");

        double worst = 0;
        foreach (TensorInfo tensor in model.Tensors.Where(t => t.Trainable))
        {
            double[] analytic = ModelCases.ToDouble(model.TensorGradient(tensor)), exact = expected[tensor.Name];
            double norm = Math.Sqrt(exact.Sum(v => v * v)), diff = Math.Sqrt(analytic.Zip(exact, (p, q) => (p - q) * (p - q)).Sum());
            if (norm < 1e-9)
            {
                // A convolution's bias right before BatchNorm: zero in exact arithmetic (β absorbs it).
                _output.WriteLine($"{path} {tensor.Name}: exact gradient 0, float ‖g‖ = {diff:E2}");
                Assert.True(diff < 1e-6, $"{path}: {tensor.Name} should have a (near) zero gradient, ‖g‖ = {diff:E2}");
                continue;
            }
            double error = diff / norm;
            worst = Math.Max(worst, error);
            _output.WriteLine($"{path} {tensor.Name}: relative error {error:E2} (‖g64‖ = {norm:E2})");
        }
        _output.WriteLine($"{path}: worst {worst:E2}");
        Assert.True(worst <= Bound, $"{path}: a relative error of {worst:E2} against double backprop exceeds {Bound:E0} (per tensor in the output)");
    }

    /// <summary>
    /// Images shaped like standardised Fashion-MNIST: about half the pixels background (0 before standardising), the
    /// rest in (0.2, 1), standardised with the distribution's mean 0.3 and deviation 0.36, so every channel's
    /// statistics have |mean| comparable to the deviation, as on the real data.
    /// </summary>
    internal static (float[] X, int[] Labels) FashionLike(int batch, ulong seed)
    {
        var rng = new KilnRandom(seed);
        var x = new float[batch * 784];
        for (int i = 0; i < x.Length; i++)
        {
            double v = rng.NextDouble() < 0.5 ? 0 : 0.2 + 0.8 * rng.NextDouble();
            x[i] = (float)((v - 0.3) / 0.36);
        }
        int[] labels = Enumerable.Range(0, batch).Select(_ => rng.NextInt(10)).ToArray();
        return (x, labels);
    }
}
