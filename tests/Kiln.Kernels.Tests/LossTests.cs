using System;

namespace Kiln.Kernels.Tests;

/// <summary>Losses: sums against double references, gradients against finite differences of those references.</summary>
public sealed class LossTests
{
    private const double LossRtol = 1e-6, LossAtol = 1e-5;

    private static double RefSoftmaxCe(float[] z, int[] labels, int rows, int classes)
    {
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < classes; j++) max = Math.Max(max, z[r * classes + j]);
            for (int j = 0; j < classes; j++) sum += Math.Exp(z[r * classes + j] - max);
            total += -(z[r * classes + labels[r]] - max - Math.Log(sum));
        }
        return total;
    }

    private static double[] RefSoftmax(double[] z, int rows, int classes)
    {
        var p = new double[z.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < classes; j++) max = Math.Max(max, z[r * classes + j]);
            for (int j = 0; j < classes; j++) sum += Math.Exp(z[r * classes + j] - max);
            for (int j = 0; j < classes; j++) p[r * classes + j] = Math.Exp(z[r * classes + j] - max) / sum;
        }
        return p;
    }

    /// <summary>Central differences of a double loss over every logit.</summary>
    private static double[] Fd(float[] z, Func<double[], double> loss)
    {
        double[] zd = Reference.ToDouble(z);
        var g = new double[z.Length];
        for (int i = 0; i < z.Length; i++)
        {
            double h = 1e-6 * Math.Max(1, Math.Abs(zd[i]));
            double keep = zd[i];
            zd[i] = keep + h; double p = loss(zd);
            zd[i] = keep - h; double m = loss(zd);
            zd[i] = keep;
            g[i] = (p - m) / (2 * h);
        }
        return g;
    }

    [Fact]
    public void SoftmaxCrossEntropyWithLabels()
    {
        var rnd = new Random(51);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int classes in new[] { 1, 2, 10, 17 })
            {
                float[] z = Data.Uniform(rnd, rows * classes, -5, 5);
                int[] labels = new int[rows];
                for (int r = 0; r < rows; r++) labels[r] = rnd.Next(classes);
                float scale = 1f / rows;
                float[] grad = new float[rows * classes];
                float loss = Losses.SoftmaxCrossEntropy(z, labels, grad, rows, classes, scale);
                Near.Check(loss, RefSoftmaxCe(z, labels, rows, classes), LossAtol, LossRtol, $"loss rows={rows} classes={classes}");
                double[] fd = Fd(z, zd =>
                {
                    double t = 0;
                    double[] p = RefSoftmax(zd, rows, classes);
                    for (int r = 0; r < rows; r++) t -= Math.Log(p[r * classes + labels[r]]);
                    return t;
                });
                for (int i = 0; i < fd.Length; i++) Near.Check(grad[i], fd[i] * scale, 1e-6, 1e-4, $"grad rows={rows} classes={classes} [{i}]");
                // No gradient requested; gradient in place of the logits.
                Assert.Equal(loss, Losses.SoftmaxCrossEntropy(z, labels, default, rows, classes, scale));
                float[] alias = (float[])z.Clone();
                Assert.Equal(loss, Losses.SoftmaxCrossEntropy(alias, labels, alias, rows, classes, scale));
                Assert.Equal(grad, alias);
            }
    }

    [Fact]
    public void SoftmaxCrossEntropyWithSoftTargets()
    {
        var rnd = new Random(52);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int classes in new[] { 2, 10, 17 })
            {
                float[] z = Data.Uniform(rnd, rows * classes, -5, 5);
                float[] t = new float[rows * classes];
                for (int r = 0; r < rows; r++)
                {
                    double s = 0;
                    for (int j = 0; j < classes; j++) s += t[r * classes + j] = (float)rnd.NextDouble();
                    for (int j = 0; j < classes; j++) t[r * classes + j] = (float)(t[r * classes + j] / s);
                }
                double Ref(double[] zd)
                {
                    double[] p = RefSoftmax(zd, rows, classes);
                    double total = 0;
                    for (int i = 0; i < zd.Length; i++) total -= t[i] * Math.Log(p[i]);
                    return total;
                }
                float[] grad = new float[rows * classes];
                float loss = Losses.SoftmaxCrossEntropy(z, t, grad, rows, classes, 0.5f);
                Near.Check(loss, Ref(Reference.ToDouble(z)), LossAtol, LossRtol, $"soft loss rows={rows} classes={classes}");
                double[] fd = Fd(z, Ref);
                for (int i = 0; i < fd.Length; i++) Near.Check(grad[i], fd[i] * 0.5, 1e-6, 1e-4, $"soft grad rows={rows} classes={classes} [{i}]");
            }
    }

    [Fact]
    public void MulticlassHinge()
    {
        var rnd = new Random(53);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int classes in new[] { 2, 10 })
            {
                float[] s = Data.Uniform(rnd, rows * classes, -2, 2);
                int[] labels = new int[rows];
                for (int r = 0; r < rows; r++) labels[r] = rnd.Next(classes);
                double Ref(double[] sd)
                {
                    double total = 0;
                    for (int r = 0; r < rows; r++)
                        for (int j = 0; j < classes; j++)
                            if (j != labels[r]) total += Math.Max(0, sd[r * classes + j] - sd[r * classes + labels[r]] + 1);
                    return total;
                }
                float[] grad = new float[rows * classes];
                float loss = Losses.MulticlassHinge(s, labels, grad, rows, classes, 1f, 0.25f);
                Near.Check(loss, Ref(Reference.ToDouble(s)), LossAtol, LossRtol, $"hinge rows={rows} classes={classes}");
                double[] fd = Fd(s, Ref); // random scores are never exactly at a hinge point
                for (int i = 0; i < fd.Length; i++) Near.Check(grad[i], fd[i] * 0.25, 1e-5, 1e-4, $"hinge grad rows={rows} classes={classes} [{i}]");
            }
        // At the hinge point the subgradient is 0.
        float[] g = new float[2];
        Assert.Equal(0f, Losses.MulticlassHinge(new float[] { 1f, 0f }, new[] { 0 }, g, 1, 2, 1f, 1f));
        Assert.Equal(new float[] { 0, 0 }, g);
    }

    [Fact]
    public void BinaryCrossEntropyWithTargetsAndLabels()
    {
        var rnd = new Random(54);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int outputs in new[] { 1, 3 })
            {
                float[] z = Data.Uniform(rnd, rows * outputs, -8, 8), t = Data.Uniform(rnd, rows * outputs, 0, 1);
                double Ref(double[] zd)
                {
                    double total = 0;
                    for (int i = 0; i < zd.Length; i++)
                    {
                        double p = 1 / (1 + Math.Exp(-zd[i]));
                        total -= t[i] * Math.Log(p) + (1 - t[i]) * Math.Log(1 - p);
                    }
                    return total;
                }
                float[] grad = new float[z.Length];
                float loss = Losses.BinaryCrossEntropy(z, t, grad, rows, outputs, 1f / rows);
                Near.Check(loss, Ref(Reference.ToDouble(z)), LossAtol, LossRtol, $"bce rows={rows} outputs={outputs}");
                double[] fd = Fd(z, Ref);
                for (int i = 0; i < fd.Length; i++) Near.Check(grad[i], fd[i] / rows, 1e-6, 1e-4, $"bce grad [{i}]");
            }
        int[] labels = { 1, 0, 1 };
        float[] logits = { 2f, -1f, -3f }, g1 = new float[3], g2 = new float[3];
        float l1 = Losses.BinaryCrossEntropy(logits, labels, g1, 3, 1f);
        float l2 = Losses.BinaryCrossEntropy(logits, new float[] { 1, 0, 1 }, g2, 3, 1, 1f);
        Assert.Equal(l2, l1);
        Assert.Equal(g2, g1);
    }

    [Fact]
    public void MeanSquaredError()
    {
        var rnd = new Random(55);
        foreach (int rows in new[] { 1, 3, 64 })
            foreach (int width in new[] { 1, 4, 17 })
            {
                float[] y = Data.Uniform(rnd, rows * width, -3, 3), t = Data.Uniform(rnd, rows * width, -3, 3);
                double Ref(double[] yd)
                {
                    double total = 0;
                    for (int r = 0; r < rows; r++)
                    {
                        double s = 0;
                        for (int j = 0; j < width; j++) s += (yd[r * width + j] - t[r * width + j]) * (yd[r * width + j] - t[r * width + j]);
                        total += s / width;
                    }
                    return total;
                }
                float[] grad = new float[y.Length];
                float loss = Losses.MeanSquaredError(y, t, grad, rows, width, 1f / rows);
                Near.Check(loss, Ref(Reference.ToDouble(y)), LossAtol, LossRtol, $"mse rows={rows} width={width}");
                double[] fd = Fd(y, Ref);
                for (int i = 0; i < fd.Length; i++) Near.Check(grad[i], fd[i] / rows, 1e-6, 1e-4, $"mse grad [{i}]");
            }
    }

    [Fact]
    public void ExtremeLogitsStayFinite()
    {
        float[] zc = { 1e4f, -1e4f, 0f, 80f, -80f, 0f };
        float[] g = new float[6];
        float ce = Losses.SoftmaxCrossEntropy(zc, new[] { 1, 0 }, g, 2, 3, 1f);
        Assert.True(float.IsFinite(ce));
        Near.Check(ce, 2e4, 1e-2, 1e-6, "ce with huge margins"); // row 0: max − z_y = 2e4; row 1: ≈ e^−80
        float[] z = { 1e4f, -1e4f, 0f, 80f, -80f, 3e38f };
        Assert.All(g, v => Assert.True(float.IsFinite(v)));
        float[] gb = new float[6];
        float bce = Losses.BinaryCrossEntropy(z, new float[] { 0, 1, 0.5f, 1, 0, 1 }, gb, 6, 1, 1f);
        Assert.True(float.IsFinite(bce));
        Assert.All(gb, v => Assert.True(float.IsFinite(v)));
        Near.Check(gb[0], 1, 0, 1e-6, "σ(1e4) − 0");
        Near.Check(gb[1], -1, 0, 1e-6, "σ(−1e4) − 1");
        float[] p = new float[6];
        Losses.Sigmoid(z, p);
        Assert.All(p, v => Assert.True(v >= 0 && v <= 1));
        Losses.Softmax(z, p, 2, 3);
        Assert.All(p, v => Assert.True(float.IsFinite(v)));
        Near.Check(p[0] + p[1] + p[2], 1, 1e-6, 0, "softmax row sums to 1");
    }

    [Fact]
    public void LabelsOutOfRangeNameTheRowAndValue()
    {
        float[] z = new float[3 * 4];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy(z, new[] { 0, 3, 4 }, default, 3, 4, 1f));
        Assert.Contains("row 2", e.Message);
        Assert.Contains("4", e.Message);
        Assert.Equal(4, e.ActualValue);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.MulticlassHinge(z, new[] { -1, 0, 0 }, default, 3, 4, 1f, 1f));
        Assert.Contains("row 0", e.Message);
        Assert.Equal(-1, e.ActualValue);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.BinaryCrossEntropy(new float[2], new[] { 1, 2 }, default, 2, 1f));
        Assert.Contains("row 1", e.Message);
        Assert.Equal(2, e.ActualValue);
    }

    [Fact]
    public void ProbabilityHelpersMatchReference()
    {
        var rnd = new Random(56);
        float[] z = Data.Uniform(rnd, 3 * 7, -6, 6), p = new float[z.Length];
        Losses.Softmax(z, p, 3, 7);
        Near.All(p, RefSoftmax(Reference.ToDouble(z), 3, 7), 1e-9, 1e-6, "softmax");
        Losses.Sigmoid(z, p);
        Near.All(p, Array.ConvertAll(z, v => 1 / (1 + Math.Exp(-(double)v))), 1e-9, 1e-6, "sigmoid");
    }
}
