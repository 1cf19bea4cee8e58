using System;

namespace Kiln.Kernels.Tests;

/// <summary>Optimiser trajectories against the docs/techniques.md#optimisers formulas in double, directly and through the GEMM panel sink.</summary>
public sealed class OptimizerTests
{
    private const float Lr = 0.01f, B1 = 0.9f, B2 = 0.999f, AdamEps = 1e-8f;

    public static TheoryData<IsaPath, OptimizerKind> Cases()
    {
        var d = new TheoryData<IsaPath, OptimizerKind>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            foreach (OptimizerKind k in new[] { OptimizerKind.Sgd, OptimizerKind.Momentum, OptimizerKind.Adam })
                d.Add(p, k);
        return d;
    }

    /// <summary>The reference: one step of the rule in double, t counted from 1.</summary>
    private static void RefStep(OptimizerKind kind, double[] w, double[] g, double[] m, double[] v, long t, int start, int count)
    {
        for (int i = start; i < start + count; i++)
        {
            switch (kind)
            {
                case OptimizerKind.Sgd:
                    w[i] -= Lr * g[i];
                    break;
                case OptimizerKind.Momentum:
                    m[i] = B1 * m[i] + g[i];
                    w[i] -= Lr * m[i];
                    break;
                default:
                    m[i] = B1 * m[i] + (1 - (double)B1) * g[i];
                    v[i] = B2 * v[i] + (1 - (double)B2) * g[i] * g[i];
                    double mhat = m[i] / (1 - Math.Pow(B1, t)), vhat = v[i] / (1 - Math.Pow(B2, t));
                    w[i] -= Lr * mhat / (Math.Sqrt(vhat) + AdamEps);
                    break;
            }
        }
    }

    private static OptimizerStep Step(OptimizerKind kind, long t) => new(kind, Lr, B1, kind == OptimizerKind.Adam ? B2 : 0f, kind == OptimizerKind.Adam ? AdamEps : 0f, t);

    [Theory, MemberData(nameof(Cases))]
    public void ApplyFollowsTheFormulasOverSeveralSteps(IsaPath path, OptimizerKind kind) => Isa.Invoke(this, nameof(ApplyCore), path, kind);

    private void ApplyCore<TIsa>(OptimizerKind kind) where TIsa : struct, ISimdPath
    {
        var rnd = new Random(61);
        foreach (int n in new[] { 1, 10, 17, 33, 129 })
        {
            float[] w = Data.Uniform(rnd, n, -1, 1);
            float[] s1 = kind == OptimizerKind.Sgd ? Array.Empty<float>() : new float[n];
            float[] s2 = kind == OptimizerKind.Adam ? new float[n] : Array.Empty<float>();
            double[] wd = Reference.ToDouble(w), md = new double[n], vd = new double[n];
            for (long t = 1; t <= 6; t++)
            {
                float[] g = Data.Uniform(rnd, n, -1, 1);
                Step(kind, t).Apply<TIsa>(w, g, s1, s2);
                RefStep(kind, wd, Reference.ToDouble(g), md, vd, t, 0, n);
                string ctx = $"{kind} n={n} t={t}";
                Near.All(w, wd, 1e-6, 1e-5, ctx + " w");
                if (kind != OptimizerKind.Sgd) Near.All(s1, md, 1e-6, 1e-5, ctx + " s1");
                if (kind == OptimizerKind.Adam) Near.All(s2, vd, 1e-9, 1e-5, ctx + " s2");
            }
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void UpdatePanelSinkUpdatesEachFinishedPanel(IsaPath path, OptimizerKind kind) => Isa.Invoke(this, nameof(SinkCore), path, kind);

    private void SinkCore<TIsa>(OptimizerKind kind) where TIsa : struct, ISimdPath
    {
        var rnd = new Random(62);
        foreach (var (rows, k, n) in new[] { (3, 17, 10), (8, 33, 70), (2, 9, 1) })
            foreach (var (k0, k1) in new[] { (0, k), (k / 3, k - 2) })
            {
                int size = k * n;
                float[] w = Data.Uniform(rnd, size, -1, 1), dw = new float[size];
                float[] s1 = kind == OptimizerKind.Sgd ? Array.Empty<float>() : new float[size];
                float[] s2 = kind == OptimizerKind.Adam ? new float[size] : Array.Empty<float>();
                double[] wd = Reference.ToDouble(w), md = new double[size], vd = new double[size];
                for (long t = 1; t <= 4; t++)
                {
                    float[] x = Data.Uniform(rnd, rows * k, -1, 1), dy = Data.Uniform(rnd, rows * n, -1, 1);
                    var step = Step(kind, t);
                    var sink = new UpdatePanelSink<TIsa>(w, dw, s1, s2, n, step);
                    Gemm.BackwardWeights<TIsa, UpdatePanelSink<TIsa>>(x, dy, dw, rows, k, n, k0, k1, ref sink);
                    var g = new double[size];
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < n; j++)
                            for (int r = 0; r < rows; r++) g[i * n + j] += (double)x[r * k + i] * dy[r * n + j];
                    RefStep(kind, wd, g, md, vd, t, k0 * n, (k1 - k0) * n);
                    string ctx = $"{kind} rows={rows} k={k} n={n} [{k0},{k1}) t={t}";
                    // Rows outside [k0, k1) keep their values (the reference leaves them too).
                    Near.All(w, wd, 1e-6, 2e-5, ctx + " w");
                    if (kind != OptimizerKind.Sgd) Near.All(s1, md, 1e-6, 2e-5, ctx + " s1");
                    if (kind == OptimizerKind.Adam) Near.All(s2, vd, 1e-9, 2e-5, ctx + " s2");
                }
            }
    }

    [Fact]
    public void AdamBiasCorrectionIsApplied()
    {
        // At t = 1 with zero state, Adam's step is lr·g/(|g| + ε) ≈ lr·sign(g), whatever the betas.
        float[] w = { 1f, 1f }, g = { 0.003f, -5f }, m = new float[2], v = new float[2];
        new OptimizerStep(OptimizerKind.Adam, 0.1f, 0.9f, 0.999f, 1e-8f, 1).Apply<Avx512Path>(w, g, m, v);
        Near.Check(w[0], 0.9, 1e-6, 0, "w0");
        Near.Check(w[1], 1.1, 1e-6, 0, "w1");
    }

    [Fact]
    public void InvalidStepsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OptimizerStep(OptimizerKind.Adam, 0.1f, 0.9f, 0.999f, 1e-8f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OptimizerStep(OptimizerKind.Adam, 0.1f, 1f, 0.999f, 1e-8f, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OptimizerStep((OptimizerKind)42, 0.1f, 0.9f, 0.999f, 1e-8f, 1));
        var step = new OptimizerStep(OptimizerKind.Momentum, 0.1f, 0.9f, 0, 0, 1);
        var e = Assert.Throws<ArgumentException>(() => step.Apply<Avx2Path>(new float[4], new float[4], new float[3], default));
        Assert.Equal("s1", e.ParamName);
        Assert.Equal(OptimizerKind.Momentum, step.Kind);
    }
}
