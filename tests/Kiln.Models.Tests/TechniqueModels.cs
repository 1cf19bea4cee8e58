using Kiln;

namespace Kiln.Models.Tests;

// Models of the techniques in docs/techniques.md beyond the basics: alpha dropout, orthogonal initialisation, Fixup.

[Model(Input = 19, MaxBatch = 16, Seed = 41)]
[Dense(37, Init = Init.Orthogonal), SELU, AlphaDropout(0.2), Dense(5, Init = Init.Orthogonal), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class SeluAlphaDropoutNet;

[Model(InputShape = new[] { 3, 6, 6 }, MaxBatch = 16, Seed = 42)]
[Conv2D(8, 3, Padding = 1, Init = Init.Orthogonal), ReLU, Conv2D(40, 3, Init = Init.Orthogonal, InitScale = 0.5), ReLU]
[Flatten, Dense(20, Init = Init.Orthogonal), Tanh, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class OrthogonalNet;

[Model(Input = 64, MaxBatch = 256, Seed = 43, Normalize = InputNormalization.None)]
[Dense(128, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1), Dense(128, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1)]
[Dense(128, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1), Dense(128, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1)]
[Dense(10), SoftmaxCrossEntropy, Adam(LearningRate = 1e-3)]
public partial class DeepSeluNet;

/// <summary>
/// Fixup's layers (docs/techniques.md#initialisation): a residual CNN without normalisation, scalar biases and multipliers,
/// for the gradient check. [Fixup] itself only changes initial values (FixupInitNet checks them); with it the zero-started
/// branches leave the first layers' gradients too small for finite differences even after the check's perturbation.
/// </summary>
[Model(InputShape = new[] { 2, 5, 5 }, MaxBatch = 16, Seed = 44)]
[Conv2D(4, 3, Padding = 1), ReLU]
[Residual, ScalarBias, Conv2D(4, 3, Padding = 1, Bias = false), ScalarBias, ReLU, ScalarBias, Conv2D(4, 3, Padding = 1, Bias = false), Multiplier, ScalarBias, EndResidual, ReLU]
[GlobalAvgPool, Residual, ScalarBias, Dense(4), ScalarBias, Tanh, Multiplier, EndResidual, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class FixupResidualNet;

/// <summary>[Fixup]'s initialisation: L = 3 blocks with m = 3, 2 and 1 weighted layers.</summary>
[Model(Input = 12, MaxBatch = 8, Seed = 46)]
[Fixup]
[Dense(16), ReLU]
[Residual, Dense(16), ReLU, Dense(16), ReLU, Dense(16), EndResidual, ReLU]
[Residual, Dense(16), ReLU, Dense(16), EndResidual, ReLU]
[Residual, Dense(16), EndResidual]
[Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class FixupInitNet;

/// <summary><see cref="FixupInitNet"/> without [Fixup]: each branch's last layer zero-initialised, the other weights as drawn.</summary>
[Model(Input = 12, MaxBatch = 8, Seed = 46)]
[Dense(16), ReLU]
[Residual(ZeroInitLast = true), Dense(16), ReLU, Dense(16), ReLU, Dense(16), EndResidual, ReLU]
[Residual(ZeroInitLast = true), Dense(16), ReLU, Dense(16), EndResidual, ReLU]
[Residual(ZeroInitLast = true), Dense(16), EndResidual]
[Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class ZeroInitLastNet;

/// <summary>A deep residual MLP without normalisation trained with Fixup and its scalars (8×8 digits).</summary>
[Model(Input = 64, MaxBatch = 256, Seed = 47, Normalize = InputNormalization.None)]
[Fixup]
[Dense(64), ReLU]
[Residual, ScalarBias, Dense(64, Bias = false), ScalarBias, ReLU, ScalarBias, Dense(64, Bias = false), Multiplier, ScalarBias, EndResidual, ReLU]
[Residual, ScalarBias, Dense(64, Bias = false), ScalarBias, ReLU, ScalarBias, Dense(64, Bias = false), Multiplier, ScalarBias, EndResidual, ReLU]
[Residual, ScalarBias, Dense(64, Bias = false), ScalarBias, ReLU, ScalarBias, Dense(64, Bias = false), Multiplier, ScalarBias, EndResidual, ReLU]
[Residual, ScalarBias, Dense(64, Bias = false), ScalarBias, ReLU, ScalarBias, Dense(64, Bias = false), Multiplier, ScalarBias, EndResidual, ReLU]
[Dense(10), SoftmaxCrossEntropy, Adam(LearningRate = 1e-3)]
public partial class FixupDigitsNet;
