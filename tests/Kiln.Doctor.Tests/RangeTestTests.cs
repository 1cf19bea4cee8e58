using System;
using System.Linq;
using Kiln.Data;
using Kiln.Training;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Doctor.Tests;

/// <summary>
/// Item 10 of docs/reliability.md: the learning-rate range test on models whose good rate is known. HealthyNet (Adam)
/// trains well on the digits at 1e-3 … 1e-2 and barely moves at 1e-5 (checked below), so the suggestion must land in
/// between and never at the first points of the sweep.
/// </summary>
public sealed class RangeTestTests(ITestOutputHelper output)
{
    private static double AccuracyAfterTraining(IKilnModel model, float rate)
    {
        RunSummary run = Trainer.Fit(model, Digits.Train, Digits.Test, new TrainerOptions { Epochs = 3, BatchSize = 32, LearningRate = rate });
        return run.FinalValidationAccuracy ?? double.NaN;
    }

    [Fact]
    public void The_known_good_and_bad_rates_of_the_test_model()
    {
        double good = AccuracyAfterTraining(new HealthyNet(), 3e-3f), bad = AccuracyAfterTraining(new HealthyNet(), 1e-5f);
        output.WriteLine($"accuracy after 3 epochs: 3e-3 → {good:P1}, 1e-5 → {bad:P1}");
        Assert.True(good > 0.9);
        Assert.True(bad < 0.6);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void The_suggestion_lands_in_the_known_good_range_and_never_at_the_first_points(ulong seed)
    {
        foreach (IKilnModel model in new IKilnModel[] { new HealthyNet(), new BnDropoutNet() })
        {
            LearningRateRangeResult r = TrainingDoctor.LearningRateRangeTest(model, Digits.Train, 1e-5, 1, steps: 100, batchSize: 32, seed: seed);
            output.WriteLine($"{model.ModelName} seed {seed}: suggested {r.SuggestedLearningRate:G3}, minimum at {r.MinimumLossLearningRate:G3}, diverged at {r.DivergedAt:G3}");
            Assert.InRange(r.SuggestedLearningRate, 3e-4, 3e-2);
            Assert.True(r.SuggestedLearningRate > r.LearningRates[5], "the suggestion must not be one of the first sweep points");
            Assert.True(r.SuggestedLearningRate <= r.MinimumLossLearningRate);
        }
    }

    [Fact]
    public void A_model_that_cannot_learn_gets_no_suggestion_rather_than_the_first_point()
    {
        // Labels unrelated to the inputs: no rate lowers the loss in a sustained way.
        Dataset d = Digits.Train;
        var rng = new KilnRandom(9);
        var labels = new int[d.Count];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.NextInt(10);
        var noise = new Dataset(new float[d.Features.Length], labels, d.FeatureCount, 10, name: "zeros");
        LearningRateRangeResult r = TrainingDoctor.LearningRateRangeTest(new HealthyNet(), noise, 1e-5, 1e-2, steps: 60);
        output.WriteLine($"suggested {r.SuggestedLearningRate}");
        Assert.True(double.IsNaN(r.SuggestedLearningRate) || r.SuggestedLearningRate > r.LearningRates[5]);
    }

    [Fact]
    public void The_advice_places_the_model_rate_against_the_sweep()
    {
        var slow = new HealthyNet { LearningRate = 1e-5f };
        Finding low = Expect.One(TrainingDoctor.LearningRateRangeTest(slow, Digits.Train, 1e-5, 1, steps: 100).Findings, FindingCodes.LearningRateRange);
        output.WriteLine(low.Message);
        Assert.Contains("too low", low.Message);
        Assert.Contains("Train with a learning rate between", low.Fix);
        var fine = new HealthyNet();   // Adam(0.01), known to train well
        Finding ok = Expect.One(TrainingDoctor.LearningRateRangeTest(fine, Digits.Train, 1e-5, 1, steps: 100).Findings, FindingCodes.LearningRateRange);
        output.WriteLine(ok.Message);
        Assert.Contains("in the good range", ok.Message);
    }
}
