using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// Vanishing and exploding gradients (docs/techniques.md#pitfalls): every <see cref="DoctorMonitor.Every"/> steps, the ratio of the gradient
/// RMS (‖∂W‖/√n) of the first Dense weight tensor to that of the last one; below 1e-3 the first layers barely learn
/// (KLN-D007), above 70 gradients grow toward the input (KLN-D008). The RMS rather than the norm keeps the ratio
/// independent of the layers' sizes.
/// </summary>
public sealed class GradientFlowMonitor : DoctorMonitor
{
    private TensorInfo? _first, _last;

    /// <param name="every">Steps between samples.</param>
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    public GradientFlowMonitor(int every = 10, DoctorThresholds? thresholds = null) : base(every, thresholds) { }

    /// <inheritdoc/>
    public override string Name => "doctor/gradient-flow";

    /// <summary>The last sampled first/last gradient RMS ratio (NaN before the first sample).</summary>
    public double LastRatio { get; private set; } = double.NaN;

    /// <inheritdoc/>
    protected override void Start(IKilnModel model)
    {
        (_first, _last) = LayerProbe.FirstAndLastWeights(model) is (TensorInfo f, TensorInfo l) ? (f, l) : ((TensorInfo?)null, (TensorInfo?)null);
        LastRatio = double.NaN;
    }

    /// <inheritdoc/>
    protected override ObserverVerdict Sample(IKilnModel model, in StepRecord step, long index)
    {
        if (_first is null || _last is null || !float.IsFinite(step.Loss)) return ObserverVerdict.Continue;
        double first = LayerProbe.Rms(model.TensorGradient(_first)), last = LayerProbe.Rms(model.TensorGradient(_last));
        LastRatio = first / last;
        string code = LastRatio < Thresholds.VanishingGradientRatio ? FindingCodes.VanishingGradient : FindingCodes.ExplodingGradient;
        if (!Reported(code, _first.Layer)) Report(Diagnoses.GradientRatio(_first, _last, first, last, Thresholds, index));
        return ObserverVerdict.Continue;
    }
}
