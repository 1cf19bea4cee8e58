using Kiln;

namespace Kiln.Models.Tests;

// Small spatial models for gradient checks. Channel counts (3, 5, 6, 17) leave SIMD remainders, odd
// spatial sizes leave partial windows, and every conv variant appears: padding, stride, dilation,
// non-square kernels, no bias, 1×1 (no im2col) and a multi-channel NCHW input (transposed on copy).

/// <summary>The benchmark CNN's layer sequence at a small size: Conv → BN2D → ReLU → MaxPool, twice, then Dense.</summary>
[Model(InputShape = new[] { 2, 9, 9 }, MaxBatch = 8, Seed = 11)]
[Conv2D(5, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2, Stride = 1)]
[Conv2D(6, 4, Stride = 2, Bias = false), BatchNorm, ReLU, Dropout(0.25)]
[Flatten, Dense(7), ReLU, Dense(4), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class SmallCnn;

/// <summary>
/// BatchNorm2D → activation → 2×2 max pool, fused in training (one pass each way), with channel counts that leave SIMD
/// tails, a non-square image, Tanh and ReLU. (Odd sizes, which KLN0014 rejects here, are covered by the kernel tests.)
/// </summary>
[Model(InputShape = new[] { 2, 12, 8 }, MaxBatch = 8, Seed = 17)]
[Conv2D(5, 3, Padding = 1), BatchNorm, Tanh, MaxPool(2)]
[Conv2D(17, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2)]
[Flatten, Dense(4), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class FusedPoolCnn;

/// <summary>Dilation, a non-square kernel, average pooling with padding, per-channel PReLU, a 1×1 conv and global average pooling.</summary>
[Model(InputShape = new[] { 3, 10, 8 }, MaxBatch = 8, Seed = 12)]
[Conv2D(4, 3, Dilation = 2, Padding = 1), PReLU(Init = 0.2)]
[Conv2D(17, 1, KernelHeight = 3, Padding = 1), Tanh, AvgPool(2, Padding = 1)]
[Conv2D(5, 1), BatchNorm, ELU, GlobalAvgPool]
[Dense(3), SoftmaxCrossEntropy]
[Sgd(0.05)]
public partial class DilatedCnn;

/// <summary>A single-channel input (no transpose) straight into a max pool, then a strided 5×5 conv with padding 2.</summary>
[Model(InputShape = new[] { 1, 12, 12 }, MaxBatch = 8, Seed = 13)]
[MaxPool(3), Conv2D(6, 5, Padding = 2, Stride = 3, Init = Init.HeUniform), BatchNorm, PReLU, Flatten]
[Dense(3), MeanSquaredError]
[Momentum(0.01)]
public partial class PoolFirstCnn;

/// <summary>Patches big enough (256 pixels × 75) that a batch of 7 runs in several im2col chunks and several weight-gradient row blocks.</summary>
[Model(InputShape = new[] { 3, 16, 16 }, MaxBatch = 8, Seed = 14)]
[Conv2D(4, 5, Padding = 2), ReLU, MaxPool(2), Conv2D(3, 3, Padding = 1), BatchNorm, ReLU, Flatten]
[Dense(3), SoftmaxCrossEntropy]
[AdamW(LearningRate = 1e-3)]
public partial class WideCnn;

/// <summary>
/// Small-batch inference by Winograd without BatchNorm (the transformed weights follow every training step): F(2×2, 3×3)
/// on 8 channels with the 2×2 max pool over its tiles writing the next convolution's zero-bordered input, then
/// F(2×2, 5×5) on a 3×3 image (odd output sides: edge tiles).
/// </summary>
[Model(InputShape = new[] { 8, 6, 6 }, MaxBatch = 8, Seed = 19)]
[Conv2D(16, 3, Padding = 1), ReLU, MaxPool(2)]
[Conv2D(16, 5, Padding = 2), Tanh, Flatten]
[Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class WinogradCnn;

/// <summary>
/// Training by Winograd where the tiles overhang and dL/dx needs its widest borders: F(2×2, 3×3) unpadded on 9×9 (7×7
/// output), F(2×2, 5×5) with padding 1 (5×5 output, dL/dy bordered by 3), F(2×2, 3×3) unpadded again (3×3 output,
/// bordered by 2), each but the first with its dL/dx by Winograd.
/// </summary>
[Model(InputShape = new[] { 8, 9, 9 }, MaxBatch = 8, Seed = 23)]
[Conv2D(16, 3), ReLU, Conv2D(16, 5, Padding = 1), Tanh, Conv2D(16, 3), ReLU, Flatten]
[Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class WinogradTrainingCnn;

/// <summary>
/// One pooled pixel per sample, but enough work per pixel (128 → 256 channels) that small-batch inference splits it across
/// threads: at batch 1 a part has no pixels, and the split-input Dense must still sum exactly the blocks of this call.
/// </summary>
[Model(InputShape = new[] { 128, 2, 2 }, MaxBatch = 8, Seed = 20)]
[Conv2D(256, 3, Padding = 1), ReLU, MaxPool(2), Flatten]
[Dense(5), SoftmaxCrossEntropy]
[Sgd(0.01)]
public partial class OnePixelCnn;

/// <summary>The benchmark CNN of issue 3, exactly (Samples/FashionCnn and benchmarks use the same layers).</summary>
[Model(InputShape = new[] { 1, 28, 28 }, MaxBatch = 64, Seed = 42)]
[Conv2D(16, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
[Conv2D(32, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
[Flatten, Dense(128), ReLU, Dropout(0.3)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class BenchmarkCnn;

/// <summary>GroupNorm (2 groups of 3 channels), InstanceNorm and LayerNorm on spatial activations, LayerNorm on a flat one.</summary>
[Model(InputShape = new[] { 2, 7, 7 }, MaxBatch = 8, Seed = 15)]
[Conv2D(6, 3, Padding = 1), GroupNorm(2), ReLU, Conv2D(5, 3), InstanceNorm(Epsilon = 1e-3), Tanh]
[LayerNorm, MaxPool(5), Flatten, Dense(9), LayerNorm, ELU, Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class NormCnn;

/// <summary>Maxout after a convolution (3 pieces per filter) and after a Dense (2 pieces).</summary>
[Model(InputShape = new[] { 2, 6, 6 }, MaxBatch = 8, Seed = 16)]
[Conv2D(5, 3, Padding = 1), Maxout(3), MaxPool(2), Flatten]
[Dense(11), Maxout, Dense(3), SoftmaxCrossEntropy]
[Sgd(0.05)]
public partial class MaxoutCnn;

/// <summary>DropConnect on a convolution and on a Dense layer.</summary>
[Model(InputShape = new[] { 1, 6, 6 }, MaxBatch = 8, Seed = 17)]
[Conv2D(4, 3, Padding = 1, DropConnect = 0.3), ReLU, MaxPool(2), Flatten]
[Dense(9, DropConnect = 0.5), Tanh, Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class DropConnectCnn;

/// <summary>Two identity residual blocks (conv–BN–ReLU–conv–BN, and a flat Dense block) without stochastic depth.</summary>
[Model(InputShape = new[] { 3, 6, 6 }, MaxBatch = 8, Seed = 18)]
[Conv2D(4, 3, Padding = 1), BatchNorm, ReLU]
[Residual, Conv2D(4, 3, Padding = 1), BatchNorm, ReLU, Conv2D(4, 3, Padding = 1), BatchNorm, EndResidual, ReLU]
[GlobalAvgPool, Dense(6), Tanh, Residual, Dense(6), ELU, EndResidual, Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class ResidualCnn;

/// <summary>Stochastic depth (survival 0.5) and a zero-initialised last layer.</summary>
[Model(InputShape = new[] { 2, 5, 5 }, MaxBatch = 8, Seed = 19)]
[Conv2D(3, 3, Padding = 1), ReLU]
[Residual(Survival = 0.5, ZeroInitLast = true), Conv2D(3, 3, Padding = 1), ReLU, Conv2D(3, 3, Padding = 1), EndResidual]
[Flatten, Dense(3), SoftmaxCrossEntropy]
[Sgd(0.1)]
public partial class StochasticDepthCnn;

/// <summary>Fractional max pooling 9×9 → 6×6 (ratio 1.4, α = 1.5) after a convolution.</summary>
[Model(InputShape = new[] { 2, 9, 9 }, MaxBatch = 8, Seed = 20)]
[Conv2D(4, 3, Padding = 1), ReLU, FractionalMaxPool(1.4, TestDraws = 3), Flatten]
[Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class FractionalPoolCnn;

/// <summary>A projection shortcut: the branch takes 7×7 to 4×4 (stride 2) and doubles the channels, the shortcut is a learned 1×1 stride-2 convolution.</summary>
[Model(InputShape = new[] { 2, 7, 7 }, MaxBatch = 8, Seed = 21)]
[Conv2D(4, 3, Padding = 1), ReLU]
[Residual(Projection = true), Conv2D(8, 3, Padding = 1, Stride = 2), BatchNorm, ReLU, Conv2D(8, 3, Padding = 1), EndResidual]
[ReLU, Flatten, Dense(3), SoftmaxCrossEntropy]
[Sgd(0.1)]
public partial class ProjectionCnn;

/// <summary>Projection shortcuts without a stride (4 → 6 channels, a 1×1 convolution that reads the input directly) and on a flat block (Dense 5 → 4).</summary>
[Model(InputShape = new[] { 2, 4, 4 }, MaxBatch = 8, Seed = 22)]
[Conv2D(4, 3, Padding = 1), ReLU]
[Residual(Projection = true, Survival = 0.5), Conv2D(6, 3, Padding = 1), EndResidual, ReLU]
[Flatten, Dense(5), Tanh, Residual(Projection = true), Dense(4), Tanh, EndResidual, Dense(3), SoftmaxCrossEntropy]
[Sgd(0.1)]
public partial class ProjectionMixedCnn;

/// <summary>A projection block large enough that its stages split across threads at batch 64 (no BatchNorm, so sub-batch gradients average to the batch gradient).</summary>
[Model(InputShape = new[] { 4, 12, 12 }, MaxBatch = 64, Seed = 23)]
[Conv2D(16, 3, Padding = 1), ReLU]
[Residual(Projection = true), Conv2D(32, 2, Stride = 2), ReLU, Conv2D(32, 3, Padding = 1), EndResidual]
[ReLU, GlobalAvgPool, Dense(3), SoftmaxCrossEntropy]
[Sgd(0.1)]
public partial class WideProjectionCnn;

/// <summary>
/// Big enough per batch (128 × 12×12×16 floats after the convolution) that BatchNorm2D's row-split stages run on the worker pool's threads,
/// not inline: BatchNormSplitModelTests checks that path against the double reference.
/// </summary>
[Model(InputShape = new[] { 1, 12, 12 }, MaxBatch = 128, Seed = 23)]
[Conv2D(16, 3, Padding = 1), BatchNorm, ReLU, Dropout(0.2)]
[GlobalAvgPool, Dense(3), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class WideBatchCnn;
