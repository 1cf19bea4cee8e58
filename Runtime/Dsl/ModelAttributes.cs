using System;

namespace Kiln;

// The DSL. Attribute order on one declaration is the layer order; the generator reads them in
// source order. Hyper-parameters are doubles so that plain literals (1e-3) work without an 'f'.

/// <summary>Marks a partial class as a Kiln model; the generator emits its training and inference code.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ModelAttribute : Attribute
{
    /// <summary>Flat input size (features per sample). Use <see cref="InputShape"/> for images.</summary>
    public int Input { get; set; }
    /// <summary>Input shape such as { 1, 28, 28 } (C, H, W); its product is the flat input size.</summary>
    public int[]? InputShape { get; set; }
    /// <summary>Largest batch the model accepts; every buffer is sized for it at construction.</summary>
    public int MaxBatch { get; set; } = 256;
    /// <summary>Seed for parameter initialisation and dropout masks. Unset means 0 (and an analyzer hint).</summary>
    public int Seed { get; set; }
    /// <summary>
    /// Input normalisation owned by the model (docs/techniques.md#preprocessing): statistics fitted on training inputs with
    /// <c>FitInputNormalization</c>, applied to every batch in training and inference, saved in checkpoints.
    /// Unset draws an analyzer hint (KLN0222); <see cref="InputNormalization.None"/> states that inputs arrive normalised.
    /// </summary>
    public InputNormalization Normalize { get; set; }
}

/// <summary>How a model normalises its inputs (docs/techniques.md#preprocessing).</summary>
public enum InputNormalization
{
    /// <summary>Not declared (the default): the model copies inputs as they are, and an analyzer hint asks for a declaration.</summary>
    Unspecified = 0,
    /// <summary>Inputs arrive already normalised (for example by Kiln.Preprocessing); the model copies them as they are.</summary>
    None,
    /// <summary>Per-feature standardisation: x = (x − μ_f) / σ_f with one mean and std per input feature.</summary>
    PerFeature,
    /// <summary>Per-channel standardisation (ResNet style): one mean and std per channel of InputShape's C×H×W.</summary>
    PerChannel,
}

/// <summary>Weight initialisation schemes (docs/techniques.md#initialisation). Din = fan-in, Dout = fan-out.</summary>
public enum Init
{
    /// <summary>Chosen from the activation that follows: He normal for the ReLU family, LeCun normal for SELU, Glorot uniform otherwise.</summary>
    Auto = 0,
    /// <summary>All zeros (breaks no symmetry: a pitfall).</summary>
    Zeros,
    /// <summary>All weights equal to <c>InitScale</c>.</summary>
    Constant,
    /// <summary>N(0, InitScale²); <c>InitScale</c> defaults to 0.01.</summary>
    Normal,
    /// <summary>U(−InitScale, +InitScale); <c>InitScale</c> defaults to 0.05.</summary>
    Uniform,
    /// <summary>Xavier normal: std = 1/sqrt(Din).</summary>
    XavierNormal,
    /// <summary>Xavier uniform: ±sqrt(3/Din) (same variance as XavierNormal).</summary>
    XavierUniform,
    /// <summary>Glorot normal: std = sqrt(2/(Din+Dout)).</summary>
    GlorotNormal,
    /// <summary>Glorot uniform: ±sqrt(6/(Din+Dout)).</summary>
    GlorotUniform,
    /// <summary>He/Kaiming normal: std = sqrt(2/Din).</summary>
    HeNormal,
    /// <summary>He/Kaiming uniform: ±sqrt(6/Din).</summary>
    HeUniform,
    /// <summary>LeCun normal: std = sqrt(1/Din) (for SELU).</summary>
    LeCunNormal,
    /// <summary>
    /// Orthogonal (Saxe et al. 2013, docs/techniques.md#initialisation): the weight, as a [Din, Dout] matrix (a convolution's
    /// [KH·KW·Cin, filters]), is gain·Q from the QR decomposition of a Gaussian matrix, with orthonormal columns (or rows
    /// when Din &lt; Dout). <c>InitScale</c> is the gain (default √2 before a ReLU-family activation, 1 otherwise).
    /// </summary>
    Orthogonal,
}

/// <summary>How dropout keeps the expected activation equal in training and test (docs/techniques.md#regularisation).</summary>
public enum DropoutScaling
{
    /// <summary>Divide kept activations by the keep probability in training; test code unchanged (preferred).</summary>
    Inverted = 0,
    /// <summary>"Vanilla" dropout: no scaling in training, multiply by the keep probability at test.</summary>
    TestTime,
    /// <summary>No scaling at all: train and test expectations differ. Only for reproducing the pitfall.</summary>
    None,
}

/// <summary>Fully connected layer: y = x·W + b.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute : Attribute
{
    /// <summary>A fully connected layer with <paramref name="units"/> outputs.</summary>
    public DenseAttribute(int units) => Units = units;
    /// <summary>Number of outputs.</summary>
    public int Units { get; }
    /// <summary>Whether the layer has a bias vector (default true).</summary>
    public bool Bias { get; set; } = true;
    /// <summary>Weight initialisation; <see cref="Kiln.Init.Auto"/> picks He for ReLU-like activations and Glorot otherwise (see docs/dsl.md).</summary>
    public Init Init { get; set; } = Init.Auto;
    /// <summary>Scale for <see cref="Kiln.Init.Normal"/> (std), <see cref="Kiln.Init.Uniform"/> (bound) and <see cref="Kiln.Init.Constant"/> (value).</summary>
    public double InitScale { get; set; } = double.NaN;
    /// <summary>Constant initial value of every bias (0 by default; 0.01 keeps ReLU units active at start).</summary>
    public double BiasInit { get; set; }
    /// <summary>Layer name for checkpoints and transfer learning; default dense0, dense1, ...</summary>
    public string? Name { get; set; }
    /// <summary>Multiplies the learning rate for this layer's tensors (e.g. 0.1 when fine-tuning, 0 to freeze).</summary>
    public double LearningRateScale { get; set; } = 1.0;
    /// <summary>Whether declared penalties (L2, L1, elastic net, weight decay) apply to this layer at all.</summary>
    public bool Regularize { get; set; } = true;
    /// <summary>
    /// DropConnect (Wan et al. 2013, docs/techniques.md#regularisation): in training each weight is zeroed with this probability
    /// (one mask per mini-batch, kept weights scaled by 1/(1 − rate)); at test every weight is used. 0 = off.
    /// </summary>
    public double DropConnect { get; set; }
}

/// <summary>1-D batch normalisation (Ioffe &amp; Szegedy 2015): batch statistics in training, running averages at test.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormAttribute : Attribute
{
    /// <summary>Running average update: running = (1 − Momentum)·running + Momentum·batch.</summary>
    public double Momentum { get; set; } = 0.1;
    /// <summary>ε added to the variance before the square root (default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;
    /// <summary>Layer name used for its tensors (checkpoints, transfer learning) and diagnostics; default <c>batchnorm0</c>, ...</summary>
    public string? Name { get; set; }
    /// <summary>Multiplies the learning rate for γ and β.</summary>
    public double LearningRateScale { get; set; } = 1.0;
}

/// <summary>Dropout with drop probability <c>rate</c> (keep probability p = 1 − rate).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute : Attribute
{
    /// <summary>Dropout that zeroes each activation with probability <paramref name="rate"/> during training.</summary>
    public DropoutAttribute(double rate) => Rate = rate;
    /// <summary>Probability of zeroing an activation, in [0, 1).</summary>
    public double Rate { get; }
    /// <summary>How the kept activations are scaled: <see cref="DropoutScaling.Inverted"/> (default) divides by p during training so inference needs no change.</summary>
    public DropoutScaling Scaling { get; set; } = DropoutScaling.Inverted;
    /// <summary>Layer name used in diagnostics; default <c>dropout0</c>, ...</summary>
    public string? Name { get; set; }
}
