using System;
using System.Diagnostics;
using System.Globalization;
using Kiln;
using Kiln.Data;
using Kiln.Training;
using Spectre.Console;

namespace Kiln.Samples.FashionMnist;

/// <summary>Shows training progress: Spectre.Console bars on a terminal, one plain line per epoch otherwise.</summary>
internal static class ConsoleReporter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static RunSummary RunWithProgressBars(IKilnModel model, Dataset train, Dataset test, TrainerOptions options)
    {
        RunSummary? summary = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx => summary = Trainer.Fit(model, train, test, options, new BarReporter(ctx)));
        return summary!;
    }

    public static RunSummary RunWithLines(IKilnModel model, Dataset train, Dataset test, TrainerOptions options, string heldOut = "test") =>
        Trainer.Fit(model, train, test, options, new LineReporter(heldOut));

    /// <param name="s">The run.</param>
    /// <param name="dataset">Data set name for the title.</param>
    /// <param name="heldOut">What the run evaluated every epoch: "test", or "val" when a validation set was held out for early stopping.</param>
    /// <param name="test">The test split's single evaluation after the run (early stopping); null when the test split was the held-out set.</param>
    public static void PrintSummary(RunSummary s, string dataset, string heldOut = "test", EvaluationResult? test = null)
    {
        var table = new Table().Title($"{Markup.Escape(s.ModelName)} on {Markup.Escape(dataset)}");
        // Training and evaluation are timed apart: "train s" is the epoch's training loop (batch filling and steps), "samples/s"
        // its throughput, "steps/s" the samples per second inside TrainStep alone (the benchmark's figure), "eval s" the evaluation.
        foreach (string c in new[] { "epoch", "train loss", $"{heldOut} loss", $"{heldOut} acc", "train s", "samples/s", "steps/s", "eval s", "lr" })
            table.AddColumn(new TableColumn(c).RightAligned());
        foreach (EpochMetrics e in s.History)
        {
            string mark = e.Epoch == s.BestEpoch ? " *" : "";
            table.AddRow(
                e.Epoch.ToString(Inv) + mark,
                e.TrainLoss.ToString("F4", Inv),
                e.ValidationLoss?.ToString("F4", Inv) ?? "-",
                e.ValidationAccuracy is { } a ? (a * 100).ToString("F2", Inv) + "%" : "-",
                e.LoopSeconds.ToString("F2", Inv),
                e.LoopSamplesPerSecond.ToString("N0", Inv),
                e.SamplesPerSecond.ToString("N0", Inv),
                e.EvaluationSeconds.ToString("F2", Inv),
                e.LearningRate.ToString("G3", Inv));
        }
        AnsiConsole.Write(table);
        if (s.StopMessage is not null) Console.WriteLine($"stopped: {s.StopReason} by {s.StoppedBy}: {s.StopMessage}");
        if (s.RestoredState is not null) Console.WriteLine($"the model holds the {s.RestoredState}" + (s.BestEpoch is not null ? " (marked *)" : ""));
        // Plain lines after the table: easy to grep in CI logs, and never wrapped by the table width.
        double accuracy = test?.Accuracy ?? s.FinalValidationAccuracy ?? double.NaN, loss = test?.Loss ?? s.FinalValidationLoss ?? double.NaN;
        Console.WriteLine(string.Create(Inv, $"test accuracy {accuracy * 100:F2}%, test loss {loss:F4}"));
        Console.WriteLine(string.Create(Inv,
            $"training steps: {s.SamplesPerSecond:N0} samples/s ({s.SamplesSeen:N0} samples in {s.TrainSeconds:F2} s; whole run {s.TotalSeconds:F2} s incl. evaluation), ISA {s.Isa}"));
    }

    internal static string EpochLine(EpochMetrics e, int epochs, string heldOut = "test") =>
        string.Create(Inv,
            $"epoch {e.Epoch}/{epochs}  train loss {e.TrainLoss:F4}  {heldOut} loss {e.ValidationLoss:F4}  " +
            $"{heldOut} acc {(e.ValidationAccuracy ?? double.NaN) * 100:F2}%  train {e.LoopSeconds:F2} s {e.LoopSamplesPerSecond:N0} samples/s " +
            $"(steps {e.SamplesPerSecond:N0}/s)  eval {e.EvaluationSeconds:F2} s  lr {e.LearningRate:G3}");

    /// <summary>Redirected output (CI, files): a line per epoch, nothing per batch.</summary>
    private sealed class LineReporter(string heldOut) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Kind == ProgressKind.EpochEnd && p.Metrics is { } m) Console.WriteLine(EpochLine(m, p.Epochs, heldOut));
        }
    }

    /// <summary>One bar per epoch; descriptions (loss, last held-out accuracy, learning rate, speed) refreshed at most every 100 ms so the UI costs nothing measurable.</summary>
    private sealed class BarReporter(ProgressContext ctx) : IProgress<TrainingProgress>
    {
        private ProgressTask? _task;
        private int _epoch;
        private long _lastUpdate;
        private double _accuracy = double.NaN;

        public void Report(TrainingProgress p)
        {
            if (_task is null || p.Epoch != _epoch)
            {
                _epoch = p.Epoch;
                _task = ctx.AddTask($"epoch {p.Epoch}/{p.Epochs}", maxValue: p.BatchesPerEpoch);
                _lastUpdate = 0;
            }
            if (p.Kind == ProgressKind.EpochEnd && p.Metrics is { } m)
            {
                _accuracy = m.ValidationAccuracy ?? double.NaN;
                _task.Description = Describe(m.Epoch, p.Epochs, m.TrainLoss, m.LearningRate, m.SamplesPerSecond);
                _task.Value = _task.MaxValue;
                _task.StopTask();
                return;
            }
            _task.Value = p.Batch;
            long now = Stopwatch.GetTimestamp();
            if (_lastUpdate == 0 || Stopwatch.GetElapsedTime(_lastUpdate, now).TotalMilliseconds >= 100)
            {
                _lastUpdate = now;
                _task.Description = Describe(p.Epoch, p.Epochs, p.RunningLoss, p.LearningRate, p.SamplesPerSecond);
            }
        }

        private string Describe(int epoch, int epochs, double loss, float rate, double speed) => Markup.Escape(string.Create(Inv,
            $"epoch {epoch}/{epochs}  loss {loss:F4}  acc {(double.IsNaN(_accuracy) ? "-" : (_accuracy * 100).ToString("F2", Inv) + "%")}  lr {rate:G3}  {speed:N0}/s"));
    }
}
