using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Kiln.Training;
using Xunit;

namespace Kiln.Doctor.Tests;

/// <summary>Over/underfitting rules on per-epoch metrics, and the findings' documentation.</summary>
public sealed class FitTests
{
    private static EpochMetrics Epoch(int n, double trainLoss, double? trainAcc, double? valLoss, double? valAcc) =>
        new(n, 10, 640, trainLoss, trainAcc, trainLoss, valLoss, valAcc, 1, 1, 640, 1e-3f);

    [Fact]
    public void A_large_train_validation_gap_is_overfitting()
    {
        var history = new[] { Epoch(1, 0.5, 0.90, 0.6, 0.85), Epoch(2, 0.1, 0.99, 0.7, 0.84) };
        Finding f = Expect.One(TrainingDoctor.CheckFit(history), FindingCodes.Overfitting);
        Assert.Equal(0.15, f.Measured, 9);
        Assert.Contains("regularisation", f.Fix);
    }

    [Fact]
    public void A_validation_loss_rising_while_the_training_loss_falls_is_overfitting()
    {
        var history = new[] { Epoch(1, 0.9, null, 0.50, null), Epoch(2, 0.7, null, 0.55, null), Epoch(3, 0.5, null, 0.60, null), Epoch(4, 0.3, null, 0.70, null) };
        Expect.One(TrainingDoctor.CheckFit(history), FindingCodes.Overfitting);
        // Two rising epochs are not yet three.
        Expect.None(TrainingDoctor.CheckFit(history[..3]), FindingCodes.Overfitting);
    }

    [Fact]
    public void Low_accuracy_with_no_gap_is_underfitting()
    {
        var history = new[] { Epoch(1, 1.5, 0.55, 1.5, 0.54), Epoch(2, 1.4, 0.60, 1.4, 0.60) };
        var findings = TrainingDoctor.CheckFit(history);
        Finding f = Expect.One(findings, FindingCodes.Underfitting);
        Assert.Equal(0.60, f.Measured, 9);
        Assert.Contains("bigger model", f.Fix);
        // Validation accuracy rose 6 points in the last epoch: still improving (info).
        Assert.Equal(Severity.Info, Expect.One(findings, FindingCodes.StillImproving).Severity);
    }

    [Fact]
    public void A_good_fit_has_no_findings()
    {
        var history = new[] { Epoch(1, 0.3, 0.95, 0.32, 0.94), Epoch(2, 0.2, 0.97, 0.25, 0.95) };
        Assert.DoesNotContain(TrainingDoctor.CheckFit(history), f => f.Code != FindingCodes.StillImproving);
        Assert.Empty(TrainingDoctor.CheckFit([history[1], history[1] with { Epoch = 3 }]));
    }

    [Fact]
    public void The_fit_monitor_reports_at_the_epoch_end_and_at_the_run_end()
    {
        var monitor = new FitMonitor();
        var model = new HealthyNet();
        monitor.OnRunStart(model, new TrainerOptions());
        monitor.OnEpochEnd(model, Epoch(1, 0.1, 0.99, 0.9, 0.70));
        Expect.One(monitor.Findings, FindingCodes.Overfitting);
        monitor.OnRunEnd(model, new RunSummary { History = [Epoch(1, 0.1, 0.99, 0.9, 0.70)] });
        Assert.Single(monitor.Findings); // reported once
    }

    [Fact]
    public void Every_finding_code_is_unique_and_documented_with_its_threshold()
    {
        string[] codes = typeof(FindingCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!).ToArray();
        Assert.Equal(codes.Length, codes.Distinct().Count());
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Dsl.sln"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        string doc = File.ReadAllText(Path.Combine(dir!, "docs", "doctor.md"));
        foreach (string code in codes) Assert.Contains($"| {code} |", doc);
    }

    [Fact]
    public void Findings_format_most_severe_first()
    {
        var info = new Finding("KLN-D016", Severity.Info, null, "m1.", "f1.", 0, 0);
        var error = new Finding("KLN-D005", Severity.Error, "dense1", "m2.", "f2.", double.NaN, double.NaN, 7);
        string text = Finding.Format([info, error]);
        Assert.StartsWith("KLN-D005 error [dense1] (step 7) m2. Fix: f2.", text);
        Assert.EndsWith("KLN-D016 info m1. Fix: f1.", text);
        Assert.Equal("no findings", Finding.Format([]));
    }
}
