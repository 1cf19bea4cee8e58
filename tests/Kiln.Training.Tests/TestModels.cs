using Kiln;

namespace Kiln.Training.Tests;

// Full-batch logistic regression with an L2 penalty on the weights (not the bias), so the optimum is finite.
[Model(Input = 5, MaxBatch = 256, Seed = 1)]
[Dense(1), BinaryCrossEntropy, Lbfgs, L2(1e-2)]
public partial class LogisticLbfgs;

// The same model declared with an ordinary optimiser: L-BFGS must work for it too (through ComputeGradients).
[Model(Input = 5, MaxBatch = 256, Seed = 1)]
[Dense(1), BinaryCrossEntropy, Sgd(0.1), L2(1e-2)]
public partial class LogisticSgd;

// Softmax regression on the 8×8 digits.
[Model(Input = 64, MaxBatch = 256, Seed = 2)]
[Dense(10), SoftmaxCrossEntropy, Lbfgs(History = 20), L2(1e-3)]
public partial class DigitsSoftmaxLbfgs;

// Schedules declared as attributes: the trainer must follow what CreateSchedule() returns.
[Model(Input = 64, MaxBatch = 256, Seed = 3)]
[Dense(10), SoftmaxCrossEntropy, Sgd(0.1), Warmup(Steps = 5), StepDecay(Factor = 0.5, Every = 1)]
public partial class DigitsWarmupStep;

[Model(Input = 64, MaxBatch = 256, Seed = 3)]
[Dense(10), SoftmaxCrossEntropy, Momentum(0.05), CosineDecay(Steps = 20)]
public partial class DigitsCosine;

[Model(Input = 64, MaxBatch = 256, Seed = 3)]
[Dense(10), SoftmaxCrossEntropy, Adam(1e-2), Warmup(Steps = 4), ReduceOnPlateau(Factor = 0.5, Patience = 0, Threshold = 0.5), CosineDecay(Epochs = 3, MinFactor = 0.1)]
public partial class DigitsWarmupPlateauCosine;

// A small MLP with BatchNorm, ReLU and dropout for the run report: layer outputs to probe, several tensors to watch.
[Model(Input = 64, MaxBatch = 256, Seed = 5)]
[Dense(32, Init = Init.HeNormal), BatchNorm, ReLU, Dropout(0.2)]
[Dense(16, Init = Init.HeNormal), ReLU]
[Dense(10), SoftmaxCrossEntropy, Adam(1e-2)]
public partial class DigitsReportMlp;
