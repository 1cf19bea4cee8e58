using Kiln;

namespace Kiln.Benchmarks;

// The benchmark CNN of issue 3. Keep it identical to the PyTorch peer (benchmarks/peers/torch_mlp.py
// --model cnn) and to Samples/FashionCnn: 1×28×28 → Conv 16@5×5 pad 2 → BatchNorm2D → ReLU → MaxPool 2
// → Conv 32@5×5 pad 2 → BatchNorm2D → ReLU → MaxPool 2 → Flatten → Dense 128 → ReLU → Dropout 0.3 →
// Dense 10 → softmax cross-entropy; Adam 1e-3. MaxBatch 256 so the quick JSON's batch-256 keys exist too.
[Model(InputShape = new[] { 1, 28, 28 }, MaxBatch = 256, Seed = 42)]
[Conv2D(16, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
[Conv2D(32, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
[Flatten, Dense(128), ReLU, Dropout(0.3)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class BenchCnn;
