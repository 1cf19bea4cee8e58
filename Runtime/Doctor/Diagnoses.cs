using System;
using System.Collections.Generic;
using System.Globalization;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// The findings themselves: one builder per problem, so a one-off check and the monitor that watches for the same
/// problem during training word it the same way. Thresholds come from <see cref="DoctorThresholds"/>.
/// </summary>
internal static class Diagnoses
{
    private static string N(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
    private static string P(double v) => (v * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    public static Finding? DeadRelu(WatchedActivation layer, double fraction, DoctorThresholds t, long? step) =>
        fraction >= t.DeadReluFraction
            ? new Finding(FindingCodes.DeadRelu, Severity.Warning, layer.Layer,
                $"{P(fraction)} of the {layer.Width} units of {layer.Layer} output 0 for every sample of the batch (threshold {P(t.DeadReluFraction)}): dead ReLUs no longer learn.",
                "Lower the learning rate; initialise with He (Init.HeNormal) and a small positive bias (BiasInit = 0.01) instead of zeros or a negative bias; or use LeakyReLU/ELU, or BatchNorm before the ReLU.",
                fraction, t.DeadReluFraction, step)
            : null;

    public static Finding? Saturation(WatchedActivation layer, double fraction, DoctorThresholds t, long? step) =>
        fraction > t.SaturatedFraction
            ? new Finding(FindingCodes.Saturation, Severity.Warning, layer.Layer,
                $"{P(fraction)} of the inputs of {layer.Kind} layer {layer.Layer} have |x| ≥ {N(t.SaturationInput)} (threshold {P(t.SaturatedFraction)}): saturated units pass almost no gradient.",
                "Use a smaller weight initialisation (Init.XavierNormal for sigmoid/tanh), standardise the inputs, add BatchNorm before the activation, or use ReLU in hidden layers.",
                fraction, t.SaturatedFraction, step)
            : null;

    /// <summary>Vanishing or exploding gradients from the first and last weight tensors' gradient RMS.</summary>
    public static Finding? GradientRatio(TensorInfo first, TensorInfo last, double firstRms, double lastRms, DoctorThresholds t, long? step)
    {
        if (!(firstRms >= 0 && lastRms > 0) || !double.IsFinite(firstRms) || !double.IsFinite(lastRms)) return null;
        double ratio = firstRms / lastRms;
        if (ratio < t.VanishingGradientRatio)
            return new Finding(FindingCodes.VanishingGradient, Severity.Warning, first.Layer,
                $"Gradient RMS of {first.Name} is {N(firstRms)}, {N(ratio)} × that of {last.Name} ({N(lastRms)}); below {N(t.VanishingGradientRatio)} the first layers barely learn (vanishing gradients).",
                "Use ReLU-family activations instead of sigmoid/tanh in hidden layers, He/Xavier initialisation instead of a small fixed scale, BatchNorm, or fewer layers.",
                ratio, t.VanishingGradientRatio, step);
        if (ratio > t.ExplodingGradientRatio)
            return new Finding(FindingCodes.ExplodingGradient, Severity.Warning, first.Layer,
                $"Gradient RMS of {first.Name} is {N(firstRms)}, {N(ratio)} × that of {last.Name} ({N(lastRms)}); above {N(t.ExplodingGradientRatio)} gradients grow toward the input (exploding gradients).",
                "Check the initialisation scale of each layer (He for ReLU, Xavier for tanh), lower the learning rate, add BatchNorm, or clip gradients (ClipGradientNorm).",
                ratio, t.ExplodingGradientRatio, step);
        return null;
    }

    public static Finding? UpdateRatio(TensorInfo weight, double ratio, DoctorThresholds t, long? step)
    {
        if (!double.IsFinite(ratio)) return null;
        if (ratio > t.MaximumUpdateRatio)
            return new Finding(FindingCodes.UpdateRatioHigh, Severity.Warning, weight.Layer,
                $"Update/weight ratio ‖ΔW‖/‖W‖ of {weight.Name} is {N(ratio)}, above {N(t.MaximumUpdateRatio)} (healthy ≈ 1e-3): steps are too large.",
                "Lower the learning rate (for this layer: SetLearningRateScale), or add warm-up.",
                ratio, t.MaximumUpdateRatio, step);
        if (ratio < t.MinimumUpdateRatio)
            return new Finding(FindingCodes.UpdateRatioLow, Severity.Warning, weight.Layer,
                $"Update/weight ratio ‖ΔW‖/‖W‖ of {weight.Name} is {N(ratio)}, below {N(t.MinimumUpdateRatio)} (healthy ≈ 1e-3): the layer hardly moves.",
                "Raise the learning rate (run the learning-rate range test), or check for vanishing gradients in this layer.",
                ratio, t.MinimumUpdateRatio, step);
        return null;
    }

    public static Finding NonFiniteLoss(float loss, long step, string? outputLayer) =>
        new(FindingCodes.NonFinite, Severity.Error, outputLayer,
            $"The training loss is {loss.ToString(CultureInfo.InvariantCulture)} at step {step}.",
            "Lower the learning rate (by 10×), check the initialisation scale and the input standardisation, or clip gradients; resume from the last good checkpoint.",
            loss, double.NaN, step);

    public static Finding NonFiniteTensor(TensorInfo tensor, bool gradient, long? step) =>
        new(FindingCodes.NonFinite, Severity.Error, tensor.Layer,
            $"{(gradient ? "The gradient of " : "")}{tensor.Name} holds NaN or ±∞{(step is long s ? $" at step {s}" : "")}.",
            "Lower the learning rate (by 10×), check the initialisation scale and the input standardisation, or clip gradients; resume from the last good checkpoint.",
            double.NaN, double.NaN, step);

    public static Finding TrainEval(string? layer, double difference, DoctorThresholds t, long? step) =>
        new(FindingCodes.TrainEvalInconsistent, Severity.Warning, layer,
            $"On the same batch the mean training-mode output differs from the eval-mode output by {P(difference)} (relative, threshold {P(t.TrainEvalRelativeDifference)}).",
            "Use inverted dropout (Dropout(rate), Scaling = DropoutScaling.Inverted) or test-time scaling, never DropoutScaling.None; train long enough for BatchNorm's running statistics to settle (or lower its Momentum); never switch modes by hand.",
            difference, t.TrainEvalRelativeDifference, step);

    /// <summary>Over- and underfitting and "still improving" from the per-epoch metrics of a run.</summary>
    public static List<Finding> Fit(IReadOnlyList<EpochMetrics> history, DoctorThresholds t)
    {
        var findings = new List<Finding>();
        if (history.Count == 0) return findings;
        EpochMetrics last = history[^1];
        double? train = last.TrainAccuracy, val = last.ValidationAccuracy;
        if (train is double tr && val is double va)
        {
            double gap = tr - va;
            if (gap > t.OverfittingGap)
                findings.Add(new Finding(FindingCodes.Overfitting, Severity.Warning, null,
                    $"After epoch {last.Epoch} training accuracy is {P(tr)} and validation accuracy {P(va)}: a gap of {P(gap)} (threshold {P(t.OverfittingGap)}) means overfitting.",
                    "Add regularisation (Dropout, L2/WeightDecay 1e-4…1e-3, augmentation), get more data, or stop earlier (keep the best validation snapshot).",
                    gap, t.OverfittingGap));
            else if (tr < t.UnderfittingAccuracy && Math.Abs(gap) < t.UnderfittingGap)
                findings.Add(new Finding(FindingCodes.Underfitting, Severity.Warning, null,
                    $"After epoch {last.Epoch} training accuracy is only {P(tr)} (below {P(t.UnderfittingAccuracy)}) and validation accuracy {P(va)} is no lower (gap {P(gap)}): underfitting.",
                    "Train longer, use a bigger model, lower the regularisation, or tune the learning rate.",
                    tr, t.UnderfittingAccuracy));
        }
        // A validation loss that rises while the training loss falls is overfitting even without accuracies.
        int n = t.RisingValidationEpochs;
        if (history.Count > n && !Contains(findings, FindingCodes.Overfitting))
        {
            bool rising = true;
            for (int i = history.Count - n; i < history.Count && rising; i++)
            {
                if (history[i].ValidationLoss is not double v || history[i - 1].ValidationLoss is not double p) { rising = false; break; }
                rising = v > p && history[i].TrainLoss < history[i - 1].TrainLoss;
            }
            if (rising)
                findings.Add(new Finding(FindingCodes.Overfitting, Severity.Warning, null,
                    $"The validation loss rose for the last {n} epochs (to {N(history[^1].ValidationLoss ?? double.NaN)}) while the training loss fell: overfitting.",
                    "Stop earlier (keep the best validation snapshot), or add regularisation or data.",
                    history[^1].ValidationLoss ?? double.NaN, double.NaN));
        }
        if (history.Count >= 2 && val is double now && history[^2].ValidationAccuracy is double before && now - before > t.StillImprovingGain)
            findings.Add(new Finding(FindingCodes.StillImproving, Severity.Info, null,
                $"Validation accuracy rose by {P(now - before)} in the last epoch (threshold {P(t.StillImprovingGain)}): it is still improving.",
                "Train for more epochs.", now - before, t.StillImprovingGain));
        return findings;
    }

    private static bool Contains(List<Finding> findings, string code)
    {
        foreach (Finding f in findings) if (f.Code == code) return true;
        return false;
    }
}
