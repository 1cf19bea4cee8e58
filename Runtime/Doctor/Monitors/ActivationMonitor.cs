using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// Dead ReLU and saturation (docs/techniques.md#pitfalls), every <see cref="DoctorMonitor.Every"/> steps from the training batch's forward pass
/// (LayerOutput, no extra work for the model): a ReLU layer with ≥ 70% of its units at 0 for the whole batch
/// (KLN-D009), a sigmoid/tanh layer with more than 50% of its inputs at |x| ≥ 5 (KLN-D010).
/// </summary>
public sealed class ActivationMonitor : DoctorMonitor
{
    private WatchedActivation[] _layers = [];

    /// <param name="every">Steps between samples.</param>
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    public ActivationMonitor(int every = 10, DoctorThresholds? thresholds = null) : base(every, thresholds) { }

    /// <inheritdoc/>
    public override string Name => "doctor/activations";

    /// <inheritdoc/>
    protected override void Start(IKilnModel model) => _layers = LayerProbe.Activations(model);

    /// <inheritdoc/>
    protected override ObserverVerdict Sample(IKilnModel model, in StepRecord step, long index)
    {
        foreach (WatchedActivation layer in _layers)
        {
            bool relu = layer.Kind == "relu";
            if (Reported(relu ? FindingCodes.DeadRelu : FindingCodes.Saturation, layer.Layer)) continue;
            Report(relu
                ? Diagnoses.DeadRelu(layer, LayerProbe.DeadFraction(model, layer), Thresholds, index)
                : Diagnoses.Saturation(layer, LayerProbe.SaturatedFraction(model, layer, Thresholds.SaturationInput), Thresholds, index));
        }
        return ObserverVerdict.Continue;
    }
}
