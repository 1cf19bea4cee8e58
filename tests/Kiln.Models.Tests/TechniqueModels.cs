using Kiln;

namespace Kiln.Models.Tests;

// Models of the techniques in docs/techniques.md beyond the basics: alpha dropout, orthogonal initialisation, Fixup.

[Model(Input = 19, MaxBatch = 16, Seed = 41)]
[Dense(37, Init = Init.Orthogonal), SELU, AlphaDropout(0.2), Dense(5, Init = Init.Orthogonal), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class SeluAlphaDropoutNet;

[Model(InputShape = new[] { 3, 6, 6 }, MaxBatch = 16, Seed = 42)]
[Conv2D(8, 3, Padding = 1, Init = Init.Orthogonal), ReLU, Conv2D(40, 3, Init = Init.Orthogonal, InitScale = 0.5), ReLU]
[Flatten, Dense(20, Init = Init.Orthogonal), Tanh, Dense(3), SoftmaxCrossEntropy, Sgd(0.1)]
public partial class OrthogonalNet;

[Model(Input = 64, MaxBatch = 256, Seed = 43, Normalize = InputNormalization.None)]
[Dense(128, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1), Dense(128, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1)]
[Dense(128, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1), Dense(128, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1)]
[Dense(10), SoftmaxCrossEntropy, Adam(LearningRate = 1e-3)]
public partial class DeepSeluNet;
