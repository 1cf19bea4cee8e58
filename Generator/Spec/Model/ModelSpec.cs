namespace Kiln.Generator.Spec;

// What the user said, and nothing else: plain values only (no symbols, syntax or locations), so the
// incremental pipeline caches emission across edits that do not change the model.

/// <summary>The kind of a layer in the attribute list.</summary>
public enum LayerKind { Dense, BatchNorm, Dropout, Activation, Flatten, Conv2D, MaxPool, AvgPool, GlobalAvgPool, LayerNorm, InstanceNorm, GroupNorm, Maxout, Residual, EndResidual, FractionalMaxPool, AlphaDropout, ScalarBias, Multiplier }

/// <summary>Element-wise (and softmax) activations (docs/techniques.md#activations).</summary>
public enum ActivationKind { Identity, Sigmoid, Tanh, ReLU, LeakyReLU, PReLU, ELU, SELU, Swish, GELU, Softmax }

/// <summary>Mirror of Kiln.Init (the generator cannot reference the runtime assembly).</summary>
public enum InitKind { Auto, Zeros, Constant, Normal, Uniform, XavierNormal, XavierUniform, GlorotNormal, GlorotUniform, HeNormal, HeUniform, LeCunNormal, Orthogonal }

/// <summary>Mirror of Kiln.InputNormalization.</summary>
public enum InputNormalizationKind { Unspecified, None, PerFeature, PerChannel }

/// <summary>Mirror of Kiln.DropoutScaling.</summary>
public enum DropoutScalingKind { Inverted, TestTime, None }

/// <summary>Losses (docs/techniques.md#losses) (names match Kiln.LossKind).</summary>
public enum LossKind { SoftmaxCrossEntropy, MulticlassHinge, BinaryCrossEntropy, MeanSquaredError }

/// <summary>Optimisers (docs/techniques.md#optimisers).</summary>
public enum OptimizerKind { Sgd, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW, Lbfgs }

/// <summary>Penalties (docs/techniques.md#regularisation).</summary>
public enum PenaltyKind { L2, L1, ElasticNet, WeightDecay }

/// <summary>Learning-rate schedules (docs/techniques.md#schedules).</summary>
public enum ScheduleKind { Constant, StepDecay, CosineDecay, LinearDecay, InverseSqrtDecay, WarmRestarts, Warmup, ReduceOnPlateau }

/// <summary>
/// One layer attribute. A flat record with kind-specific fields keeps equality trivial; fields that
/// do not apply to a kind keep their defaults. Each field means one thing: <see cref="Units"/> (Dense),
/// <see cref="Filters"/> (Conv2D), <see cref="Pieces"/> (Maxout), <see cref="TestDraws"/> and
/// <see cref="PoolRatio"/> (FractionalMaxPool), <see cref="Rate"/> (Dropout's drop probability).
/// </summary>
public sealed record LayerSpec(
    LayerKind Kind,
    string Name,
    int Index,
    ActivationKind Activation = ActivationKind.Identity,
    int Units = 0,
    int Filters = 0,
    int Pieces = 0,
    int TestDraws = 0,
    double PoolRatio = 0,
    bool Bias = true,
    InitKind Init = InitKind.Auto,
    double InitScale = double.NaN,
    double BiasInit = 0,
    double Alpha = 0,
    double Momentum = 0.1,
    double Epsilon = 1e-5,
    double Rate = 0,
    DropoutScalingKind Scaling = DropoutScalingKind.Inverted,
    double LearningRateScale = 1.0,
    bool Regularize = true,
    int KernelH = 0,
    int KernelW = 0,
    int Stride = 1,
    int Padding = 0,
    int Dilation = 1,
    int Groups = 0,
    double DropConnect = 0,
    double Survival = 1,
    bool ZeroInitLast = false,
    bool Projection = false)
{
    /// <summary>Conv2D and the pooling layers work on (C, H, W) inputs.</summary>
    public bool IsSpatial => Kind is LayerKind.Conv2D or LayerKind.MaxPool or LayerKind.AvgPool or LayerKind.GlobalAvgPool or LayerKind.FractionalMaxPool;
    /// <summary>LayerNorm, InstanceNorm and GroupNorm: per-sample statistics, one kernel.</summary>
    public bool IsSampleNorm => Kind is LayerKind.LayerNorm or LayerKind.InstanceNorm or LayerKind.GroupNorm;
}

/// <summary>The loss attribute.</summary>
public sealed record LossSpec(LossKind Kind, double Margin = 1.0);

/// <summary>The optimiser attribute. Beta1 is Momentum/Nesterov's ρ, RMSProp's decay d, Adam's β1.</summary>
public sealed record OptimizerSpec(OptimizerKind Kind, double LearningRate, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8,
    bool VelocityForm = false, double WeightDecay = 0, int History = 10);

/// <summary>A penalty attribute; AllParameters extends it from Dense weights to every trainable tensor.</summary>
public sealed record PenaltySpec(PenaltyKind Kind, double Lambda, double Beta = 0.5, bool AllParameters = false);

/// <summary>A schedule attribute (fields that do not apply keep their defaults).</summary>
public sealed record ScheduleSpec(ScheduleKind Kind, double Factor = 0.1, int Every = 0, EquatableArray<int> Milestones = default,
    int Steps = 0, int Epochs = 0, double MinFactor = 0, double Multiplier = 2, int Patience = 10, double Threshold = 1e-4);

/// <summary>A containing type the generated partial must repeat ("partial class Outer").</summary>
public sealed record ContainingType(string Keyword, string Name);

/// <summary>A whole model declaration.</summary>
public sealed record ModelSpec(
    string Namespace,
    string ClassName,
    EquatableArray<ContainingType> ContainingTypes,
    int InputSize,
    EquatableArray<int> InputShape,
    int MaxBatch,
    int Seed,
    bool SeedSpecified,
    EquatableArray<LayerSpec> Layers,
    LossSpec? Loss,
    OptimizerSpec? Optimizer,
    EquatableArray<PenaltySpec> Penalties = default,
    double ClipNorm = 0,
    double ClipValue = 0,
    EquatableArray<ScheduleSpec> Schedules = default,
    InputNormalizationKind Normalization = InputNormalizationKind.Unspecified,
    bool Fixup = false)
{
    /// <summary>True when the model fits and applies its own input statistics.</summary>
    public bool NormalizesInputs => Normalization is InputNormalizationKind.PerFeature or InputNormalizationKind.PerChannel;
}
