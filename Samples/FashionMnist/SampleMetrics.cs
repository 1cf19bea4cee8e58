using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kiln.Training;

namespace Kiln.Samples.FashionMnist;

/// <summary>
/// The --metrics-out record that benchmarks compare across frameworks. Keys are snake_case.
/// <c>train_samples_per_second</c> counts only the time inside TrainStep (see <see cref="RunSummary"/>);
/// <c>seconds</c> is the wall time of the whole Trainer.Fit call including per-epoch test evaluation.
/// </summary>
internal sealed record SampleMetrics
{
    public required string Dataset { get; init; }
    public required string Model { get; init; }
    public required int Epochs { get; init; }
    public required int Batch { get; init; }
    public required float LearningRate { get; init; }
    public required ulong Seed { get; init; }
    public required int TrainSamples { get; init; }
    public required int TestSamples { get; init; }
    public double? TestAccuracy { get; init; }
    public double? TestLoss { get; init; }
    public required double TrainLoss { get; init; }
    public required double TrainSamplesPerSecond { get; init; }
    /// <summary>Seconds inside TrainStep calls.</summary>
    public required double TrainSeconds { get; init; }
    /// <summary>Wall seconds of training including evaluation.</summary>
    public required double Seconds { get; init; }
    public required string Isa { get; init; }
    /// <summary>Threads that each used ≥ 10% of the run's wall time (measured, not configured).</summary>
    public required int Threads { get; init; }
    /// <summary>Process CPU seconds over the run (≈ Seconds × effective parallelism).</summary>
    public required double CpuSeconds { get; init; }
    public required int ProcessorCount { get; init; }
    public required string StopReason { get; init; }
    /// <summary>With early stopping: the epoch whose parameters were restored (the test metrics are measured on it).</summary>
    public int? BestEpoch { get; init; }
    public required string Runtime { get; init; }
    public required IReadOnlyList<EpochMetrics> History { get; init; }

    /// <param name="test">The test split's evaluation when it was not the run's validation set (early stopping); null uses the summary's final validation metrics.</param>
    public static SampleMetrics From(RunSummary s, string dataset, float learningRate, CpuUsage usage, Kiln.EvaluationResult? test = null) => new()
    {
        Dataset = dataset,
        Model = s.ModelName,
        Epochs = s.History.Count,
        Batch = s.BatchSize,
        LearningRate = learningRate,
        Seed = s.Seed,
        TrainSamples = s.TrainSamples,
        TestSamples = test?.Count ?? s.ValidationSamples,
        TestAccuracy = test?.Accuracy ?? s.FinalValidationAccuracy,
        TestLoss = test?.Loss ?? s.FinalValidationLoss,
        TrainLoss = s.FinalTrainLoss,
        TrainSamplesPerSecond = s.SamplesPerSecond,
        TrainSeconds = s.TrainSeconds,
        Seconds = s.TotalSeconds,
        Isa = s.Isa.ToLowerInvariant(),
        Threads = usage.BusyThreads,
        CpuSeconds = usage.CpuSeconds,
        ProcessorCount = Environment.ProcessorCount,
        StopReason = s.StopReason.ToString().ToLowerInvariant(),
        BestEpoch = s.BestEpoch,
        Runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        History = s.History,
    };

    public void Write(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(this, SampleJsonContext.Default.SampleMetrics) + Environment.NewLine);
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(SampleMetrics))]
internal sealed partial class SampleJsonContext : JsonSerializerContext;
