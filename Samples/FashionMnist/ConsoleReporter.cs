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

    public static RunSummary RunWithLines(IKilnModel model, Dataset train, Dataset test, TrainerOptions options) =>
        Trainer.Fit(model, train, test, options, new LineReporter());

    public static void PrintSummary(RunSummary s, string dataset)
    {
        var table = new Table().Title($"{Markup.Escape(s.ModelName)} on {Markup.Escape(dataset)}");
        foreach (string c in new[] { "epoch", "train loss", "test loss", "test acc", "seconds", "samples/s", "lr" })
            table.AddColumn(new TableColumn(c).RightAligned());
        foreach (EpochMetrics e in s.History)
        {
            table.AddRow(
                e.Epoch.ToString(Inv),
                e.TrainLoss.ToString("F4", Inv),
                e.ValidationLoss?.ToString("F4", Inv) ?? "-",
                e.ValidationAccuracy is { } a ? (a * 100).ToString("F2", Inv) + "%" : "-",
                e.Seconds.ToString("F2", Inv),
                e.SamplesPerSecond.ToString("N0", Inv),
                e.LearningRate.ToString("G3", Inv));
        }
        AnsiConsole.Write(table);
        // Plain lines after the table: easy to grep in CI logs, and never wrapped by the table width.
        Console.WriteLine(string.Create(Inv,
            $"test accuracy {(s.FinalValidationAccuracy ?? double.NaN) * 100:F2}%, test loss {s.FinalValidationLoss ?? double.NaN:F4}"));
        Console.WriteLine(string.Create(Inv,
            $"training steps: {s.SamplesPerSecond:N0} samples/s ({s.SamplesSeen:N0} samples in {s.TrainSeconds:F2} s; whole run {s.TotalSeconds:F2} s incl. evaluation), ISA {s.Isa}"));
    }

    internal static string EpochLine(EpochMetrics e, int epochs) =>
        string.Create(Inv,
            $"epoch {e.Epoch}/{epochs}  train loss {e.TrainLoss:F4}  test loss {e.ValidationLoss:F4}  " +
            $"test acc {(e.ValidationAccuracy ?? double.NaN) * 100:F2}%  {e.Seconds:F2} s  {e.SamplesPerSecond:N0} samples/s  lr {e.LearningRate:G3}");

    /// <summary>Redirected output (CI, files): a line per epoch, nothing per batch.</summary>
    private sealed class LineReporter : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Kind == ProgressKind.EpochEnd && p.Metrics is { } m) Console.WriteLine(EpochLine(m, p.Epochs));
        }
    }

    /// <summary>One bar per epoch; descriptions refreshed at most every 100 ms so the UI costs nothing measurable.</summary>
    private sealed class BarReporter(ProgressContext ctx) : IProgress<TrainingProgress>
    {
        private ProgressTask? _task;
        private int _epoch;
        private long _lastUpdate;

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
                _task.Description = Markup.Escape(string.Create(Inv,
                    $"epoch {m.Epoch}/{p.Epochs}  loss {m.TrainLoss:F4}  test acc {(m.ValidationAccuracy ?? double.NaN) * 100:F2}%  {m.SamplesPerSecond:N0}/s"));
                _task.Value = _task.MaxValue;
                _task.StopTask();
                return;
            }
            _task.Value = p.Batch;
            long now = Stopwatch.GetTimestamp();
            if (_lastUpdate == 0 || Stopwatch.GetElapsedTime(_lastUpdate, now).TotalMilliseconds >= 100)
            {
                _lastUpdate = now;
                _task.Description = Markup.Escape(string.Create(Inv,
                    $"epoch {p.Epoch}/{p.Epochs}  loss {p.RunningLoss:F4}  {p.SamplesPerSecond:N0}/s"));
            }
        }
    }
}
