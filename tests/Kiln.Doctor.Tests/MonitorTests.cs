using System;
using System.IO;
using System.Linq;
using Kiln.Checkpoints;
using Kiln.Training;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Doctor.Tests;

/// <summary>The monitors (ITrainingObserver) driven by a small training loop over generated models.</summary>
public sealed class MonitorTests(ITestOutputHelper output)
{
    private static readonly DoctorThresholds ShortWindows = new() { LossWindow = 10 };

    [Fact]
    public void A_healthy_run_has_no_warnings_or_errors()
    {
        var model = new HealthyNet();
        var doctor = new DoctorObserver(Digits.Train, every: 5, thresholds: ShortWindows);
        RunSummary run = Drive.Run(model, doctor, epochs: 5, learningRate: 2e-3f);
        output.WriteLine(doctor.ToString());
        output.WriteLine($"final validation accuracy {run.History[^1].ValidationAccuracy}");
        Expect.NoProblems(doctor.Findings);
        Assert.Equal(StopReason.Completed, run.StopReason);
        var ratio = (UpdateRatioMonitor)doctor.Monitors.Single(m => m is UpdateRatioMonitor);
        Assert.InRange(ratio.Ratio("dense0.weight"), 1e-4, 1e-2);
    }

    [Fact]
    public void A_huge_learning_rate_stops_at_the_first_non_finite_loss_and_keeps_the_last_good_state()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kiln-doctor-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "last-good.safetensors");
            var model = new SgdNet();
            var monitor = new NonFiniteMonitor(every: 5, checkpointPath: path);
            // Epoch 1 at a sane rate, then 1e4: the loss overflows within a few steps of epoch 2.
            RunSummary run = Drive.Run(model, monitor, epochs: 3, learningRateForEpoch: e => e == 1 ? 0.05f : 1e4f);
            output.WriteLine(Finding.Format(monitor.Findings));
            Assert.True(monitor.Diverged);
            Assert.Equal(2, run.History.Count); // stopped inside epoch 2
            Finding f = Expect.One(monitor.Findings, FindingCodes.NonFinite);
            Assert.Equal(Severity.Error, f.Severity);
            Assert.Contains("epoch 1", f.Message);
            Assert.Contains(path, f.Message);
            Assert.Equal(1, monitor.LastGoodEpoch);

            // The checkpoint on disk is the good one, and RestoreLastGood gives the same state in memory.
            var fromDisk = new SgdNet();
            Checkpoint.Load(fromDisk, path);
            Assert.True(monitor.RestoreLastGood());
            ModelState.Of(fromDisk).AssertSame(ModelState.Of(model) with { Noise = ModelState.Of(fromDisk).Noise }, "last good checkpoint vs in-memory state");
            Assert.All(model.Tensors, t => Assert.True(model.TensorData(t).ToArray().All(float.IsFinite), $"{t.Name} not finite after restore"));
            Assert.Equal(run.History[0].Batches, model.Step);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(10f)]
    [InlineData(100f)]
    public void A_learning_rate_of_10_or_more_is_caught_as_exploding_steps_and_non_finite_values(float rate)
    {
        var model = new SgdNet();
        var doctor = new DoctorObserver(every: 5);
        RunSummary run = Drive.Run(model, doctor, epochs: 3, learningRate: rate);
        output.WriteLine($"lr {rate}: {run.StopReason}\n{doctor}");
        Assert.Equal(StopReason.Diverged, run.StopReason);
        Assert.Equal(Severity.Error, Expect.One(doctor.Findings, FindingCodes.NonFinite).Severity);
        Assert.True(Expect.One(doctor.Findings, FindingCodes.UpdateRatioHigh, "dense0").Measured > 1);
        // A diverged run is not diagnosed as underfitting: the non-finite finding explains it.
        Expect.None(doctor.Findings, FindingCodes.Underfitting);
    }

    [Fact]
    public void A_tiny_learning_rate_gives_a_flat_loss_and_tiny_update_ratios()
    {
        var model = new HealthyNet();
        var doctor = new DoctorObserver(every: 5, thresholds: ShortWindows);
        Drive.Run(model, doctor, epochs: 3, learningRate: 1e-9f);
        output.WriteLine(doctor.ToString());
        Finding flat = Expect.One(doctor.Findings, FindingCodes.LossNotDecreasing);
        Assert.Equal(Severity.Warning, flat.Severity);
        Assert.Contains("Raise the learning rate", flat.Fix);
        Finding low = Expect.One(doctor.Findings, FindingCodes.UpdateRatioLow, "dense0");
        Assert.True(low.Measured < 1e-4);
        Expect.One(doctor.Findings, FindingCodes.UpdateRatioLow, "dense1");
    }

    [Fact]
    public void A_large_sgd_rate_gives_update_ratios_above_the_range()
    {
        var model = new SgdNet();
        var monitor = new UpdateRatioMonitor(every: 5);
        Drive.Run(model, monitor, epochs: 1, learningRate: 1f);
        output.WriteLine(Finding.Format(monitor.Findings));
        Finding high = Expect.One(monitor.Findings, FindingCodes.UpdateRatioHigh);
        Assert.True(high.Measured > 1e-2);
        Assert.NotNull(high.Step);
    }

    [Fact]
    public void The_update_ratio_is_the_exact_step_size_over_the_weights()
    {
        // For plain SGD without penalties ΔW = −lr·g exactly, so ‖ΔW‖/‖W‖ = lr·‖g‖/‖W‖, computed here independently.
        var model = new SgdNet();
        var monitor = new UpdateRatioMonitor(every: 1, minimumSamples: 1);
        monitor.OnRunStart(model, new TrainerOptions());
        TensorInfo w = model.Tensors.Single(t => t.Name == "dense0.weight");
        double expected = 0;
        for (int step = 0; step < 2; step++)
        {
            float[] before = model.TensorData(w).ToArray();
            float loss = model.TrainStep(Digits.Train.Features.AsSpan(step * 32 * 64, 32 * 64), Digits.Train.Labels.AsSpan(step * 32, 32), 32);
            float[] g = model.TensorGradient(w).ToArray();
            if (step == 1)
                expected = model.LearningRate * Math.Sqrt(g.Sum(v => (double)v * v)) / Math.Sqrt(before.Sum(v => (double)v * v));
            monitor.OnStep(model, new StepRecord(step, 1, loss, model.LearningRate));
        }
        output.WriteLine($"monitor {monitor.Ratio("dense0.weight")}, expected {expected}");
        Assert.True(Math.Abs(monitor.Ratio("dense0.weight") - expected) <= 1e-4 * expected);
    }

    [Fact]
    public void Frozen_layers_are_not_reported_as_stuck()
    {
        var model = new HealthyNet();
        model.SetLearningRateScale("dense0", 0);
        var monitor = new UpdateRatioMonitor(every: 5);
        Drive.Run(model, monitor, epochs: 1, learningRate: 2e-3f);
        Expect.None(monitor.Findings, FindingCodes.UpdateRatioLow);
        Assert.True(double.IsNaN(monitor.Ratio("dense0.weight")));
    }

    [Fact]
    public void The_activation_monitor_finds_dead_relu_and_saturation_during_training()
    {
        var dead = new ActivationMonitor(every: 5);
        Drive.Run(new NegativeBiasNet(), dead, epochs: 1);
        Finding f = Expect.One(dead.Findings, FindingCodes.DeadRelu, "relu0");
        Assert.Equal(4, f.Step); // the first sample: step index 4 with every = 5

        var saturated = new ActivationMonitor(every: 5);
        Drive.Run(new SaturatedSigmoidNet(), saturated, epochs: 1);
        Expect.One(saturated.Findings, FindingCodes.Saturation, "sigmoid0");

        var healthy = new ActivationMonitor(every: 5);
        Drive.Run(new BnDropoutNet(), healthy, epochs: 1);
        Assert.Empty(healthy.Findings);
    }

    [Fact]
    public void The_gradient_flow_monitor_finds_vanishing_gradients_during_training()
    {
        var monitor = new GradientFlowMonitor(every: 5);
        Drive.Run(new VanishingNet(), monitor, epochs: 1);
        Finding f = Expect.One(monitor.Findings, FindingCodes.VanishingGradient, "dense0");
        Assert.True(monitor.LastRatio < 1e-3);
        Assert.Contains("dense4.weight", f.Message);
    }

    [Fact]
    public void The_consistency_monitor_flags_unscaled_dropout_at_the_epoch_end_without_changing_the_run()
    {
        var monitored = new UnscaledDropoutNet();
        var monitor = new TrainEvalConsistencyMonitor(Digits.Train);
        Drive.Run(monitored, monitor, epochs: 2);
        Finding f = Expect.One(monitor.Findings, FindingCodes.TrainEvalInconsistent, "dropout0");
        output.WriteLine(f.ToString());

        // The probe restored the dropout stream and touched no parameter: an unmonitored twin trains identically.
        var twin = new UnscaledDropoutNet();
        Drive.Run(twin, new LossTrendMonitor(), epochs: 2);
        ModelState.Of(twin).AssertSame(ModelState.Of(monitored), "monitored vs unmonitored run");

        var inverted = new TrainEvalConsistencyMonitor(Digits.Train);
        Drive.Run(new InvertedDropoutNet(), inverted, epochs: 2);
        Assert.Empty(inverted.Findings);
    }

    [Fact]
    public void Monitors_do_not_allocate_per_step()
    {
        var model = new HealthyNet { LearningRate = 2e-3f };
        var doctor = new DoctorObserver(Digits.Train, every: 3);
        doctor.OnRunStart(model, new TrainerOptions());
        var data = Digits.Train;
        long allocated = 0;
        for (int step = 0; step < 60; step++)
        {
            int s = step % 20 * 64;
            float loss = model.TrainStep(data.Features.AsSpan(s * 64, 64 * 64), data.Labels.AsSpan(s, 64), 64);
            var record = new StepRecord(step, 1, loss, model.LearningRate);
            long before = GC.GetAllocatedBytesForCurrentThread();
            doctor.OnStep(model, record);
            long delta = GC.GetAllocatedBytesForCurrentThread() - before;
            if (delta != 0) output.WriteLine($"step {step}: {delta} bytes");
            if (step >= 10) allocated += delta;
        }
        Assert.Empty(doctor.Findings);
        Assert.Equal(0, allocated);
    }
}
