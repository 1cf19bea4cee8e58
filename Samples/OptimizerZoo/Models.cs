using Kiln;

namespace Kiln.Samples.OptimizerZoo;

// One network, seven optimisers. The optimiser is an attribute, so each is its own partial class; the
// architecture and Seed are identical, so every model starts from the same weights (Program checks it).
// 64 pixels → Dense 64 → ReLU → Dense 10 → softmax cross-entropy. The learning rates are chosen to show
// the textbook behaviour (docs/techniques.md#optimisers) on this problem at batch 32: plain SGD slow, momentum
// and Nesterov much faster at the same α, AdaGrad fast at first and then stalling as its squared-gradient
// sum grows, RMSProp and Adam fast.

[Model(Input = 64, MaxBatch = 256, Seed = 7, Normalize = InputNormalization.None)]
[Dense(64), ReLU, Dense(10), SoftmaxCrossEntropy, Sgd(0.01)]
public partial class ZooSgd;

[Model(Input = 64, MaxBatch = 256, Seed = 7, Normalize = InputNormalization.None)]
[Dense(64), ReLU, Dense(10), SoftmaxCrossEntropy, Momentum(0.01, Rho = 0.9)]
public partial class ZooMomentum;

[Model(Input = 64, MaxBatch = 256, Seed = 7, Normalize = InputNormalization.None)]
[Dense(64), ReLU, Dense(10), SoftmaxCrossEntropy, Nesterov(0.01, Rho = 0.9)]
public partial class ZooNesterov;

[Model(Input = 64, MaxBatch = 256, Seed = 7, Normalize = InputNormalization.None)]
[Dense(64), ReLU, Dense(10), SoftmaxCrossEntropy, AdaGrad(0.01)]
public partial class ZooAdaGrad;

[Model(Input = 64, MaxBatch = 256, Seed = 7, Normalize = InputNormalization.None)]
[Dense(64), ReLU, Dense(10), SoftmaxCrossEntropy, RMSProp(1e-3)]
public partial class ZooRmsProp;

[Model(Input = 64, MaxBatch = 256, Seed = 7, Normalize = InputNormalization.None)]
[Dense(64), ReLU, Dense(10), SoftmaxCrossEntropy, Adam(1e-3)]
public partial class ZooAdam;

// The same network for full-batch L-BFGS (its TrainStep throws; Lbfgs.Minimize trains it). No dropout or
// BatchNorm: the objective must be deterministic.
[Model(Input = 64, MaxBatch = 256, Seed = 7, Normalize = InputNormalization.None)]
[Dense(64), ReLU, Dense(10), SoftmaxCrossEntropy, Lbfgs(History = 10)]
public partial class ZooLbfgs;
