namespace Kiln.Doctor;

/// <summary>
/// The doctor's thresholds. Defaults are those of docs/techniques.md#pitfalls (from AUTOTRAINER, DeepDiagnosis,
/// TheDeepChecker, UMLAUT; tunable) where it gives a number, otherwise Kiln's choice, documented in docs/doctor.md.
/// </summary>
public sealed record DoctorThresholds
{
    /// <summary>The defaults.</summary>
    public static DoctorThresholds Default { get; } = new();

    /// <summary>Initial loss is "far" from the expected value when |L₀ − E| &gt; this × E (Kiln's choice; docs/techniques.md#hyper-parameters step 1 gives no number).</summary>
    public double InitialLossRelativeTolerance { get; init; } = 0.5;

    /// <summary>A window's mean loss must fall at least this fraction below the previous window's (docs/techniques.md#pitfalls: 5%).</summary>
    public double MinimumLossDecrease { get; init; } = 0.05;

    /// <summary>Steps per loss window.</summary>
    public int LossWindow { get; init; } = 50;

    /// <summary>Consecutive windows without the minimum decrease before the loss is reported as not decreasing.</summary>
    public int LossPatience { get; init; } = 3;

    /// <summary>First/last layer gradient RMS ratio below this: vanishing gradients (docs/techniques.md#pitfalls: 1e-3).</summary>
    public double VanishingGradientRatio { get; init; } = 1e-3;

    /// <summary>First/last layer gradient RMS ratio above this: exploding gradients (docs/techniques.md#pitfalls: 70).</summary>
    public double ExplodingGradientRatio { get; init; } = 70;

    /// <summary>A ReLU layer is dead when at least this fraction of its units is zero for every sample of the batch (docs/techniques.md#pitfalls: 70%).</summary>
    public double DeadReluFraction { get; init; } = 0.70;

    /// <summary>A sigmoid/tanh layer saturates when more than this fraction of its inputs has |x| ≥ <see cref="SaturationInput"/> (docs/techniques.md#pitfalls: 50%).</summary>
    public double SaturatedFraction { get; init; } = 0.50;

    /// <summary>|x| at which a sigmoid/tanh input counts as saturated (docs/techniques.md#pitfalls: 5).</summary>
    public double SaturationInput { get; init; } = 5;

    /// <summary>Update/weight ratio ‖ΔW‖/‖W‖ below this is too small (docs/techniques.md#pitfalls: [1e-4, 1e-2], healthy ≈ 1e-3).</summary>
    public double MinimumUpdateRatio { get; init; } = 1e-4;

    /// <summary>Update/weight ratio above this is too large.</summary>
    public double MaximumUpdateRatio { get; init; } = 1e-2;

    /// <summary>Training minus validation accuracy above this: overfitting (Kiln's choice; docs/techniques.md#hyper-parameters says "large").</summary>
    public double OverfittingGap { get; init; } = 0.10;

    /// <summary>Validation loss rising this many epochs in a row while the training loss falls: overfitting.</summary>
    public int RisingValidationEpochs { get; init; } = 3;

    /// <summary>Training accuracy below this with a gap under <see cref="UnderfittingGap"/>: underfitting (Kiln's choice).</summary>
    public double UnderfittingAccuracy { get; init; } = 0.90;

    /// <summary>"No gap" for underfitting: |train − validation accuracy| below this.</summary>
    public double UnderfittingGap { get; init; } = 0.03;

    /// <summary>Validation accuracy gain over the last epoch above this: still improving, train longer (docs/techniques.md#hyper-parameters).</summary>
    public double StillImprovingGain { get; init; } = 0.005;

    /// <summary>
    /// Train/eval consistency: the mean training-mode output over several dropout draws must stay within this
    /// relative distance of the eval-mode output on the same batch (Kiln's choice; TheDeepChecker compares the two modes).
    /// </summary>
    public double TrainEvalRelativeDifference { get; init; } = 0.25;

    /// <summary>Gradient check: per-tensor relative error above this is an error (analytic gradient wrong).</summary>
    public double GradientCheckError { get; init; } = 1e-2;

    /// <summary>Gradient check: per-tensor relative error above this is a warning (kinks or float noise, or a subtle bug).</summary>
    public double GradientCheckWarning { get; init; } = 2e-3;
}
