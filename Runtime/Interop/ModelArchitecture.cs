using System;
using System.Collections.Generic;

namespace Kiln.Interop;

/// <summary>
/// The declared architecture of a generated model: its input and every layer attribute in order, with the arguments
/// an exporter needs to rebuild the inference graph (kernel sizes, strides, activation parameters, epsilons). The
/// generator emits it as a static description (<see cref="IKilnModel.Architecture"/>); the tensors stay in
/// <see cref="IKilnModel.Tensors"/>.
/// </summary>
/// <param name="ModelName">The model class name.</param>
/// <param name="InputSize">Features per sample.</param>
/// <param name="InputShape">(C, H, W) of a spatial input; empty for a flat one.</param>
/// <param name="Normalization">The input normalisation the model owns (statistics in the tensors <c>input.mean</c>, <c>input.std</c>).</param>
/// <param name="Loss">The loss; it decides what <see cref="IKilnModel.Predict"/> returns (softmax, sigmoid or raw outputs).</param>
/// <param name="Layers">Every layer attribute in declaration order, <c>Flatten</c>, <c>Residual</c> and <c>EndResidual</c> included.</param>
public sealed record ModelArchitecture(string ModelName, int InputSize, IReadOnlyList<int> InputShape, InputNormalization Normalization,
    LossKind Loss, IReadOnlyList<ArchitectureLayer> Layers);

/// <summary>The kind of a declared layer attribute.</summary>
public enum ArchitectureLayerKind
{
    /// <summary><c>[Dense]</c>.</summary>
    Dense,
    /// <summary><c>[BatchNorm]</c> (1-D or 2-D by its input).</summary>
    BatchNorm,
    /// <summary><c>[Dropout]</c>.</summary>
    Dropout,
    /// <summary>An activation attribute (<see cref="ArchitectureLayer.Activation"/> says which).</summary>
    Activation,
    /// <summary><c>[Flatten]</c>.</summary>
    Flatten,
    /// <summary><c>[Conv2D]</c>.</summary>
    Conv2D,
    /// <summary><c>[MaxPool]</c>.</summary>
    MaxPool,
    /// <summary><c>[AvgPool]</c>.</summary>
    AvgPool,
    /// <summary><c>[GlobalAvgPool]</c>.</summary>
    GlobalAvgPool,
    /// <summary><c>[LayerNorm]</c>.</summary>
    LayerNorm,
    /// <summary><c>[InstanceNorm]</c>.</summary>
    InstanceNorm,
    /// <summary><c>[GroupNorm]</c>.</summary>
    GroupNorm,
    /// <summary><c>[Maxout]</c> (pieces in <see cref="ArchitectureLayer.Units"/>).</summary>
    Maxout,
    /// <summary><c>[Residual]</c>: the start of a block.</summary>
    Residual,
    /// <summary><c>[EndResidual]</c>: the end of the block opened by the last <see cref="Residual"/>.</summary>
    EndResidual,
    /// <summary><c>[FractionalMaxPool]</c> (ratio in <see cref="ArchitectureLayer.Rate"/>, test draws in <see cref="ArchitectureLayer.Units"/>).</summary>
    FractionalMaxPool,
    /// <summary><c>[AlphaDropout]</c> (drop probability in <see cref="ArchitectureLayer.Rate"/>): the identity at test.</summary>
    AlphaDropout,
    /// <summary><c>[ScalarBias]</c>: y = x + b with one trained scalar b (tensor <c>&lt;name&gt;.bias</c>).</summary>
    ScalarBias,
    /// <summary><c>[Multiplier]</c>: y = s·x with one trained scalar s (tensor <c>&lt;name&gt;.scale</c>).</summary>
    Multiplier,
}

/// <summary>The function of an activation layer.</summary>
public enum ActivationFunction
{
    /// <summary>f(x) = x.</summary>
    Identity,
    /// <summary>1/(1 + e^−x).</summary>
    Sigmoid,
    /// <summary>tanh x.</summary>
    Tanh,
    /// <summary>max(0, x).</summary>
    ReLU,
    /// <summary>max(αx, x), α in <see cref="ArchitectureLayer.Alpha"/>.</summary>
    LeakyReLU,
    /// <summary>max(α_j x, x) with α learned per unit or channel (tensor <c>&lt;layer&gt;.alpha</c>).</summary>
    PReLU,
    /// <summary>x, or α(eˣ − 1) for x ≤ 0; α in <see cref="ArchitectureLayer.Alpha"/>.</summary>
    ELU,
    /// <summary>λx, or λα(eˣ − 1), with SELU's fixed constants.</summary>
    SELU,
    /// <summary>x·σ(βx), β in <see cref="ArchitectureLayer.Alpha"/>.</summary>
    Swish,
    /// <summary>x·Φ(x) (exact, erf).</summary>
    GELU,
    /// <summary>Row-wise softmax.</summary>
    Softmax,
}

/// <summary>One declared layer attribute. Arguments that do not apply to its kind keep their defaults.</summary>
/// <param name="Name">The layer name (tensor prefix), such as <c>conv0</c> or <c>residual1</c>.</param>
/// <param name="Kind">The attribute.</param>
public sealed record ArchitectureLayer(string Name, ArchitectureLayerKind Kind)
{
    /// <summary>The function of an <see cref="ArchitectureLayerKind.Activation"/> layer.</summary>
    public ActivationFunction Activation { get; init; }
    /// <summary>Dense units, Conv2D filters, Maxout pieces, FractionalMaxPool test draws.</summary>
    public int Units { get; init; }
    /// <summary>Whether a Dense or Conv2D has a bias.</summary>
    public bool Bias { get; init; } = true;
    /// <summary>LeakyReLU's and ELU's α, Swish's β, PReLU's initial α.</summary>
    public double Alpha { get; init; }
    /// <summary>The ε of a BatchNorm, LayerNorm, InstanceNorm or GroupNorm.</summary>
    public double Epsilon { get; init; } = 1e-5;
    /// <summary>Dropout's drop probability, FractionalMaxPool's ratio.</summary>
    public double Rate { get; init; }
    /// <summary>How a Dropout scales (decides what it does at test).</summary>
    public DropoutScaling Scaling { get; init; }
    /// <summary>Kernel or window height (Conv2D, MaxPool, AvgPool).</summary>
    public int KernelHeight { get; init; }
    /// <summary>Kernel or window width.</summary>
    public int KernelWidth { get; init; }
    /// <summary>Stride.</summary>
    public int Stride { get; init; } = 1;
    /// <summary>Zero padding on every side.</summary>
    public int Padding { get; init; }
    /// <summary>Conv2D dilation.</summary>
    public int Dilation { get; init; } = 1;
    /// <summary>GroupNorm's groups.</summary>
    public int Groups { get; init; }
    /// <summary>DropConnect probability of a Dense or Conv2D (training only).</summary>
    public double DropConnect { get; init; }
    /// <summary>A residual block's survival probability: the branch is scaled by it at test.</summary>
    public double Survival { get; init; } = 1;
    /// <summary>A residual block with a projection shortcut (tensor <c>&lt;block&gt;.projection</c>).</summary>
    public bool Projection { get; init; }
}
