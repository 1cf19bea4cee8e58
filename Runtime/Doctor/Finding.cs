using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Kiln.Doctor;

/// <summary>How serious a doctor finding is.</summary>
public enum Severity
{
    /// <summary>Worth knowing (a suggestion, or a plateau after the loss already fell).</summary>
    Info,
    /// <summary>Training works badly or will: fix it before a long run.</summary>
    Warning,
    /// <summary>Training is broken (non-finite numbers, wrong gradients, cannot learn).</summary>
    Error,
}

/// <summary>
/// One problem the training doctor found: a stable code (see <see cref="FindingCodes"/> and docs/doctor.md), the
/// layer it concerns (null for the model as a whole), what was measured against which threshold, and the fix.
/// </summary>
/// <param name="Code">Stable identifier such as <c>KLN-D009</c>.</param>
/// <param name="Severity">Info, warning or error.</param>
/// <param name="Layer">The layer concerned (a name from <see cref="IKilnModel.Layers"/> or <see cref="TensorInfo.Layer"/>), or null.</param>
/// <param name="Message">What was measured, with the number and the threshold.</param>
/// <param name="Fix">The suggested fix.</param>
/// <param name="Measured">The measured number the finding is about (NaN when none).</param>
/// <param name="Threshold">The threshold it crossed (NaN when none).</param>
/// <param name="Step">The training step (0-based, counted by the monitor) at which a monitor saw it; null for checks run outside training.</param>
public sealed record Finding(string Code, Severity Severity, string? Layer, string Message, string Fix, double Measured, double Threshold, long? Step = null)
{
    /// <summary>One line: <c>KLN-D009 warning [relu0] message. Fix: …</c></summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Code).Append(' ').Append(Severity.ToString().ToLowerInvariant());
        if (Layer is not null) sb.Append(" [").Append(Layer).Append(']');
        if (Step is long s) sb.Append(CultureInfo.InvariantCulture, $" (step {s})");
        sb.Append(' ').Append(Message).Append(" Fix: ").Append(Fix);
        return sb.ToString();
    }

    /// <summary>The findings one per line, most severe first (stable within a severity); "no findings" when empty.</summary>
    public static string Format(IEnumerable<Finding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var list = new List<Finding>(findings);
        if (list.Count == 0) return "no findings";
        var ordered = new List<(Finding F, int I)>(list.Count);
        for (int i = 0; i < list.Count; i++) ordered.Add((list[i], i));
        ordered.Sort((a, b) => a.F.Severity != b.F.Severity ? b.F.Severity.CompareTo(a.F.Severity) : a.I.CompareTo(b.I));
        var sb = new StringBuilder();
        foreach ((Finding f, _) in ordered) sb.AppendLine(f.ToString());
        return sb.ToString().TrimEnd();
    }
}

/// <summary>The codes of the doctor's findings; docs/doctor.md lists each with its threshold and source.</summary>
public static class FindingCodes
{
    /// <summary>Initial loss far from its expected value (ln C for softmax cross-entropy). docs/techniques.md#hyper-parameters step 1.</summary>
    public const string InitialLoss = "KLN-D001";
    /// <summary>A small sample could not be overfitted to 100% training accuracy. docs/techniques.md#hyper-parameters step 2.</summary>
    public const string CannotOverfit = "KLN-D002";
    /// <summary>Learning-rate range test result (suggestion, or no rate that lowers the loss). docs/techniques.md#hyper-parameters step 3.</summary>
    public const string LearningRateRange = "KLN-D003";
    /// <summary>Analytic gradient disagrees with central finite differences. docs/techniques.md#gradient-checking, docs/techniques.md#pitfalls.</summary>
    public const string GradientCheck = "KLN-D004";
    /// <summary>NaN or ±∞ in the loss, parameters or gradients. docs/techniques.md#hyper-parameters step 2, docs/techniques.md#pitfalls.</summary>
    public const string NonFinite = "KLN-D005";
    /// <summary>Loss not decreasing by 5% per window. docs/techniques.md#pitfalls.</summary>
    public const string LossNotDecreasing = "KLN-D006";
    /// <summary>First/last layer gradient ratio below 1e-3. docs/techniques.md#pitfalls.</summary>
    public const string VanishingGradient = "KLN-D007";
    /// <summary>First/last layer gradient ratio above 70. docs/techniques.md#pitfalls.</summary>
    public const string ExplodingGradient = "KLN-D008";
    /// <summary>At least 70% of a ReLU layer's units inactive for the whole batch. docs/techniques.md#pitfalls.</summary>
    public const string DeadRelu = "KLN-D009";
    /// <summary>More than 50% of a sigmoid/tanh layer's inputs with |x| ≥ 5. docs/techniques.md#pitfalls.</summary>
    public const string Saturation = "KLN-D010";
    /// <summary>Update/weight ratio above 1e-2. docs/techniques.md#hyper-parameters, docs/techniques.md#pitfalls.</summary>
    public const string UpdateRatioHigh = "KLN-D011";
    /// <summary>Update/weight ratio below 1e-4. docs/techniques.md#hyper-parameters, docs/techniques.md#pitfalls.</summary>
    public const string UpdateRatioLow = "KLN-D012";
    /// <summary>Large train/validation gap. docs/techniques.md#hyper-parameters, docs/techniques.md#gradient-checking.</summary>
    public const string Overfitting = "KLN-D013";
    /// <summary>No train/validation gap with low accuracy. docs/techniques.md#hyper-parameters, docs/techniques.md#gradient-checking.</summary>
    public const string Underfitting = "KLN-D014";
    /// <summary>Training-mode and eval-mode outputs disagree on the same batch. docs/techniques.md#pitfalls (TheDeepChecker).</summary>
    public const string TrainEvalInconsistent = "KLN-D015";
    /// <summary>Validation accuracy still rising at the end of the run. docs/techniques.md#hyper-parameters.</summary>
    public const string StillImproving = "KLN-D016";
}
