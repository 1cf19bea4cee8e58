using System;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Doctor.Tests;

/// <summary>the docs/techniques.md#hyper-parameters recipe steps 1–3: initial loss, overfitting a small sample, the learning-rate range test.</summary>
public sealed class RecipeTests(ITestOutputHelper output)
{
    [Fact]
    public void Healthy_initial_loss_is_near_ln_C()
    {
        var model = new HealthyNet();
        var before = ModelState.Of(model);
        InitialLossResult r = TrainingDoctor.CheckInitialLoss(model, Digits.Train);
        output.WriteLine($"initial loss {r.Loss} vs ln 10 = {r.Expected}");
        Assert.Equal(Math.Log(10), r.Expected, 12);
        Assert.InRange(r.Loss, 0.5 * Math.Log(10), 1.5 * Math.Log(10));
        Assert.Empty(r.Findings);
        Assert.Equal(0, r.PenaltyLoss, 6);
        before.AssertSame(ModelState.Of(model), "the initial-loss check");
    }

    [Fact]
    public void Hinge_and_binary_losses_are_checked_against_C_minus_1_and_ln_2()
    {
        // PenaltyLoss = returned loss − loss recomputed from the logits: ≈ 0 for penalty-free models proves the recomputation.
        InitialLossResult hinge = TrainingDoctor.CheckInitialLoss(new HingeNet(), Digits.Train);
        output.WriteLine($"hinge {hinge.Loss} vs {hinge.Expected}");
        Assert.Equal(9, hinge.Expected);
        Assert.Equal(0, hinge.PenaltyLoss, 4);
        Assert.Empty(hinge.Findings);

        var d = Digits.Train;
        var binary = new Kiln.Data.Dataset(d.Features, d.Labels.Select(y => y >= 5 ? 1 : 0).ToArray(), d.FeatureCount, name: "digits ≥ 5");
        InitialLossResult bce = TrainingDoctor.CheckInitialLoss(new BinaryNet(), binary);
        output.WriteLine($"binary {bce.Loss} vs {bce.Expected}");
        Assert.Equal(Math.Log(2), bce.Expected, 12);
        Assert.Equal(0, bce.PenaltyLoss, 5);
        Assert.Empty(bce.Findings);
    }

    [Fact]
    public void Huge_initialisation_gives_an_initial_loss_far_above_ln_C_on_the_output_layer()
    {
        var model = new HugeInitNet();
        InitialLossResult r = TrainingDoctor.CheckInitialLoss(model, Digits.Train);
        output.WriteLine($"initial loss {r.Loss}");
        Assert.True(r.Loss > 3 * Math.Log(10));
        Finding f = Expect.One(r.Findings, FindingCodes.InitialLoss, layer: "dense1");
        Assert.Equal(Severity.Warning, f.Severity);
        Assert.Equal(r.Loss, f.Measured);
        Assert.Contains("ln 10", f.Message);
    }

    [Fact]
    public void The_initial_loss_leaves_out_the_penalty_and_reports_it_separately()
    {
        // Same architecture and seed, with and without L2(0.01): the data loss is the same, the penalty is λ·ΣW².
        var plain = new HealthyNet();
        var penalised = new PenalisedNet();
        InitialLossResult a = TrainingDoctor.CheckInitialLoss(plain, Digits.Train);
        InitialLossResult b = TrainingDoctor.CheckInitialLoss(penalised, Digits.Train);
        Assert.Equal(a.Loss, b.Loss, 9);
        double expectedPenalty = penalised.Tensors.Where(t => t.Role == TensorRole.Weight)
            .Sum(t => 0.01 * penalised.TensorData(t).ToArray().Sum(w => (double)w * w));
        output.WriteLine($"penalty {b.PenaltyLoss} vs λ·ΣW² = {expectedPenalty}");
        Assert.Equal(expectedPenalty, b.PenaltyLoss, 3);
        Assert.True(b.PenaltyLoss > 0.01);
    }

    [Fact]
    public void A_healthy_model_overfits_a_small_sample_and_is_restored()
    {
        var model = new HealthyNet();
        var before = ModelState.Of(model);
        OverfitResult r = TrainingDoctor.OverfitSmallSample(model, Digits.Train, batches: 5, batchSize: 16);
        output.WriteLine($"reached {r.Reached} in {r.Steps} steps, loss {r.FirstLoss} → {r.LastLoss}");
        Assert.True(r.Reached);
        Assert.Equal(1.0, r.TrainAccuracy);
        Assert.True(r.LastLoss < r.FirstLoss);
        Assert.Empty(r.Findings);
        before.AssertSame(ModelState.Of(model), "the overfitting test");
    }

    [Fact]
    public void A_model_that_cannot_learn_fails_the_overfitting_test()
    {
        var model = new HealthyNet { LearningRate = 0 };
        OverfitResult r = TrainingDoctor.OverfitSmallSample(model, Digits.Train, batches: 5, batchSize: 16, maxSteps: 200);
        Assert.False(r.Reached);
        Finding f = Expect.One(r.Findings, FindingCodes.CannotOverfit);
        Assert.Equal(Severity.Error, f.Severity);
        Assert.Contains("too low", f.Fix);
    }

    [Fact]
    public void A_diverging_model_fails_the_overfitting_test_with_inf_or_nan()
    {
        var model = new SgdNet { LearningRate = 1e6f };
        OverfitResult r = TrainingDoctor.OverfitSmallSample(model, Digits.Train, batches: 5, batchSize: 16, maxSteps: 200);
        Assert.False(r.Reached);
        Finding f = Expect.One(r.Findings, FindingCodes.CannotOverfit);
        Assert.Equal(Severity.Error, f.Severity);
        Assert.Contains("Inf/NaN", f.Message);
        Assert.Contains("too high", f.Fix);
    }

    [Fact]
    public void The_range_test_suggests_a_rate_and_restores_the_model_bit_for_bit()
    {
        var model = new BnDropoutNet();
        // Move off the initial point first so optimiser state, step and running statistics are non-trivial.
        for (int i = 0; i < 3; i++) model.TrainStep(Digits.Train.Features.AsSpan(0, 64 * 64), Digits.Train.Labels.AsSpan(0, 64), 64);
        var before = ModelState.Of(model);
        LearningRateRangeResult r = TrainingDoctor.LearningRateRangeTest(model, Digits.Train, 1e-5, 10, steps: 100);
        before.AssertSame(ModelState.Of(model), "the range test");
        output.WriteLine($"suggested {r.SuggestedLearningRate}, minimum at {r.MinimumLossLearningRate}, diverged at {r.DivergedAt}");
        Assert.InRange(r.SuggestedLearningRate, 1e-4, 1);
        Assert.True(r.SuggestedLearningRate <= r.MinimumLossLearningRate);
        Assert.True(r.DivergedAt is not null, "sweeping Adam up to 10 must blow the loss up");
        Assert.Equal(r.LearningRates.Length, r.Losses.Length);
        for (int i = 1; i < r.LearningRates.Length; i++) Assert.True(r.LearningRates[i] > r.LearningRates[i - 1]);
        Finding f = Expect.One(r.Findings, FindingCodes.LearningRateRange);
        Assert.Equal(Severity.Info, f.Severity);
        // The restored model trains exactly like an untouched twin.
        var twin = new BnDropoutNet();
        for (int i = 0; i < 3; i++) twin.TrainStep(Digits.Train.Features.AsSpan(0, 64 * 64), Digits.Train.Labels.AsSpan(0, 64), 64);
        float a = model.TrainStep(Digits.Train.Features.AsSpan(64 * 64, 64 * 64), Digits.Train.Labels.AsSpan(64, 64), 64);
        float b = twin.TrainStep(Digits.Train.Features.AsSpan(64 * 64, 64 * 64), Digits.Train.Labels.AsSpan(64, 64), 64);
        Assert.Equal(BitConverter.SingleToInt32Bits(b), BitConverter.SingleToInt32Bits(a));
    }

    [Fact]
    public void A_range_that_is_too_low_finds_no_useful_rate()
    {
        var model = new HealthyNet();
        LearningRateRangeResult r = TrainingDoctor.LearningRateRangeTest(model, Digits.Train, 1e-9, 1e-8, steps: 50);
        Finding f = Expect.One(r.Findings, FindingCodes.LearningRateRange);
        Assert.Equal(Severity.Warning, f.Severity);
    }

    [Fact]
    public void Examine_runs_the_recipe_on_a_healthy_model_without_problems_and_leaves_it_unchanged()
    {
        var model = new HealthyNet();
        var before = ModelState.Of(model);
        DoctorReport report = TrainingDoctor.Examine(model, Digits.Train);
        output.WriteLine(report.ToString());
        Expect.NoProblems(report.Findings);
        Assert.True(report.Overfit.Reached);
        before.AssertSame(ModelState.Of(model), "Examine");
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_clear_messages()
    {
        var model = new HealthyNet();
        var wrongWidth = new Kiln.Data.Dataset(new float[10 * 3], new int[10], 3, name: "narrow");
        var e = Assert.Throws<ArgumentException>(() => TrainingDoctor.CheckInitialLoss(model, wrongWidth));
        Assert.Contains("narrow", e.Message);
        Assert.Throws<ArgumentException>(() => TrainingDoctor.LearningRateRangeTest(model, Digits.Train, 1, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingDoctor.OverfitSmallSample(model, Digits.Train, batchSize: 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingDoctor.GradientCheck(model, Digits.Train, samples: 1));
    }
}
