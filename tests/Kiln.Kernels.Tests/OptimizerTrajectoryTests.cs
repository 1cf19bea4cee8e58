using System;
using System.Collections.Generic;

namespace Kiln.Kernels.Tests;

/// <summary>
/// Every update rule (docs/techniques.md#optimisers), run for 150 steps by the float kernel on every ISA path, against an
/// independent double-precision implementation of the formula fed with its own iterate (two independent
/// trajectories). Problems: a quadratic ½xᵀAx with eigenvalues log-spaced from 1 to 100 (condition number
/// 100) and the Rosenbrock function on 17 independent pairs. Bound: |x_float − x_double| ≤ 2e-3·(1 + |x_double|)
/// at every step. Penalties, decoupled decay, clipping and the per-tensor learning-rate scale are checked
/// step by step against the same formulas.
/// </summary>
public sealed class OptimizerTrajectoryTests
{
    private const int Steps = 150;

    public sealed record Rule(OptimizerKind Kind, float Lr, float Beta1, float Beta2, float Epsilon)
    {
        public override string ToString() => Kind.ToString();
    }

    private static readonly Dictionary<(OptimizerKind, string), Rule> Settings = new()
    {
        [(OptimizerKind.Sgd, "quadratic")] = new(OptimizerKind.Sgd, 0.015f, 0f, 0f, 0f),
        [(OptimizerKind.Momentum, "quadratic")] = new(OptimizerKind.Momentum, 0.005f, 0.9f, 0f, 0f),
        [(OptimizerKind.MomentumVelocity, "quadratic")] = new(OptimizerKind.MomentumVelocity, 0.005f, 0.9f, 0f, 0f),
        [(OptimizerKind.Nesterov, "quadratic")] = new(OptimizerKind.Nesterov, 0.005f, 0.9f, 0f, 0f),
        [(OptimizerKind.AdaGrad, "quadratic")] = new(OptimizerKind.AdaGrad, 0.3f, 0f, 0f, 1e-7f),
        [(OptimizerKind.RMSProp, "quadratic")] = new(OptimizerKind.RMSProp, 0.01f, 0.99f, 0f, 1e-7f),
        [(OptimizerKind.Adam, "quadratic")] = new(OptimizerKind.Adam, 0.05f, 0.9f, 0.999f, 1e-8f),
        [(OptimizerKind.AdamW, "quadratic")] = new(OptimizerKind.AdamW, 0.05f, 0.9f, 0.999f, 1e-8f),
        [(OptimizerKind.Sgd, "rosenbrock")] = new(OptimizerKind.Sgd, 0.001f, 0f, 0f, 0f),
        [(OptimizerKind.Momentum, "rosenbrock")] = new(OptimizerKind.Momentum, 2e-4f, 0.9f, 0f, 0f),
        [(OptimizerKind.MomentumVelocity, "rosenbrock")] = new(OptimizerKind.MomentumVelocity, 2e-4f, 0.9f, 0f, 0f),
        [(OptimizerKind.Nesterov, "rosenbrock")] = new(OptimizerKind.Nesterov, 2e-4f, 0.9f, 0f, 0f),
        [(OptimizerKind.AdaGrad, "rosenbrock")] = new(OptimizerKind.AdaGrad, 0.05f, 0f, 0f, 1e-7f),
        [(OptimizerKind.RMSProp, "rosenbrock")] = new(OptimizerKind.RMSProp, 0.002f, 0.99f, 0f, 1e-7f),
        [(OptimizerKind.Adam, "rosenbrock")] = new(OptimizerKind.Adam, 0.01f, 0.9f, 0.999f, 1e-8f),
        [(OptimizerKind.AdamW, "rosenbrock")] = new(OptimizerKind.AdamW, 0.01f, 0.9f, 0.999f, 1e-8f),
    };

    public static TheoryData<IsaPath, OptimizerKind, string> Cases()
    {
        var data = new TheoryData<IsaPath, OptimizerKind, string>();
        foreach (IsaPath path in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            foreach (OptimizerKind kind in Enum.GetValues<OptimizerKind>())
                foreach (string problem in new[] { "quadratic", "rosenbrock" })
                    data.Add(path, kind, problem);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Trajectory_matches_the_double_formula(IsaPath path, OptimizerKind kind, string problem) =>
        Isa.Invoke(this, nameof(TrajectoryCore), path, kind, problem);

    private void TrajectoryCore<TIsa>(OptimizerKind kind, string problem) where TIsa : struct, ISimdPath
    {
        Rule rule = Settings[(kind, problem)];
        int n = problem == "quadratic" ? 37 : 34;
        double[] curvature = new double[n];
        for (int i = 0; i < n; i++) curvature[i] = Math.Pow(100, i / (double)(n - 1));
        Func<double[], double[]> gradient = problem == "quadratic"
            ? x => Quadratic(x, curvature)
            : Rosenbrock;
        float decay = kind == OptimizerKind.AdamW ? 0.01f : 0f;

        var xf = new float[n];
        var xd = new double[n];
        for (int i = 0; i < n; i++) xd[i] = xf[i] = problem == "quadratic" ? (float)(1 + 0.1 * i % 0.7) : (i % 2 == 0 ? -1.2f : 1f);
        var s1 = new float[n]; var s2 = new float[n];
        var r1 = new double[n]; var r2 = new double[n];
        double start = Distance(xd, problem);

        for (long t = 1; t <= Steps; t++)
        {
            double[] gf = gradient(Array.ConvertAll(xf, v => (double)v));
            var step = new OptimizerStep(kind, rule.Lr, rule.Beta1, rule.Beta2, rule.Epsilon, t).ForTensor(1f, 0f, 0f, decay);
            step.Apply<TIsa>(xf, Array.ConvertAll(gf, v => (float)v), s1, s2);
            ReferenceStep(rule, decay, t, xd, gradient(xd), r1, r2);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(xf[i] - xd[i]) <= 2e-3 * (1 + Math.Abs(xd[i])),
                    $"{kind} on {problem}, step {t}: x[{i}] = {xf[i]} but the double formula gives {xd[i]}");
        }
        // The settings make progress: every optimiser moves toward the optimum (AdaGrad slowly, as docs/techniques.md#optimisers says).
        Assert.True(Distance(xd, problem) < start, $"{kind} on {problem} did not approach the optimum");
    }

    /// <summary>The formulas (docs/techniques.md#optimisers) in double, one step.</summary>
    private static void ReferenceStep(Rule r, double decay, long t, double[] x, double[] g, double[] s1, double[] s2)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double old = x[i];
            switch (r.Kind)
            {
                case OptimizerKind.Sgd: x[i] -= r.Lr * g[i]; break;
                case OptimizerKind.Momentum: s1[i] = r.Beta1 * s1[i] + g[i]; x[i] -= r.Lr * s1[i]; break;
                case OptimizerKind.MomentumVelocity: s1[i] = r.Beta1 * s1[i] - r.Lr * g[i]; x[i] += s1[i]; break;
                case OptimizerKind.Nesterov:
                {
                    double v = s1[i];
                    s1[i] = r.Beta1 * v - r.Lr * g[i];
                    x[i] += -r.Beta1 * v + (1 + r.Beta1) * s1[i];
                    break;
                }
                case OptimizerKind.AdaGrad: s1[i] += g[i] * g[i]; x[i] -= r.Lr * g[i] / (Math.Sqrt(s1[i]) + r.Epsilon); break;
                case OptimizerKind.RMSProp:
                    s1[i] = r.Beta1 * s1[i] + (1 - r.Beta1) * g[i] * g[i];
                    x[i] -= r.Lr * g[i] / (Math.Sqrt(s1[i]) + r.Epsilon);
                    break;
                default:
                    s1[i] = r.Beta1 * s1[i] + (1 - r.Beta1) * g[i];
                    s2[i] = r.Beta2 * s2[i] + (1 - r.Beta2) * g[i] * g[i];
                    double mHat = s1[i] / (1 - Math.Pow(r.Beta1, t)), vHat = s2[i] / (1 - Math.Pow(r.Beta2, t));
                    x[i] -= r.Lr * mHat / (Math.Sqrt(vHat) + r.Epsilon);
                    break;
            }
            x[i] -= r.Lr * decay * old; // decoupled decay (AdamW)
        }
    }

    private static double[] Quadratic(double[] x, double[] curvature)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++) g[i] = curvature[i] * x[i];
        return g;
    }

    private static double[] Rosenbrock(double[] x)
    {
        var g = new double[x.Length];
        for (int i = 0; i + 1 < x.Length; i += 2)
        {
            double a = x[i], b = x[i + 1];
            g[i] = -2 * (1 - a) - 400 * a * (b - a * a);
            g[i + 1] = 200 * (b - a * a);
        }
        return g;
    }

    private static double Distance(double[] x, string problem)
    {
        double d = 0;
        for (int i = 0; i < x.Length; i++) d += Math.Pow(x[i] - (problem == "quadratic" ? 0 : 1), 2);
        return Math.Sqrt(d);
    }

    public static TheoryData<IsaPath> Paths => Isa.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Penalties_clipping_and_scale_follow_the_formula(IsaPath path) => Isa.Invoke(this, nameof(TransformCore), path);

    private void TransformCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(5);
        foreach (OptimizerKind kind in Enum.GetValues<OptimizerKind>())
        {
            const int n = 37;
            float[] w = Data.Uniform(rnd, n, -1, 1), g = Data.Uniform(rnd, n, -3, 3);
            float[] s1 = Data.Uniform(rnd, n, 0, 0.1f), s2 = Data.Uniform(rnd, n, 0, 0.1f);
            double[] wd = Reference.ToDouble(w), d1 = Reference.ToDouble(s1), d2 = Reference.ToDouble(s2);
            const float lr = 0.05f, scale = 0.7f, clip = 1.1f, lrScale = 0.5f, l2 = 0.01f, l1 = 0.002f, decay = 0.03f;
            var rule = new Rule(kind, lr * lrScale, kind is OptimizerKind.RMSProp ? 0.99f : 0.9f, 0.999f, 1e-7f);
            var step = new OptimizerStep(kind, lr, rule.Beta1, rule.Beta2, rule.Epsilon, t: 3)
                .ForTensor(lrScale, l2, l1, decay).WithGradientTransform(scale, clip);
            step.Apply<TIsa>(w, g, s1, s2);

            var gd = new double[n];
            for (int i = 0; i < n; i++)
                gd[i] = Math.Clamp(g[i] * (double)scale, -clip, clip) + 2 * l2 * wd[i] + l1 * Math.Sign(wd[i]);
            ReferenceStep(rule, decay, 3, wd, gd, d1, d2);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(w[i] - wd[i]) <= 1e-5 * (1 + Math.Abs(wd[i])), $"{kind}: w[{i}] = {w[i]}, formula {wd[i]}");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void A_zero_learning_rate_scale_freezes_weights_and_state(IsaPath path) => Isa.Invoke(this, nameof(FreezeCore), path);

    private void FreezeCore<TIsa>() where TIsa : struct, ISimdPath
    {
        float[] w = { 1, 2, 3 }, g = { 1, 1, 1 }, m = { 0.5f, 0.5f, 0.5f }, v = { 0.1f, 0.1f, 0.1f };
        new OptimizerStep(OptimizerKind.Adam, 0.1f, 0.9f, 0.999f, 1e-8f, 1).ForTensor(0f, 0.1f, 0f, 0.1f).Apply<TIsa>(w, g, m, v);
        Assert.Equal(new float[] { 1, 2, 3 }, w);
        Assert.Equal(new float[] { 0.5f, 0.5f, 0.5f }, m);
    }
}
