using System;
using System.Collections.Generic;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// Base of the doctor's monitors: an <see cref="ITrainingObserver"/> that collects <see cref="Findings"/>, each
/// (code, layer) once per run. Monitors sample every <see cref="Every"/> steps and keep their buffers from
/// <see cref="OnRunStart"/>, so the per-step cost is a counter and no allocation; a finding allocates only when it is
/// reported. Steps are counted by the monitor from the run's start (0-based).
/// </summary>
public abstract class DoctorMonitor : ITrainingObserver
{
    private readonly List<Finding> _findings = [];
    private readonly HashSet<(string Code, string? Layer)> _reported = [];

    /// <summary>Creates the monitor.</summary>
    /// <param name="every">Sample every this many steps (≥ 1).</param>
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    protected DoctorMonitor(int every, DoctorThresholds? thresholds)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(every);
        Every = every;
        Thresholds = thresholds ?? DoctorThresholds.Default;
    }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <summary>Steps between samples.</summary>
    public int Every { get; }

    /// <summary>The thresholds in use.</summary>
    public DoctorThresholds Thresholds { get; }

    /// <summary>What this monitor found so far in the current run.</summary>
    public IReadOnlyList<Finding> Findings => _findings;

    /// <summary>Steps seen in the current run.</summary>
    protected long StepsSeen { get; private set; }

    /// <summary>True when <paramref name="code"/> was already reported for <paramref name="layer"/> in this run (check before building a finding, so a persisting problem allocates nothing).</summary>
    protected bool Reported(string code, string? layer) => _reported.Contains((code, layer));

    /// <summary>Records a finding unless the same code was already reported for the same layer in this run.</summary>
    protected bool Report(Finding? finding)
    {
        if (finding is null || !_reported.Add((finding.Code, finding.Layer))) return false;
        _findings.Add(finding);
        return true;
    }

    /// <summary>Forgets the previous run's findings; subclasses prepare their buffers in <see cref="Start"/>.</summary>
    public void OnRunStart(IKilnModel model, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        _findings.Clear();
        _reported.Clear();
        StepsSeen = 0;
        Start(model);
    }

    /// <summary>Counts the step and calls <see cref="Sample"/> every <see cref="Every"/> steps (and <see cref="BeforeSample"/> the step before).</summary>
    public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
    {
        long index = StepsSeen++;
        ObserverVerdict verdict = Watch(model, step, index);
        if ((index + 1) % Every == 0) verdict = Combine(verdict, Sample(model, step, index));
        // After the sample, so that with Every = 1 a step is compared with the one before it, then remembered.
        if ((index + 2) % Every == 0) BeforeSample(model, index);
        return verdict;
    }

    /// <inheritdoc/>
    public virtual ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics) => ObserverVerdict.Continue;

    /// <inheritdoc/>
    public virtual void OnRunEnd(IKilnModel model, RunSummary summary) { }

    /// <summary>Allocate buffers for this model (once per run).</summary>
    protected virtual void Start(IKilnModel model) { }

    /// <summary>Every step: only the cheapest checks (the loss).</summary>
    protected virtual ObserverVerdict Watch(IKilnModel model, in StepRecord step, long index) => ObserverVerdict.Continue;

    /// <summary>The step before a sample (to remember weights for the update ratio).</summary>
    protected virtual void BeforeSample(IKilnModel model, long index) { }

    /// <summary>Every <see cref="Every"/> steps.</summary>
    protected virtual ObserverVerdict Sample(IKilnModel model, in StepRecord step, long index) => ObserverVerdict.Continue;

    /// <summary>Stop wins.</summary>
    protected static ObserverVerdict Combine(ObserverVerdict a, ObserverVerdict b) =>
        a == ObserverVerdict.Stop || b == ObserverVerdict.Stop ? ObserverVerdict.Stop : ObserverVerdict.Continue;
}
