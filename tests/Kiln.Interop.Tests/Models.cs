using Kiln;

namespace Kiln.Interop.Tests;

// The generator's snapshot models (tests/Kiln.Generator.Tests/TestModels.cs declares them as source text), re-declared
// here so they compile into this assembly; BenchmarkMlp and BenchmarkCnn come linked from the model tests.

[Model(Input = 64, MaxBatch = 128, Seed = 7)]
[Dense(64, Name = "hidden", BiasInit = 0.01), ReLU]
[Dense(10, Name = "logits"), SoftmaxCrossEntropy]
[Adam(3e-3, Beta2 = 0.99)]
public sealed partial class DigitsMlp;

[Model(Input = 20, MaxBatch = 32, Seed = 1)]
[BatchNorm, Dense(16), PReLU, Dropout(0.5, Scaling = DropoutScaling.TestTime)]
[Dense(8), BatchNorm, PReLU(Init = 0.1), Dense(8, Bias = false), Tanh]
[Dense(1), BinaryCrossEntropy]
[Momentum(0.1, Rho = 0.9)]
public partial class PReluBinary;

[Model(Input = 12, MaxBatch = 64, Seed = 3)]
[Dense(32, Init = Init.LeCunNormal), SELU]
[Dense(32), SELU]
[Dense(3), MeanSquaredError]
[Sgd(0.05)]
public partial class SeluRegression;

[Model(Input = 16, MaxBatch = 50, Seed = 11)]
[Dense(24, Bias = false), BatchNorm, LeakyReLU(0.1)]
[Dense(4, Bias = false), MulticlassHinge(Margin = 0.5)]
[Adam(LearningRate = 2e-3, Beta1 = 0.8)]
public partial class HingeNoBias;

[Model(Input = 6, MaxBatch = 8, Seed = 5)]
[Dense(5), Swish(1.5), Dense(2), SoftmaxCrossEntropy]
[Momentum(LearningRate = 0.02)]
public partial class SwishInner;

[Model(InputShape = new[] { 2, 4, 4 }, MaxBatch = 24, Seed = 9)]
[Flatten, Dense(16), ELU(0.5), Dense(16), GELU]
[Dense(16, Init = Init.XavierUniform), Swish, Dense(8, Init = Init.Uniform, InitScale = 0.1), Tanh, Dropout(0.1, Scaling = DropoutScaling.None)]
[Dense(5, Init = Init.GlorotNormal), BatchNorm(Momentum = 0.01, Epsilon = 1e-3), Softmax, MeanSquaredError]
[Sgd(LearningRate = 0.1)]
public partial class ActivationZoo;

[Model(InputShape = new[] { 3, 16, 12 }, MaxBatch = 32, Seed = 4)]
[Conv2D(8, 3, Padding = 2, Dilation = 2, Name = "stem"), PReLU]
[Conv2D(12, 3, KernelWidth = 1, Padding = 1, Bias = false), InstanceNorm, Tanh, Dropout(0.1)]
[AvgPool(2), BatchNorm, ReLU, Conv2D(6, 1), GroupNorm(3), ELU, GlobalAvgPool]
[Dense(8, DropConnect = 0.2), Maxout(3), LayerNorm, ReLU, Dense(4), SoftmaxCrossEntropy]
[Sgd(0.05)]
public partial class SpatialZoo;

[Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 64, Seed = 5)]
[Conv2D(8, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
[Residual(Survival = 0.8), Conv2D(8, 3, Padding = 1, Bias = false), BatchNorm, ReLU, Conv2D(8, 3, Padding = 1, Bias = false), BatchNorm, EndResidual, ReLU]
[Residual(Survival = 0.8, ZeroInitLast = true), Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
[FractionalMaxPool(1.6), GlobalAvgPool, Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 2e-3)]
public partial class ResidualNet;

[Model(InputShape = new[] { 3, 8, 8 }, MaxBatch = 32, Seed = 6)]
[Conv2D(4, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
[Residual(Projection = true), Conv2D(8, 2, Stride = 2, Bias = false), BatchNorm, ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
[Residual(Projection = true, Survival = 0.9), Conv2D(12, 3, Padding = 1), EndResidual, ReLU]
[GlobalAvgPool, Residual(Projection = true), Dense(6), Tanh, EndResidual, Dense(3), SoftmaxCrossEntropy]
[Momentum(0.01), ClipGradientNorm(1.0)]
public partial class ProjectionNet;

// The input-normalisation models of tests/Kiln.Models.Tests/InputNormalizationTests.cs.
[Model(Input = 19, MaxBatch = 16, Seed = 21, Normalize = InputNormalization.PerFeature)]
[Dense(23), ReLU, Dense(4), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class PerFeatureNormalizedNet;

[Model(InputShape = new[] { 3, 4, 5 }, MaxBatch = 16, Seed = 22, Normalize = InputNormalization.PerChannel)]
[Flatten, Dense(9), Tanh, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class PerChannelNormalizedNet;

[Model(InputShape = new[] { 3, 5, 5 }, MaxBatch = 8, Seed = 23, Normalize = InputNormalization.PerChannel)]
[Conv2D(4, 3), ReLU, Flatten, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class ConvPerChannelNet;

[Model(InputShape = new[] { 3, 5, 5 }, MaxBatch = 8, Seed = 23, Normalize = InputNormalization.PerFeature)]
[Conv2D(4, 3), ReLU, Flatten, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class ConvPerFeatureNet;

// Mirrors of the PyTorch models in Fixtures/make_fixtures.py (same layers, same order).

/// <summary>PyTorch: nn.Sequential(Linear(12, 16), BatchNorm1d(16), ReLU(), Dropout(0.2), Linear(16, 3)).</summary>
[Model(Input = 12, MaxBatch = 16, Seed = 1, Normalize = InputNormalization.None)]
[Dense(16), BatchNorm, ReLU, Dropout(0.2)]
[Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class TorchMlp;

/// <summary>
/// PyTorch: nn.Sequential(Conv2d(2, 4, 3, padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2), Conv2d(4, 6, 3, padding=1), PReLU(6),
/// Flatten(), Linear(96, 10), ReLU(), Linear(10, 3)).
/// </summary>
[Model(InputShape = new[] { 2, 8, 8 }, MaxBatch = 16, Seed = 2, Normalize = InputNormalization.None)]
[Conv2D(4, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2)]
[Conv2D(6, 3, Padding = 1), PReLU, Flatten]
[Dense(10), ReLU, Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class TorchCnn;

/// <summary>PyTorch: the TorchResNet module of make_fixtures.py (named attributes, loaded through an explicit map).</summary>
[Model(InputShape = new[] { 3, 8, 8 }, MaxBatch = 16, Seed = 3, Normalize = InputNormalization.None)]
[Conv2D(4, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
[Residual(Projection = true), Conv2D(8, 2, Stride = 2, Bias = false), BatchNorm, ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
[Residual(Survival = 0.5), Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
[GlobalAvgPool, Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class TorchResNet;

/// <summary>Fixup's scalar layers (docs/techniques.md#initialisation): ONNX Add/Mul by a scalar initializer.</summary>
[Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 64, Seed = 6)]
[Fixup]
[Conv2D(8, 3, Padding = 1), ReLU]
[Residual, ScalarBias, Conv2D(8, 3, Padding = 1, Bias = false), ScalarBias, ReLU, ScalarBias, Conv2D(8, 3, Padding = 1, Bias = false), Multiplier, ScalarBias, EndResidual, ReLU]
[GlobalAvgPool, Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 2e-3)]
public partial class FixupOnnxNet;
