using Kiln;

namespace Kiln.Tuning.Tests;

// A small digits classifier for trials: cheap enough to train many times.
[Model(Input = 64, MaxBatch = 128, Seed = 5)]
[Dense(32), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Sgd(0.1)]
public partial class TrialNet;

// Wide enough (64 rows × 64 × 300 multiply-adds) that its passes split across the worker pool: the parallel-trials tests
// need a model that would use the pool's workers if it could.
[Model(Input = 64, MaxBatch = 64, Seed = 9)]
[Dense(300), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class WideTrialNet;

// Two independent members for ensembles (other seeds, same shape).
[Model(Input = 64, MaxBatch = 32, Seed = 21)]
[Dense(16), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-2)]
public partial class MemberA;

[Model(Input = 64, MaxBatch = 48, Seed = 22)]
[Dense(24), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-2)]
public partial class MemberB;

// A one-output sigmoid member, for the binary ensemble loss.
[Model(Input = 4, MaxBatch = 16, Seed = 3)]
[Dense(1), BinaryCrossEntropy]
[Sgd(0.5)]
public partial class BinaryMember;

[Model(Input = 4, MaxBatch = 16, Seed = 4)]
[Dense(6), ReLU]
[Dense(1), BinaryCrossEntropy]
[Sgd(0.5)]
public partial class BinaryMember2;

// Snapshot training with a schedule whose clock must continue across epochs.
[Model(Input = 64, MaxBatch = 64, Seed = 13)]
[Dense(20), ReLU, Dropout(0.2)]
[Dense(10), SoftmaxCrossEntropy]
[Momentum(0.05), Warmup(Steps = 7), CosineDecay(Epochs = 3, MinFactor = 0.1)]
public partial class SnapshotNet;

// Transfer: the source has body layers "features" and "hidden" and a 10-class head "source_head"; the target has the same
// body and a 5-class head "head"; the twin has the same body and a head named like the source's with the source's shape.
[Model(Input = 64, MaxBatch = 64, Seed = 31)]
[Dense(24, Name = "features"), ReLU]
[Dense(16, Name = "hidden"), ReLU]
[Dense(10, Name = "source_head"), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-2)]
public partial class SourceNet;

[Model(Input = 64, MaxBatch = 64, Seed = 32)]
[Dense(24, Name = "features"), ReLU]
[Dense(16, Name = "hidden"), ReLU]
[Dense(5, Name = "head"), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-2)]
public partial class TargetNet;

[Model(Input = 64, MaxBatch = 64, Seed = 33)]
[Dense(24, Name = "features"), ReLU]
[Dense(16, Name = "hidden"), ReLU]
[Dense(10, Name = "source_head"), SoftmaxCrossEntropy]
[Sgd(0.05)]
public partial class TwinHeadNet;
