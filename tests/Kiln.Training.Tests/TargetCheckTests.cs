using System;
using Kiln.Data;

namespace Kiln.Training.Tests;

/// <summary>Item 11 of docs/reliability.md: float targets outside their loss's domain, and empty evaluations.</summary>
public class TargetCheckTests
{
    [Fact]
    public void A_binary_cross_entropy_target_outside_0_1_is_rejected_with_the_row()
    {
        var model = new LogisticSgd();
        var x = new float[4 * 5];
        var t = new float[] { 0, 1, 5, 0.5f };
        var e = Assert.ThrowsAny<ArgumentException>(() => model.TrainStep(x, t, 4));
        Assert.Contains("targets[2]", e.Message);
        Assert.Equal(0, model.Step);
        t[2] = float.NaN;
        Assert.ThrowsAny<ArgumentException>(() => model.TrainStep(x, t, 4));
        t[2] = -0.01f;
        Assert.ThrowsAny<ArgumentException>(() => model.EvaluateTargets(x, t, 4));
        t[2] = 1f;
        Assert.True(float.IsFinite(model.TrainStep(x, t, 4)));   // soft binary targets in [0, 1] are fine
    }

    [Fact]
    public void Soft_labels_whose_row_does_not_sum_to_1_are_rejected_with_the_row()
    {
        var model = new DigitsReportMlp();
        var x = new float[3 * 64];
        var t = new float[3 * 10];
        t[0] = 1;
        t[10 + 3] = 0.25f; t[10 + 4] = 0.75f;
        for (int j = 0; j < 10; j++) t[20 + j] = 1.5f;   // sums to 15
        var e = Assert.ThrowsAny<ArgumentException>(() => model.TrainStep(x, t, 3));
        Assert.Contains("row 2", e.Message);
        Assert.Contains("15", e.Message);
        Assert.Equal(0, model.Step);
        for (int j = 0; j < 10; j++) t[20 + j] = 0.1f;
        Assert.True(float.IsFinite(model.TrainStep(x, t, 3)));   // sums within float rounding of 1 are fine
        t[5] = -0.5f; t[0] = 1.5f;                               // sums to 1 but holds a negative probability
        Assert.ThrowsAny<ArgumentException>(() => model.TrainStep(x, t, 3));
    }

    [Fact]
    public void Evaluating_no_samples_is_an_error_not_a_zero_loss()
    {
        var model = new DigitsReportMlp();
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Evaluate(ReadOnlySpan<float>.Empty, ReadOnlySpan<int>.Empty, 0));
        var bce = new LogisticSgd();
        Assert.Throws<ArgumentOutOfRangeException>(() => bce.EvaluateTargets(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, 0));
        var empty = new Dataset(Array.Empty<float>(), Array.Empty<int>(), 64, 10, name: "empty");
        var e = Assert.ThrowsAny<ArgumentException>(() => Trainer.Evaluate(model, empty));
        Assert.Contains("empty", e.Message);
    }
}
