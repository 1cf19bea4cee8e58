using System;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Doctor.Tests;

/// <summary>the docs/techniques.md#pitfalls activation and gradient-flow rules on one probe batch, each planted in a generated model.</summary>
public sealed class ProbeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(nameof(HealthyNet))]
    [InlineData(nameof(BnDropoutNet))]
    [InlineData(nameof(TanhNet))]
    [InlineData(nameof(InvertedDropoutNet))]
    public void Healthy_models_have_no_findings(string name)
    {
        IKilnModel model = name switch
        {
            nameof(HealthyNet) => new HealthyNet(),
            nameof(BnDropoutNet) => new BnDropoutNet(),
            nameof(TanhNet) => new TanhNet(),
            _ => new InvertedDropoutNet(),
        };
        var before = ModelState.Of(model);
        var findings = TrainingDoctor.ProbeBatch(model, Digits.Train);
        output.WriteLine(Finding.Format(findings));
        Assert.Empty(findings);
        before.AssertSame(ModelState.Of(model), "the probe");
    }

    [Fact]
    public void A_large_negative_bias_before_relu_is_a_dead_relu_layer()
    {
        Finding f = Expect.One(TrainingDoctor.ProbeBatch(new NegativeBiasNet(), Digits.Train), FindingCodes.DeadRelu, "relu0");
        Assert.Equal(1.0, f.Measured);
        Assert.Equal(0.70, f.Threshold);
        Assert.Contains("BiasInit", f.Fix);
    }

    [Fact]
    public void Zero_initialised_weights_before_relu_are_a_dead_relu_layer()
    {
        Finding f = Expect.One(TrainingDoctor.ProbeBatch(new ZeroInitNet(), Digits.Train), FindingCodes.DeadRelu, "relu0");
        Assert.True(f.Measured >= 0.70);
    }

    [Fact]
    public void Dead_fraction_counts_units_dead_for_the_whole_batch_only()
    {
        // Independent count from the layer output: a unit is dead when it is 0 for every sample.
        var model = new NegativeBiasNet();
        // Lift two thirds of the units back to life: bias 0 for units 0..21, −10 for the rest.
        Span<float> bias = model.TensorData(model.Tensors.Single(t => t.Name == "dense0.bias"));
        for (int j = 0; j < 22; j++) bias[j] = 0;
        model.ComputeGradients(Digits.Train.Features.AsSpan(0, 128 * 64), Digits.Train.Labels.AsSpan(0, 128), 128);
        float[] y = model.LayerOutput("relu0").ToArray();
        int dead = Enumerable.Range(0, 32).Count(j => Enumerable.Range(0, 128).All(r => y[r * 32 + j] == 0));
        LayerStatistics stats = TrainingDoctor.MeasureLayers(model, Digits.Train.Subset(0, 128)).Single(s => s.Layer == "relu0");
        Assert.Equal(dead / 32.0, stats.DeadFraction);
        Assert.True(double.IsNaN(stats.SaturatedFraction));
        Assert.InRange(dead, 10, 12);
        Expect.None(TrainingDoctor.ProbeBatch(model, Digits.Train), FindingCodes.DeadRelu);
    }

    [Fact]
    public void A_sigmoid_with_huge_weights_saturates()
    {
        var model = new SaturatedSigmoidNet();
        Finding f = Expect.One(TrainingDoctor.ProbeBatch(model, Digits.Train), FindingCodes.Saturation, "sigmoid0");
        output.WriteLine(f.ToString());
        Assert.True(f.Measured > 0.5);
        // Independent count: inputs |x| ≥ 5 recomputed from the dense layer's output (the sigmoid's input).
        model.ComputeGradients(Digits.Train.Features.AsSpan(0, 128 * 64), Digits.Train.Labels.AsSpan(0, 128), 128);
        float[] x = model.LayerOutput("dense0").ToArray();
        double expected = x.Count(v => Math.Abs(v) >= 5) / (double)x.Length;
        LayerStatistics stats = TrainingDoctor.MeasureLayers(model, Digits.Train.Subset(0, 128)).Single(s => s.Layer == "sigmoid0");
        Assert.Equal(expected, stats.SaturatedFraction, 2);
        Assert.Equal(expected, f.Measured, 1);
    }

    [Fact]
    public void Deep_sigmoid_stack_with_small_init_has_vanishing_gradients_at_the_first_layer()
    {
        Finding f = Expect.One(TrainingDoctor.ProbeBatch(new VanishingNet(), Digits.Train), FindingCodes.VanishingGradient, "dense0");
        output.WriteLine(f.ToString());
        Assert.True(f.Measured < 1e-3);
    }

    [Fact]
    public void A_first_layer_initialised_far_too_small_gives_an_exploding_gradient_ratio()
    {
        var model = new ExplodingRatioNet();
        Finding f = Expect.One(TrainingDoctor.ProbeBatch(model, Digits.Train), FindingCodes.ExplodingGradient, "dense0");
        output.WriteLine(f.ToString());
        // Independent ratio from the gradients (RMS of first vs last weight gradient).
        double Rms(string name) { float[] g = model.TensorGradient(model.Tensors.Single(t => t.Name == name)).ToArray(); return Math.Sqrt(g.Sum(v => (double)v * v) / g.Length); }
        double ratio = Rms("dense0.weight") / Rms("dense2.weight");
        Assert.True(Math.Abs(ratio - f.Measured) <= 1e-5 * ratio, $"ratio {ratio} vs measured {f.Measured}");
        Assert.True(f.Measured > 70);
    }

    [Fact]
    public void Train_eval_consistency_flags_dropout_without_scaling()
    {
        var unscaled = new UnscaledDropoutNet();
        var inverted = new InvertedDropoutNet();
        foreach (IKilnModel m in new IKilnModel[] { unscaled, inverted })
            for (int e = 0; e < 2; e++)
                for (int s = 0; s + 64 <= Digits.Train.Count; s += 64)
                    m.TrainStep(Digits.Train.Features.AsSpan(s * 64, 64 * 64), Digits.Train.Labels.AsSpan(s, 64), 64);
        var before = ModelState.Of(unscaled);
        ConsistencyResult bad = TrainingDoctor.CheckTrainEvalConsistency(unscaled, Digits.Train);
        ConsistencyResult good = TrainingDoctor.CheckTrainEvalConsistency(inverted, Digits.Train);
        output.WriteLine($"unscaled {bad.RelativeDifference}, inverted {good.RelativeDifference}");
        before.AssertSame(ModelState.Of(unscaled), "the consistency check");
        Finding f = Expect.One(bad.Findings, FindingCodes.TrainEvalInconsistent, "dropout0");
        Assert.Contains("Inverted", f.Fix);
        Assert.Empty(good.Findings);
        Assert.True(good.RelativeDifference < 0.1);
    }

    [Fact]
    public void Train_eval_consistency_holds_for_a_trained_batchnorm_model()
    {
        var model = new BnDropoutNet();
        for (int e = 0; e < 3; e++)
            for (int s = 0; s + 64 <= Digits.Train.Count; s += 64)
                model.TrainStep(Digits.Train.Features.AsSpan(s * 64, 64 * 64), Digits.Train.Labels.AsSpan(s, 64), 64);
        ConsistencyResult r = TrainingDoctor.CheckTrainEvalConsistency(model, Digits.Train);
        output.WriteLine($"difference {r.RelativeDifference}");
        Assert.Empty(r.Findings);
    }
}
