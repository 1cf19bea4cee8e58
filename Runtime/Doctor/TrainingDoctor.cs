using System;
using System.Collections.Generic;
using System.Globalization;
using Kiln.Data;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// The training doctor's one-off checks: the docs/techniques.md#hyper-parameters recipe (initial loss, overfitting a small sample, the
/// learning-rate range test), the gradient check of docs/techniques.md#gradient-checking, and single-batch probes of the docs/techniques.md#pitfalls run-time rules. Every
/// check that trains or perturbs the model restores it afterwards (parameters, running statistics, optimiser
/// state, step, learning rate and dropout stream, bit for bit) unless told otherwise. The monitors that watch a
/// run are in <see cref="DoctorObserver"/> and its parts.
/// </summary>
public static class TrainingDoctor
{
    private static string N(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- recipe step 1: the initial loss

    /// <summary>
    /// Recipe step 1 (docs/techniques.md#hyper-parameters): the loss of the model as it is (normally untrained) against ln C. The loss is computed
    /// in training mode (batch statistics, as the first step sees them) from the output layer's logits, so it is
    /// the data loss alone: the declared penalties are left out ("weight decay off") and reported separately.
    /// Evaluate would also leave them out, but runs BatchNorm on its initial running statistics, which the first
    /// training step never sees. Parameters, running statistics and the dropout stream are not changed.
    /// </summary>
    /// <param name="model">The model, normally freshly initialised.</param>
    /// <param name="data">Labelled data (a seeded sample of up to <paramref name="samples"/> is used).</param>
    /// <param name="samples">Samples to average over.</param>
    /// <param name="seed">Seed of the sample.</param>
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    public static InitialLossResult CheckInitialLoss(IKilnModel model, Dataset data, int samples = 1024, ulong seed = 0, DoctorThresholds? thresholds = null)
    {
        CheckFits(model, data, nameof(data));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        DoctorThresholds t = thresholds ?? DoctorThresholds.Default;
        Dataset sample = Sample(data, samples, seed);
        string? output = LayerProbe.OutputLayer(model);
        bool fromLogits = output is not null && model.Layers[^1].Kind is not ("dropout" or "softmax");

        var noise = new ulong[4];
        model.GetNoiseState(noise);
        double dataSum = 0, totalSum = 0;
        int counted = 0;
        int batchSize = Math.Min(model.MaxBatch, 256);
        for (int start = 0; start < sample.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, sample.Count - start);
            // Training-mode BatchNorm divides by the batch variance: a one-sample tail batch is skipped.
            if (n < 2 && start > 0) break;
            ReadOnlySpan<int> labels = sample.Labels.AsSpan(start, n);
            float total = model.ComputeGradients(sample.Features.AsSpan(start * sample.FeatureCount, n * sample.FeatureCount), labels, n);
            double dataLoss = fromLogits ? DataLoss(model.Loss, model.LayerOutput(output!), labels, n, model.OutputSize) : double.NaN;
            if (double.IsNaN(dataLoss)) dataLoss = total;
            dataSum += dataLoss * n;
            totalSum += (double)total * n;
            counted += n;
        }
        model.SetNoiseState(noise);
        double loss = dataSum / counted, penalty = fromLogits ? totalSum / counted - loss : 0;

        double expected = model.Loss switch
        {
            LossKind.SoftmaxCrossEntropy => Math.Log(model.OutputSize),
            LossKind.MulticlassHinge => model.OutputSize - 1,
            LossKind.BinaryCrossEntropy => Math.Log(2),
            _ => double.NaN,
        };
        var findings = new List<Finding>();
        if (!double.IsFinite(loss))
            findings.Add(new Finding(FindingCodes.NonFinite, Severity.Error, output,
                $"The initial loss is {N(loss)}.", "Check the input data for NaN/∞ and the initialisation scale of every layer.", loss, expected));
        else if (double.IsFinite(expected) && Math.Abs(loss - expected) > t.InitialLossRelativeTolerance * expected)
        {
            bool high = loss > expected;
            string what = model.Loss switch
            {
                LossKind.SoftmaxCrossEntropy => $"ln C = ln {model.OutputSize}",
                LossKind.MulticlassHinge => $"C − 1 = {model.OutputSize - 1}",
                _ => "ln 2",
            };
            findings.Add(new Finding(FindingCodes.InitialLoss, Severity.Warning, output,
                $"The initial loss is {N(loss)}, expected about {what} = {N(expected)} (allowed ±{N(t.InitialLossRelativeTolerance * 100)}%): " +
                (high ? "the untrained model is confidently wrong." : "the untrained model already does well, which is suspicious."),
                high
                    ? $"Initialise the output layer {output} with a smaller scale (Glorot/Xavier, or InitScale ≤ 0.01), use He/Xavier rather than a large fixed scale in the hidden layers, and standardise the inputs."
                    : "Check for labels leaking into the features, a test set mixed into training data, or a model initialised from a trained checkpoint.",
                loss, t.InitialLossRelativeTolerance * expected));
        }
        return new InitialLossResult(loss, expected, penalty, counted, findings);
    }

    /// <summary>Mean data loss of a batch from the output layer's values (double precision; NaN for losses without integer labels).</summary>
    internal static double DataLoss(LossKind kind, ReadOnlySpan<float> z, ReadOnlySpan<int> labels, int n, int width)
    {
        double sum = 0;
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<float> row = z.Slice(r * width, width);
            int y = labels[r];
            switch (kind)
            {
                case LossKind.SoftmaxCrossEntropy:
                {
                    double max = double.NegativeInfinity;
                    foreach (float v in row) max = Math.Max(max, v);
                    double s = 0;
                    foreach (float v in row) s += Math.Exp(v - max);
                    sum += max + Math.Log(s) - row[y];
                    break;
                }
                case LossKind.MulticlassHinge:
                    for (int j = 0; j < width; j++)
                        if (j != y) sum += Math.Max(0, row[j] - row[y] + 1.0);
                    break;
                case LossKind.BinaryCrossEntropy when width == 1:
                {
                    double x = row[0];
                    sum += Math.Max(x, 0) - x * y + Math.Log(1 + Math.Exp(-Math.Abs(x)));
                    break;
                }
                default:
                    return double.NaN;
            }
        }
        return sum / n;
    }

    // ---------------------------------------------------------------- recipe step 2: overfit a small sample

    /// <summary>
    /// Recipe step 2 (docs/techniques.md#hyper-parameters): trains on <paramref name="batches"/> fixed mini-batches (5–10 is usual), cycling through
    /// them, until eval-mode accuracy on them reaches 100% or <paramref name="maxSteps"/> steps are spent. At the
    /// model's current learning rate and with its declared regularisation (a model with strong dropout or weight decay
    /// may need them lowered for this test). No decrease: learning rate too low or bad initialisation; NaN/Inf:
    /// learning rate too high or bad initialisation.
    /// </summary>
    /// <param name="model">The model to train.</param>
    /// <param name="data">Labelled data; a seeded sample of batches × batchSize samples is used.</param>
    /// <param name="batches">Mini-batches in the small sample (≥ 1).</param>
    /// <param name="batchSize">Samples per mini-batch (2..MaxBatch).</param>
    /// <param name="maxSteps">Step budget.</param>
    /// <param name="restore">Put the model back as it was afterwards (default).</param>
    /// <param name="seed">Seed of the sample.</param>
    /// <param name="thresholds">Thresholds (the minimum loss decrease that counts as learning); null for the defaults.</param>
    public static OverfitResult OverfitSmallSample(IKilnModel model, Dataset data, int batches = 5, int batchSize = 16, int maxSteps = 2000,
        bool restore = true, ulong seed = 0, DoctorThresholds? thresholds = null)
    {
        CheckFits(model, data, nameof(data));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batches);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSteps);
        if (batchSize < 2 || batchSize > model.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"The batch size must be in [2, {model.MaxBatch}] ({model.ModelName}'s MaxBatch).");
        if ((long)batches * batchSize > data.Count)
            throw new ArgumentException($"{batches} batches of {batchSize} need {batches * batchSize} samples; data set '{data.Name}' has {data.Count}.", nameof(data));

        Dataset small = Sample(data, batches * batchSize, seed);
        ModelSnapshot? snapshot = restore ? new ModelSnapshot(model, includeOptimizerState: true, includeRunState: true) : null;
        snapshot?.Capture();
        try
        {
            int steps = 0, f = small.FeatureCount;
            double firstLoss = double.NaN, lastLoss = double.NaN, accuracy = 0;
            bool reached = false, nonFinite = false;
            while (steps < maxSteps && !reached && !nonFinite)
            {
                double passLoss = 0;
                for (int b = 0; b < batches && steps < maxSteps; b++, steps++)
                {
                    float loss = model.TrainStep(small.Features.AsSpan(b * batchSize * f, batchSize * f), small.Labels.AsSpan(b * batchSize, batchSize), batchSize);
                    if (!float.IsFinite(loss)) { nonFinite = true; lastLoss = loss; break; }
                    passLoss += loss / batches;
                }
                if (nonFinite) break;
                if (double.IsNaN(firstLoss)) firstLoss = passLoss;
                lastLoss = passLoss;
                accuracy = model.Evaluate(small.Features, small.Labels, small.Count).Accuracy;
                reached = accuracy >= 1.0;
            }

            var findings = new List<Finding>();
            string size = $"{batches} batches of {batchSize}";
            string lr = model.LearningRate.ToString("G3", CultureInfo.InvariantCulture);
            if (nonFinite)
                findings.Add(new Finding(FindingCodes.CannotOverfit, Severity.Error, null,
                    $"Training on a small sample ({size}) at learning rate {lr} gave a loss of {N(lastLoss)} at step {steps}: Inf/NaN.",
                    "The learning rate is too high or the initialisation is bad: lower the learning rate by 10× and check the initialisation scale.",
                    lastLoss, double.NaN));
            else if (!reached && !(lastLoss < (1 - (thresholds ?? DoctorThresholds.Default).MinimumLossDecrease) * firstLoss))
                findings.Add(new Finding(FindingCodes.CannotOverfit, Severity.Error, null,
                    $"Training on a small sample ({size}) at learning rate {lr} for {steps} steps did not lower the loss ({N(firstLoss)} → {N(lastLoss)}); accuracy {N(accuracy * 100)}%, not 100%.",
                    "The learning rate is too low or the initialisation is bad: raise the learning rate (run the range test), check for zero/constant initialisation and dead units.",
                    accuracy, 1.0));
            else if (!reached)
                findings.Add(new Finding(FindingCodes.CannotOverfit, Severity.Warning, null,
                    $"Training on a small sample ({size}) at learning rate {lr} reached only {N(accuracy * 100)}% training accuracy in {steps} steps (loss {N(firstLoss)} → {N(lastLoss)}), not 100%.",
                    "Allow more steps, tune the learning rate, lower dropout and weight decay for this test, or give the model more capacity.",
                    accuracy, 1.0));
            return new OverfitResult(reached, steps, accuracy, firstLoss, lastLoss, findings);
        }
        finally
        {
            snapshot?.Restore();
        }
    }

    // ---------------------------------------------------------------- recipe step 3: learning-rate range test

    /// <summary>
    /// Recipe step 3 (docs/techniques.md#hyper-parameters): one training step at each of <paramref name="steps"/> learning rates spaced exponentially from
    /// <paramref name="minLearningRate"/> to <paramref name="maxLearningRate"/> (docs/techniques.md#hyper-parameters suggests trying 1e-1 … 1e-4 for ~100
    /// iterations), on shuffled mini-batches of the data; stops once the loss explodes (4× its best smoothed value, or
    /// NaN). The suggestion is the rate of the steepest <em>sustained</em> descent: the raw losses are averaged over a
    /// centred window (no lag), the slope per unit of ln(rate) is taken across the window, the first tenth of the sweep is
    /// ignored (a few steps at tiny rates only show batch noise), and only rates below the lowest averaged loss count.
    /// The model is restored bit for bit afterwards.
    /// </summary>
    public static LearningRateRangeResult LearningRateRangeTest(IKilnModel model, Dataset data, double minLearningRate = 1e-5, double maxLearningRate = 1,
        int steps = 100, int batchSize = 32, ulong seed = 0)
    {
        CheckFits(model, data, nameof(data));
        if (!(minLearningRate > 0 && maxLearningRate > minLearningRate && double.IsFinite(maxLearningRate)))
            throw new ArgumentException($"The learning-rate range must satisfy 0 < min < max < ∞ (got {minLearningRate} … {maxLearningRate}).", nameof(minLearningRate));
        if (steps < 3) throw new ArgumentOutOfRangeException(nameof(steps), steps, "The range test needs at least 3 steps.");
        if (batchSize < 2 || batchSize > model.MaxBatch || batchSize > data.Count)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"The batch size must be in [2, min({model.MaxBatch}, {data.Count})].");

        float currentRate = model.LearningRate;
        var snapshot = new ModelSnapshot(model, includeOptimizerState: true, includeRunState: true);
        snapshot.Capture();
        var rates = new List<double>(steps);
        var losses = new List<double>(steps);
        var smoothed = new List<double>(steps);
        double? divergedAt = null;
        try
        {
            int f = data.FeatureCount;
            int[] order = Dataset.Identity(data.Count);
            var rng = new KilnRandom(seed ^ 0x5EED_0F_1A_7E_0001UL);
            Dataset.Shuffle(order, ref rng);
            var inputs = new float[batchSize * f];
            var labels = new int[batchSize];
            int cursor = 0;
            double average = 0, best = double.PositiveInfinity;
            const double Beta = 0.9;
            for (int i = 0; i < steps; i++)
            {
                for (int r = 0; r < batchSize; r++)
                {
                    if (cursor == order.Length) { cursor = 0; Dataset.Shuffle(order, ref rng); }
                    int s = order[cursor++];
                    data.Features.AsSpan(s * f, f).CopyTo(inputs.AsSpan(r * f, f));
                    labels[r] = data.Labels[s];
                }
                float rate = (float)(minLearningRate * Math.Pow(maxLearningRate / minLearningRate, i / (double)(steps - 1)));
                model.LearningRate = rate;
                float loss = model.TrainStep(inputs, labels, batchSize);
                rates.Add(rate);
                losses.Add(loss);
                if (!float.IsFinite(loss)) { divergedAt = rate; smoothed.Add(double.NaN); break; }
                average = Beta * average + (1 - Beta) * loss;
                double value = average / (1 - Math.Pow(Beta, i + 1));
                smoothed.Add(value);
                best = Math.Min(best, value);
                if (i >= 5 && value > 4 * best) { divergedAt = rate; break; }
            }
        }
        finally
        {
            snapshot.Restore();
        }

        (double suggested, int minIndex, double drop) = SteepestSustainedDescent(rates, losses, steps);
        var findings = new List<Finding>();
        string range = $"{N(minLearningRate)} … {N(maxLearningRate)}";
        string diverged = divergedAt is double d ? $"; the loss exploded at {N(d)}" : "";
        double minimumRate = minIndex >= 0 ? rates[minIndex] : double.NaN;
        if (!(drop >= 0.1) || double.IsNaN(suggested))
            findings.Add(new Finding(FindingCodes.LearningRateRange, Severity.Warning, null,
                $"No learning rate in {range} lowered the averaged loss by 10% in a sustained way within {rates.Count} steps (best drop {N(drop * 100)}%{diverged}).",
                "Widen the range, check the initialisation and the data (labels, standardisation), and run the overfitting test first.",
                drop, 0.1));
        else
            findings.Add(new Finding(FindingCodes.LearningRateRange, Severity.Info, null,
                $"The loss falls fastest (sustained) at learning rate {N(suggested)} and is lowest at {N(minimumRate)} (sweep {range}, {rates.Count} steps{diverged}); " +
                $"the model's rate {N(currentRate)} is {RateVerdict(currentRate, suggested, minimumRate)}.",
                $"Train with a learning rate between {N(suggested)} and {N(minimumRate / 3)} (below the minimum, where the loss starts to rise); refine with a log-uniform search (docs/techniques.md#hyper-parameters).",
                suggested, double.NaN));
        return new LearningRateRangeResult([.. rates], [.. losses], [.. smoothed], suggested, minimumRate, divergedAt, findings);
    }

    /// <summary>Where the model's own rate stands against the sweep's advice, so the report's advice agrees with itself.</summary>
    private static string RateVerdict(double current, double suggested, double minimum)
    {
        if (current < suggested / 3) return $"{N(suggested / current)}× below the suggestion: too low (expect slow progress, underfitting)";
        if (current > minimum) return "above the rate of the lowest loss: too high (expect an unstable or diverging run)";
        return "in the good range";
    }

    /// <summary>
    /// The range test's reading of the sweep: a centred moving average of the raw losses (half-width max(2, n/25)),
    /// its lowest point, and the steepest fall per unit of ln(rate) across the window, ignoring the first tenth of the
    /// sweep and everything from the lowest point on. Returns (suggestion or NaN, index of the lowest point or −1,
    /// relative drop from the first averaged loss to the lowest).
    /// </summary>
    internal static (double Suggested, int MinIndex, double Drop) SteepestSustainedDescent(List<double> rates, List<double> losses, int plannedSteps)
    {
        int n = losses.Count;
        while (n > 0 && !double.IsFinite(losses[n - 1])) n--;   // the diverging step
        int h = Math.Max(2, plannedSteps / 25);
        if (n < 2 * h + 1) return (double.NaN, -1, double.NaN);
        var mean = new double[n];
        for (int i = h; i < n - h; i++)
        {
            double sum = 0;
            for (int k = i - h; k <= i + h; k++) sum += losses[k];
            mean[i] = sum / (2 * h + 1);
        }
        int minIndex = h;
        for (int i = h; i < n - h; i++) if (mean[i] < mean[minIndex]) minIndex = i;
        double drop = (mean[h] - mean[minIndex]) / Math.Abs(mean[h]);
        int skip = Math.Max(2 * h, plannedSteps / 10);
        double suggested = double.NaN, steepest = 0;
        for (int i = Math.Max(skip, 2 * h); i + h < minIndex + 1 && i + h < n - h; i++)
        {
            double slope = (mean[i + h] - mean[i - h]) / Math.Log(rates[i + h] / rates[i - h]);
            if (slope < steepest) { steepest = slope; suggested = rates[i]; }
        }
        return (suggested, minIndex, drop);
    }

    // ---------------------------------------------------------------- gradient check (docs/techniques.md#gradient-checking)

    /// <summary>Float32 rounding of the loss assumed by the gradient check, in units of the last place of |L| (per evaluation).</summary>
    internal const double NoiseUlps = 4;

    /// <summary>
    /// The gradient check (docs/techniques.md#gradient-checking): for <paramref name="coordinatesPerTensor"/> random coordinates of every trainable
    /// tensor, the central finite difference (L(w + h) − L(w − h)) / 2h of the training-mode loss (the same batch and
    /// the same dropout masks each time; penalties included on both sides) against
    /// <see cref="IKilnModel.TensorGradient"/>. The model computes in float32, so differences below the float noise of
    /// the loss (4 ulps of the loss divided by 2h, per coordinate) are not counted as errors. A coordinate whose
    /// ±h passes put some ReLU unit on different sides of its kink is retried with h/10 and left out if it still crosses. Parameters are restored bit for bit.
    /// </summary>
    public static GradientCheckResult GradientCheck(IKilnModel model, Dataset data, int samples = 8, int coordinatesPerTensor = 8, double step = 1e-2,
        ulong seed = 0, DoctorThresholds? thresholds = null)
    {
        CheckFits(model, data, nameof(data));
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "The gradient check needs a batch of at least 2 samples (BatchNorm divides by the batch variance).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(coordinatesPerTensor);
        if (!(step > 0 && step < 1)) throw new ArgumentOutOfRangeException(nameof(step), step, "The finite-difference step must be in (0, 1).");
        DoctorThresholds t = thresholds ?? DoctorThresholds.Default;
        Dataset batch = Sample(data, Math.Min(samples, model.MaxBatch), seed);
        int n = batch.Count;

        var snapshot = new ModelSnapshot(model, includeOptimizerState: true, includeRunState: true);
        snapshot.Capture();
        var noise = new ulong[4];
        model.GetNoiseState(noise);
        var checks = new List<TensorGradientCheck>();
        var findings = new List<Finding>();
        try
        {
            // Analytic gradients first: every later ComputeGradients overwrites them.
            model.SetNoiseState(noise);
            float loss0 = model.ComputeGradients(batch.Features, batch.Labels, n);
            var rng = new KilnRandom(seed ^ 0x6AD_C4EC_0001UL);
            var picks = new List<(TensorInfo Tensor, int[] Index, double[] Analytic)>();
            foreach (TensorInfo tensor in model.Tensors)
            {
                if (!tensor.Trainable) continue;
                int k = Math.Min(coordinatesPerTensor, tensor.Length);
                int[] index = Dataset.Identity(tensor.Length);
                Dataset.Shuffle(index, ref rng);
                index = index[..k];
                Span<float> g = model.TensorGradient(tensor);
                var analytic = new double[k];
                for (int i = 0; i < k; i++) analytic[i] = g[index[i]];
                picks.Add((tensor, index, analytic));
            }

            // Rounding noise of one central difference with step h: NoiseUlps ulps of the loss on each side, over 2h.
            double noiseTimesStep = NoiseUlps * Math.Max(Math.Abs(loss0), 1) * Math.Pow(2, -23) / 2;
            string[] kinked = LayerProbe.KinkedLayers(model);
            double maxError = 0;
            int skipped = 0;
            foreach ((TensorInfo tensor, int[] index, double[] analytic) in picks)
            {
                double diff2 = 0, a2 = 0, n2 = 0, noise2 = 0;
                int used = 0;
                for (int i = 0; i < index.Length; i++)
                {
                    // A difference across a ReLU kink is no derivative (CS231n's "kinks in the objective"): retry with a
                    // 10× smaller step, and leave the coordinate out if that still crosses.
                    double numeric = CentralDifference(model, tensor, index[i], step, batch, noise, kinked), h = step;
                    if (double.IsNaN(numeric)) numeric = CentralDifference(model, tensor, index[i], h = step / 10, batch, noise, kinked);
                    if (double.IsNaN(numeric)) { skipped++; continue; }
                    used++;
                    noise2 += (noiseTimesStep / h) * (noiseTimesStep / h);
                    diff2 += (numeric - analytic[i]) * (numeric - analytic[i]);
                    a2 += analytic[i] * analytic[i];
                    n2 += numeric * numeric;
                }
                double aNorm = Math.Sqrt(a2), nNorm = Math.Sqrt(n2);
                // The float32 loss carries rounding noise: differences within it are not errors.
                double excess = Math.Max(0, Math.Sqrt(diff2) - Math.Sqrt(noise2));
                double error = excess == 0 ? 0 : double.IsFinite(excess) ? excess / (aNorm + nNorm) : double.PositiveInfinity;
                if (double.IsNaN(error)) error = double.PositiveInfinity;
                maxError = Math.Max(maxError, error);
                checks.Add(new TensorGradientCheck(tensor.Name, tensor.Layer, used, error, Math.Sqrt(diff2) / (aNorm + nNorm), aNorm, nNorm));
                if (used > 0 && error > t.GradientCheckWarning)
                {
                    bool bad = error > t.GradientCheckError;
                    findings.Add(new Finding(FindingCodes.GradientCheck, bad ? Severity.Error : Severity.Warning, tensor.Layer,
                        $"The gradient of {tensor.Name} differs from central finite differences by a relative error of {N(error)} on {index.Length} coordinates " +
                        $"(‖g‖ = {N(aNorm)}, ‖g_fd‖ = {N(nNorm)}; {(bad ? "error" : "warning")} above {N(bad ? t.GradientCheckError : t.GradientCheckWarning)}).",
                        bad
                            ? $"The backward pass of {tensor.Layer} is wrong: check custom layer code, the gradient of its activation and loss, and that the loss and gradient use the same batch."
                            : "Likely kinks (ReLU, hinge) crossed by the finite difference or float32 noise: rerun with another seed or step; if it persists, inspect the layer's backward pass.",
                        error, bad ? t.GradientCheckError : t.GradientCheckWarning));
                }
            }
            return new GradientCheckResult(checks, maxError, skipped, findings);
        }
        finally
        {
            snapshot.Restore();
        }
    }

    /// <summary>
    /// (L(w + h) − L(w − h)) / (w₊ − w₋) for one coordinate, with the same batch and dropout masks on both sides; NaN when
    /// the two passes are on different sides of a ReLU kink. The coordinate is put back exactly.
    /// </summary>
    private static double CentralDifference(IKilnModel model, TensorInfo tensor, int index, double h, Kiln.Data.Dataset batch, ulong[] noise, string[] kinked)
    {
        Span<float> w = model.TensorData(tensor);
        float w0 = w[index];
        float plus = (float)(w0 + h), minus = (float)(w0 - h);
        w[index] = plus;
        model.SetNoiseState(noise);
        double lossPlus = model.ComputeGradients(batch.Features, batch.Labels, batch.Count);
        ulong patternPlus = LayerProbe.SignPattern(model, kinked);
        w[index] = minus;
        model.SetNoiseState(noise);
        double lossMinus = model.ComputeGradients(batch.Features, batch.Labels, batch.Count);
        ulong patternMinus = LayerProbe.SignPattern(model, kinked);
        w[index] = w0;
        return patternPlus != patternMinus ? double.NaN : (lossPlus - lossMinus) / ((double)plus - minus);
    }

    // ---------------------------------------------------------------- single-batch probes of the docs/techniques.md#pitfalls run-time rules

    /// <summary>
    /// Dead ReLU, saturated sigmoid/tanh layers, vanishing/exploding gradients and non-finite gradients on one
    /// training-mode forward and backward pass over a probe batch (no update; the dropout stream is restored).
    /// </summary>
    public static IReadOnlyList<Finding> ProbeBatch(IKilnModel model, Dataset data, int samples = 256, ulong seed = 0, DoctorThresholds? thresholds = null)
    {
        CheckFits(model, data, nameof(data));
        DoctorThresholds t = thresholds ?? DoctorThresholds.Default;
        Dataset batch = Sample(data, Math.Max(2, Math.Min(samples, model.MaxBatch)), seed);
        var noise = new ulong[4];
        model.GetNoiseState(noise);
        float loss = model.ComputeGradients(batch.Features, batch.Labels, batch.Count);
        model.SetNoiseState(noise);

        var findings = new List<Finding>();
        if (!float.IsFinite(loss)) findings.Add(Diagnoses.NonFiniteLoss(loss, 0, LayerProbe.OutputLayer(model)) with { Step = null });
        if (LayerProbe.FirstNonFinite(model, gradients: true) is TensorInfo bad) findings.Add(Diagnoses.NonFiniteTensor(bad, gradient: true, null));
        foreach (WatchedActivation layer in LayerProbe.Activations(model))
        {
            Finding? f = layer.Kind == "relu"
                ? Diagnoses.DeadRelu(layer, LayerProbe.DeadFraction(model, layer), t, null)
                : Diagnoses.Saturation(layer, LayerProbe.SaturatedFraction(model, layer, t.SaturationInput), t, null);
            if (f is not null) findings.Add(f);
        }
        if (LayerProbe.FirstAndLastWeights(model) is (TensorInfo first, TensorInfo last) &&
            Diagnoses.GradientRatio(first, last, LayerProbe.Rms(model.TensorGradient(first)), LayerProbe.Rms(model.TensorGradient(last)), t, null) is Finding g)
            findings.Add(g);
        return findings;
    }

    /// <summary>
    /// Per-layer output statistics (docs/techniques.md#gradient-checking) on one training-mode forward pass over a probe batch: mean and standard
    /// deviation of every layer's output (dropout layers, whose output is their mask, are left out), the dead fraction
    /// of ReLU layers and the saturated fraction of sigmoid/tanh layers. The dropout stream is restored.
    /// </summary>
    public static IReadOnlyList<LayerStatistics> MeasureLayers(IKilnModel model, Dataset data, int samples = 256, ulong seed = 0, DoctorThresholds? thresholds = null)
    {
        CheckFits(model, data, nameof(data));
        DoctorThresholds t = thresholds ?? DoctorThresholds.Default;
        Dataset batch = Sample(data, Math.Max(2, Math.Min(samples, model.MaxBatch)), seed);
        var noise = new ulong[4];
        model.GetNoiseState(noise);
        model.ComputeGradients(batch.Features, batch.Labels, batch.Count);
        model.SetNoiseState(noise);
        WatchedActivation[] watched = LayerProbe.Activations(model);
        var stats = new List<LayerStatistics>();
        foreach (LayerInfo layer in model.Layers)
        {
            if (layer.Kind == "dropout") continue;
            ReadOnlySpan<float> y = model.LayerOutput(layer.Name);
            double sum = 0, sum2 = 0;
            foreach (float v in y) { sum += v; sum2 += (double)v * v; }
            double mean = y.Length == 0 ? double.NaN : sum / y.Length;
            double std = y.Length == 0 ? double.NaN : Math.Sqrt(Math.Max(0, sum2 / y.Length - mean * mean));
            double dead = double.NaN, saturated = double.NaN;
            foreach (WatchedActivation w in watched)
            {
                if (w.Layer != layer.Name) continue;
                if (w.Kind == "relu") dead = LayerProbe.DeadFraction(model, w);
                else saturated = LayerProbe.SaturatedFraction(model, w, t.SaturationInput);
            }
            stats.Add(new LayerStatistics(layer.Name, layer.Kind, mean, std, dead, saturated));
        }
        return stats;
    }

    /// <summary>
    /// Train/eval consistency (docs/techniques.md#pitfalls, TheDeepChecker): the mean of <paramref name="draws"/> training-mode outputs on a
    /// probe batch against the eval-mode output on the same batch. Meaningful once BatchNorm's running statistics
    /// have followed some training; no parameter, running statistic or the dropout stream is changed.
    /// </summary>
    public static ConsistencyResult CheckTrainEvalConsistency(IKilnModel model, Dataset data, int samples = 256, int draws = 16, ulong seed = 0,
        DoctorThresholds? thresholds = null)
    {
        CheckFits(model, data, nameof(data));
        DoctorThresholds t = thresholds ?? DoctorThresholds.Default;
        double difference = new TrainEvalProbe(model, data, Math.Max(2, samples), draws, seed).Measure(model);
        var findings = new List<Finding>();
        if (difference > t.TrainEvalRelativeDifference) findings.Add(Diagnoses.TrainEval(FirstModeDependentLayer(model), difference, t, null));
        return new ConsistencyResult(difference, findings);
    }

    /// <summary>The first layer that behaves differently in training and eval mode (dropout, BatchNorm), named by the consistency finding.</summary>
    internal static string? FirstModeDependentLayer(IKilnModel model)
    {
        foreach (LayerInfo layer in model.Layers)
            if (layer.Kind is "dropout" or "batchnorm") return layer.Name;
        return LayerProbe.OutputLayer(model);
    }

    /// <summary>Over- and underfitting and "still improving" from a run's per-epoch metrics (set TrainerOptions.TrainAccuracySamples for the training accuracy).</summary>
    public static IReadOnlyList<Finding> CheckFit(IReadOnlyList<EpochMetrics> history, DoctorThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        return Diagnoses.Fit(history, thresholds ?? DoctorThresholds.Default);
    }

    // ---------------------------------------------------------------- all of it

    /// <summary>
    /// The pre-training examination: initial loss, gradient check, one probe batch (dead ReLU, saturation, gradient
    /// flow), overfitting a small sample and the learning-rate range test, in the recipe's order. The model is left
    /// exactly as it was.
    /// </summary>
    public static DoctorReport Examine(IKilnModel model, Dataset train, DoctorThresholds? thresholds = null, ulong seed = 0)
    {
        CheckFits(model, train, nameof(train));
        InitialLossResult initial = CheckInitialLoss(model, train, seed: seed, thresholds: thresholds);
        GradientCheckResult gradients = GradientCheck(model, train, seed: seed, thresholds: thresholds);
        IReadOnlyList<Finding> probe = ProbeBatch(model, train, seed: seed, thresholds: thresholds);
        int batchSize = Math.Min(16, Math.Max(2, Math.Min(model.MaxBatch, train.Count / 5)));
        OverfitResult overfit = OverfitSmallSample(model, train, batches: Math.Min(5, train.Count / batchSize), batchSize: batchSize, seed: seed, thresholds: thresholds);
        LearningRateRangeResult range = LearningRateRangeTest(model, train, batchSize: Math.Min(32, Math.Min(model.MaxBatch, train.Count)), seed: seed);
        var all = new List<Finding>();
        all.AddRange(initial.Findings);
        all.AddRange(gradients.Findings);
        all.AddRange(probe);
        all.AddRange(overfit.Findings);
        all.AddRange(range.Findings);
        return new DoctorReport(initial, gradients, probe, overfit, range, all);
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>A seeded random sample of <paramref name="count"/> samples (the data itself when it has no more).</summary>
    internal static Dataset Sample(Dataset data, int count, ulong seed)
    {
        if (count >= data.Count) return data;
        int[] order = Dataset.Identity(data.Count);
        var rng = new KilnRandom(seed ^ 0xD0C7_0125_A3B1_0001UL);
        Dataset.Shuffle(order, ref rng);
        return data.Subset(order.AsSpan(0, count), data.Name + "/doctor-sample");
    }

    internal static void CheckFits(IKilnModel model, Dataset data, string paramName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data, paramName);
        if (data.Count == 0) throw new ArgumentException($"Data set '{data.Name}' is empty.", paramName);
        if (data.FeatureCount != model.InputSize)
            throw new ArgumentException($"Data set '{data.Name}' has {data.FeatureCount} features per sample, but {model.ModelName} expects {model.InputSize}.", paramName);
        if (model.Loss == LossKind.MeanSquaredError)
            throw new ArgumentException($"{model.ModelName} is a regression model (mean squared error); the doctor's data checks need integer class labels.", nameof(model));
        int classes = model.Loss == LossKind.BinaryCrossEntropy ? 2 : model.OutputSize;
        if (data.ClassCount > classes)
            throw new ArgumentException($"Data set '{data.Name}' has {data.ClassCount} classes, but {model.ModelName} has only {classes}.", paramName);
    }
}
