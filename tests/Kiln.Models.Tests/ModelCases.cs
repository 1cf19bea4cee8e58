using System;
using System.Collections.Generic;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>A test model: how to build it on a path, and the independent reference of what it computes.</summary>
public sealed record ModelCase(string Name, Func<IsaPath, IKilnModel> Create, LossKind Loss, RefOp[] Ops, bool FloatTargets = false,
    (string Tensor, double L2, double L1)[]? Penalties = null)
{
    public override string ToString() => Name;
}

public static class ModelCases
{
    public static readonly ModelCase[] All =
    {
        new("BnReluDropout", p => new BnReluDropoutNet(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[] { new RefDense("dense0"), new RefBatchNorm("bn0"), new RefActivation("ReLU"), new RefDropout("dropout0", 0.3), new RefDense("dense1") }),
        new("SoftTargets", p => new BnReluDropoutNet(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[] { new RefDense("dense0"), new RefBatchNorm("bn0"), new RefActivation("ReLU"), new RefDropout("dropout0", 0.3), new RefDense("dense1") }, FloatTargets: true),
        new("Sigmoid", p => new SigmoidNet(p), LossKind.SoftmaxCrossEntropy, Simple("Sigmoid")),
        new("Tanh", p => new TanhNet(p), LossKind.SoftmaxCrossEntropy, Simple("Tanh")),
        new("ReLU", p => new ReluNet(p), LossKind.SoftmaxCrossEntropy, Simple("ReLU")),
        new("LeakyReLU", p => new LeakyReluNet(p), LossKind.SoftmaxCrossEntropy, Simple("LeakyReLU", 0.1)),
        new("PReLU", p => new PReluNet(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[] { new RefDense("dense0"), new RefActivation("PReLU", PReluName: "prelu0"), new RefDense("dense1") }),
        new("ELU", p => new EluNet(p), LossKind.SoftmaxCrossEntropy, Simple("ELU", 0.7)),
        new("SELU", p => new SeluNet(p), LossKind.SoftmaxCrossEntropy, Simple("SELU")),
        // Alpha dropout after SELU, with orthogonal weights (docs/techniques.md#regularisation, #initialisation).
        new("SeluAlphaDropout", p => new SeluAlphaDropoutNet(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[] { new RefDense("dense0"), new RefActivation("SELU"), new RefAlphaDropout("alphadropout0", "selu0", 0.2), new RefDense("dense1") }),
        new("Swish", p => new SwishNet(p), LossKind.SoftmaxCrossEntropy, Simple("Swish", 1.5)),
        new("GELU", p => new GeluNet(p), LossKind.SoftmaxCrossEntropy, Simple("GELU")),
        new("BnGeluBnPReluVanillaDropout", p => new BnGeluPReluNet(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefDense("dense0"), new RefBatchNorm("bn0", 1e-3), new RefActivation("GELU"),
                new RefDense("dense1", Bias: false), new RefBatchNorm("bn1"), new RefActivation("PReLU", PReluName: "prelu0"),
                new RefDropout("dropout0", 0.25, DropoutScaling.TestTime), new RefDense("dense2"),
            }),
        new("HingeNoBias", p => new HingeNet(p), LossKind.MulticlassHinge,
            new RefOp[] { new RefDense("dense0", Bias: false), new RefActivation("Tanh"), new RefDense("dense1", Bias: false) }),
        new("BinaryUnscaledDropout", p => new BinaryNet(p), LossKind.BinaryCrossEntropy,
            new RefOp[] { new RefDense("dense0"), new RefActivation("ReLU"), new RefDropout("dropout0", 0.5, DropoutScaling.None), new RefDense("dense1") }),
        new("RegressionInputBn", p => new RegressionNet(p), LossKind.MeanSquaredError,
            new RefOp[] { new RefBatchNorm("bn0"), new RefDense("dense0"), new RefActivation("ELU", 1.0), new RefDense("dense1") }, FloatTargets: true),
        new("SoftmaxLayerMse", p => new SoftmaxLayerNet(p), LossKind.MeanSquaredError,
            new RefOp[] { new RefDense("dense0"), new RefActivation("Tanh"), new RefDense("dense1"), new RefSoftmax() }, FloatTargets: true),
        // Penalties (docs/techniques.md#regularisation): L2 + L1 on dense0's weights only (dense1 has Regularize = false).
        new("L2L1Penalty", p => new NesterovPenaltyNet(p), LossKind.SoftmaxCrossEntropy, Simple("ReLU"),
            Penalties: new[] { ("dense0.weight", 1e-2, 1e-3) }),
        // Elastic net on every tensor, BatchNorm's γ and β included (ApplyTo = All): L2 = λβ, L1 = λ.
        new("ElasticNetAll", p => new AdaGradElasticNet(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[] { new RefDense("dense0"), new RefBatchNorm("bn0"), new RefActivation("Tanh"), new RefDense("dense1") },
            Penalties: new[] { ("dense0.weight", 3e-3, 1e-2), ("dense0.bias", 3e-3, 1e-2), ("bn0.gamma", 3e-3, 1e-2), ("bn0.beta", 3e-3, 1e-2), ("dense1.weight", 3e-3, 1e-2), ("dense1.bias", 3e-3, 1e-2) }),
    };

    /// <summary>Spatial models (Conv2D, pools, BatchNorm2D, per-channel PReLU, dropout after conv); see ConvTestModels.cs.</summary>
    public static readonly ModelCase[] Spatial =
    {
        new("SmallCnn", p => new SmallCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(2, 9, 9), new RefConv("conv0", 3, 3, Padding: 1), new RefBatchNorm("bn0"), new RefActivation("ReLU"), new RefMaxPool(2, 1),
                new RefConv("conv1", 4, 4, Stride: 2, Bias: false), new RefBatchNorm("bn1"), new RefActivation("ReLU"), new RefDropout("dropout0", 0.25),
                new RefFlatten(), new RefDense("dense0"), new RefActivation("ReLU"), new RefDense("dense1"),
            }),
        new("FusedPoolCnn", p => new FusedPoolCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(2, 12, 8), new RefConv("conv0", 3, 3, Padding: 1), new RefBatchNorm("bn0"), new RefActivation("Tanh"), new RefMaxPool(2, 2),
                new RefConv("conv1", 3, 3, Padding: 1), new RefBatchNorm("bn1"), new RefActivation("ReLU"), new RefMaxPool(2, 2),
                new RefFlatten(), new RefDense("dense0"),
            }),
        new("DilatedCnn", p => new DilatedCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(3, 10, 8), new RefConv("conv0", 3, 3, Padding: 1, Dilation: 2), new RefActivation("PReLU", PReluName: "prelu0"),
                new RefConv("conv1", 3, 1, Padding: 1), new RefActivation("Tanh"), new RefAvgPool(2, 2, 1),
                new RefConv("conv2", 1, 1), new RefBatchNorm("bn0"), new RefActivation("ELU", 1.0), new RefGlobalAvgPool(),
                new RefDense("dense0"),
            }),
        new("PoolFirstCnn", p => new PoolFirstCnn(p), LossKind.MeanSquaredError,
            new RefOp[]
            {
                new RefImage(1, 12, 12), new RefMaxPool(3, 3), new RefConv("conv0", 5, 5, Stride: 3, Padding: 2), new RefBatchNorm("bn0"),
                new RefActivation("PReLU", PReluName: "prelu0"), new RefFlatten(), new RefDense("dense0"),
            }, FloatTargets: true),
        new("WideCnn", p => new WideCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(3, 16, 16), new RefConv("conv0", 5, 5, Padding: 2), new RefActivation("ReLU"), new RefMaxPool(2, 2),
                new RefConv("conv1", 3, 3, Padding: 1), new RefBatchNorm("bn0"), new RefActivation("ReLU"), new RefFlatten(), new RefDense("dense0"),
            }),
        new("WinogradCnn", p => new WinogradCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(8, 6, 6), new RefConv("conv0", 3, 3, Padding: 1), new RefActivation("ReLU"), new RefMaxPool(2, 2),
                new RefConv("conv1", 5, 5, Padding: 2), new RefActivation("Tanh"), new RefFlatten(), new RefDense("dense0"),
            }),
        new("WinogradTrainingCnn", p => new WinogradTrainingCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(8, 9, 9), new RefConv("conv0", 3, 3), new RefActivation("ReLU"), new RefConv("conv1", 5, 5, Padding: 1),
                new RefActivation("Tanh"), new RefConv("conv2", 3, 3), new RefActivation("ReLU"), new RefFlatten(), new RefDense("dense0"),
            }),
        new("NormCnn", p => new NormCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(2, 7, 7), new RefConv("conv0", 3, 3, Padding: 1), new RefGroupNorm("groupnorm0", 2), new RefActivation("ReLU"),
                new RefConv("conv1", 3, 3), new RefGroupNorm("instancenorm0", 5, 1e-3), new RefActivation("Tanh"),
                new RefGroupNorm("layernorm0", 1), new RefMaxPool(5, 5), new RefFlatten(), new RefDense("dense0"), new RefGroupNorm("layernorm1", 1),
                new RefActivation("ELU", 1.0), new RefDense("dense1"),
            }),
        new("MaxoutCnn", p => new MaxoutCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(2, 6, 6), new RefConv("conv0", 3, 3, Padding: 1), new RefMaxout(3), new RefMaxPool(2, 2), new RefFlatten(),
                new RefDense("dense0"), new RefMaxout(2), new RefDense("dense1"),
            }),
        new("ResidualCnn", p => new ResidualCnn(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(3, 6, 6), new RefConv("conv0", 3, 3, Padding: 1), new RefBatchNorm("bn0"), new RefActivation("ReLU"),
                new RefResidualStart(), new RefConv("conv1", 3, 3, Padding: 1), new RefBatchNorm("bn1"), new RefActivation("ReLU"),
                new RefConv("conv2", 3, 3, Padding: 1), new RefBatchNorm("bn2"), new RefResidualEnd("residual0"), new RefActivation("ReLU"),
                new RefGlobalAvgPool(), new RefDense("dense0"), new RefActivation("Tanh"),
                new RefResidualStart(), new RefDense("dense1"), new RefActivation("ELU", 1.0), new RefResidualEnd("residual1"), new RefDense("dense2"),
            }),
        // Fixup without normalisation: scalar biases before each weighted layer and activation, a multiplier per branch (docs/techniques.md#initialisation).
        new("FixupResidual", p => new FixupResidualNet(p), LossKind.SoftmaxCrossEntropy,
            new RefOp[]
            {
                new RefImage(2, 5, 5), new RefConv("conv0", 3, 3, Padding: 1), new RefActivation("ReLU"),
                new RefResidualStart(), new RefScalarBias("scalarbias0"), new RefConv("conv1", 3, 3, Padding: 1, Bias: false), new RefScalarBias("scalarbias1"),
                new RefActivation("ReLU"), new RefScalarBias("scalarbias2"), new RefConv("conv2", 3, 3, Padding: 1, Bias: false), new RefMultiplier("multiplier0"),
                new RefScalarBias("scalarbias3"), new RefResidualEnd("residual0"), new RefActivation("ReLU"),
                new RefGlobalAvgPool(), new RefResidualStart(), new RefScalarBias("scalarbias4"), new RefDense("dense0"), new RefScalarBias("scalarbias5"),
                new RefActivation("Tanh"), new RefMultiplier("multiplier1"), new RefResidualEnd("residual1"), new RefDense("dense1"),
            }),
    };

    private static RefOp[] Simple(string activation, double alpha = 0) =>
        new RefOp[] { new RefDense("dense0"), new RefActivation(activation, alpha), new RefDense("dense1") };

    public static readonly IsaPath[] Paths = { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable };

    /// <summary>Every case on every ISA path this machine runs (the test fails, rather than skips, if a path is missing).</summary>
    public static TheoryData<string, IsaPath> CasesOnEveryPath()
    {
        var data = new TheoryData<string, IsaPath>();
        foreach (ModelCase c in All)
            foreach (IsaPath p in Paths) data.Add(c.Name, p);
        return data;
    }

    public static ModelCase Get(string name) => Array.Find(All, c => c.Name == name) ?? Array.Find(Spatial, c => c.Name == name) ?? throw new ArgumentException(name);

    /// <summary>Every spatial case on every ISA path.</summary>
    public static TheoryData<string, IsaPath> SpatialCasesOnEveryPath()
    {
        var data = new TheoryData<string, IsaPath>();
        foreach (ModelCase c in Spatial)
            foreach (IsaPath p in Paths) data.Add(c.Name, p);
        return data;
    }

    /// <summary>A seeded batch: inputs N(0,1), labels uniform, and float targets that suit the loss.</summary>
    public static (float[] X, int[] Labels, float[] Targets) Batch(IKilnModel model, ModelCase c, int batch, ulong seed)
    {
        var rng = new KilnRandom(seed);
        var x = new float[batch * model.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)Gaussian(ref rng);
        int classes = c.Loss == LossKind.BinaryCrossEntropy ? 2 : model.OutputSize;
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.NextInt(classes);
        var targets = new float[batch * model.OutputSize];
        for (int r = 0; r < batch; r++)
        {
            if (c.Loss == LossKind.SoftmaxCrossEntropy)
            {
                // Soft labels (as mixup produces): a random distribution per row.
                float sum = 0;
                for (int j = 0; j < model.OutputSize; j++) sum += targets[r * model.OutputSize + j] = rng.NextFloat() + 0.05f;
                for (int j = 0; j < model.OutputSize; j++) targets[r * model.OutputSize + j] /= sum;
            }
            else
                for (int j = 0; j < model.OutputSize; j++) targets[r * model.OutputSize + j] = (float)Gaussian(ref rng);
        }
        return (x, labels, targets);
    }

    public static double Gaussian(ref KilnRandom rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>‖a − b‖ / (‖a‖ + ‖b‖): scale-free, and 0 only when the vectors agree.</summary>
    public static double RelativeError(double[] a, double[] b, double floor = 1e-12)
    {
        double diff = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        double denominator = Math.Sqrt(na) + Math.Sqrt(nb);
        return Math.Sqrt(diff) / Math.Max(denominator, floor);
    }
}
