using System.Globalization;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// Loss not decreasing (docs/techniques.md#pitfalls): the training loss is averaged over windows of <see cref="DoctorThresholds.LossWindow"/>
/// steps (mini-batch losses are noisy, docs/techniques.md#hyper-parameters); when <see cref="DoctorThresholds.LossPatience"/> windows in a row each fall
/// less than <see cref="DoctorThresholds.MinimumLossDecrease"/> (5%) below the previous one, it reports KLN-D006: a
/// warning while the loss is still above half of the first window's, an info (a plateau, perhaps convergence) after.
/// </summary>
public sealed class LossTrendMonitor : DoctorMonitor
{
    private double _sum, _previous, _first;
    private int _count, _flat;

    /// <param name="thresholds">Thresholds (window, patience, minimum decrease); null for the defaults.</param>
    public LossTrendMonitor(DoctorThresholds? thresholds = null) : base(1, thresholds) { }

    /// <inheritdoc/>
    public override string Name => "doctor/loss-trend";

    /// <inheritdoc/>
    protected override void Start(IKilnModel model)
    {
        _sum = 0;
        _count = 0;
        _flat = 0;
        _previous = double.NaN;
        _first = double.NaN;
    }

    /// <inheritdoc/>
    protected override ObserverVerdict Watch(IKilnModel model, in StepRecord step, long index)
    {
        if (!float.IsFinite(step.Loss)) return ObserverVerdict.Continue; // the non-finite monitor's business
        _sum += step.Loss;
        if (++_count < Thresholds.LossWindow) return ObserverVerdict.Continue;
        double mean = _sum / _count;
        _sum = 0;
        _count = 0;
        if (double.IsNaN(_first)) _first = mean;
        if (!double.IsNaN(_previous))
        {
            double decrease = (_previous - mean) / System.Math.Abs(_previous);
            _flat = decrease < Thresholds.MinimumLossDecrease ? _flat + 1 : 0;
            if (_flat >= Thresholds.LossPatience && !Reported(FindingCodes.LossNotDecreasing, null))
            {
                bool plateau = mean < 0.5 * _first;
                string n(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
                Report(new Finding(FindingCodes.LossNotDecreasing, plateau ? Severity.Info : Severity.Warning, null,
                    $"The mean training loss fell less than {n(Thresholds.MinimumLossDecrease * 100)}% per window of {Thresholds.LossWindow} steps for {_flat} windows in a row " +
                    $"(last {n(_previous)} → {n(mean)}; first window {n(_first)}){(plateau ? ": a plateau after a good fall" : "")}.",
                    plateau
                        ? "If the validation loss still falls this is convergence; otherwise decay the learning rate (StepDecay, CosineDecay, ReduceOnPlateau)."
                        : "Raise the learning rate (run the range test), check the initialisation (no zeros or constants) and the labels; if it is a plateau, try a schedule.",
                    decrease, Thresholds.MinimumLossDecrease, index));
            }
        }
        _previous = mean;
        return ObserverVerdict.Continue;
    }
}
