using System;
using Kiln.Data;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// Train/eval consistency (docs/techniques.md#pitfalls, TheDeepChecker): after every epoch, the mean of several training-mode outputs on a
/// fixed probe batch against the eval-mode output on it (KLN-D015). Catches dropout without scaling and BatchNorm
/// running statistics that do not match the batch statistics. Runs only at epoch ends (one forward per draw plus one
/// eval-mode forward); it saves and restores the dropout stream so the run is not changed.
/// </summary>
public sealed class TrainEvalConsistencyMonitor : DoctorMonitor
{
    private readonly Dataset _probe;
    private readonly int _samples, _draws;
    private TrainEvalProbe? _measure;

    /// <param name="probe">Data to draw the probe batch from (typically the training set).</param>
    /// <param name="samples">Probe batch size (capped at the model's MaxBatch).</param>
    /// <param name="draws">Training-mode draws averaged.</param>
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    public TrainEvalConsistencyMonitor(Dataset probe, int samples = 256, int draws = 16, DoctorThresholds? thresholds = null) : base(1, thresholds)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(draws);
        _probe = probe;
        _samples = samples;
        _draws = draws;
    }

    /// <inheritdoc/>
    public override string Name => "doctor/train-eval";

    /// <summary>The last measured relative difference (NaN before the first epoch end).</summary>
    public double LastDifference { get; private set; } = double.NaN;

    /// <inheritdoc/>
    protected override void Start(IKilnModel model)
    {
        TrainingDoctor.CheckFits(model, _probe, "probe");
        _measure = new TrainEvalProbe(model, _probe, _samples, _draws, seed: 0);
        LastDifference = double.NaN;
    }

    /// <inheritdoc/>
    public override ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics)
    {
        if (_measure is null) throw new InvalidOperationException($"{Name}: OnRunStart was not called.");
        LastDifference = _measure.Measure(model);
        if (LastDifference > Thresholds.TrainEvalRelativeDifference)
            Report(Diagnoses.TrainEval(TrainingDoctor.FirstModeDependentLayer(model), LastDifference, Thresholds, StepsSeen - 1));
        return ObserverVerdict.Continue;
    }
}
