namespace Kiln.Samples.Pitfalls;

// One model per spec rule (docs/techniques.md#pitfalls). Each is a valid model (the generator builds it); the comment on the
// offending line names the rule the analyzers raise there. Everything else in each model is clean.

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), Sigmoid]                                    // KLN0101: sigmoid in a hidden layer
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class HiddenSigmoid;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, ELU]                                  // KLN0102: two activations in a row
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class DoubleActivation;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU]
[Dense(10), Softmax, SoftmaxCrossEntropy]               // KLN0103: softmax applied twice
[Adam]
public partial class DoubleSoftmax;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU]
[Dense(10), ReLU, SoftmaxCrossEntropy]                  // KLN0104: ReLU between the output layer and the loss
[Adam]
public partial class ReluBeforeLoss;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32, Init = Init.XavierNormal), ReLU]             // KLN0105: Xavier before ReLU (use He)
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class XavierBeforeRelu;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32, Init = Init.Zeros), ReLU]                    // KLN0106: zero initialisation of a hidden layer
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class ZeroInit;

[Model(Input = 256, Seed = 1, Normalize = InputNormalization.None)]
[Dense(256, Init = Init.Normal), ReLU]                  // KLN0107: std 0.01 in a deep network (×3)
[Dense(256, Init = Init.Normal), ReLU]
[Dense(256, Init = Init.Normal), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class SmallGaussianDeep;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), BatchNorm, ReLU]                            // KLN0108 (info): bias before BatchNorm
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class BiasBeforeBatchNorm;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32, Bias = false), ReLU, BatchNorm]              // KLN0109 (info): BatchNorm after the activation
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class BatchNormAfterRelu;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32, Bias = false), Dropout(0.3), BatchNorm, ReLU] // KLN0110: dropout before BatchNorm
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class DropoutBeforeBatchNorm;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dropout(0.7)]                         // KLN0111: dropout rate above 0.5
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class HeavyDropout;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dropout(0.3, Scaling = DropoutScaling.None)]     // KLN0112: dropout without scaling
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class UnscaledDropout;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dropout(0.3, Scaling = DropoutScaling.TestTime)] // KLN0312 (info): prefer inverted dropout
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class VanillaDropout;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 0.1)]                              // KLN0114: Adam's learning rate above 1e-2
public partial class HighAdamRate;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy]
[AdaGrad(0.01)]                                         // KLN0115: AdaGrad's steps decay to zero
public partial class AdaGradModel;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dropout(0.2)]                         // KLN0116: L-BFGS with dropout noise
[Dense(10), SoftmaxCrossEntropy]
[Lbfgs]
public partial class NoisyLbfgs;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy]
[Momentum(0.05), WeightDecay(1e-4, ApplyTo = PenaltyTarget.All)] // KLN0117 (info): decay on biases and norms
public partial class DecayEverything;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy]
[Adam, L2(0.1)]                                         // KLN0217: weight decay above 1e-2
public partial class StrongL2;

[Model(Input = 64, MaxBatch = 1024, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy]
[Momentum(0.4)]                                         // KLN0118 (info): batch 1024 at 0.1×1024/256, no warm-up
public partial class LargeBatchNoWarmup;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy]
[Adam, CosineDecay(Epochs = 100)]                       // with Trainer.Fit(..., 10 epochs): KLN0119 (Snippets.cs)
public partial class CosineHundredEpochs;

[Model(Input = 64, Normalize = InputNormalization.None)] // KLN0122 (info): no seed
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class NoSeed;

[Model(Input = 64, Seed = 1)]                           // KLN0222 (info): no input normalisation declared
[Dense(32), ReLU, Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class NoNormalization;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32, Init = Init.LeCunNormal, Bias = false), BatchNorm, SELU] // KLN0123 (info): SELU with BatchNorm
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class SeluWithBatchNorm;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)]
[Dense(32), ReLU]
[Dense(10), Softmax, MeanSquaredError]                  // KLN0125: softmax output trained with MSE
[Adam]
public partial class SoftmaxWithMse;

[Model(Input = 64, Seed = 1, Normalize = InputNormalization.None)] // KLN0126: 10 weighted layers, no normalisation, no shortcuts
[Dense(32), ReLU, Dense(32), ReLU, Dense(32), ReLU, Dense(32), ReLU, Dense(32), ReLU]
[Dense(32), ReLU, Dense(32), ReLU, Dense(32), ReLU, Dense(32), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class DeepPlainStack;

[Model(InputShape = new[] { 1, 8, 8 }, Seed = 1, Normalize = InputNormalization.None)]
[Conv2D(8, 3, Padding = 1), ReLU, MaxPool(2), MaxPool(2), MaxPool(2)]
[Conv2D(8, 3, Padding = 1), ReLU]                       // KLN0127: a 3×3 window on a 1×1 map (89% padding)
[Flatten, Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class ShrunkToNothing;

[Model(InputShape = new[] { 1, 9, 9 }, Seed = 1, Normalize = InputNormalization.None)]
[Conv2D(8, 1, Stride = 2), ReLU]                        // KLN0128: a 1×1 window with stride 2 skips 69% of the input
[Flatten, Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class StrideSkipsInput;

/// <summary>A clean model (no diagnostic) for the code snippets.</summary>
[Model(Input = 64, MaxBatch = 64, Seed = 42, Normalize = InputNormalization.None)]
[Dense(32, Bias = false), BatchNorm, ReLU, Dropout(0.2)]
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class Clean;
