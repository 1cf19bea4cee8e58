using System;
using System.Linq;
using Kiln.Data;
using Kiln.Schedules;

namespace Kiln.Training.Tests;

/// <summary>Schedule attributes on generated models, through CreateSchedule() and the trainer.</summary>
public class GeneratedScheduleTests
{
    private static DataSplit StandardisedDigits()
    {
        DataSplit s = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(s.Train);
        return new DataSplit(st.Transform(s.Train), st.Transform(s.Test));
    }

    [Fact]
    public void CreateSchedule_builds_the_declared_composition()
    {
        Assert.IsType<ConstantSchedule>(new LogisticSgd().CreateSchedule());
        Warmup w = Assert.IsType<Warmup>(new DigitsWarmupStep().CreateSchedule());
        Assert.Equal(5, w.Steps);
        StepDecay step = Assert.IsType<StepDecay>(w.Inner);
        Assert.Equal(0.5, step.DecayFactor);
        Assert.Equal(1, step.Every);

        Warmup w2 = Assert.IsType<Warmup>(new DigitsWarmupPlateauCosine().CreateSchedule());
        ReduceOnPlateau plateau = Assert.IsType<ReduceOnPlateau>(w2.Inner);
        Assert.Equal((0.5, 0, 0.5, 0.0), (plateau.ReductionFactor, plateau.Patience, plateau.Threshold, plateau.MinFactor));
        CosineDecay cosine = Assert.IsType<CosineDecay>(plateau.Inner);
        Assert.Equal((0, 3, 0.1), (cosine.Steps, cosine.Epochs, cosine.MinFactor));

        // A new instance every call: ReduceOnPlateau keeps state per run.
        var model = new DigitsWarmupPlateauCosine();
        Assert.NotSame(model.CreateSchedule(), model.CreateSchedule());
    }

    [Fact]
    public void Trainer_follows_warmup_and_step_decay_declared_on_the_model()
    {
        DataSplit data = StandardisedDigits();
        var model = new DigitsWarmupStep();
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 3, BatchSize = 128, RecordSteps = true });

        int perEpoch = 12;   // 11 × 128 + 30
        Assert.Equal(0.1f, model.BaseLearningRate);
        Assert.Equal(3 * perEpoch, run.Steps!.Count);
        foreach (StepRecord s in run.Steps)
        {
            int epoch = (int)(s.Step / perEpoch);
            Assert.Equal((float)(0.1f * Math.Min(1.0, (s.Step + 1) / 5.0) * Math.Pow(0.5, epoch)), s.LearningRate);
        }
        Assert.Equal(new[] { 0.1f, 0.05f, 0.025f }, run.History.Select(e => e.LearningRate));
        Assert.True(run.History[^1].TrainLoss < 0.5 * run.History[0].TrainLoss, $"train loss {run.History[0].TrainLoss} → {run.History[^1].TrainLoss}");
    }

    [Fact]
    public void Plateau_declared_on_the_model_reacts_to_validation()
    {
        DataSplit data = StandardisedDigits();
        var model = new DigitsWarmupPlateauCosine();
        // Threshold 0.5: an epoch only counts as better when the validation loss halves, so the plateau
        // (patience 0) halves the rate after most epochs.
        RunSummary run = Trainer.Fit(model, data.Train, data.Test, new TrainerOptions { Epochs = 3, BatchSize = 256, RecordSteps = true });
        int perEpoch = 6;
        double own = 1;
        double best = double.PositiveInfinity;
        for (int e = 0; e < 3; e++)
        {
            foreach (StepRecord s in run.Steps!.Where(s => s.Epoch == e + 1))
            {
                double cos = 0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(s.Step, 3 * perEpoch) / (3.0 * perEpoch)));
                Assert.Equal((float)(0.01f * Math.Min(1.0, (s.Step + 1) / 4.0) * own * cos), s.LearningRate);
            }
            double v = run.History[e].ValidationLoss!.Value;
            if (v < best * 0.5) best = v; else own *= 0.5;
        }
    }

    [Fact]
    public void Cosine_to_zero_past_T_keeps_training()
    {
        // CosineDecay(Steps = 20) with MinFactor 0: every step from t = 20 on has learning rate 0.
        DataSplit data = StandardisedDigits();
        var model = new DigitsCosine();
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 3, BatchSize = 128, RecordSteps = true });
        Assert.Equal(StopReason.Completed, run.StopReason);
        Assert.All(run.Steps!.Where(s => s.Step >= 20), s => Assert.Equal(0f, s.LearningRate));
        Assert.Equal((float)(0.05f * 0.5 * (1 + Math.Cos(Math.PI * 7 / 20))), run.Steps![7].LearningRate);
    }
}
