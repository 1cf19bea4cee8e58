using System;
using System.Collections.Generic;
using Kiln.Data;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// All of the doctor's monitors as one observer: non-finite values (stop, keep the last good state), loss trend,
/// gradient flow, dead ReLU and saturation, update/weight ratio, over/underfitting and, when a probe set is given,
/// train/eval consistency. <see cref="Findings"/> gathers theirs in the order found.
/// </summary>
public sealed class DoctorObserver : ITrainingObserver
{
    private readonly DoctorMonitor[] _monitors;

    /// <param name="probe">Data for the train/eval consistency probe (typically the training set); null skips that monitor.</param>
    /// <param name="every">Steps between samples of the sampling monitors.</param>
    /// <param name="checkpointPath">Where the non-finite monitor saves the last good checkpoint; null keeps it in memory.</param>
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    public DoctorObserver(Dataset? probe = null, int every = 10, string? checkpointPath = null, DoctorThresholds? thresholds = null)
    {
        NonFinite = new NonFiniteMonitor(every, checkpointPath, thresholds);
        var monitors = new List<DoctorMonitor>
        {
            NonFinite,
            new LossTrendMonitor(thresholds),
            new GradientFlowMonitor(every, thresholds),
            new ActivationMonitor(every, thresholds),
            new UpdateRatioMonitor(every, thresholds: thresholds),
            new FitMonitor(thresholds),
        };
        if (probe is not null) monitors.Add(new TrainEvalConsistencyMonitor(probe, thresholds: thresholds));
        _monitors = [.. monitors];
    }

    /// <inheritdoc/>
    public string Name => "doctor";

    /// <summary>The monitors, in the order they are called.</summary>
    public IReadOnlyList<DoctorMonitor> Monitors => _monitors;

    /// <summary>The non-finite monitor (for <see cref="NonFiniteMonitor.RestoreLastGood"/>).</summary>
    public NonFiniteMonitor NonFinite { get; }

    /// <summary>Every monitor's findings, monitor by monitor.</summary>
    public IReadOnlyList<Finding> Findings
    {
        get
        {
            var all = new List<Finding>();
            foreach (DoctorMonitor m in _monitors) all.AddRange(m.Findings);
            return all;
        }
    }

    /// <inheritdoc/>
    public void OnRunStart(IKilnModel model, TrainerOptions options)
    {
        foreach (DoctorMonitor m in _monitors) m.OnRunStart(model, options);
    }

    /// <inheritdoc/>
    public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
    {
        ObserverVerdict verdict = ObserverVerdict.Continue;
        foreach (DoctorMonitor m in _monitors)
            if (m.OnStep(model, step) == ObserverVerdict.Stop) verdict = ObserverVerdict.Stop;
        return verdict;
    }

    /// <inheritdoc/>
    public ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics)
    {
        ObserverVerdict verdict = ObserverVerdict.Continue;
        foreach (DoctorMonitor m in _monitors)
            if (m.OnEpochEnd(model, metrics) == ObserverVerdict.Stop) verdict = ObserverVerdict.Stop;
        return verdict;
    }

    /// <inheritdoc/>
    public void OnRunEnd(IKilnModel model, RunSummary summary)
    {
        foreach (DoctorMonitor m in _monitors) m.OnRunEnd(model, summary);
    }

    /// <summary>The findings, one per line, most severe first.</summary>
    public override string ToString() => Finding.Format(Findings);
}
