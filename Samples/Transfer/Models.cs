using Kiln;

namespace Kiln.Samples.Transfer;

// Transfer learning (docs/techniques.md#transfer-learning) needs two model classes that share a body: the same layer names and shapes
// ("features", "hidden"), so Checkpoint.LoadMatching can copy it, and different heads. No BatchNorm in the body: freezing
// through learning-rate scale 0 stops parameter updates, and the body then has no running statistics that could still move.

// Pre-trained on Fashion-MNIST classes 0–4 (T-shirt, trouser, pullover, dress, coat).
[Model(Input = 784, MaxBatch = 256, Seed = 100, Normalize = InputNormalization.None)]
[Dense(256, Name = "features"), ReLU]
[Dense(128, Name = "hidden"), ReLU]
[Dense(5, Name = "pretrain_head"), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class FashionPretrainNet;

// Trained on a few images of classes 5–9 (sandal, shirt, sneaker, bag, ankle boot): same body, a new head.
[Model(Input = 784, MaxBatch = 256, Seed = 200, Normalize = InputNormalization.None)]
[Dense(256, Name = "features"), ReLU]
[Dense(128, Name = "hidden"), ReLU]
[Dense(5, Name = "head"), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class FashionTransferNet;

// The same pair for the 8×8 digits, used when Fashion-MNIST is not installed.
[Model(Input = 64, MaxBatch = 256, Seed = 100, Normalize = InputNormalization.None)]
[Dense(64, Name = "features"), ReLU]
[Dense(32, Name = "hidden"), ReLU]
[Dense(5, Name = "pretrain_head"), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class DigitsPretrainNet;

[Model(Input = 64, MaxBatch = 256, Seed = 200, Normalize = InputNormalization.None)]
[Dense(64, Name = "features"), ReLU]
[Dense(32, Name = "hidden"), ReLU]
[Dense(5, Name = "head"), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class DigitsTransferNet;
