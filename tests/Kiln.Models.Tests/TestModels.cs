using Kiln;

namespace Kiln.Models.Tests;

// Small models for gradient checks: widths 19 and 37 are above one AVX-512 vector and leave
// remainders, so every kernel runs both its vector body and its tail on every path.

[Model(Input = 19, MaxBatch = 16, Seed = 3)]
[Dense(37), BatchNorm, ReLU, Dropout(0.3)]
[Dense(5), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class BnReluDropoutNet;

[Model(Input = 19, MaxBatch = 16, Seed = 4)]
[Dense(37), Sigmoid, Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class SigmoidNet;

[Model(Input = 19, MaxBatch = 16, Seed = 5)]
[Dense(37), Tanh, Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class TanhNet;

[Model(Input = 19, MaxBatch = 16, Seed = 6)]
[Dense(37), ReLU, Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class ReluNet;

[Model(Input = 19, MaxBatch = 16, Seed = 7)]
[Dense(37), LeakyReLU(0.1), Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class LeakyReluNet;

[Model(Input = 19, MaxBatch = 16, Seed = 8)]
[Dense(37), PReLU(Init = 0.2), Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class PReluNet;

[Model(Input = 19, MaxBatch = 16, Seed = 9)]
[Dense(37), ELU(0.7), Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class EluNet;

[Model(Input = 19, MaxBatch = 16, Seed = 10)]
[Dense(37, Init = Init.LeCunNormal), SELU, Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class SeluNet;

[Model(Input = 19, MaxBatch = 16, Seed = 11)]
[Dense(37), Swish(1.5), Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class SwishNet;

[Model(Input = 19, MaxBatch = 16, Seed = 12)]
[Dense(37), GELU, Dense(5), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class GeluNet;

[Model(Input = 19, MaxBatch = 16, Seed = 13)]
[Dense(37), BatchNorm(Momentum = 0.2, Epsilon = 1e-3), GELU, Dense(33, Bias = false), BatchNorm, PReLU, Dropout(0.25, Scaling = DropoutScaling.TestTime)]
[Dense(5), SoftmaxCrossEntropy, Momentum(0.05, Rho = 0.9)]
public partial class BnGeluPReluNet;

[Model(Input = 19, MaxBatch = 16, Seed = 14)]
[Dense(37, Bias = false), Tanh, Dense(5, Bias = false), MulticlassHinge, Sgd(0.05)]
public partial class HingeNet;

[Model(Input = 19, MaxBatch = 16, Seed = 15)]
[Dense(37), ReLU, Dropout(0.5, Scaling = DropoutScaling.None), Dense(1), BinaryCrossEntropy, Adam(0.01)]
public partial class BinaryNet;

[Model(Input = 19, MaxBatch = 16, Seed = 16)]
[BatchNorm, Dense(37), ELU, Dense(3), MeanSquaredError, Adam(0.01)]
public partial class RegressionNet;

[Model(Input = 19, MaxBatch = 16, Seed = 17)]
[Dense(37), Tanh, Dense(6), Softmax, MeanSquaredError, Sgd(0.1)]
public partial class SoftmaxLayerNet;

/// <summary>The benchmark MLP (big enough that stages run on the worker pool).</summary>
[Model(Input = 784, MaxBatch = 256, Seed = 42)]
[Dense(256, Init = Init.HeNormal), BatchNorm, ReLU, Dropout(0.2)]
[Dense(128, Init = Init.HeNormal), BatchNorm, ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class BenchmarkMlp;

/// <summary>The digits model of the end-to-end test (64 inputs, 10 classes).</summary>
[Model(Input = 64, MaxBatch = 256, Seed = 7)]
[Dense(128), BatchNorm, ReLU, Dropout(0.1)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 3e-3)]
public partial class DigitsNet;

// Models for the optimiser / penalty / clipping tests (issue: optimisers, schedules, regularisation).

[Model(Input = 19, MaxBatch = 16, Seed = 20)]
[Dense(37, LearningRateScale = 0.5), ReLU, Dense(5, Regularize = false), SoftmaxCrossEntropy]
[Nesterov(0.05, Rho = 0.9), L2(1e-2), L1(1e-3)]
public partial class NesterovPenaltyNet;

[Model(Input = 19, MaxBatch = 16, Seed = 21)]
[Dense(37), BatchNorm(LearningRateScale = 2), Tanh, Dense(5), SoftmaxCrossEntropy]
[AdaGrad(0.05), ElasticNet(1e-2, Beta = 0.3, ApplyTo = PenaltyTarget.All), ClipGradientValue(0.05)]
public partial class AdaGradElasticNet;

[Model(Input = 19, MaxBatch = 16, Seed = 22)]
[Dense(37), ReLU, Dense(5), SoftmaxCrossEntropy]
[RMSProp(1e-3), WeightDecay(1e-2), ClipGradientNorm(0.5)]
public partial class RmsPropClipNet;

[Model(Input = 19, MaxBatch = 16, Seed = 23)]
[Dense(37), ReLU, Dense(5), SoftmaxCrossEntropy, AdamW(1e-3, WeightDecay = 0.05)]
public partial class AdamWNet;

[Model(Input = 19, MaxBatch = 16, Seed = 24)]
[Dense(37), ReLU, Dense(5), SoftmaxCrossEntropy, Momentum(0.05, Form = MomentumForm.Velocity)]
public partial class VelocityNet;
