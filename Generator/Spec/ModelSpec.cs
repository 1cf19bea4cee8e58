namespace Kiln.Generator.Spec;

// What the user said, and nothing else: plain values only (no symbols, syntax or locations), so the
// incremental pipeline caches emission across edits that do not change the model.

/// <summary>The kind of a layer in the attribute list.</summary>
public enum LayerKind { Dense, BatchNorm, Dropout, Activation, Flatten }

/// <summary>Element-wise (and softmax) activations of CATALOGUE §1.</summary>
public enum ActivationKind { Identity, Sigmoid, Tanh, ReLU, LeakyReLU, PReLU, ELU, SELU, Swish, GELU, Softmax }

/// <summary>Mirror of Kiln.Init (the generator cannot reference the runtime assembly).</summary>
public enum InitKind { Auto, Zeros, Constant, Normal, Uniform, XavierNormal, XavierUniform, GlorotNormal, GlorotUniform, HeNormal, HeUniform, LeCunNormal }

/// <summary>Mirror of Kiln.DropoutScaling.</summary>
public enum DropoutScalingKind { Inverted, TestTime, None }

/// <summary>Losses of CATALOGUE §10 (names match Kiln.LossKind).</summary>
public enum LossKind { SoftmaxCrossEntropy, MulticlassHinge, BinaryCrossEntropy, MeanSquaredError }

/// <summary>Optimisers (names match Kiln.Kernels.OptimizerKind).</summary>
public enum OptimizerKind { Sgd, Momentum, Adam }

/// <summary>
/// One layer attribute. A flat record with kind-specific fields keeps equality trivial; fields that
/// do not apply to a kind keep their defaults.
/// </summary>
public sealed record LayerSpec(
    LayerKind Kind,
    string Name,
    int Index,
    ActivationKind Activation = ActivationKind.Identity,
    int Units = 0,
    bool Bias = true,
    InitKind Init = InitKind.Auto,
    double InitScale = double.NaN,
    double BiasInit = 0,
    double Alpha = 0,
    double Momentum = 0.1,
    double Epsilon = 1e-5,
    double Rate = 0,
    DropoutScalingKind Scaling = DropoutScalingKind.Inverted);

/// <summary>The loss attribute.</summary>
public sealed record LossSpec(LossKind Kind, double Margin = 1.0);

/// <summary>The optimiser attribute.</summary>
public sealed record OptimizerSpec(OptimizerKind Kind, double LearningRate, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8);

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
    OptimizerSpec? Optimizer)
{
    /// <summary>File name of the generated source: namespace-qualified to stay unique.</summary>
    public string HintName
    {
        get
        {
            string prefix = Namespace.Length == 0 ? "" : Namespace + ".";
            foreach (ContainingType t in ContainingTypes) prefix += t.Name + ".";
            return prefix + ClassName + ".g.cs";
        }
    }
}
