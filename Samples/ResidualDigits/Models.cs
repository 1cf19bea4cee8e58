using Kiln;

namespace Kiln.Samples.ResidualDigits;

// A small residual network for the embedded 8×8 digits (docs/techniques.md#initialisation, docs/techniques.md#normalisation, docs/techniques.md#regularisation): a stem convolution with
// BatchNorm2D, then two identity residual blocks with stochastic depth (each block is skipped in a
// training step with probability 0.2, and used with its branch × 0.8 at test); the second block's last
// convolution starts at zero, so the block starts as the identity. Global average pooling feeds the classifier.
[Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 128, Seed = 7, Normalize = InputNormalization.None)]
[Conv2D(16, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
[Residual(Survival = 0.8), Conv2D(16, 3, Padding = 1, Bias = false), BatchNorm, ReLU, Conv2D(16, 3, Padding = 1, Bias = false), BatchNorm, EndResidual, ReLU]
[Residual(Survival = 0.8, ZeroInitLast = true), Conv2D(16, 3, Padding = 1, Bias = false), BatchNorm, ReLU, Conv2D(16, 3, Padding = 1), EndResidual, ReLU]
[MaxPool(2), Flatten, Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 2e-3)]
public partial class ResidualDigitsNet;
