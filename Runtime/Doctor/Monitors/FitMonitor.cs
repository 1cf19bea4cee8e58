using System;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// Over- and underfitting (docs/techniques.md#hyper-parameters, docs/techniques.md#gradient-checking): after each epoch, a training − validation accuracy gap above 10% or a validation
/// loss rising for 3 epochs while the training loss falls (KLN-D013); at the end of a run that did not diverge, training accuracy below
/// 90% with no gap (KLN-D014) and validation accuracy still rising (KLN-D016, info). Needs a validation set, and for
/// the accuracies <see cref="TrainerOptions.TrainAccuracySamples"/> &gt; 0.
/// </summary>
public sealed class FitMonitor : DoctorMonitor
{
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    public FitMonitor(DoctorThresholds? thresholds = null) : base(1, thresholds) { }

    /// <inheritdoc/>
    public override string Name => "doctor/fit";

    private readonly System.Collections.Generic.List<EpochMetrics> _history = [];

    /// <inheritdoc/>
    protected override void Start(IKilnModel model) => _history.Clear();

    /// <inheritdoc/>
    public override ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _history.Add(metrics);
        foreach (Finding f in Diagnoses.Fit(_history, Thresholds))
            if (f.Code == FindingCodes.Overfitting) Report(f with { Step = StepsSeen - 1 });
        return ObserverVerdict.Continue;
    }

    /// <inheritdoc/>
    public override void OnRunEnd(IKilnModel model, RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var history = summary.History.Count > 0 ? summary.History : _history;
        // A diverged run's accuracies say nothing about capacity: the non-finite finding explains it.
        if (summary.StopReason == StopReason.Diverged || history.Count > 0 && !double.IsFinite(history[^1].TrainLoss) ||
            LayerProbe.FirstNonFinite(model, gradients: false) is not null)
            return;
        foreach (Finding f in Diagnoses.Fit(history, Thresholds)) Report(f with { Step = StepsSeen - 1 });
    }
}
