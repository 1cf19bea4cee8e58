using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Kiln.Generator.Spec;

/// <summary>
/// The one table of Kiln diagnostics, shared by the generator and the analyzers. Ids are stable;
/// each links to docs/rules/KLNxxxx.md. KLN00xx are spec-validity errors (the model cannot be built).
/// </summary>
public static class Descriptors
{
    public const string InternalErrorId = "KLN0000";
    public const string ModelNotPartialId = "KLN0001";
    public const string UnsupportedModelTypeId = "KLN0002";
    public const string InvalidInputId = "KLN0003";
    public const string LayersSplitId = "KLN0004";
    public const string MissingLossId = "KLN0005";
    public const string LayerAfterLossId = "KLN0006";
    public const string LossIncompatibleId = "KLN0007";
    public const string HyperParameterOutOfDomainId = "KLN0008";
    public const string BatchNormBatchOneId = "KLN0009";
    public const string OptimizerCountId = "KLN0010";
    public const string SpatialInputWithoutFlattenId = "KLN0011";
    public const string InvalidArrangementId = "KLN0012";
    public const string WindowLargerThanInputId = "KLN0013";
    public const string FractionalOutputSizeId = "KLN0014";
    public const string SpatialLayerOnFlatInputId = "KLN0015";
    public const string GeneratedMemberConflictId = "KLN0016";
    public const string ConstructorConflictId = "KLN0017";
    public const string ModelTooLargeId = "KLN0018";
    public const string UnknownNameId = "KLN0020";

    private const string SpecCategory = "Kiln.Spec";
    /// <summary>
    /// Absolute base of the rule pages (docs/rules/KLNxxxx.md in the repository), so the IDE's help link works in any
    /// project. Starts with the repository URL of Directory.Build.props (KilnRepositoryUrl); a docs test checks they agree.
    /// </summary>
    public const string HelpLinkBase = "https://github.com/kiln-ml/kiln/blob/main/docs/rules/";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, SpecCategory, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLinkBase + id + ".md");

    public static readonly DiagnosticDescriptor InternalError = Error(InternalErrorId,
        "Kiln generator failed",
        "Kiln could not generate model '{0}': {1}. Please report this with the model declaration.");

    public static readonly DiagnosticDescriptor ModelNotPartial = Error(ModelNotPartialId,
        "Model class must be partial",
        "Model '{0}' must be declared 'partial' so that Kiln can add the generated members");

    public static readonly DiagnosticDescriptor UnsupportedModelType = Error(UnsupportedModelTypeId,
        "Unsupported model declaration",
        "Model '{0}' cannot be generated: {1}");

    public static readonly DiagnosticDescriptor InvalidInput = Error(InvalidInputId,
        "Invalid model input",
        "Model '{0}': {1}");

    public static readonly DiagnosticDescriptor LayersSplit = Error(LayersSplitId,
        "Layers split across partial declarations",
        "Model '{0}' has Kiln attributes on more than one partial declaration; their order would be undefined. Keep every layer, loss and optimiser attribute on one declaration.");

    public static readonly DiagnosticDescriptor MissingLoss = Error(MissingLossId,
        "Model has no loss",
        "Model '{0}' declares no loss; add one of SoftmaxCrossEntropy, MulticlassHinge, BinaryCrossEntropy or MeanSquaredError after the last layer");

    public static readonly DiagnosticDescriptor LayerAfterLoss = Error(LayerAfterLossId,
        "Loss must be the last layer, and only one",
        "'{0}' comes after the loss '{1}'; the loss must be the last item and there can be only one");

    public static readonly DiagnosticDescriptor LossIncompatible = Error(LossIncompatibleId,
        "Loss incompatible with the output",
        "Loss '{0}' cannot be used with {1} output(s): {2}");

    public static readonly DiagnosticDescriptor HyperParameterOutOfDomain = Error(HyperParameterOutOfDomainId,
        "Hyper-parameter out of its domain",
        "{0}: {1} = {2} is out of range; {3}");

    public static readonly DiagnosticDescriptor BatchNormBatchOne = Error(BatchNormBatchOneId,
        "BatchNorm trained with batch size 1",
        "'{0}' normalises over the batch, but MaxBatch is 1: the batch variance is always zero. Raise MaxBatch or use another normalisation.");

    public static readonly DiagnosticDescriptor OptimizerCount = Error(OptimizerCountId,
        "Exactly one optimiser is required",
        "Model '{0}' {1}");

    public static readonly DiagnosticDescriptor SpatialInputWithoutFlatten = Error(SpatialInputWithoutFlattenId,
        "Dense on a spatial input without Flatten",
        "'{0}' receives a {1} input; add [Flatten] before it to make the flattening explicit");

    public static readonly DiagnosticDescriptor InvalidArrangement = Error(InvalidArrangementId,
        "Invalid layer arrangement",
        "'{0}': {1}");

    public static readonly DiagnosticDescriptor WindowLargerThanInput = Error(WindowLargerThanInputId,
        "Kernel or pooling window larger than the padded input",
        "'{0}': along the {1} the window spans {2} but the padded input is only {3} ({4})");

    public static readonly DiagnosticDescriptor FractionalOutputSize = Error(FractionalOutputSizeId,
        "Output size is not an integer",
        "'{0}': the output {1} would be ({2})/{3} + 1, which is not an integer; {4}");

    /// <summary>An attribute or a named argument on a model class that does not exist (a misspelling): reported by the generator.</summary>
    public static readonly DiagnosticDescriptor UnknownName = Error(UnknownNameId,
        "Unknown attribute or argument on a model",
        "'{0}' is not {1}{2}");

    public static readonly DiagnosticDescriptor SpatialLayerOnFlatInput = Error(SpatialLayerOnFlatInputId,
        "Spatial layer on a flat input",
        "'{0}' needs a (C, H, W) input but receives {1}; declare InputShape = new[] {{ C, H, W }} and keep spatial layers before Flatten, GlobalAvgPool and Dense");

    public static readonly DiagnosticDescriptor GeneratedMemberConflict = Error(GeneratedMemberConflictId,
        "Declaration conflicts with a generated member",
        "Model '{0}': {1}");

    public static readonly DiagnosticDescriptor ConstructorConflict = Error(ConstructorConflictId,
        "Constructor conflicts with the generated constructors",
        "Model '{0}': {1}");

    public static readonly DiagnosticDescriptor ModelTooLarge = Error(ModelTooLargeId,
        "Model too large",
        "'{0}' brings the model to {1:N0} parameters; Kiln keeps the parameters of a model under {2:N0} (each of the parameter, gradient and optimiser-state arenas is one array)");

    // ------------------------------------------------------------------ pitfalls (analyzers)
    // KLN01nn is the main check of compile-time pitfall nn (docs/techniques.md#pitfalls); KLN02nn and KLN03nn are further checks of the
    // same pitfall (another severity, or user code instead of the spec). KLN0100 is the analyzers' own failure.
    // Pitfalls 25–28 are checks a demanding practitioner expects beyond the original list (loss, depth and image-shape
    // mistakes); KLN0129 is free.

    public const string AnalyzerFailedId = "KLN0100";
    public const string SaturatingHiddenActivationId = "KLN0101";
    public const string RedundantLayerSequenceId = "KLN0102";
    public const string DoubleSquashingId = "KLN0103";
    public const string OutputActivationBeforeLossId = "KLN0104";
    public const string InitMismatchId = "KLN0105";
    public const string SymmetricInitId = "KLN0106";
    public const string SmallFixedInitId = "KLN0107";
    public const string BiasBeforeBatchNormId = "KLN0108";
    public const string BatchNormAfterActivationId = "KLN0109";
    public const string DropoutBeforeBatchNormId = "KLN0110";
    public const string HighDropoutRateId = "KLN0111";
    public const string DropoutInConvStackId = "KLN0211";
    public const string UnscaledDropoutId = "KLN0112";
    public const string UnscaledDropoutCodeId = "KLN0212";
    public const string TestTimeDropoutId = "KLN0312";
    public const string TrainingOnHeldOutDataId = "KLN0113";
    public const string InferenceWithoutTrainingId = "KLN0213";
    public const string LearningRateRangeId = "KLN0114";
    public const string AdaGradLongRunId = "KLN0115";
    public const string LbfgsWithNoiseId = "KLN0116";
    public const string DecayOnAllParametersId = "KLN0117";
    public const string StrongWeightDecayId = "KLN0217";
    public const string LargeBatchWithoutWarmupId = "KLN0118";
    public const string ScheduleLengthMismatchId = "KLN0119";
    public const string LinearScaleSearchId = "KLN0120";
    public const string LinearBetaSearchId = "KLN0220";
    public const string GridSearchId = "KLN0320";
    public const string PreprocessingLeakageId = "KLN0121";
    public const string NoSeedId = "KLN0122";
    public const string NoInputNormalizationId = "KLN0222";
    public const string SeluCombinationId = "KLN0123";
    public const string MaxoutParametersId = "KLN0124";
    public const string SoftmaxWithMeanSquaredErrorId = "KLN0125";
    public const string DeepPlainStackId = "KLN0126";
    public const string WindowMostlyPaddingId = "KLN0127";
    public const string StrideSkipsInputId = "KLN0128";
    public const string ModelSelectionOnTestDataId = "KLN0130";
    public const string TrainingNoiseAtEvaluationId = "KLN0131";
    public const string UnshuffledTrainingDataId = "KLN0132";
    public const string BatchNormBatchOneTrainingId = "KLN0133";

    /// <summary>Category of the rules that read a model's spec (its attributes).</summary>
    public const string PitfallCategory = "Kiln.Pitfall";
    /// <summary>Category of the rules that read the user's code (calls into the runtime, hand-written layers).</summary>
    public const string UsageCategory = "Kiln.Usage";

    private static DiagnosticDescriptor Rule(string id, string category, DiagnosticSeverity severity, string title, string message, string description) =>
        new(id, title, message, category, severity, isEnabledByDefault: true, description: description, helpLinkUri: HelpLinkBase + id + ".md");

    public static readonly DiagnosticDescriptor AnalyzerFailed = Rule(AnalyzerFailedId, PitfallCategory, DiagnosticSeverity.Warning,
        "Kiln analyzer failed",
        "Kiln rule {0} could not analyse this code ({1}); it reports nothing here. Please report this with the code.",
        "A Kiln analyzer hit an unexpected condition. It never throws into the compiler: it reports this instead of its rule, so a silent miss is never mistaken for clean code.");

    public static readonly DiagnosticDescriptor SaturatingHiddenActivation = Rule(SaturatingHiddenActivationId, PitfallCategory, DiagnosticSeverity.Warning,
        "Sigmoid or tanh in a hidden layer",
        "'{0}' uses {1} in a hidden layer: it saturates ({2}), so gradients vanish in deeper layers; use ReLU",
        "Sigmoid and tanh saturate: for |x| around 5 or more their derivative is almost 0 and backpropagated gradients vanish; sigmoid is also not zero-centred. ReLU does not saturate for x > 0 and converges about 6x faster (docs/techniques.md#activations).");

    public static readonly DiagnosticDescriptor RedundantLayerSequence = Rule(RedundantLayerSequenceId, PitfallCategory, DiagnosticSeverity.Warning,
        "Two activations in a row, or linear layers with no non-linearity between",
        "'{0}' {1}",
        "Two activations in a row compose into one non-linearity that was probably not intended; two learned linear layers with no non-linearity between them collapse into one linear map (W1·W2) with extra cost (NeuraLint; docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor DoubleSquashing = Rule(DoubleSquashingId, PitfallCategory, DiagnosticSeverity.Warning,
        "Softmax (or sigmoid) applied twice",
        "'{0}' applies {1} before the loss '{2}', which applies {1} itself: the loss sees {1}({1}(z)), whose outputs are squeezed together, so gradients shrink and training stalls; remove the '{0}' layer",
        "SoftmaxCrossEntropy fuses the softmax into the loss (log-sum-exp) and BinaryCrossEntropy fuses the sigmoid; an explicit Softmax/Sigmoid layer before them applies it twice (docs/techniques.md#losses).");

    public static readonly DiagnosticDescriptor OutputActivationBeforeLoss = Rule(OutputActivationBeforeLossId, PitfallCategory, DiagnosticSeverity.Warning,
        "Activation between the output layer and the loss",
        "'{0}' ({1}) sits between the output layer and the loss '{2}': {3}",
        "A classification loss expects raw scores (logits) from the last Dense layer; a hidden-style activation there limits their range, so the loss cannot reach its minimum and some outputs get no gradient (UMLAUT; docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor InitMismatch = Rule(InitMismatchId, PitfallCategory, DiagnosticSeverity.Warning,
        "Initialisation does not match the activation",
        "'{0}' uses {1} before {2}: {3}; use {4}",
        "Var(y) = Din·Var(x)·Var(w): Xavier/LeCun (Var(w) = 1/Din) keep the variance for tanh, ReLU halves it so it needs He (2/Din), and SELU's self-normalisation assumes LeCun normal (docs/techniques.md#initialisation).");

    public static readonly DiagnosticDescriptor SymmetricInit = Rule(SymmetricInitId, PitfallCategory, DiagnosticSeverity.Warning,
        "Constant or zero weight initialisation",
        "'{0}' starts every weight at {1}: all its units compute the same output and receive the same gradient, so the symmetry is never broken; use a random initialisation (Init.Auto)",
        "With constant weights every unit of a layer computes the same function and gets the same update, so the layer behaves like a single unit forever (docs/techniques.md#initialisation).");

    public static readonly DiagnosticDescriptor SmallFixedInit = Rule(SmallFixedInitId, PitfallCategory, DiagnosticSeverity.Warning,
        "Fixed-scale initialisation in a deep network",
        "'{0}' uses {1} with std {2} in a network of {3} weighted layers: its hidden layers multiply the activation variance by about {4} (Din·Var(w) per layer, Din = KH·KW·C_in for a convolution, halved by ReLU), so activations {5}; use Init.Auto (He or Xavier, scaled by fan-in)",
        "A fixed standard deviation such as 0.01 ignores the fan-in: each layer multiplies the activation variance by Din·Var(w), so over several layers activations collapse to zero (small std) or saturate (large std) and gradients vanish (docs/techniques.md#initialisation).");

    public static readonly DiagnosticDescriptor BiasBeforeBatchNorm = Rule(BiasBeforeBatchNormId, PitfallCategory, DiagnosticSeverity.Info,
        "Bias before BatchNorm is redundant",
        "'{0}' has a bias, but the {1} '{2}' after it subtracts {3}, which removes any constant added per channel (its β takes that role); set Bias = false",
        "BatchNorm computes (x − μ)/σ per channel, and so do InstanceNorm and GroupNorm with one channel per group: a constant added per channel by the preceding Dense or convolution cancels out, so the bias only costs parameters and updates (docs/techniques.md#normalisation).");

    public static readonly DiagnosticDescriptor BatchNormAfterActivation = Rule(BatchNormAfterActivationId, PitfallCategory, DiagnosticSeverity.Info,
        "BatchNorm after the activation",
        "'{0}' normalises the output of the activation '{1}'; {2} is meant to sit after the {3} and before its non-linearity{4}",
        "Ioffe & Szegedy place BatchNorm between the linear layer and the non-linearity, so the activation sees unit-Gaussian inputs; Kiln then folds it into the Dense layer or convolution for inference. GroupNorm and InstanceNorm take the same place in a conv block (docs/techniques.md#normalisation).");

    public static readonly DiagnosticDescriptor DropoutBeforeBatchNorm = Rule(DropoutBeforeBatchNormId, PitfallCategory, DiagnosticSeverity.Warning,
        "Dropout before BatchNorm",
        "'{0}' comes before the BatchNorm '{1}': dropout changes the variance that BatchNorm measures in training, so its running statistics do not match test time (variance shift); put the dropout after the BatchNorm",
        "Dropout scales the variance of its output by 1/p in training but not at test; a BatchNorm after it learns running statistics from the training variance and mis-normalises at test (Li et al. 2019; NeuraLint f006; docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor DropoutInConvStack = Rule(DropoutInConvStackId, PitfallCategory, DiagnosticSeverity.Info,
        "Dropout inside a convolutional stack",
        "'{0}' drops single activations between convolutions (before '{1}'): neighbouring pixels are strongly correlated, so the next convolution sees almost the same information and the regularisation is weak, while the noise still disturbs BatchNorm's statistics; use dropout after the last convolution, before the Dense head",
        "Convolutional feature maps are spatially correlated: element-wise dropout inside a conv stack regularises little and adds noise; dropout is applied in the fully connected head (docs/techniques.md#regularisation, docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor HighDropoutRate = Rule(HighDropoutRateId, PitfallCategory, DiagnosticSeverity.Warning,
        "Dropout rate above 0.5",
        "'{0}' drops a fraction {1} of its activations (rate > 0.5): more units are dropped than kept, which usually underfits; use a rate of at most 0.5",
        "Dropout's rate is the probability of zeroing an activation; above 0.5 most of the layer is silenced at every step and the network underfits (UMLAUT; docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor UnscaledDropout = Rule(UnscaledDropoutId, PitfallCategory, DiagnosticSeverity.Warning,
        "Dropout without scaling",
        "'{0}' uses Scaling = None: kept activations are not rescaled, so their expected value is p·x in training but x at test; use DropoutScaling.Inverted",
        "Test time must match the training expectation E[mask·x] = p·x: divide by p in training (inverted) or multiply by p at test (vanilla); without either, every layer after the dropout sees inputs 1/p times larger at test (docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor UnscaledDropoutCode = Rule(UnscaledDropoutCodeId, UsageCategory, DiagnosticSeverity.Warning,
        "Hand-written dropout mask without 1/p scaling",
        "This random mask keeps values unscaled and nothing in '{0}' divides by the keep probability ({1}) or multiplies by it at test: the expected activation is p·x in training but x at test; divide kept values by p (inverted dropout)",
        "A Bernoulli mask that keeps x with probability p has expectation p·x; unless kept values are divided by p (inverted dropout) or test-time activations multiplied by p, training and test see different scales (docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor TestTimeDropout = Rule(TestTimeDropoutId, PitfallCategory, DiagnosticSeverity.Info,
        "Vanilla dropout: prefer inverted dropout",
        "'{0}' uses vanilla dropout (×p at test): correct, but inverted dropout (÷p in training) leaves inference untouched; prefer DropoutScaling.Inverted",
        "Vanilla dropout must remember to scale by p in every inference path; inverted dropout moves the scale into training so test code is unchanged (docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor TrainingOnHeldOutData = Rule(TrainingOnHeldOutDataId, UsageCategory, DiagnosticSeverity.Warning,
        "Training-mode call on validation/test data or in an evaluation method",
        "'{0}' runs in training mode {1}: it uses batch statistics and dropout and {2}; evaluate with Predict/Evaluate (eval mode) instead",
        "TrainStep and Trainer.Fit update the weights and BatchNorm's running statistics, and ComputeGradients runs the training-mode forward pass (batch statistics, dropout); on held-out data this leaks it into the model or measures the wrong thing (docs/techniques.md#normalisation).");

    public static readonly DiagnosticDescriptor InferenceWithoutTraining = Rule(InferenceWithoutTrainingId, UsageCategory, DiagnosticSeverity.Warning,
        "Inference on a model that is never trained",
        "'{0}' runs inference on '{1}', which is created in this method and never trained, loaded or passed on: its weights are the random initial ones and BatchNorm still has its initial running statistics (mean 0, variance 1)",
        "Eval mode uses the running statistics that training accumulates; a fresh model that is only ever used for inference predicts from random weights and uninitialised statistics (docs/techniques.md#normalisation).");

    public static readonly DiagnosticDescriptor LearningRateRange = Rule(LearningRateRangeId, PitfallCategory, DiagnosticSeverity.Warning,
        "Learning rate out of the usual range for the optimiser",
        "{0}'s learning rate {1} is outside {2}: {3}",
        "Adam's steps are normalised, so its useful learning rates lie in about [1e-5, 1e-2]; plain SGD and momentum with a learning rate above 1 overshoot on normalised inputs (thresholds from published checkers; docs/techniques.md#optimisers).");

    public static readonly DiagnosticDescriptor AdaGradLongRun = Rule(AdaGradLongRunId, PitfallCategory, DiagnosticSeverity.Warning,
        "AdaGrad for a long run",
        "'{0}' uses AdaGrad {1}: its step α·g/sqrt(Σg²) shrinks as squared gradients accumulate and decays towards zero over a long run, so training stalls; use RMSProp (leaky AdaGrad) or Adam",
        "AdaGrad divides by the square root of the sum of all past squared gradients, which only grows: steps shrink to zero over long runs. RMSProp's leaky average and Adam do not (docs/techniques.md#optimisers).");

    public static readonly DiagnosticDescriptor LbfgsWithNoise = Rule(LbfgsWithNoiseId, PitfallCategory, DiagnosticSeverity.Warning,
        "L-BFGS with a noise source",
        "'{0}' {1}: the line search and curvature pairs assume a deterministic loss, and {2}",
        "L-BFGS works well full-batch and deterministic but transfers badly to noisy objectives: 'turn off all sources of noise' (dropout, augmentation, mini-batches) (docs/techniques.md#optimisers).");

    public static readonly DiagnosticDescriptor DecayOnAllParameters = Rule(DecayOnAllParametersId, PitfallCategory, DiagnosticSeverity.Info,
        "Weight decay on biases and normalisation parameters",
        "'{0}' applies to every trainable tensor (ApplyTo = PenaltyTarget.All): decaying biases, BatchNorm's γ/β and PReLU's α pulls them towards 0 without reducing overfitting; apply it to weights only",
        "Weight decay regularises by shrinking weights; biases and normalisation parameters have few degrees of freedom and shrinking γ or β only fights the normalisation (docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor StrongWeightDecay = Rule(StrongWeightDecayId, PitfallCategory, DiagnosticSeverity.Warning,
        "Weight decay above 1e-2",
        "'{0}' has λ = {1}, above 1e-2: a penalty this strong dominates the loss gradient and the model underfits; try 1e-4 or 1e-3",
        "Typical L2/weight-decay strengths are 1e-4 to 1e-3; too large underfits, too small does nothing (docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor LargeBatchWithoutWarmup = Rule(LargeBatchWithoutWarmupId, PitfallCategory, DiagnosticSeverity.Warning,
        "Large batch with a high learning rate and no warm-up",
        "{0} {1} at learning rate {2}, above {3} ({4} × √({1}/256)), the rate such a batch tolerates from the first step, without a warm-up: large-batch training at such rates tends to explode early; add a warm-up ([Warmup] or a Warmup schedule) or lower the learning rate",
        "Scaling the learning rate with the batch size (N× batch → N× lr) works for large batches only with a linear warm-up from 0 over the first iterations (Goyal et al. 2017); rates above the square-root-scaled one already lean that way (docs/techniques.md#schedules).");

    public static readonly DiagnosticDescriptor ScheduleLengthMismatch = Rule(ScheduleLengthMismatchId, UsageCategory, DiagnosticSeverity.Warning,
        "Schedule inconsistent with the training length",
        "'{0}' trains '{1}' for {2} epochs, but its schedule {3}",
        "A step-decay boundary after the last epoch never takes effect, a cosine or linear decay whose period T differs from the run never reaches (or overshoots) its end value, and a warm-up longer than the run never reaches the base learning rate (docs/techniques.md#schedules).");

    public static readonly DiagnosticDescriptor LinearScaleSearch = Rule(LinearScaleSearchId, UsageCategory, DiagnosticSeverity.Warning,
        "Learning rate or weight decay searched on a linear scale",
        "'{0}' is sampled uniformly on [{1}, {2}]: {3} of the samples land in the top decade, so small values are barely tried; sample it log-uniformly (LogUniform)",
        "Learning rate and weight decay act multiplicatively: 1e-4 and 1e-3 differ as much as 1e-2 and 1e-1. Sampling them uniformly spends almost every trial on the largest decade (docs/techniques.md#hyper-parameters).");

    public static readonly DiagnosticDescriptor LinearBetaSearch = Rule(LinearBetaSearchId, UsageCategory, DiagnosticSeverity.Warning,
        "Momentum/β near 1 searched on a linear scale",
        "'{0}' is sampled uniformly on [{1}, {2}]: near 1 the averaging window 1/(1−β) grows from {3} to {4} steps, but linear samples rarely get close to 1; sample 1−β log-uniformly (OneMinusLogUniform)",
        "What matters for a momentum or β is the averaging window 1/(1−β): 0.999 → 0.9995 doubles it while 0.9 → 0.9005 changes nothing, so sample 1−β on a log scale (docs/techniques.md#hyper-parameters).");

    public static readonly DiagnosticDescriptor GridSearch = Rule(GridSearchId, UsageCategory, DiagnosticSeverity.Info,
        "Grid search over three or more hyper-parameters",
        "Grid search over {0} hyper-parameters: k points per axis cost k^{0} runs yet try only k values of each parameter; random search (Sample) tries a new value of every parameter in each run",
        "When only a few hyper-parameters matter, random search explores each of them far better than a grid of the same cost (Bergstra & Bengio 2012; docs/techniques.md#hyper-parameters).");

    public static readonly DiagnosticDescriptor PreprocessingLeakage = Rule(PreprocessingLeakageId, UsageCategory, DiagnosticSeverity.Warning,
        "Preprocessing fitted on validation or test data",
        "'{0}' fits preprocessing statistics on {1}, which looks like validation/test data: the held-out data leak into training and the evaluation is optimistic; fit on the training split and only transform the others",
        "Mean, std, PCA and other preprocessing statistics must come from the training split only and then be applied to every split (docs/techniques.md#preprocessing).");

    public static readonly DiagnosticDescriptor NoSeed = Rule(NoSeedId, PitfallCategory, DiagnosticSeverity.Info,
        "No random seed declared",
        "Model '{0}' declares no Seed, so initialisation and dropout silently use seed 0; state the seed (Seed = …) so runs are reproducible on purpose and easy to vary",
        "Initialisation, dropout masks and shuffles come from the seed; an explicit seed documents the run and makes it reproducible (docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor NoInputNormalization = Rule(NoInputNormalizationId, PitfallCategory, DiagnosticSeverity.Info,
        "No input normalisation declared",
        "Model '{0}' declares no input normalisation: unnormalised inputs (all-positive pixels, features on different scales) make updates zig-zag and the loss sensitive to small weight changes; declare Normalize = InputNormalization.PerFeature (or PerChannel) and fit it on the training split, or Normalize = InputNormalization.None when the data arrive normalised",
        "Zero-centred, unit-scale inputs keep a neuron's weight gradients from sharing one sign and condition the loss; the model can own the statistics so that training and inference apply the same ones (docs/techniques.md#preprocessing, docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor MaxoutParameters = Rule(MaxoutParametersId, PitfallCategory, DiagnosticSeverity.Info,
        "Maxout multiplies the parameter count",
        "'{0}' takes the maximum of {1} linear pieces, so '{2}' computes {1}× its outputs: {1}× its weights and {1}× its compute for the same number of units; check that the extra capacity pays off (or use ReLU)",
        "Maxout generalises ReLU and never saturates, but every unit needs k sets of weights: the layer before it has k times the parameters and FLOPs (docs/techniques.md#activations, docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor SeluCombination = Rule(SeluCombinationId, PitfallCategory, DiagnosticSeverity.Info,
        "SELU combined with BatchNorm or plain dropout",
        "'{0}' is combined with the SELU activation '{1}': {2}",
        "SELU networks normalise themselves towards mean 0 and variance 1 (with LeCun-normal weights); BatchNorm is redundant there, and plain dropout breaks the fixed point: use [AlphaDropout], which keeps it (docs/techniques.md#activations, docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor SoftmaxWithMeanSquaredError = Rule(SoftmaxWithMeanSquaredErrorId, PitfallCategory, DiagnosticSeverity.Warning,
        "Softmax output trained with mean squared error",
        "'{0}' turns the outputs into class probabilities, but the model is trained with MeanSquaredError: its gradient passes through the softmax Jacobian, which vanishes as the softmax saturates, so a confidently wrong class gets almost no gradient and training stalls; use SoftmaxCrossEntropy (same one-hot or soft targets, softmax fused, gradient p − t) and remove the '{0}' layer",
        "Softmax cross-entropy has the gradient p − t with respect to the scores, large exactly when a prediction is confidently wrong; the squared error of softmax probabilities multiplies its gradient by p_j(δ_jk − p_k), which is near zero for saturated outputs (docs/techniques.md#losses).");

    public static readonly DiagnosticDescriptor DeepPlainStack = Rule(DeepPlainStackId, PitfallCategory, DiagnosticSeverity.Warning,
        "Deep plain stack without normalisation or residual connections",
        "Model '{0}' stacks {1} weighted layers with neither normalisation nor residual connections: the gradient of the first layers is a product of {1} layer Jacobians, so it vanishes or explodes, and a deeper plain network trains worse than a shallower one; add a normalisation (BatchNorm, GroupNorm, LayerNorm) after the weighted layers or wrap pairs of them in [Residual] … [EndResidual]",
        "Past about ten weighted layers, plain networks are hard to optimise even with a good initialisation: normalisation keeps each layer's inputs at unit scale, and residual connections give the gradient an identity path (He et al. 2016; docs/techniques.md#normalisation). Self-normalising SELU networks are exempt.");

    public static readonly DiagnosticDescriptor WindowMostlyPadding = Rule(WindowMostlyPaddingId, PitfallCategory, DiagnosticSeverity.Warning,
        "Feature map smaller than the window that reads it",
        "'{0}' slides a {1} window over a {2} feature map ({3}): the map is smaller than the window, so {4} of the values its windows read are zero padding; downsample less before it, use a smaller window, or end the convolutional stack earlier (GlobalAvgPool or Flatten)",
        "Each stride and pooling divides the image; once a map is smaller than the kernel, every window of a padded convolution or pooling reads mostly padding, so the layer learns from zeros and its extra taps cost compute for nothing (docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor StrideSkipsInput = Rule(StrideSkipsInputId, PitfallCategory, DiagnosticSeverity.Warning,
        "Stride larger than the window: part of the input is never read",
        "'{0}' moves its {1} window by {2}: the rows or columns between windows are never read, so {3} of its {4} input is ignored; use a stride no larger than the window, or a larger window",
        "A window of span k moved by a stride s > k skips s − k rows and columns at every step: those values reach no output and get no gradient (docs/techniques.md#pitfalls).");

    public static readonly DiagnosticDescriptor ModelSelectionOnTestData = Rule(ModelSelectionOnTestDataId, UsageCategory, DiagnosticSeverity.Warning,
        "Model selection driven by the test split",
        "{0} selects on '{1}', which is test data ({2}): the test set then chooses the model and no longer estimates its error; select on a validation split (data.ValidationSplit) and keep the test split for the final evaluation",
        "Early stopping, best-epoch checkpoints, ReduceOnPlateau and any 'keep the best' loop choose among models by a held-out score; driven by the test split, the test error becomes an optimistic, selected quantity (docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor TrainingNoiseAtEvaluation = Rule(TrainingNoiseAtEvaluationId, UsageCategory, DiagnosticSeverity.Warning,
        "Augmentation or dropout applied to evaluation data",
        "{0} applies {1} to '{2}', which is {3}: evaluation then measures a randomly perturbed input instead of the data, and the score varies from run to run; apply augmentation and dropout only in training",
        "Augmentation and dropout are training-time noise: evaluated data should pass through the network unperturbed (eval mode), or through deliberate, averaged test-time augmentation (docs/techniques.md#regularisation).");

    public static readonly DiagnosticDescriptor UnshuffledTrainingData = Rule(UnshuffledTrainingDataId, UsageCategory, DiagnosticSeverity.Warning,
        "Training data never shuffled",
        "{0}: the batches come in the same order every epoch, so data stored by class or by time give batches of one kind and gradients that swing from batch to batch; shuffle the training set every epoch",
        "Mini-batch SGD assumes each batch is a random sample of the training set; a fixed order (often sorted by class or source) biases every step and the epoch's end (docs/training.md).");

    public static readonly DiagnosticDescriptor BatchNormBatchOneTraining = Rule(BatchNormBatchOneTrainingId, UsageCategory, DiagnosticSeverity.Warning,
        "BatchNorm model trained one sample at a time",
        "{0} trains '{1}', which has the BatchNorm '{2}', with batches of 1: the batch variance of a single sample is 0, so BatchNorm outputs its β whatever the input and its running statistics are meaningless; train with batches of at least 2 (16 or more is usual) or use LayerNorm/GroupNorm",
        "BatchNorm normalises with the mean and variance of the batch; one sample has zero variance, so the normalised value is 0 and no gradient reaches the layers before it (docs/techniques.md#normalisation).");

    private static readonly Dictionary<string, DiagnosticDescriptor> PitfallTable = new()
    {
        [AnalyzerFailedId] = AnalyzerFailed,
        [SaturatingHiddenActivationId] = SaturatingHiddenActivation,
        [RedundantLayerSequenceId] = RedundantLayerSequence,
        [DoubleSquashingId] = DoubleSquashing,
        [OutputActivationBeforeLossId] = OutputActivationBeforeLoss,
        [InitMismatchId] = InitMismatch,
        [SymmetricInitId] = SymmetricInit,
        [SmallFixedInitId] = SmallFixedInit,
        [BiasBeforeBatchNormId] = BiasBeforeBatchNorm,
        [BatchNormAfterActivationId] = BatchNormAfterActivation,
        [DropoutBeforeBatchNormId] = DropoutBeforeBatchNorm,
        [HighDropoutRateId] = HighDropoutRate,
        [UnscaledDropoutId] = UnscaledDropout,
        [UnscaledDropoutCodeId] = UnscaledDropoutCode,
        [TestTimeDropoutId] = TestTimeDropout,
        [TrainingOnHeldOutDataId] = TrainingOnHeldOutData,
        [InferenceWithoutTrainingId] = InferenceWithoutTraining,
        [LearningRateRangeId] = LearningRateRange,
        [AdaGradLongRunId] = AdaGradLongRun,
        [LbfgsWithNoiseId] = LbfgsWithNoise,
        [DecayOnAllParametersId] = DecayOnAllParameters,
        [StrongWeightDecayId] = StrongWeightDecay,
        [LargeBatchWithoutWarmupId] = LargeBatchWithoutWarmup,
        [ScheduleLengthMismatchId] = ScheduleLengthMismatch,
        [LinearScaleSearchId] = LinearScaleSearch,
        [LinearBetaSearchId] = LinearBetaSearch,
        [GridSearchId] = GridSearch,
        [PreprocessingLeakageId] = PreprocessingLeakage,
        [NoSeedId] = NoSeed,
        [NoInputNormalizationId] = NoInputNormalization,
        [DropoutInConvStackId] = DropoutInConvStack,
        [MaxoutParametersId] = MaxoutParameters,
        [SeluCombinationId] = SeluCombination,
        [SoftmaxWithMeanSquaredErrorId] = SoftmaxWithMeanSquaredError,
        [DeepPlainStackId] = DeepPlainStack,
        [WindowMostlyPaddingId] = WindowMostlyPadding,
        [StrideSkipsInputId] = StrideSkipsInput,
        [ModelSelectionOnTestDataId] = ModelSelectionOnTestData,
        [TrainingNoiseAtEvaluationId] = TrainingNoiseAtEvaluation,
        [UnshuffledTrainingDataId] = UnshuffledTrainingData,
        [BatchNormBatchOneTrainingId] = BatchNormBatchOneTraining,
    };

    /// <summary>The analyzers' descriptors (pitfalls KLN01xx–KLN03xx and KLN0100), reported by Kiln.Analyzers.</summary>
    public static IEnumerable<DiagnosticDescriptor> Pitfalls => PitfallTable.Values;

    private static readonly Dictionary<string, DiagnosticDescriptor> ByIdTable = new()
    {
        [InternalErrorId] = InternalError,
        [ModelNotPartialId] = ModelNotPartial,
        [UnsupportedModelTypeId] = UnsupportedModelType,
        [InvalidInputId] = InvalidInput,
        [LayersSplitId] = LayersSplit,
        [MissingLossId] = MissingLoss,
        [LayerAfterLossId] = LayerAfterLoss,
        [LossIncompatibleId] = LossIncompatible,
        [HyperParameterOutOfDomainId] = HyperParameterOutOfDomain,
        [BatchNormBatchOneId] = BatchNormBatchOne,
        [OptimizerCountId] = OptimizerCount,
        [SpatialInputWithoutFlattenId] = SpatialInputWithoutFlatten,
        [InvalidArrangementId] = InvalidArrangement,
        [WindowLargerThanInputId] = WindowLargerThanInput,
        [FractionalOutputSizeId] = FractionalOutputSize,
        [SpatialLayerOnFlatInputId] = SpatialLayerOnFlatInput,
        [GeneratedMemberConflictId] = GeneratedMemberConflict,
        [ConstructorConflictId] = ConstructorConflict,
        [ModelTooLargeId] = ModelTooLarge,
        [UnknownNameId] = UnknownName,
    };

    /// <summary>Every spec-validity descriptor (KLN0000–KLN0018, KLN0020), reported by the generator.</summary>
    public static IEnumerable<DiagnosticDescriptor> All => ByIdTable.Values;

    /// <summary>A descriptor of either table by id.</summary>
    public static DiagnosticDescriptor ById(string id) => ByIdTable.TryGetValue(id, out DiagnosticDescriptor? spec) ? spec : PitfallTable[id];
}
