using Kiln;

namespace Kiln.Samples.Recipe;

// The network the recipe tunes: 64 pixels → Dense 128 → ReLU → Dense 10 → softmax cross-entropy, trained with Adam.
// No penalty attribute: the search varies the weight decay per trial (decoupled, applied by the trial runner), and the
// learning rate comes from each trial too, so the attribute's rate is only the default. The output layer starts with small
// weights (N(0, 0.01²)) so the initial probabilities are near uniform and the initial loss near ln 10, which step 1 checks;
// with the default Glorot init the logits have a standard deviation of about 1.4 and the loss starts near 3.
[Model(Input = 64, MaxBatch = 128, Seed = 2024, Normalize = InputNormalization.None)]
[Dense(128), ReLU]
[Dense(10, Init = Init.Normal, InitScale = 0.01), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class RecipeNet;
