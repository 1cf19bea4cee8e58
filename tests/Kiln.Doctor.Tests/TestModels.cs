using Kiln;

namespace Kiln.Doctor.Tests;

// Small models on the 8×8 digits (64 inputs, 10 classes), each healthy or with one planted problem.

/// <summary>Healthy: He-initialised ReLU MLP with Adam.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 1)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy, Adam(0.01)]
public partial class HealthyNet;

/// <summary>Healthy with BatchNorm and inverted dropout.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 2)]
[Dense(48, Bias = false), BatchNorm, ReLU, Dropout(0.3)]
[Dense(10), SoftmaxCrossEntropy, Adam(0.005)]
public partial class BnDropoutNet;

/// <summary>Dropout with no scaling at all: training and eval outputs differ by the keep probability.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 2)]
[Dense(48), ReLU, Dropout(0.5, Scaling = DropoutScaling.None)]
[Dense(10), SoftmaxCrossEntropy, Adam(0.005)]
public partial class UnscaledDropoutNet;

/// <summary>Same network with inverted dropout (the consistent twin of <see cref="UnscaledDropoutNet"/>).</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 2)]
[Dense(48), ReLU, Dropout(0.5)]
[Dense(10), SoftmaxCrossEntropy, Adam(0.005)]
public partial class InvertedDropoutNet;

/// <summary>Initial scale far too large: logits in the hundreds, initial loss ≫ ln 10.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 3)]
[Dense(32, Init = Init.Normal, InitScale = 3), ReLU, Dense(10, Init = Init.Normal, InitScale = 3), SoftmaxCrossEntropy, Adam(0.01)]
public partial class HugeInitNet;

/// <summary>A bias of −10 before ReLU: every unit starts dead.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 4)]
[Dense(32, BiasInit = -10), ReLU, Dense(10), SoftmaxCrossEntropy, Adam(0.01)]
public partial class NegativeBiasNet;

/// <summary>Zero weights before ReLU: every unit outputs 0.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 5)]
[Dense(32, Init = Init.Zeros), ReLU, Dense(10), SoftmaxCrossEntropy, Adam(0.01)]
public partial class ZeroInitNet;

/// <summary>Sigmoid hidden layer with huge weights: inputs far beyond ±5.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 6)]
[Dense(32, Init = Init.Normal, InitScale = 5), Sigmoid, Dense(10), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class SaturatedSigmoidNet;

/// <summary>Tanh hidden layer with Xavier initialisation: not saturated.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 6)]
[Dense(32, Init = Init.XavierNormal), Tanh, Dense(10), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class TanhNet;

/// <summary>Four sigmoid layers with a small fixed initialisation: gradients vanish toward the input.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 7)]
[Dense(32, Init = Init.Normal, InitScale = 0.01), Sigmoid]
[Dense(32, Init = Init.Normal, InitScale = 0.01), Sigmoid]
[Dense(32, Init = Init.Normal, InitScale = 0.01), Sigmoid]
[Dense(32, Init = Init.Normal, InitScale = 0.01), Sigmoid]
[Dense(10, Init = Init.Normal, InitScale = 0.01), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class VanishingNet;

/// <summary>A ReLU stack whose first layer starts 1000× too small: the last layer's gradient shrinks with it, the first's does not.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 8)]
[Dense(32, Init = Init.Normal, InitScale = 2e-4), ReLU]
[Dense(32, Init = Init.HeNormal), ReLU]
[Dense(10), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class ExplodingRatioNet;

/// <summary>The healthy network with an L2 penalty: same initial data loss, plus λ·ΣW².</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 1)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy, Adam(0.01), L2(0.01)]
public partial class PenalisedNet;

/// <summary>Plain SGD, for update ratios that follow the learning rate directly.</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 9)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy, Sgd(0.05)]
public partial class SgdNet;

/// <summary>Multiclass hinge (expected initial loss C − 1 with small scores).</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 10)]
[Dense(32), ReLU, Dense(10, Init = Init.Normal, InitScale = 0.001), MulticlassHinge, Sgd(0.01)]
public partial class HingeNet;

/// <summary>One sigmoid output with binary cross-entropy (expected initial loss ln 2).</summary>
[Model(Input = 64, MaxBatch = 128, Seed = 11)]
[Dense(32), ReLU, Dense(1), BinaryCrossEntropy, Adam(0.01)]
public partial class BinaryNet;
