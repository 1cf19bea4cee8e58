using System.Collections.Generic;

namespace Kiln.Doctor;

/// <summary>Recipe step 1 (docs/techniques.md#hyper-parameters): the loss of the untrained model against the value it should have.</summary>
/// <param name="Loss">Mean data loss over the sample, training mode, without the penalty terms (weight decay off).</param>
/// <param name="Expected">ln C for softmax cross-entropy, C − 1 for the multiclass hinge, ln 2 for binary cross-entropy; NaN when there is no expectation (mean squared error).</param>
/// <param name="PenaltyLoss">
/// What the declared penalties (L2, L1, elastic net) add to the training loss at these weights. 0 when the output layer
/// gives no logits to recompute the data loss from (a final dropout or softmax layer): then <paramref name="Loss"/> is the
/// training loss as the model returns it, penalties included.
/// </param>
/// <param name="Samples">Samples the loss was averaged over.</param>
/// <param name="Findings">KLN-D001 when the loss is far from <paramref name="Expected"/>.</param>
public sealed record InitialLossResult(double Loss, double Expected, double PenaltyLoss, int Samples, IReadOnlyList<Finding> Findings);

/// <summary>Recipe step 2: training on a few fixed mini-batches until 100% training accuracy.</summary>
/// <param name="Reached">True when eval-mode accuracy on the small sample reached 100%.</param>
/// <param name="Steps">Training steps taken.</param>
/// <param name="TrainAccuracy">Eval-mode accuracy on the small sample after the last pass.</param>
/// <param name="FirstLoss">Mean training loss of the first pass over the sample.</param>
/// <param name="LastLoss">Mean training loss of the last pass.</param>
/// <param name="Findings">KLN-D002 (and KLN-D005 for NaN/Inf) when 100% was not reached.</param>
public sealed record OverfitResult(bool Reached, int Steps, double TrainAccuracy, double FirstLoss, double LastLoss, IReadOnlyList<Finding> Findings);

/// <summary>Recipe step 3: an exponential learning-rate sweep, one training step per rate.</summary>
/// <param name="LearningRates">The rate of each step taken.</param>
/// <param name="Losses">The training loss each step returned.</param>
/// <param name="SmoothedLosses">Bias-corrected exponential moving average of the losses (β = 0.9).</param>
/// <param name="SuggestedLearningRate">
/// Where the loss falls fastest in a sustained way (the centred moving average of the raw losses, slope taken across the
/// window, first tenth of the sweep ignored), before its minimum; NaN when the loss never fell by 10%.
/// </param>
/// <param name="MinimumLossLearningRate">Where the centred moving average of the loss was lowest; NaN when the sweep was too short.</param>
/// <param name="DivergedAt">The rate at which the sweep stopped because the loss exploded (4× its best, or NaN); null when it did not.</param>
/// <param name="Findings">KLN-D003: the suggestion (info) or no rate that lowers the loss (warning).</param>
public sealed record LearningRateRangeResult(double[] LearningRates, double[] Losses, double[] SmoothedLosses, double SuggestedLearningRate,
    double MinimumLossLearningRate, double? DivergedAt, IReadOnlyList<Finding> Findings);

/// <summary>The gradient check of one trainable tensor.</summary>
/// <param name="Tensor">Tensor name.</param>
/// <param name="Layer">Its layer.</param>
/// <param name="Coordinates">Coordinates checked (kinked ones left out).</param>
/// <param name="RelativeError">max(0, ‖g − g_fd‖ − noise) / (‖g‖ + ‖g_fd‖) over the checked coordinates.</param>
/// <param name="RawRelativeError">‖g − g_fd‖ / (‖g‖ + ‖g_fd‖), float noise included.</param>
/// <param name="AnalyticNorm">‖g‖ over the checked coordinates.</param>
/// <param name="NumericNorm">‖g_fd‖ over the checked coordinates.</param>
public sealed record TensorGradientCheck(string Tensor, string Layer, int Coordinates, double RelativeError, double RawRelativeError, double AnalyticNorm, double NumericNorm);

/// <summary>The gradient check (docs/techniques.md#gradient-checking): analytic gradients against central finite differences.</summary>
/// <param name="Tensors">One entry per trainable tensor.</param>
/// <param name="MaxRelativeError">The largest per-tensor error.</param>
/// <param name="KinkedCoordinates">Coordinates left out because every step tried crossed a ReLU kink.</param>
/// <param name="Findings">KLN-D004 for each tensor above the thresholds.</param>
public sealed record GradientCheckResult(IReadOnlyList<TensorGradientCheck> Tensors, double MaxRelativeError, int KinkedCoordinates, IReadOnlyList<Finding> Findings);

/// <summary>Train/eval consistency on one batch.</summary>
/// <param name="RelativeDifference">√max(0, ‖mean training-mode logits − eval-mode logits‖² − the dropout noise of that mean) / ‖eval-mode logits‖ (NaN when not comparable).</param>
/// <param name="Findings">KLN-D015 above the threshold.</param>
public sealed record ConsistencyResult(double RelativeDifference, IReadOnlyList<Finding> Findings);

/// <summary>The pre-training examination: recipe steps 1–3, the gradient check and one probe batch's activations and gradients.</summary>
public sealed record DoctorReport(InitialLossResult InitialLoss, GradientCheckResult GradientCheck, IReadOnlyList<Finding> ProbeFindings,
    OverfitResult Overfit, LearningRateRangeResult LearningRateRange, IReadOnlyList<Finding> Findings)
{
    /// <summary>All findings, one per line, most severe first.</summary>
    public override string ToString() => Finding.Format(Findings);
}

/// <summary>One layer's output statistics on a probe batch (docs/techniques.md#gradient-checking: per-layer activation statistics show collapse or saturation).</summary>
/// <param name="Layer">Layer name.</param>
/// <param name="Kind">Layer kind (dense, relu, sigmoid, …).</param>
/// <param name="Mean">Mean of the layer's outputs over the batch.</param>
/// <param name="Std">Standard deviation of the outputs.</param>
/// <param name="DeadFraction">ReLU layers: fraction of units at 0 for the whole batch; NaN for other kinds.</param>
/// <param name="SaturatedFraction">Sigmoid/tanh layers: fraction of inputs with |x| ≥ the saturation input; NaN for other kinds.</param>
public sealed record LayerStatistics(string Layer, string Kind, double Mean, double Std, double DeadFraction, double SaturatedFraction);
