using System;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Doctor.Tests;

/// <summary>The gradient check (docs/techniques.md#gradient-checking) on real generated models on every ISA path, and on a planted wrong gradient.</summary>
public sealed class GradientCheckTests(ITestOutputHelper output)
{
    public static TheoryData<string, IsaPath> HealthyCases()
    {
        var data = new TheoryData<string, IsaPath>();
        foreach (string name in new[] { nameof(HealthyNet), nameof(BnDropoutNet), nameof(TanhNet), nameof(PenalisedNet), nameof(UnscaledDropoutNet) })
            foreach (IsaPath path in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
                data.Add(name, path);
        return data;
    }

    internal static IKilnModel Create(string name, IsaPath path) => name switch
    {
        nameof(HealthyNet) => new HealthyNet(path),
        nameof(BnDropoutNet) => new BnDropoutNet(path),
        nameof(TanhNet) => new TanhNet(path),
        nameof(PenalisedNet) => new PenalisedNet(path),
        nameof(UnscaledDropoutNet) => new UnscaledDropoutNet(path),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(HealthyCases))]
    public void Correct_gradients_pass_and_parameters_are_restored(string name, IsaPath path)
    {
        IKilnModel model = Create(name, path);
        // A few steps so BatchNorm's γ/β and the biases are away from their initial values.
        for (int i = 0; i < 5; i++) model.TrainStep(Digits.Train.Features.AsSpan(i * 32 * 64, 32 * 64), Digits.Train.Labels.AsSpan(i * 32, 32), 32);
        var before = ModelState.Of(model);
        GradientCheckResult r = TrainingDoctor.GradientCheck(model, Digits.Train, samples: 16, coordinatesPerTensor: 8, seed: 3);
        foreach (TensorGradientCheck t in r.Tensors) output.WriteLine($"{t.Tensor}: {t.RelativeError:E2} raw {t.RawRelativeError:E2} (‖g‖ {t.AnalyticNorm:E2}, ‖fd‖ {t.NumericNorm:E2})");
        Assert.Equal(model.Tensors.Count(t => t.Trainable), r.Tensors.Count);
        Assert.Empty(r.Findings);
        Assert.True(r.MaxRelativeError < DoctorThresholds.Default.GradientCheckWarning);
        Assert.All(r.Tensors, t => Assert.True(t.RawRelativeError < 2e-3, $"{t.Tensor}: raw error {t.RawRelativeError}"));
        // The check means something: the weights' finite differences are far above the float noise.
        Assert.All(r.Tensors.Where(t => t.Tensor.EndsWith(".weight", StringComparison.Ordinal)), t => Assert.True(t.NumericNorm > 1e-3, $"{t.Tensor}: ‖fd‖ = {t.NumericNorm}"));
        before.AssertSame(ModelState.Of(model), "the gradient check");
    }

    [Theory]
    [InlineData("dense0.weight", 1.5f)]
    [InlineData("dense1.weight", -1f)]
    [InlineData("dense1.bias", 0.5f)]
    public void A_wrong_gradient_is_an_error_that_names_its_layer(string tensor, float factor)
    {
        var model = new CorruptedGradientModel(new HealthyNet(), tensor, factor);
        GradientCheckResult r = TrainingDoctor.GradientCheck(model, Digits.Train, samples: 16, seed: 3);
        foreach (TensorGradientCheck t in r.Tensors) output.WriteLine($"{t.Tensor}: {t.RelativeError:E2}");
        string layer = tensor[..tensor.IndexOf('.')];
        Finding f = Expect.One(r.Findings, FindingCodes.GradientCheck, layer);
        Assert.Equal(Severity.Error, f.Severity);
        Assert.Contains(tensor, f.Message);
        // Only the corrupted tensor is reported.
        Assert.Single(r.Findings);
    }
}
