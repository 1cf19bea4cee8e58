using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>
/// The update fused into the generated backward pass equals the docs/techniques.md#optimisers formulas computed
/// independently in double from the same gradients, over several steps (so momentum and Adam's
/// bias correction 1/(1−βᵗ) are exercised), on every ISA path. Bound: |w − w_ref| ≤ 1e-5·(1 + |w_ref|).
/// </summary>
public sealed class OptimizerStepTests
{
    public static TheoryData<string, IsaPath> Optimizers()
    {
        var data = new TheoryData<string, IsaPath>();
        foreach (string name in new[] { "Sgd", "Momentum", "Adam" })
            foreach (IsaPath p in ModelCases.Paths) data.Add(name, p);
        return data;
    }

    private static IKilnModel Create(string optimizer, IsaPath path) => optimizer switch
    {
        "Sgd" => new ReluNet(path),                // Sgd(0.1)
        "Momentum" => new BnGeluPReluNet(path),    // Momentum(0.05, Rho = 0.9)
        _ => new BnReluDropoutNet(path),           // Adam(1e-3), β1 0.9, β2 0.999, ε 1e-8
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Fused_update_matches_the_formula(string optimizer, IsaPath path)
    {
        IKilnModel model = Create(optimizer, path);
        IKilnModel probe = Create(optimizer, path); // same seed: computes the gradient at the same point
        ModelCase c = ModelCases.All.First(m => m.Create(path).GetType() == model.GetType());
        var trainable = model.Tensors.Where(t => t.Trainable).ToArray();
        var w = trainable.ToDictionary(t => t.Name, t => ModelCases.ToDouble(model.TensorData(t)));
        var m = trainable.ToDictionary(t => t.Name, t => new double[t.Length]);
        var v = trainable.ToDictionary(t => t.Name, t => new double[t.Length]);
        double lr = model.LearningRate;

        for (int step = 1; step <= 4; step++)
        {
            (float[] x, int[] labels, _) = ModelCases.Batch(model, c, 6, seed: (ulong)step);
            // The probe holds the same weights and BatchNorm statistics; its gradient is the one TrainStep will use.
            CopyState(model, probe);
            probe.ResetNoise((ulong)(1000 + step));
            probe.ComputeGradients(x, labels, 6);
            model.ResetNoise((ulong)(1000 + step));
            model.TrainStep(x, labels, 6);

            foreach (TensorInfo t in trainable)
            {
                double[] g = ModelCases.ToDouble(probe.TensorGradient(t));
                double[] wt = w[t.Name], mt = m[t.Name], vt = v[t.Name];
                for (int i = 0; i < wt.Length; i++)
                {
                    switch (optimizer)
                    {
                        case "Sgd":
                            wt[i] -= lr * g[i];
                            break;
                        case "Momentum":
                            mt[i] = 0.9 * mt[i] + g[i];
                            wt[i] -= lr * mt[i];
                            break;
                        default:
                            mt[i] = 0.9 * mt[i] + 0.1 * g[i];
                            vt[i] = 0.999 * vt[i] + 0.001 * g[i] * g[i];
                            double mHat = mt[i] / (1 - Math.Pow(0.9, step));
                            double vHat = vt[i] / (1 - Math.Pow(0.999, step));
                            wt[i] -= lr * mHat / (Math.Sqrt(vHat) + 1e-8);
                            break;
                    }
                }
                ReadOnlySpan<float> actual = model.TensorData(t);
                for (int i = 0; i < wt.Length; i++)
                    Assert.True(Math.Abs(actual[i] - wt[i]) <= 1e-5 * (1 + Math.Abs(wt[i])),
                        $"{optimizer} on {path}, step {step}: {t.Name}[{i}] = {actual[i]}, formula gives {wt[i]}");
                // Keep the reference on the model's float weights so rounding does not accumulate across steps.
                for (int i = 0; i < wt.Length; i++) wt[i] = actual[i];
            }
            Assert.Equal(step, model.Step);
        }
    }

    [Theory]
    [InlineData(IsaPath.Avx512)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Portable)]
    public void BatchNorm_running_statistics_follow_the_momentum_rule(IsaPath path)
    {
        var model = new BnGeluPReluNet(path); // bn0: momentum 0.2, bn1: momentum 0.1
        ModelCase c = ModelCases.Get("BnGeluBnPReluVanillaDropout");
        (float[] x, int[] labels, _) = ModelCases.Batch(model, c, 9, seed: 3);
        TensorInfo mean = model.Tensors.First(t => t.Name == "bn0.running_mean");
        TensorInfo variance = model.Tensors.First(t => t.Name == "bn0.running_var");
        double[] before = ModelCases.ToDouble(model.TensorData(mean));
        double[] beforeVar = ModelCases.ToDouble(model.TensorData(variance));

        model.TrainStep(x, labels, 9);
        double[] z = ModelCases.ToDouble(model.LayerOutput("dense0")); // pre-BN activations of this step
        for (int col = 0; col < 37; col++)
        {
            double mu = Enumerable.Range(0, 9).Average(r => z[r * 37 + col]);
            double unbiased = Enumerable.Range(0, 9).Sum(r => Math.Pow(z[r * 37 + col] - mu, 2)) / 8;
            Assert.Equal(0.8 * before[col] + 0.2 * mu, model.TensorData(mean)[col], 4);
            Assert.Equal(0.8 * beforeVar[col] + 0.2 * unbiased, model.TensorData(variance)[col], 4);
        }
    }

    private static void CopyState(IKilnModel from, IKilnModel to)
    {
        foreach (TensorInfo t in from.Tensors) from.TensorData(t).CopyTo(to.TensorData(to.Tensors.First(u => u.Name == t.Name)));
    }
}
