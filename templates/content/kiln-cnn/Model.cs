using Kiln;

namespace KilnCnn;

/// <summary>
/// A small convolutional network for the 8×8 digits (1 channel): two 3×3 convolutions with max pooling,
/// then a hidden layer and 10 classes. The Kiln source generator turns these attributes into the training
/// and inference code at build time.
/// </summary>
[Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 64, Seed = 42, Normalize = InputNormalization.PerFeature)]
[Conv2D(16, 3, Padding = 1), ReLU, MaxPool(2)]
[Conv2D(32, 3, Padding = 1), ReLU, MaxPool(2), Flatten]
[Dense(64), ReLU, Dropout(0.1)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 2e-3)]
public partial class DigitsCnn;
#if (IncludeFashionMnist)

/// <summary>The same kind of network for 28×28 Fashion-MNIST images: used with --fashion.</summary>
[Model(InputShape = new[] { 1, 28, 28 }, MaxBatch = 64, Seed = 42, Normalize = InputNormalization.PerFeature)]
[Conv2D(16, 5, Padding = 2), ReLU, MaxPool(2)]
[Conv2D(32, 5, Padding = 2), ReLU, MaxPool(2), Flatten]
[Dense(128), ReLU, Dropout(0.2)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class FashionCnn;
#endif
