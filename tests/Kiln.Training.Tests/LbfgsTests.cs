using System;
using System.Linq;
using Kiln.Data;
using Kiln.Runtime.Tests;

namespace Kiln.Training.Tests;

/// <summary>Full-batch L-BFGS against optima computed independently in double.</summary>
public class LbfgsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const double Lambda = 1e-2;
    private static readonly double[] TrueWeights = [1.5, -2.0, 0.5, 0.0, 1.0];
    private const double TrueBias = 0.3;

    /// <summary>Gaussian features; labels from a noisy linear rule (logistic noise), so the classes overlap.</summary>
    private static Dataset NoisyLogisticData(int count, ulong seed)
    {
        var rng = new KilnRandom(seed);
        var x = new float[count * 5];
        var y = new int[count];
        for (int i = 0; i < count; i++)
        {
            double z = TrueBias;
            for (int j = 0; j < 5; j++)
            {
                // Box–Muller.
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                float v = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
                x[i * 5 + j] = v;
                z += TrueWeights[j] * v;
            }
            double u = Math.Clamp(rng.NextDouble(), 1e-12, 1 - 1e-12);
            double noise = Math.Log(u / (1 - u));          // standard logistic
            y[i] = z + noise > 0 ? 1 : 0;
        }
        return new Dataset(x, y, 5, 2, name: "noisy-logistic");
    }

    /// <summary>F(w, b) = mean(softplus(z) − t·z) + λ‖w‖², z = x·w + b, in double.</summary>
    private static double LogisticObjective(Dataset d, double[] theta, double[]? grad = null, double[,]? hessian = null)
    {
        int n = d.Count, p = 5;
        double f = 0;
        if (grad is not null) Array.Clear(grad);
        if (hessian is not null) Array.Clear(hessian);
        var xt = new double[p + 1];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < p; j++) xt[j] = d.Features[i * p + j];
            xt[p] = 1;
            double z = 0;
            for (int j = 0; j <= p; j++) z += xt[j] * theta[j];
            double t = d.Labels[i];
            f += Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z))) - t * z;
            double s = 1 / (1 + Math.Exp(-z));
            if (grad is not null) for (int j = 0; j <= p; j++) grad[j] += (s - t) * xt[j] / n;
            if (hessian is not null)
                for (int a = 0; a <= p; a++)
                    for (int b = 0; b <= p; b++) hessian[a, b] += s * (1 - s) * xt[a] * xt[b] / n;
        }
        f /= n;
        for (int j = 0; j < p; j++)
        {
            f += Lambda * theta[j] * theta[j];
            if (grad is not null) grad[j] += 2 * Lambda * theta[j];
            if (hessian is not null) hessian[j, j] += 2 * Lambda;
        }
        return f;
    }

    /// <summary>Newton's method with Gaussian elimination (partial pivoting); the objective is strictly convex.</summary>
    private static double[] NewtonOptimum(Dataset d)
    {
        var theta = new double[6];
        var g = new double[6];
        var h = new double[6, 6];
        for (int it = 0; it < 50; it++)
        {
            LogisticObjective(d, theta, g, h);
            double norm = Math.Sqrt(g.Sum(v => v * v));
            if (norm < 1e-15) break;
            double[] step = Solve(h, g);
            for (int j = 0; j < 6; j++) theta[j] -= step[j];
        }
        LogisticObjective(d, theta, g);
        Assert.True(Math.Sqrt(g.Sum(v => v * v)) < 1e-12, "Newton's method did not converge");
        return theta;
    }

    private static double[] Solve(double[,] a0, double[] b0)
    {
        int n = b0.Length;
        var a = (double[,])a0.Clone();
        var b = (double[])b0.Clone();
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c])) pivot = r;
            for (int k = 0; k < n; k++) (a[c, k], a[pivot, k]) = (a[pivot, k], a[c, k]);
            (b[c], b[pivot]) = (b[pivot], b[c]);
            for (int r = c + 1; r < n; r++)
            {
                double m = a[r, c] / a[c, c];
                for (int k = c; k < n; k++) a[r, k] -= m * a[c, k];
                b[r] -= m * b[c];
            }
        }
        var x = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            double s = b[r];
            for (int k = r + 1; k < n; k++) s -= a[r, k] * x[k];
            x[r] = s / a[r, r];
        }
        return x;
    }

    private static double[] Parameters(IKilnModel model)
    {
        TensorInfo w = model.Tensors.Single(t => t.Name == "dense0.weight");
        TensorInfo b = model.Tensors.Single(t => t.Name == "dense0.bias");
        return [.. model.TensorData(w).ToArray().Select(v => (double)v), model.TensorData(b)[0]];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Logistic_regression_converges_to_the_Newton_optimum(bool declaredWithSgd)
    {
        // 700 samples: three chunks of 233/234 (MaxBatch 256), so the sample weighting of chunks matters.
        Dataset data = NoisyLogisticData(700, 42);
        double[] optimum = NewtonOptimum(data);
        double optimalLoss = LogisticObjective(data, optimum);

        IKilnModel model = declaredWithSgd ? new LogisticSgd() : new LogisticLbfgs();
        LbfgsResult r = Lbfgs.Minimize(model, data, new LbfgsOptions { GradientTolerance = 1e-6, MaxIterations = 500 });

        Assert.True(r.Converged, $"stopped: {r.StopReason} after {r.Iterations} iterations, gradient norm {r.GradientNorm}");
        double[] theta = Parameters(model);
        output.WriteLine($"{r.StopReason} after {r.Iterations} iterations ({r.Evaluations} evaluations), gradient norm {r.GradientNorm:G3}; " +
            $"max parameter error {theta.Zip(optimum, (a, b) => Math.Abs(a - b)).Max():G3}, loss error {Math.Abs(r.FinalLoss - optimalLoss):G3}, " +
            $"optimum loss {optimalLoss:G6}, parameters [{string.Join(", ", optimum.Select(v => v.ToString("F4")))}]");
        for (int j = 0; j < 6; j++)
            Assert.True(Math.Abs(theta[j] - optimum[j]) < 1e-3, $"parameter {j}: {theta[j]} vs Newton {optimum[j]}");
        Assert.True(Math.Abs(r.FinalLoss - optimalLoss) < 1e-6, $"loss {r.FinalLoss} vs Newton {optimalLoss}");
        Assert.True(Math.Abs(LogisticObjective(data, theta) - optimalLoss) < 1e-6);
        Assert.Equal(0, model.Step);   // no TrainStep

        // The loss never goes up, and the history starts at the initial loss.
        Assert.Equal(r.Iterations + 1, r.LossHistory.Count);
        for (int i = 1; i < r.LossHistory.Count; i++) Assert.True(r.LossHistory[i] <= r.LossHistory[i - 1]);
        Assert.Equal(r.FinalLoss, r.LossHistory[^1]);
    }

    [Fact]
    public void Lbfgs_models_cannot_TrainStep()
    {
        IKilnModel model = new LogisticLbfgs();
        var ex = Assert.Throws<NotSupportedException>(() => model.TrainStep(new float[5], new int[1], 1));
        Assert.Contains("Lbfgs.Minimize", ex.Message);
    }

    [Fact]
    public void Softmax_regression_on_the_digits_converges()
    {
        DataSplit raw = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(raw.Train);
        Dataset train = st.Transform(raw.Train), test = st.Transform(raw.Test);
        var model = new DigitsSoftmaxLbfgs();
        int calls = 0;
        LbfgsResult r = Lbfgs.Minimize(model, train, new LbfgsOptions { MaxIterations = 1000, GradientTolerance = 1e-5, OnIteration = _ => calls++ });

        Assert.True(r.Converged, $"stopped: {r.StopReason} after {r.Iterations} iterations, gradient norm {r.GradientNorm}");
        Assert.Equal(r.Iterations, calls);
        Assert.True(r.LossHistory[0] > 2.0 && r.FinalLoss < 0.2, $"loss {r.LossHistory[0]} → {r.FinalLoss}");
        for (int i = 1; i < r.LossHistory.Count; i++) Assert.True(r.LossHistory[i] <= r.LossHistory[i - 1]);

        // First-order optimality checked independently: softmax cross-entropy + λ‖W‖² gradient in double.
        double gradNorm = SoftmaxGradientNorm(model, train, 1e-3);
        output.WriteLine($"{r.StopReason} after {r.Iterations} iterations ({r.Evaluations} evaluations): loss {r.LossHistory[0]:F4} → {r.FinalLoss:F6}, " +
            $"gradient norm {r.GradientNorm:G3} (independent, double: {gradNorm:G3})");
        Assert.True(gradNorm < 1e-4, $"independent gradient norm {gradNorm}");

        EvaluationResult trainEval = model.Evaluate(train.Features, train.Labels, train.Count);
        EvaluationResult testEval = model.Evaluate(test.Features, test.Labels, test.Count);
        Assert.True(trainEval.Accuracy > 0.98, $"train accuracy {trainEval.Accuracy}");
        Assert.True(testEval.Accuracy > 0.93, $"test accuracy {testEval.Accuracy}");
    }

    private static double SoftmaxGradientNorm(IKilnModel model, Dataset d, double lambda)
    {
        TensorInfo wt = model.Tensors.Single(t => t.Name == "dense0.weight");
        TensorInfo bt = model.Tensors.Single(t => t.Name == "dense0.bias");
        float[] w = model.TensorData(wt).ToArray(), b = model.TensorData(bt).ToArray();
        int f = d.FeatureCount, k = b.Length, n = d.Count;
        var gw = new double[w.Length];
        var gb = new double[k];
        var z = new double[k];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < k; c++)
            {
                double s = b[c];
                for (int j = 0; j < f; j++) s += d.Features[i * f + j] * (double)w[j * k + c];
                z[c] = s;
            }
            double max = z.Max(), sum = 0;
            for (int c = 0; c < k; c++) sum += z[c] = Math.Exp(z[c] - max);
            for (int c = 0; c < k; c++)
            {
                double g = (z[c] / sum - (d.Labels[i] == c ? 1 : 0)) / n;
                gb[c] += g;
                for (int j = 0; j < f; j++) gw[j * k + c] += g * d.Features[i * f + j];
            }
        }
        double norm = 0;
        for (int i = 0; i < w.Length; i++) norm += Math.Pow(gw[i] + 2 * lambda * w[i], 2);
        for (int c = 0; c < k; c++) norm += gb[c] * gb[c];
        return Math.Sqrt(norm);
    }

    [Fact]
    public void Works_for_any_IKilnModel_without_calling_TrainStep()
    {
        DataSplit raw = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(raw.Train);
        Dataset train = st.Transform(raw.Train);
        var model = new FakeModel(64, 10, maxBatch: 100) { BatchLog = [] };
        LbfgsResult r = Lbfgs.Minimize(model, train, new LbfgsOptions { MaxIterations = 30 });

        Assert.Empty(model.BatchLog!);
        Assert.Equal(0, model.Step);
        Assert.True(r.Iterations > 0 && r.Evaluations >= r.Iterations + 1);
        Assert.True(r.FinalLoss < 0.2 * r.LossHistory[0], $"loss {r.LossHistory[0]} → {r.FinalLoss}");
        for (int i = 1; i < r.LossHistory.Count; i++) Assert.True(r.LossHistory[i] <= r.LossHistory[i - 1]);
        // The model holds the final point: its eval-mode loss is the reported loss.
        Assert.Equal(r.FinalLoss, model.Evaluate(train.Features, train.Labels, train.Count).Loss, 4);
    }

    [Fact]
    public void Bad_options_and_data_are_clear_errors()
    {
        Dataset data = NoisyLogisticData(50, 1);
        var model = new LogisticLbfgs();
        Assert.Throws<ArgumentException>(() => Lbfgs.Minimize(model, data, new LbfgsOptions { History = 0 }));
        Assert.Throws<ArgumentException>(() => Lbfgs.Minimize(model, data, new LbfgsOptions { MaxIterations = 0 }));
        Assert.Throws<ArgumentException>(() => Lbfgs.Minimize(model, data, new LbfgsOptions { GradientTolerance = -1 }));
        Assert.Throws<ArgumentException>(() => Lbfgs.Minimize(model, data, new LbfgsOptions { C1 = 0.95, C2 = 0.9 }));
        Assert.Throws<ArgumentNullException>(() => Lbfgs.Minimize(null!, data));
        var wide = new Dataset(new float[12], [0, 1], 6);
        Assert.Contains("6 features", Assert.Throws<ArgumentException>(() => Lbfgs.Minimize(model, wide)).Message);
        var threeClasses = new Dataset(new float[15], [0, 1, 2], 5);
        Assert.Contains("3 classes", Assert.Throws<ArgumentException>(() => Lbfgs.Minimize(model, threeClasses)).Message);
    }
}
