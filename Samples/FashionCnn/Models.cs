using Kiln;

namespace Kiln.Samples.FashionCnn;

// The benchmark CNN of issue 3 (kept exactly; benchmarks/Kiln.Benchmarks/BenchCnn.cs is the same
// network): two Conv → BatchNorm2D → ReLU → MaxPool blocks, then Dense 128 → ReLU → Dropout 0.3 →
// Dense 10. BatchNorm after a convolution normalises each channel over batch, height and width, and is
// folded into the convolution for Predict. Init.Auto gives He normal with fan-in 5·5·C_in. The model owns its
// per-channel input standardisation (per-pixel statistics would blow up the near-constant border pixels).
[Model(InputShape = new[] { 1, 28, 28 }, MaxBatch = 256, Seed = 42, Normalize = InputNormalization.PerChannel)]
[Conv2D(16, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
[Conv2D(32, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
[Flatten, Dense(128), ReLU, Dropout(0.3)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class FashionCnn;

// The fallback for the embedded 8×8 digits: the same two blocks with 3×3 kernels (8×8 → 4×4 → 2×2).
[Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 256, Seed = 42, Normalize = InputNormalization.PerChannel)]
[Conv2D(16, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2)]
[Conv2D(32, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2)]
[Flatten, Dense(64), ReLU, Dropout(0.3)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class DigitsCnn;

// The same network with PyTorch's default weight initialisation for Conv2d and Linear (kaiming_uniform with
// a = √5, i.e. U(−1/√fan_in, +1/√fan_in)), selected by --init torch to compare with FashionCnn's Init.Auto.
// InitScale is the bound 1/√fan_in, written as a literal: conv0 fan_in 1·5·5 = 25 → 0.2; conv1 fan_in 16·5·5 = 400 →
// 0.05; dense0 fan_in 32·7·7 = 1568 → 1/√1568 ≈ 0.025253814; dense1 fan_in 128 → 1/√128 ≈ 0.088388348.
// PyTorch also draws biases from U(−1/√fan_in, +1/√fan_in); Kiln's BiasInit is a constant, so the biases stay 0 here.
[Model(InputShape = new[] { 1, 28, 28 }, MaxBatch = 256, Seed = 42, Normalize = InputNormalization.PerChannel)]
[Conv2D(16, 5, Padding = 2, Init = Init.Uniform, InitScale = 0.2), BatchNorm, ReLU, MaxPool(2)]
[Conv2D(32, 5, Padding = 2, Init = Init.Uniform, InitScale = 0.05), BatchNorm, ReLU, MaxPool(2)]
[Flatten, Dense(128, Init = Init.Uniform, InitScale = 0.025253813613805), ReLU, Dropout(0.3)]
[Dense(10, Init = Init.Uniform, InitScale = 0.088388347648318), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class FashionCnnTorchInit;
