using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Kiln.Training;

/// <summary>Metrics of one epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Batches">Training steps taken.</param>
/// <param name="Samples">Samples trained on.</param>
/// <param name="TrainLoss">Sample-weighted mean of the losses returned by TrainStep (training mode: dropout on, batch statistics).</param>
/// <param name="TrainAccuracy">Eval-mode accuracy on the training subset of <see cref="TrainerOptions.TrainAccuracySamples"/>; null when skipped.</param>
/// <param name="TrainEvalLoss">Eval-mode loss on that subset; null when skipped.</param>
/// <param name="ValidationLoss">Eval-mode validation loss; null when not evaluated this epoch.</param>
/// <param name="ValidationAccuracy">Eval-mode validation accuracy in [0, 1]; null when not evaluated this epoch.</param>
/// <param name="Seconds">Wall time of the whole epoch: batch filling, steps, evaluations, progress callbacks.</param>
/// <param name="TrainSeconds">Time inside TrainStep calls only.</param>
/// <param name="SamplesPerSecond">Samples / TrainSeconds.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step (base × schedule factor; a schedule may change it every step, see <see cref="RunSummary.Steps"/>).</param>
public sealed record EpochMetrics(
    int Epoch,
    int Batches,
    int Samples,
    double TrainLoss,
    double? TrainAccuracy,
    double? TrainEvalLoss,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double Seconds,
    double TrainSeconds,
    double SamplesPerSecond,
    float LearningRate)
{
    /// <summary>
    /// Wall time of the epoch's training loop: shuffling, batch filling, augmentation, the steps, observers' per-step
    /// work, progress callbacks and the epoch-end good-state snapshot; everything in <see cref="Seconds"/> except the
    /// evaluations and what follows them (epoch-end observers and the epoch-end progress report).
    /// </summary>
    public double LoopSeconds { get; init; }

    /// <summary>Wall time of the epoch's evaluations (training-subset accuracy and validation); 0 when none ran.</summary>
    public double EvaluationSeconds { get; init; }

    /// <summary>
    /// Samples / <see cref="LoopSeconds"/>: the training throughput with batch filling and the loop's bookkeeping
    /// counted, evaluation not (0 when the loop took no measurable time). <see cref="SamplesPerSecond"/> counts the steps only.
    /// </summary>
    public double LoopSamplesPerSecond => LoopSeconds > 0 ? Samples / LoopSeconds : 0;
}

/// <summary>One training step, recorded when <see cref="TrainerOptions.RecordSteps"/> is set.</summary>
/// <param name="Step">0-based step number within the run.</param>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Loss">The mean loss TrainStep returned (training mode).</param>
/// <param name="LearningRate">The learning rate the step ran with.</param>
public readonly record struct StepRecord(long Step, int Epoch, float Loss, float LearningRate);

/// <summary>
/// The record of a training run. Throughput (<see cref="SamplesPerSecond"/>) is measured with
/// <see cref="System.Diagnostics.Stopwatch"/> timestamps taken immediately before and after each
/// <see cref="IKilnModel.TrainStep(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/> call and summed, so it
/// excludes batch filling (shuffling and copying rows), evaluations and progress callbacks;
/// <see cref="TotalSeconds"/> is the wall time of everything.
/// </summary>
public sealed record RunSummary
{
    /// <summary>The model's class name.</summary>
    public string ModelName { get; init; } = "";
    /// <summary>ISA path the model ran on.</summary>
    public string Isa { get; init; } = "";
    /// <summary>Name of the training set.</summary>
    public string TrainDataset { get; init; } = "";
    /// <summary>Number of training samples.</summary>
    public int TrainSamples { get; init; }
    /// <summary>Name of the validation set, or null when the run had none.</summary>
    public string? ValidationDataset { get; init; }
    /// <summary>Number of validation samples (0 without a validation set).</summary>
    public int ValidationSamples { get; init; }
    /// <summary>Samples per training step.</summary>
    public int BatchSize { get; init; }
    /// <summary>Seed of the shuffling and noise streams.</summary>
    public ulong Seed { get; init; }
    /// <summary>Epochs asked for (the run may have stopped earlier; see <see cref="StopReason"/>).</summary>
    public int EpochsRequested { get; init; }
    /// <summary>Why the run ended.</summary>
    public StopReason StopReason { get; init; }
    /// <summary>Per-epoch metrics, in order.</summary>
    public IReadOnlyList<EpochMetrics> History { get; init; } = [];
    /// <summary>Wall time of the run.</summary>
    public double TotalSeconds { get; init; }
    /// <summary>Time inside TrainStep calls, summed over the run.</summary>
    public double TrainSeconds { get; init; }
    /// <summary>Samples trained on, summed over the run.</summary>
    public long SamplesSeen { get; init; }
    /// <summary>SamplesSeen / TrainSeconds: throughput of the training steps alone.</summary>
    public double SamplesPerSecond { get; init; }
    /// <summary>Learning rate of the run's last step.</summary>
    public float LearningRate { get; init; }
    /// <summary>The base learning rate the schedule multiplied.</summary>
    public float BaseLearningRate { get; init; }
    /// <summary>The schedule, as text (for example <c>Warmup(500 steps) → Cosine(T = 30 epochs, min 0)</c>).</summary>
    public string Schedule { get; init; } = "";
    /// <summary>Every step's loss and learning rate when <see cref="TrainerOptions.RecordSteps"/> was set; null otherwise.</summary>
    public IReadOnlyList<StepRecord>? Steps { get; init; }
    /// <summary>Mean training loss of the last epoch (NaN when no epoch ran).</summary>
    public double FinalTrainLoss { get; init; } = double.NaN;
    /// <summary>Eval-mode validation loss after the last epoch; null without a validation set.</summary>
    public double? FinalValidationLoss { get; init; }
    /// <summary>Eval-mode validation accuracy after the last epoch; null without a validation set.</summary>
    public double? FinalValidationAccuracy { get; init; }
    /// <summary>
    /// Who ended the run early: the stopping observer's <see cref="ITrainingObserver.Name"/>, <c>early stopping</c>, or
    /// <c>non-finite loss</c>; null when the run completed or was cancelled.
    /// </summary>
    public string? StoppedBy { get; init; }
    /// <summary>Why, in a sentence (for example "no improvement of validation_loss for 3 epochs"); null when the run completed.</summary>
    public string? StopMessage { get; init; }
    /// <summary>The metric early stopping judged by; null without early stopping.</summary>
    public TrainingMetric? BestMetric { get; init; }
    /// <summary>1-based epoch with the best <see cref="BestMetric"/>; null without early stopping or when no epoch had a usable value.</summary>
    public int? BestEpoch { get; init; }
    /// <summary>The metric's value at <see cref="BestEpoch"/>.</summary>
    public double? BestValue { get; init; }
    /// <summary>
    /// What the model holds after the run when it is not the state after the last step: "best epoch N" (early
    /// stopping restored it) or "last good state after step N" (a non-finite loss stopped the run); null otherwise.
    /// </summary>
    public string? RestoredState { get; init; }

    /// <summary>JSON with snake_case names (System.Text.Json source-generated; NaN written as "NaN").</summary>
    public string ToJson() => JsonSerializer.Serialize(this, KilnJsonContext.Default.RunSummary);

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>, creating its directory.</summary>
    public void WriteJson(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, ToJson() + Environment.NewLine);
    }

    /// <summary>Reads a summary written by <see cref="ToJson"/>; throws <see cref="System.Text.Json.JsonException"/> when the text is not one.</summary>
    public static RunSummary FromJson(string json) =>
        JsonSerializer.Deserialize(json, KilnJsonContext.Default.RunSummary) ?? throw new JsonException("Run summary JSON is null.");

    /// <summary>A fixed-width text table: one row per epoch, then the totals.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"{ModelName} on {TrainDataset} ({TrainSamples} samples), batch {BatchSize}, ISA {Isa}, {StopReason.ToString().ToLowerInvariant()}");
        if (Schedule.Length > 0) sb.Append(inv, $", learning rate {BaseLearningRate:G3} × {Schedule}");
        sb.AppendLine();
        sb.AppendLine(inv, $"{"epoch",5} {"train loss",10} {"train acc",9} {"val loss",9} {"val acc",8} {"seconds",8} {"samples/s",10} {"lr",9}");
        foreach (EpochMetrics e in History)
        {
            sb.AppendLine(inv,
                $"{e.Epoch,5} {e.TrainLoss,10:F4} {Pct(e.TrainAccuracy),9} {Num(e.ValidationLoss),9} {Pct(e.ValidationAccuracy),8} {e.Seconds,8:F2} {e.SamplesPerSecond,10:F0} {e.LearningRate,9:G3}");
        }
        sb.Append(inv, $"total {TotalSeconds:F2} s (training steps {TrainSeconds:F2} s, {SamplesPerSecond:F0} samples/s)");
        if (FinalValidationAccuracy is { } acc)
            sb.Append(inv, $"; validation loss {FinalValidationLoss:F4}, accuracy {acc * 100:F2}%");
        sb.AppendLine();
        return sb.ToString();

        static string Pct(double? v) => v is { } x ? (x * 100).ToString("F2", CultureInfo.InvariantCulture) + "%" : "-";
        static string Num(double? v) => v is { } x ? x.ToString("F4", CultureInfo.InvariantCulture) : "-";
    }

    /// <inheritdoc/>
    public override string ToString() => ToTable();
}
