using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Data;
using Kiln.Training;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Models.Tests;

// Deep nets started far too small (std 0.01 ignores the fan-in): their activations collapse layer by layer, and
// without a data-dependent start plain SGD barely moves them.

[Model(Input = 64, MaxBatch = 128, Seed = 31, Normalize = InputNormalization.None)]
[Dense(48, Init = Init.Normal, InitScale = 0.01), Tanh, Dense(48, Init = Init.Normal, InitScale = 0.01), Tanh]
[Dense(48, Init = Init.Normal, InitScale = 0.01), Tanh, Dense(48, Init = Init.Normal, InitScale = 0.01), Tanh]
[Dense(48, Init = Init.Normal, InitScale = 0.01), Tanh, Dense(48, Init = Init.Normal, InitScale = 0.01), Tanh]
[Dense(48, Init = Init.Normal, InitScale = 0.01), Tanh, Dense(48, Init = Init.Normal, InitScale = 0.01), Tanh]
[Dense(10, Init = Init.Normal, InitScale = 0.01), SoftmaxCrossEntropy]
[Sgd(0.05)]
public partial class LsuvDeepTanhNet;

[Model(Input = 64, MaxBatch = 128, Seed = 32, Normalize = InputNormalization.None)]
[Dense(48, Init = Init.Normal, InitScale = 0.01), ReLU, Dense(48, Init = Init.Normal, InitScale = 0.01), ReLU]
[Dense(48, Init = Init.Normal, InitScale = 0.01), ReLU, Dense(48, Init = Init.Normal, InitScale = 0.01), ReLU]
[Dense(48, Init = Init.Normal, InitScale = 0.01), ReLU, Dense(48, Init = Init.Normal, InitScale = 0.01), ReLU]
[Dense(48, Init = Init.Normal, InitScale = 0.01), ReLU, Dense(48, Init = Init.Normal, InitScale = 0.01), ReLU]
[Dense(10, Init = Init.Normal, InitScale = 0.01), SoftmaxCrossEntropy]
[Sgd(0.05)]
public partial class LsuvDeepReluNet;

[Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 128, Seed = 33, Normalize = InputNormalization.None)]
[Conv2D(8, 3, Padding = 1, Init = Init.Normal, InitScale = 0.01), ReLU, Conv2D(8, 3, Padding = 1, Init = Init.Normal, InitScale = 0.01), ReLU]
[MaxPool(2), Flatten, Dense(10, Init = Init.Normal, InitScale = 0.01), SoftmaxCrossEntropy]
[Sgd(0.05)]
public partial class LsuvConvNet;

/// <summary>LSUV (docs/techniques.md#initialisation): unit output variance per weighted layer, and deep nets that train from it.</summary>
public sealed class LsuvTests
{
    private readonly ITestOutputHelper _output;

    public LsuvTests(ITestOutputHelper output) => _output = output;

    private static (Dataset Train, Dataset Test) Digits()
    {
        DataSplit split = EmbeddedData.DigitsSplit(0.8, seed: 1);
        var standardizer = new Standardizer().Fit(split.Train);
        return (standardizer.Transform(split.Train), standardizer.Transform(split.Test));
    }

    /// <summary>Variance of every Dense/Conv2D output on the batch, measured afresh with a training-mode forward.</summary>
    private static Dictionary<string, double> OutputVariances(IKilnModel model, float[] x, int batch)
    {
        model.ComputeGradients(x, new int[batch], batch);
        var variances = new Dictionary<string, double>();
        foreach (LayerInfo layer in model.Layers.Where(l => l.Kind is "dense" or "conv2d"))
        {
            double[] v = model.LayerOutput(layer.Name).ToArray().Select(f => (double)f).ToArray();
            double mean = v.Average();
            variances[layer.Name] = v.Sum(e => (e - mean) * (e - mean)) / v.Length;
        }
        return variances;
    }

    public static TheoryData<string> Models => new() { nameof(LsuvDeepTanhNet), nameof(LsuvDeepReluNet), nameof(LsuvConvNet) };

    private static IKilnModel Create(string name) => name switch
    {
        nameof(LsuvDeepTanhNet) => new LsuvDeepTanhNet(),
        nameof(LsuvDeepReluNet) => new LsuvDeepReluNet(),
        _ => new LsuvConvNet(),
    };

    [Theory, MemberData(nameof(Models))]
    public void Every_weighted_layer_has_unit_output_variance_on_the_batch(string name)
    {
        (Dataset train, _) = Digits();
        IKilnModel model = Create(name);
        const int batch = 128;
        float[] x = train.Features.AsSpan(0, batch * train.FeatureCount).ToArray();
        Dictionary<string, double> before = OutputVariances(model, x, batch);
        Span<ulong> noiseBefore = stackalloc ulong[4], noiseAfter = stackalloc ulong[4];
        model.GetNoiseState(noiseBefore);

        IReadOnlyList<LsuvLayerResult> results = Lsuv.Initialize(model, x, batch);
        model.GetNoiseState(noiseAfter);
        Assert.Equal(noiseBefore.ToArray(), noiseAfter.ToArray());

        Dictionary<string, double> after = OutputVariances(model, x, batch);
        Assert.Equal(before.Keys, results.Select(r => r.Layer));
        foreach (LsuvLayerResult r in results)
        {
            _output.WriteLine($"{name} {r.Layer}: variance {before[r.Layer]:E2} → {after[r.Layer]:F4} in {r.Iterations} rescalings");
            Assert.True(r.Converged, $"{r.Layer} did not converge: {r.FinalVariance}");
            Assert.InRange(after[r.Layer], 0.9, 1.1);
            Assert.Equal(r.FinalVariance, after[r.Layer], 9);
        }
        // The deepest layer started collapsed (std 0.01 everywhere): far from unit variance.
        Assert.True(before[results[^1].Layer] < 1e-3, $"the start was not collapsed: {before[results[^1].Layer]}");
    }

    [Theory, MemberData(nameof(Models))]
    public void A_deep_net_trains_after_LSUV_and_not_from_the_collapsed_start(string name)
    {
        (Dataset train, Dataset test) = Digits();
        var options = new TrainerOptions { Epochs = 8, BatchSize = 32, Seed = 2 };
        IKilnModel plain = Create(name);
        Trainer.Fit(plain, train, null, options);
        double plainAccuracy = plain.Evaluate(test.Features, test.Labels, test.Count).Accuracy;

        // TrainerOptions.Lsuv runs Lsuv.Initialize on a seeded batch of training rows before the first step.
        IKilnModel lsuv = Create(name);
        Trainer.Fit(lsuv, train, null, options with { Lsuv = new LsuvOptions() });
        double lsuvAccuracy = lsuv.Evaluate(test.Features, test.Labels, test.Count).Accuracy;
        _output.WriteLine($"{name}: test accuracy {plainAccuracy:P1} from the collapsed start, {lsuvAccuracy:P1} after LSUV");
        Assert.True(lsuvAccuracy >= 0.9, $"after LSUV: {lsuvAccuracy:P1}");
        Assert.True(plainAccuracy < 0.5, $"the collapsed start trained anyway ({plainAccuracy:P1}), so the test shows nothing");
    }

    [Fact]
    public void Bad_arguments_say_what_is_wrong()
    {
        var model = new LsuvDeepTanhNet();
        var x = new float[4 * 64];
        Assert.Contains("2..128", Assert.Throws<ArgumentOutOfRangeException>(() => Lsuv.Initialize(model, x, 1)).Message);
        Assert.Contains("need 640", Assert.Throws<ArgumentException>(() => Lsuv.Initialize(model, x, 10)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Lsuv.Initialize(model, x, 4, new LsuvOptions { Tolerance = 0 }));
        // All-zero inputs give every layer a zero-variance output: LSUV says which layer it cannot rescale.
        var e = Assert.Throws<InvalidOperationException>(() => Lsuv.Initialize(model, x, 4));
        Assert.Contains("dense0", e.Message);
    }
}
