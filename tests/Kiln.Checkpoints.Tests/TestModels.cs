using Kiln;

namespace Kiln.Checkpoints.Tests;

// Widths 19 and 37 leave SIMD remainders; BatchNorm gives running statistics, Dropout a noise stream, Adam two state slots.
[Model(Input = 19, MaxBatch = 16, Seed = 3)]
[Dense(37), BatchNorm, ReLU, Dropout(0.3)]
[Dense(5), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class Net;

// Same layout, different class: a checkpoint of Net is "another model" to it.
[Model(Input = 19, MaxBatch = 16, Seed = 3)]
[Dense(37), BatchNorm, ReLU, Dropout(0.3)]
[Dense(5), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class TwinNet;

// Same body, a different head: dense0 and bn0 transfer, dense1 does not.
[Model(Input = 19, MaxBatch = 16, Seed = 11)]
[Dense(37), BatchNorm, ReLU]
[Dense(7), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class SevenClassNet;

// No optimiser state at all.
[Model(Input = 19, MaxBatch = 16, Seed = 3)]
[Dense(37), BatchNorm, ReLU, Dropout(0.3)]
[Dense(5), SoftmaxCrossEntropy]
[Sgd(0.1)]
public partial class SgdNet;

// Large enough (64 × 64 × 300 multiply-adds per GEMM) that stages split across the worker threads.
[Model(Input = 64, MaxBatch = 64, Seed = 5)]
[Dense(300), BatchNorm, ReLU, Dropout(0.2)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class WideNet;
