using Kiln;

namespace KilnMlp;

/// <summary>
/// A multilayer perceptron for the 8×8 digits: 64 inputs → 128 ReLU units → 10 classes.
/// The Kiln source generator turns these attributes into the training and inference code at build time.
/// </summary>
[Model(Input = 64, MaxBatch = 64, Seed = 42, Normalize = InputNormalization.PerFeature)]
[Dense(128), ReLU, Dropout(0.1)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 2e-3)]
public partial class DigitsMlp;
#if (IncludeFashionMnist)

/// <summary>The same shape of network for 28×28 Fashion-MNIST images (784 inputs): used with --fashion.</summary>
[Model(Input = 784, MaxBatch = 256, Seed = 42, Normalize = InputNormalization.PerFeature)]
[Dense(256), ReLU, Dropout(0.2)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class FashionMlp;
#endif
