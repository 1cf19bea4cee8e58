using System;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>
/// The generated backward pass against central finite differences of an independent double
/// reference, for every activation, loss, Dense (with and without bias), BatchNorm and Dropout
/// (fixed mask), on each forced ISA path.
/// Bounds: the model's float loss within 1e-4 (relative) of the reference; each tensor's gradient
/// within 1e-3 relative error ‖g − g_fd‖ / (‖g‖ + ‖g_fd‖) (float32 arithmetic against double).
/// </summary>
public sealed class GradientCheckTests
{
    private const int Batch = 7;

    [Theory]
    [MemberData(nameof(ModelCases.CasesOnEveryPath), MemberType = typeof(ModelCases))]
    [MemberData(nameof(ModelCases.SpatialCasesOnEveryPath), MemberType = typeof(ModelCases))]
    public void Gradients_match_finite_differences(string name, IsaPath path)
    {
        ModelCase c = ModelCases.Get(name);
        IKilnModel model = c.Create(path);
        // Move off the initial point so BatchNorm's γ/β and PReLU's α are not at their defaults.
        Perturb(model, 0.05, seed: 21);
        (float[] x, int[] labels, float[] targets) = ModelCases.Batch(model, c, Batch, seed: 5);

        model.ResetNoise(99);
        float loss = c.FloatTargets ? model.ComputeGradients(x, targets, Batch) : model.ComputeGradients(x, labels, Batch);

        var reference = new ReferenceNet(model, c.Loss, c.Ops);
        foreach (var (tensor, l2, l1) in c.Penalties ?? Array.Empty<(string, double, double)>()) reference.Penalties[tensor] = (l2, l1);
        reference.CaptureMasks(model, layer => model.LayerOutput(layer).ToArray());
        double[] xd = x.Select(v => (double)v).ToArray();
        double[] td = targets.Select(v => (double)v).ToArray();
        Func<double> referenceLoss = c.FloatTargets
            ? () => reference.LossWithTargets(xd, td, Batch, training: true)
            : () => reference.LossWithLabels(xd, labels, Batch, training: true);

        double expectedLoss = referenceLoss();
        Assert.True(Math.Abs(loss - expectedLoss) <= 1e-4 * Math.Max(1, Math.Abs(expectedLoss)),
            $"{name} on {path}: loss {loss} but the double reference gives {expectedLoss}");

        foreach (TensorInfo tensor in model.Tensors.Where(t => t.Trainable))
        {
            double[] analytic = ModelCases.ToDouble(model.TensorGradient(tensor));
            double[] numeric = reference.NumericGradient(tensor.Name, referenceLoss);
            // A bias right before BatchNorm has an exactly zero gradient (β absorbs it): there the
            // floor of 1e-4 turns the bound into an absolute one instead of comparing float noise to 0.
            if (IsBiasBeforeBatchNorm(model, tensor) && Norm(numeric) < 1e-6)
            {
                // Exactly zero in exact arithmetic (no penalty on it); float rounding over batch·pixels rows leaves ~1e-7.
                Assert.True(Norm(analytic) < 1e-5 && Norm(numeric) < 1e-5, $"{name} on {path}: {tensor.Name} before BatchNorm should have a zero gradient (‖g‖ = {Norm(analytic):E2}, ‖g_fd‖ = {Norm(numeric):E2})");
                continue;
            }
            double error = ModelCases.RelativeError(analytic, numeric, floor: 1e-4);
            Assert.True(error < 1e-3, $"{name} on {path}: {tensor.Name} relative gradient error {error:E2} (‖g‖ = {Norm(analytic):E2}, ‖g_fd‖ = {Norm(numeric):E2})");
            Assert.True(Norm(numeric) > 1e-4 || IsBiasBeforeBatchNorm(model, tensor), $"{tensor.Name} has a zero gradient: the check would prove nothing");
        }
    }

    [Theory]
    [MemberData(nameof(ModelCases.CasesOnEveryPath), MemberType = typeof(ModelCases))]
    [MemberData(nameof(ModelCases.SpatialCasesOnEveryPath), MemberType = typeof(ModelCases))]
    public void Predict_matches_the_eval_mode_reference(string name, IsaPath path)
    {
        ModelCase c = ModelCases.Get(name);
        IKilnModel model = c.Create(path);
        (float[] x, int[] labels, float[] targets) = ModelCases.Batch(model, c, Batch, seed: 8);
        // A few steps so running statistics and weights move away from their initial values.
        for (int i = 0; i < 5; i++)
        {
            if (c.FloatTargets) model.TrainStep(x, targets, Batch);
            else model.TrainStep(x, labels, Batch);
        }

        var output = new float[Batch * model.OutputSize];
        model.Predict(x, output, Batch);

        var reference = new ReferenceNet(model, c.Loss, c.Ops);
        double[] z = reference.Forward(x.Select(v => (double)v).ToArray(), Batch, training: false);
        double[] expected = c.Loss switch
        {
            LossKind.SoftmaxCrossEntropy => Softmax(z, model.OutputSize),
            LossKind.BinaryCrossEntropy => z.Select(v => 1 / (1 + Math.Exp(-v))).ToArray(),
            _ => z,
        };
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(output[i] - expected[i]) <= 2e-5 + 2e-4 * Math.Abs(expected[i]),
                $"{name} on {path}: output[{i}] = {output[i]} but the eval-mode reference gives {expected[i]}");
    }

    private static bool IsBiasBeforeBatchNorm(IKilnModel model, TensorInfo tensor)
    {
        if (tensor.Role != TensorRole.Bias) return false;
        int index = model.Tensors.ToList().IndexOf(tensor);
        return index + 1 < model.Tensors.Count && model.Tensors[index + 1].Role == TensorRole.Gamma;
    }

    internal static void Perturb(IKilnModel model, double amount, ulong seed)
    {
        var rng = new KilnRandom(seed);
        foreach (TensorInfo t in model.Tensors.Where(t => t.Trainable && t.Role != TensorRole.Weight))
        {
            Span<float> data = model.TensorData(t);
            for (int i = 0; i < data.Length; i++) data[i] += (float)(amount * (2 * rng.NextDouble() - 1) * (t.Role == TensorRole.Gamma ? 4 : 1));
        }
    }

    /// <summary>Row-wise softmax in double (the reference of Predict for softmax cross-entropy models).</summary>
    internal static double[] Softmax(double[] z, int width)
    {
        var p = new double[z.Length];
        for (int r = 0; r < z.Length / width; r++)
        {
            double max = Enumerable.Range(0, width).Max(j => z[r * width + j]);
            double sum = Enumerable.Range(0, width).Sum(j => Math.Exp(z[r * width + j] - max));
            for (int j = 0; j < width; j++) p[r * width + j] = Math.Exp(z[r * width + j] - max) / sum;
        }
        return p;
    }

    private static double Norm(double[] v) => Math.Sqrt(v.Sum(a => a * a));
}
