using System;
using Kiln;
using Kiln.Data;

namespace Kiln.Training.Tests;

// Models for the non-finite guard and divergence detection (docs/reliability.md).

// A healthy digits MLP: a normal run must never be called diverged.
[Model(Input = 64, MaxBatch = 256, Seed = 21)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy, Adam(1e-2)]
public partial class GuardedMlp;

// Learning rates far too high: each run must end with a divergence stop and finite restored weights.
[Model(Input = 64, MaxBatch = 256, Seed = 22)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy, Sgd(1000)]
public partial class Sgd1000Mlp;

[Model(Input = 64, MaxBatch = 256, Seed = 23)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy, Adam(1000)]
public partial class Adam1000Mlp;

[Model(Input = 64, MaxBatch = 256, Seed = 24)]
[Dense(32), BatchNorm, ReLU, Dense(10), SoftmaxCrossEntropy, Sgd(1000)]
public partial class BatchNorm1000Mlp;

/// <summary>The standardised digits split, loaded once for the reliability tests.</summary>
internal static class StandardDigits
{
    private static readonly Lazy<DataSplit> s_split = new(() =>
    {
        DataSplit s = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(s.Train);
        return new DataSplit(st.Transform(s.Train), st.Transform(s.Test));
    });

    public static DataSplit Split => s_split.Value;
}
