using System;

namespace Kiln.Training;

/// <summary>
/// The best value of one epoch metric so far, with early stopping's rule: a value improves when it is below
/// best − minDelta (Min) or above best + minDelta (Max); NaN, ±∞ and missing values never improve.
/// Shared by early stopping and the run directory's <c>best.safetensors</c>.
/// </summary>
internal sealed class MetricTracker(TrainingMetric metric, MetricMode mode, double minDelta)
{
    public TrainingMetric Metric => metric;
    public MetricMode Mode => mode;
    public int? BestEpoch { get; private set; }
    public double? BestValue { get; private set; }

    /// <summary>Judges an epoch; returns true (and records it as the best) when it improves.</summary>
    public bool Observe(EpochMetrics epoch)
    {
        if (Value(epoch, metric) is not double value || !double.IsFinite(value)) return false;
        bool improves = BestValue is not double best
            || (mode == MetricMode.Min ? value < best - minDelta : value > best + minDelta);
        if (!improves) return false;
        BestValue = value;
        BestEpoch = epoch.Epoch;
        return true;
    }

    /// <summary>The metric's value in an epoch's record; null when it was not measured.</summary>
    public static double? Value(EpochMetrics epoch, TrainingMetric metric) => metric switch
    {
        TrainingMetric.ValidationLoss => epoch.ValidationLoss,
        TrainingMetric.ValidationAccuracy => epoch.ValidationAccuracy,
        TrainingMetric.TrainLoss => epoch.TrainLoss,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown training metric."),
    };

    /// <summary>The metric's snake_case name, as in the run directory's files.</summary>
    public static string Name(TrainingMetric metric) => metric switch
    {
        TrainingMetric.ValidationLoss => "validation_loss",
        TrainingMetric.ValidationAccuracy => "validation_accuracy",
        TrainingMetric.TrainLoss => "train_loss",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown training metric."),
    };
}
