using System;

namespace Kiln.Kernels.Tests;

/// <summary>BatchNorm (+ activation + dropout mask): forward against double loops, backward against finite differences.</summary>
public sealed class BatchNormTests
{
    private const float Eps = 1e-5f, Momentum = 0.1f;

    public static TheoryData<IsaPath, string> Cases()
    {
        var d = new TheoryData<IsaPath, string>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            foreach (string a in new[] { "Identity", "Relu", "Gelu", "Tanh", "Swish", "Elu" })
                d.Add(p, a);
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void ForwardTrainMatchesReference(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(ForwardTrainCore), new[] { Isa.Marker(path), a.Type }, a);
    }

    private void ForwardTrainCore<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(41);
        foreach (int rows in new[] { 2, 3, 64 })
            foreach (int cols in new[] { 1, 10, 17, 33 })
                foreach (bool masked in new[] { false, true })
                {
                    int size = rows * cols;
                    // A large common offset per column checks the two-pass variance.
                    float[] z = new float[size];
                    for (int i = 0; i < size; i++) z[i] = (float)(rnd.NextDouble() * 4 - 2 + 50 * ((i % cols) % 3 - 1));
                    float[] gamma = Data.Uniform(rnd, cols, 0.5, 1.5), beta = Data.Uniform(rnd, cols, -0.5, 0.5);
                    float[] runMean = Data.Uniform(rnd, cols, -1, 1), runVar = Data.Uniform(rnd, cols, 0.5, 2);
                    float[]? mask = masked ? Data.Mask(rnd, size, 0.7, 1 / 0.7f) : null;
                    double[] ey = Reference.BatchNormTrain(Reference.ToDouble(z), Reference.ToDouble(gamma), Reference.ToDouble(beta), mask, rows, cols, Eps, a.Forward, out double[] mean, out double[] variance);
                    foreach (var (c0, c1) in new[] { (0, cols), (cols / 2, cols), (0, (cols + 1) / 2) })
                    {
                        string ctx = $"{a.Name} rows={rows} cols={cols} masked={masked} [{c0},{c1})";
                        float[] y = Data.Filled(size, float.NaN), sm = Data.Filled(cols, float.NaN), si = Data.Filled(cols, float.NaN);
                        float[] rm = (float[])runMean.Clone(), rv = (float[])runVar.Clone();
                        BatchNorm.ForwardTrain<TIsa, TAct>(z, gamma, beta, rm, rv, sm, si, mask, y, rows, cols, c0, c1, Eps, Momentum, true, act);
                        for (int c = 0; c < cols; c++)
                        {
                            bool inside = c >= c0 && c < c1;
                            if (!inside)
                            {
                                Assert.True(float.IsNaN(sm[c]) && rm[c] == runMean[c] && rv[c] == runVar[c], $"{ctx}: column {c} touched");
                                for (int r = 0; r < rows; r++) Assert.True(float.IsNaN(y[r * cols + c]), $"{ctx}: y column {c} written");
                                continue;
                            }
                            Near.Check(sm[c], mean[c], 1e-5, 1e-6, $"{ctx} mean[{c}]");
                            Near.Check(si[c], 1 / Math.Sqrt(variance[c] + Eps), 1e-6, 1e-4, $"{ctx} invStd[{c}]");
                            Near.Check(rm[c], (1 - (double)Momentum) * runMean[c] + Momentum * mean[c], 1e-5, 1e-5, $"{ctx} runMean[{c}]");
                            Near.Check(rv[c], (1 - (double)Momentum) * runVar[c] + Momentum * variance[c] * rows / (rows - 1), 1e-5, 1e-4, $"{ctx} runVar[{c}]");
                            // A float mean is off by up to half an ulp of |mean|, which x̂ amplifies by invStd (the
                            // ±50 offsets with two rows make that visible); beyond it, 1e-4.
                            double meanUlp = Math.Abs(mean[c]) * 6e-8 * (1 / Math.Sqrt(variance[c] + Eps)) * gamma[c] * 1.2 * (masked ? 1 / 0.7 : 1);
                            for (int r = 0; r < rows; r++)
                                Near.Check(y[r * cols + c], ey[r * cols + c], 1e-4 + meanUlp, 1e-4, $"{ctx} y[{r},{c}]");
                        }
                        // Without updateRunning the running statistics stay as they are.
                        float[] rm2 = (float[])runMean.Clone(), rv2 = (float[])runVar.Clone();
                        BatchNorm.ForwardTrain<TIsa, TAct>(z, gamma, beta, rm2, rv2, sm, si, mask, y, rows, cols, c0, c1, Eps, Momentum, false, act);
                        Assert.Equal(runMean, rm2);
                        Assert.Equal(runVar, rv2);
                    }
                }
    }

    [Theory, MemberData(nameof(Cases))]
    public void BackwardMatchesFiniteDifferences(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(BackwardCore), new[] { Isa.Marker(path), a.Type }, a);
    }

    private void BackwardCore<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(42);
        foreach (var (rows, cols) in new[] { (2, 3), (5, 17), (7, 33), (3, 20) })
            foreach (bool masked in new[] { false, true })
            {
                int size = rows * cols;
                string ctx = $"{a.Name} rows={rows} cols={cols} masked={masked}";
                float[] z = Data.Uniform(rnd, size, -2, 2), gamma = Data.Uniform(rnd, cols, 0.5, 1.5), beta = Data.Uniform(rnd, cols, -0.5, 0.5);
                float[] dy = Data.Uniform(rnd, size, -1, 1);
                float[]? mask = masked ? Data.Mask(rnd, size, 0.7, 1 / 0.7f) : null;
                double[] zd = Reference.ToDouble(z), gd = Reference.ToDouble(gamma), bd = Reference.ToDouble(beta);
                // Loss L = Σ dy·y(z, γ, β) with the batch statistics: its gradients are what Backward computes.
                double Loss(double[] zz, double[] gg, double[] bb)
                {
                    double[] y = Reference.BatchNormTrain(zz, gg, bb, mask, rows, cols, Eps, a.Forward, out _, out _);
                    double s = 0;
                    for (int i = 0; i < size; i++) s += dy[i] * y[i];
                    return s;
                }
                Reference.BatchNormTrain(zd, gd, bd, mask, rows, cols, Eps, a.Forward, out double[] mean, out double[] variance);
                // Piecewise activations: keep u = γx̂ + β away from the kink so the differences do not straddle it.
                if (!a.Smooth)
                    for (int i = 0; i < size; i++)
                    {
                        int c = i % cols;
                        double u = gd[c] * (zd[i] - mean[c]) / Math.Sqrt(variance[c] + Eps) + bd[c];
                        if (Math.Abs(u) < 2e-3) { bd[c] += 0.01; beta[c] = (float)bd[c]; }
                    }

                // The kernel on the first half of the columns, then the second: c0/c1 ranges compose.
                float[] sm = new float[cols], si = new float[cols], yk = new float[size];
                BatchNorm.ForwardTrain<TIsa, TAct>(z, gamma, beta, default, default, sm, si, mask, yk, rows, cols, 0, cols, Eps, Momentum, false, act);
                float[] dz = Data.Filled(size, float.NaN), dgamma = Data.Filled(cols, float.NaN), dbeta = Data.Filled(cols, float.NaN);
                int half = cols / 2;
                BatchNorm.Backward<TIsa, TAct>(z, dy, mask, gamma, beta, sm, si, dz, dgamma, dbeta, rows, cols, 0, half, act);
                BatchNorm.Backward<TIsa, TAct>(z, dy, mask, gamma, beta, sm, si, dz, dgamma, dbeta, rows, cols, half, cols, act);

                const double h = 1e-5;
                for (int i = 0; i < size; i++)
                {
                    double[] zp = (double[])zd.Clone(), zm = (double[])zd.Clone();
                    zp[i] += h; zm[i] -= h;
                    Near.Check(dz[i], (Loss(zp, gd, bd) - Loss(zm, gd, bd)) / (2 * h), 2e-4, 2e-3, $"{ctx} dz[{i / cols},{i % cols}]");
                }
                for (int c = 0; c < cols; c++)
                {
                    double[] gp = (double[])gd.Clone(), gm = (double[])gd.Clone(), bp = (double[])bd.Clone(), bm = (double[])bd.Clone();
                    gp[c] += h; gm[c] -= h; bp[c] += h; bm[c] -= h;
                    Near.Check(dgamma[c], (Loss(zd, gp, bd) - Loss(zd, gm, bd)) / (2 * h), 2e-4, 2e-3, $"{ctx} dgamma[{c}]");
                    Near.Check(dbeta[c], (Loss(zd, gd, bp) - Loss(zd, gd, bm)) / (2 * h), 2e-4, 2e-3, $"{ctx} dbeta[{c}]");
                }
                // dz may alias dy.
                float[] alias = (float[])dy.Clone();
                BatchNorm.Backward<TIsa, TAct>(z, alias, mask, gamma, beta, sm, si, alias, dgamma, dbeta, rows, cols, 0, half, act);
                BatchNorm.Backward<TIsa, TAct>(z, alias, mask, gamma, beta, sm, si, alias, dgamma, dbeta, rows, cols, half, cols, act);
                Assert.Equal(dz, alias);
            }
    }

    [Theory, MemberData(nameof(Cases))]
    public void ForwardEvalMatchesReference(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(EvalCore), new[] { Isa.Marker(path), a.Type }, a);
    }

    private void EvalCore<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(43);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int cols in new[] { 1, 10, 17, 33 })
            {
                int size = rows * cols;
                float[] z = Data.Uniform(rnd, size, -3, 3), gamma = Data.Uniform(rnd, cols, 0.5, 1.5), beta = Data.Uniform(rnd, cols, -0.5, 0.5);
                float[] rm = Data.Uniform(rnd, cols, -1, 1), rv = Data.Uniform(rnd, cols, 0.2, 3);
                float[] y = new float[size];
                BatchNorm.ForwardEval<TIsa, TAct>(z, gamma, beta, rm, rv, y, rows, cols, Eps, 0.8f, act);
                var ey = new double[size];
                for (int i = 0; i < size; i++)
                {
                    int c = i % cols;
                    ey[i] = a.Forward((double)gamma[c] * (z[i] - (double)rm[c]) / Math.Sqrt((double)rv[c] + Eps) + beta[c]) * 0.8f;
                }
                Near.All(y, ey, 1e-5, 1e-5, $"{a.Name} eval rows={rows} cols={cols}");
            }
    }

    [Theory, MemberData(nameof(Paths))]
    public void FoldEqualsDenseThenEvalBatchNorm(IsaPath path) => Isa.Invoke(this, nameof(FoldCore), path);

    public static TheoryData<IsaPath> Paths => Isa.Paths;

    private void FoldCore<TIsa>() where TIsa : struct, ISimdPath
    {
        var rnd = new Random(44);
        foreach (var (k, n) in new[] { (5, 3), (17, 33), (64, 10) })
            foreach (bool withBias in new[] { false, true })
            {
                const int rows = 4;
                float[] x = Data.Uniform(rnd, rows * k, -1, 1), w = Data.Uniform(rnd, k * n, -1, 1);
                float[]? b = withBias ? Data.Uniform(rnd, n, -1, 1) : null;
                float[] gamma = Data.Uniform(rnd, n, 0.5, 1.5), beta = Data.Uniform(rnd, n, -0.5, 0.5), rm = Data.Uniform(rnd, n, -1, 1), rv = Data.Uniform(rnd, n, 0.2, 3);
                float[] wf = new float[k * n], bf = new float[n];
                BatchNorm.Fold(w, b, gamma, beta, rm, rv, Eps, wf, bf, k, n);
                for (int j = 0; j < n; j++)
                {
                    double s = gamma[j] / Math.Sqrt((double)rv[j] + Eps);
                    Near.Check(bf[j], ((b?[j] ?? 0) - (double)rm[j]) * s + beta[j], 1e-6, 1e-6, $"bf[{j}]");
                    for (int i = 0; i < k; i++) Near.Check(wf[i * n + j], w[i * n + j] * s, 0, 1e-6, $"wf[{i},{j}]");
                }
                // Dense(w, b) then eval BN equals Dense(wf, bf).
                float[] z = new float[rows * n], viaBn = new float[rows * n], folded = new float[rows * n];
                if (b is null) Gemm.Forward<TIsa, NoEpilogue>(x, w, z, rows, k, n, default);
                else Gemm.Forward<TIsa, BiasEpilogue>(x, w, z, rows, k, n, new BiasEpilogue(b));
                BatchNorm.ForwardEval<TIsa, Identity>(z, gamma, beta, rm, rv, viaBn, rows, n, Eps, 1f, default);
                Gemm.Forward<TIsa, BiasEpilogue>(x, wf, folded, rows, k, n, new BiasEpilogue(bf));
                Near.All(folded, Reference.ToDouble(viaBn), 2e-5, 2e-5, $"fold k={k} n={n} bias={withBias}");
                // In place (wf over w, bf over b).
                if (b is not null)
                {
                    float[] w2 = (float[])w.Clone(), b2 = (float[])b.Clone();
                    BatchNorm.Fold(w2, b2, gamma, beta, rm, rv, Eps, w2, b2, k, n);
                    Assert.Equal(wf, w2);
                    Assert.Equal(bf, b2);
                }
            }
    }

    [Fact]
    public void RunningVarianceNeedsTwoRows()
    {
        float[] one = { 1f };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            BatchNorm.ForwardTrain<Avx512Path, Identity>(one, one, one, new float[1], new float[1], new float[1], new float[1], default, new float[1], 1, 1, 0, 1, Eps, Momentum, true, default));
        Assert.Equal("rows", e.ParamName);
    }
}
