using Kiln;

namespace Kiln.Benchmarks;

// The benchmark model. Keep it identical to the PyTorch peer (benchmarks/peers/torch_mlp.py):
// 784 → Dense 256 (He normal) → BatchNorm → ReLU → Dropout 0.2 → Dense 128 (He normal) → BatchNorm
// → ReLU → Dense 10 (Init.Auto: Glorot uniform) → softmax cross-entropy; Adam 1e-3 (QuickJson sets
// 2e-3 at batch 256, as the peer does). All members come from Kiln.Generator.
[Model(Input = 784, MaxBatch = 256, Seed = 42)]
[Dense(256, Init = Init.HeNormal), BatchNorm, ReLU, Dropout(0.2)]
[Dense(128, Init = Init.HeNormal), BatchNorm, ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class BenchMlp;
