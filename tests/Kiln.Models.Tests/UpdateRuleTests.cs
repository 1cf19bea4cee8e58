using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>
/// The generated, fused update for every rule (docs/techniques.md#optimisers) with the penalties of docs/techniques.md#regularisation, the
/// default "weights only" rule and its override, per-layer learning-rate scales, and clipping by
/// value and by global norm — each step compared with the formulas computed independently in
/// double from the gradient the model computes at the same point. Bound: 2e-5·(1 + |w|).
/// </summary>
public sealed class UpdateRuleTests
{
    /// <summary>What the test expects of a model, written from the attribute list, not read from the generator.</summary>
    public sealed record Expectation(
        string Name, Func<IsaPath, IKilnModel> Create, string Rule, double Lr, double Beta1, double Beta2, double Epsilon,
        Func<TensorInfo, (double Scale, double L2, double L1, double Decay)> PerTensor, double ClipValue = 0, double ClipNorm = 0)
    {
        public override string ToString() => Name;
    }

    private static (double, double, double, double) Plain(TensorInfo t) => (1, 0, 0, 0);

    public static readonly Expectation[] All =
    {
        new("NesterovL2L1", p => new NesterovPenaltyNet(p), "Nesterov", 0.05, 0.9, 0, 0,
            // L2 and L1 reach Dense weights only; dense1 opted out with Regularize = false; dense0 learns at half rate.
            t => (t.Layer == "dense0" ? 0.5 : 1, t.Role == TensorRole.Weight && t.Layer == "dense0" ? 1e-2 : 0, t.Role == TensorRole.Weight && t.Layer == "dense0" ? 1e-3 : 0, 0)),
        new("AdaGradElasticAllClipValue", p => new AdaGradElasticNet(p), "AdaGrad", 0.05, 0, 0, 1e-7,
            // Elastic net λ(βW² + |W|) with ApplyTo = All: every tensor, L2 coefficient λβ, L1 coefficient λ.
            t => (t.Layer == "bn0" ? 2 : 1, 1e-2 * 0.3, 1e-2, 0), ClipValue: 0.05),
        new("RmsPropDecayClipNorm", p => new RmsPropClipNet(p), "RMSProp", 1e-3, 0.99, 0, 1e-7,
            t => (1, 0, 0, t.Role == TensorRole.Weight ? 1e-2 : 0), ClipNorm: 0.5),
        new("AdamW", p => new AdamWNet(p), "Adam", 1e-3, 0.9, 0.999, 1e-8, t => (1, 0, 0, t.Role == TensorRole.Weight ? 0.05 : 0)),
        new("MomentumVelocity", p => new VelocityNet(p), "Velocity", 0.05, 0.9, 0, 0, Plain),
    };

    public static TheoryData<string, IsaPath> Cases()
    {
        var data = new TheoryData<string, IsaPath>();
        foreach (Expectation e in All)
            foreach (IsaPath p in ModelCases.Paths) data.Add(e.Name, p);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Fused_update_matches_the_formulas(string name, IsaPath path)
    {
        Expectation e = All.First(x => x.Name == name);
        IKilnModel model = e.Create(path), probe = e.Create(path);
        var trainable = model.Tensors.Where(t => t.Trainable).ToArray();
        var w = trainable.ToDictionary(t => t.Name, t => ModelCases.ToDouble(model.TensorData(t)));
        var s1 = trainable.ToDictionary(t => t.Name, t => new double[t.Length]);
        var s2 = trainable.ToDictionary(t => t.Name, t => new double[t.Length]);
        var rng = new KilnRandom(3);

        for (int step = 1; step <= 4; step++)
        {
            var x = new float[8 * 19];
            for (int i = 0; i < x.Length; i++) x[i] = (float)ModelCases.Gaussian(ref rng);
            int[] labels = Enumerable.Range(0, 8).Select(_ => rng.NextInt(5)).ToArray();
            foreach (TensorInfo t in model.Tensors) model.TensorData(t).CopyTo(probe.TensorData(probe.Tensors.First(u => u.Name == t.Name)));
            probe.ComputeGradients(x, labels, 8);
            model.TrainStep(x, labels, 8);

            // ComputeGradients reports the data gradient plus the penalties' gradient; split them again.
            var data = new Dictionary<string, double[]>();
            foreach (TensorInfo t in trainable)
            {
                (_, double l2, double l1, _) = e.PerTensor(t);
                double[] g = ModelCases.ToDouble(probe.TensorGradient(t));
                for (int i = 0; i < g.Length; i++) g[i] -= 2 * l2 * w[t.Name][i] + l1 * Math.Sign(w[t.Name][i]);
                data[t.Name] = g;
            }
            double norm = Math.Sqrt(data.Values.Sum(g => g.Sum(v => v * v)));
            double clipScale = e.ClipNorm > 0 && norm > e.ClipNorm ? e.ClipNorm / norm : 1;

            foreach (TensorInfo t in trainable)
            {
                (double scale, double l2, double l1, double decay) = e.PerTensor(t);
                double alpha = e.Lr * scale;
                double[] wt = w[t.Name], m = s1[t.Name], v = s2[t.Name], gd = data[t.Name];
                for (int i = 0; i < wt.Length; i++)
                {
                    double g = gd[i] * clipScale;
                    if (e.ClipValue > 0) g = Math.Clamp(g, -e.ClipValue, e.ClipValue);
                    g += 2 * l2 * wt[i] + l1 * Math.Sign(wt[i]);
                    double old = wt[i];
                    switch (e.Rule)
                    {
                        case "Nesterov":
                        {
                            double prev = m[i];
                            m[i] = e.Beta1 * prev - alpha * g;
                            wt[i] += -e.Beta1 * prev + (1 + e.Beta1) * m[i];
                            break;
                        }
                        case "Velocity": m[i] = e.Beta1 * m[i] - alpha * g; wt[i] += m[i]; break;
                        case "AdaGrad": m[i] += g * g; wt[i] -= alpha * g / (Math.Sqrt(m[i]) + e.Epsilon); break;
                        case "RMSProp": m[i] = e.Beta1 * m[i] + (1 - e.Beta1) * g * g; wt[i] -= alpha * g / (Math.Sqrt(m[i]) + e.Epsilon); break;
                        default:
                            m[i] = e.Beta1 * m[i] + (1 - e.Beta1) * g;
                            v[i] = e.Beta2 * v[i] + (1 - e.Beta2) * g * g;
                            wt[i] -= alpha * (m[i] / (1 - Math.Pow(e.Beta1, step))) / (Math.Sqrt(v[i] / (1 - Math.Pow(e.Beta2, step))) + e.Epsilon);
                            break;
                    }
                    wt[i] -= alpha * decay * old;
                }
                ReadOnlySpan<float> actual = model.TensorData(t);
                for (int i = 0; i < wt.Length; i++)
                {
                    Assert.True(Math.Abs(actual[i] - wt[i]) <= 2e-5 * (1 + Math.Abs(wt[i])),
                        $"{name} on {path}, step {step}: {t.Name}[{i}] = {actual[i]}, formula {wt[i]}");
                    wt[i] = actual[i];
                }
            }
            if (e.ClipNorm > 0) Assert.Equal(norm, model.GradientNorm, 3);
        }
    }

    [Fact]
    public void SetLearningRateScale_zero_freezes_a_layer()
    {
        var model = new AdamWNet(IsaPath.Avx512);
        model.SetLearningRateScale("dense0", 0f);
        Assert.Equal(0f, model.GetLearningRateScale("dense0"));
        float[] before = model.Dense0Weight.ToArray(), head = model.Dense1Weight.ToArray();
        (float[] x, int[] labels, _) = ModelCases.Batch(model, ModelCases.Get("ReLU"), 8, 1);
        model.TrainStep(x, labels, 8);
        Assert.Equal(before, model.Dense0Weight.ToArray());
        Assert.NotEqual(head, model.Dense1Weight.ToArray());
        Assert.Throws<ArgumentException>(() => model.SetLearningRateScale("nope", 1f));
    }
}
