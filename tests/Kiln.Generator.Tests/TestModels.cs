using System.Collections.Generic;

namespace Kiln.Generator.Tests;

/// <summary>Valid model declarations shared by the snapshot, caching and compilation tests.</summary>
internal static class TestModels
{
    /// <summary>The benchmark MLP of (docs/architecture.md) (Fashion-MNIST sized).</summary>
    public const string BenchmarkMlp = """
        using Kiln;

        namespace Kiln.Benchmarks;

        [Model(Input = 784, MaxBatch = 256, Seed = 42)]
        [Dense(256, Init = Init.HeNormal), BatchNorm, ReLU, Dropout(0.2)]
        [Dense(128, Init = Init.HeNormal), BatchNorm, ReLU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam(LearningRate = 1e-3)]
        public partial class BenchmarkMlp;
        """;

    /// <summary>An MLP for the embedded 8×8 digits: named layers, a bias initialised off zero, Init.Auto.</summary>
    public const string DigitsMlp = """
        using Kiln;

        namespace Samples.Digits
        {
            /// <summary>64 pixels → 10 digits.</summary>
            [Model(Input = 64, MaxBatch = 128, Seed = 7)]
            [Dense(64, Name = "hidden", BiasInit = 0.01), ReLU]
            [Dense(10, Name = "logits"), SoftmaxCrossEntropy]
            [Adam(3e-3, Beta2 = 0.99)]
            public sealed partial class DigitsMlp
            {
                public int Parameters => ParameterCount;
            }
        }
        """;

    /// <summary>
    /// PReLU (learned α, its own pass), vanilla dropout (TestTime scaling), BatchNorm on the raw input
    /// (nothing to fold into), BatchNorm before PReLU (not folded into the epilogue), a Dense without
    /// bias, one sigmoid output with binary cross-entropy, SGD with momentum.
    /// </summary>
    public const string PReluBinary = """
        using Kiln;

        namespace Samples.Odd;

        [Model(Input = 20, MaxBatch = 32, Seed = 1)]
        [BatchNorm, Dense(16), PReLU, Dropout(0.5, Scaling = DropoutScaling.TestTime)]
        [Dense(8), BatchNorm, PReLU(Init = 0.1), Dense(8, Bias = false), Tanh]
        [Dense(1), BinaryCrossEntropy]
        [Momentum(0.1, Rho = 0.9)]
        internal partial class PReluBinary;
        """;

    /// <summary>A self-normalising regression net: SELU with LeCun init (explicit and Auto), MSE, plain SGD.</summary>
    public const string SeluRegression = """
        using Kiln;

        namespace Samples.Regression;

        [Model(Input = 12, MaxBatch = 64, Seed = 3)]
        [Dense(32, Init = Init.LeCunNormal), SELU]
        [Dense(32), SELU]
        [Dense(3), MeanSquaredError]
        [Sgd(0.05)]
        public partial class SeluRegression;
        """;

    /// <summary>A multiclass SVM without any bias; the BatchNorm folds into a bias-less Dense.</summary>
    public const string HingeNoBias = """
        using Kiln;

        namespace Samples.Svm;

        [Model(Input = 16, MaxBatch = 50, Seed = 11)]
        [Dense(24, Bias = false), BatchNorm, LeakyReLU(0.1)]
        [Dense(4, Bias = false), MulticlassHinge(Margin = 0.5)]
        [Adam(LearningRate = 2e-3, Beta1 = 0.8)]
        public partial class HingeNoBias;
        """;

    /// <summary>A model in the global namespace, with no Seed (defaults to 0).</summary>
    public const string GlobalNamespace = """
        using Kiln;

        [Model(Input = 4, MaxBatch = 16)]
        [Dense(8), Sigmoid, Dense(3), SoftmaxCrossEntropy]
        [Sgd(0.5)]
        public partial class GlobalModel;
        """;

    /// <summary>A model nested in a partial containing class.</summary>
    public const string Nested = """
        using Kiln;

        namespace Samples.Nested
        {
            public static partial class Zoo
            {
                [Model(Input = 6, MaxBatch = 8, Seed = 5)]
                [Dense(5), Swish(1.5), Dense(2), SoftmaxCrossEntropy]
                [Momentum(LearningRate = 0.02)]
                internal partial class Inner;
            }
        }
        """;

    /// <summary>
    /// Compiled but not snapshotted: a spatial input with Flatten, ELU/GELU/Swish/Tanh, dropout
    /// without scaling, BatchNorm before a Softmax output and MSE on the probabilities.
    /// </summary>
    public const string ActivationZoo = """
        using Kiln;

        namespace Samples.Zoo;

        [Model(InputShape = new[] { 2, 4, 4 }, MaxBatch = 24, Seed = 9)]
        [Flatten, Dense(16), ELU(0.5), Dense(16), GELU]
        [Dense(16, Init = Init.XavierUniform), Swish, Dense(8, Init = Init.Uniform, InitScale = 0.1), Tanh, Dropout(0.1, Scaling = DropoutScaling.None)]
        [Dense(5, Init = Init.GlorotNormal), BatchNorm(Momentum = 0.01, Epsilon = 1e-3), Softmax, MeanSquaredError]
        [Sgd(LearningRate = 0.1)]
        public partial class ActivationZoo;
        """;

    /// <summary>The benchmark CNN of issue 3 (kept exactly): two Conv → BatchNorm2D → ReLU → MaxPool blocks, then Dense.</summary>
    public const string BenchmarkCnn = """
        using Kiln;

        namespace Kiln.Benchmarks;

        [Model(InputShape = new[] { 1, 28, 28 }, MaxBatch = 64, Seed = 42)]
        [Conv2D(16, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
        [Conv2D(32, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
        [Flatten, Dense(128), ReLU, Dropout(0.3)]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam(LearningRate = 1e-3)]
        public partial class BenchmarkCnn;
        """;

    /// <summary>
    /// Spatial variety: a multi-channel NCHW input (transposed on copy), dilation, a non-square
    /// kernel without bias, a 1×1 convolution (no im2col), per-channel PReLU, BatchNorm after a pool
    /// (not folded), average and global average pooling, dropout after a convolution, InstanceNorm,
    /// GroupNorm, DropConnect, Maxout and LayerNorm (flat).
    /// </summary>
    public const string SpatialZoo = """
        using Kiln;

        namespace Samples.Spatial;

        [Model(InputShape = new[] { 3, 16, 12 }, MaxBatch = 32, Seed = 4)]
        [Conv2D(8, 3, Padding = 2, Dilation = 2, Name = "stem"), PReLU]
        [Conv2D(12, 3, KernelWidth = 1, Padding = 1, Bias = false), InstanceNorm, Tanh, Dropout(0.1)]
        [AvgPool(2), BatchNorm, ReLU, Conv2D(6, 1), GroupNorm(3), ELU, GlobalAvgPool]
        [Dense(8, DropConnect = 0.2), Maxout(3), LayerNorm, ReLU, Dense(4), SoftmaxCrossEntropy]
        [Sgd(0.05)]
        public partial class SpatialZoo;
        """;

    /// <summary>A small residual network: BatchNorm2D, two identity blocks, stochastic depth, a zero-initialised last conv, fractional max pooling.</summary>
    public const string ResidualNet = """
        using Kiln;

        namespace Samples.Residual;

        [Model(InputShape = new[] { 1, 8, 8 }, MaxBatch = 64, Seed = 5)]
        [Conv2D(8, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
        [Residual(Survival = 0.8), Conv2D(8, 3, Padding = 1, Bias = false), BatchNorm, ReLU, Conv2D(8, 3, Padding = 1, Bias = false), BatchNorm, EndResidual, ReLU]
        [Residual(Survival = 0.8, ZeroInitLast = true), Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [FractionalMaxPool(1.6), GlobalAvgPool, Dense(10), SoftmaxCrossEntropy]
        [Adam(LearningRate = 2e-3)]
        public partial class ResidualNet;
        """;

    /// <summary>Projection shortcuts: a 1×1 stride-2 convolution (8×8×4 → 4×4×8), a stride-1 one (im2col skipped) and a flat Dense one.</summary>
    public const string ProjectionNet = """
        using Kiln;

        namespace Samples.Residual;

        [Model(InputShape = new[] { 3, 8, 8 }, MaxBatch = 32, Seed = 6)]
        [Conv2D(4, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
        [Residual(Projection = true), Conv2D(8, 2, Stride = 2, Bias = false), BatchNorm, ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [Residual(Projection = true, Survival = 0.9), Conv2D(12, 3, Padding = 1), EndResidual, ReLU]
        [GlobalAvgPool, Residual(Projection = true), Dense(6), Tanh, EndResidual, Dense(3), SoftmaxCrossEntropy]
        [Momentum(0.01), ClipGradientNorm(1.0)]
        public partial class ProjectionNet;
        """;

    /// <summary>The snapshotted models: snapshot name → source.</summary>
    public static IEnumerable<object[]> Snapshotted() => new[]
    {
        new object[] { nameof(BenchmarkMlp) },
        new object[] { nameof(DigitsMlp) },
        new object[] { nameof(PReluBinary) },
        new object[] { nameof(SeluRegression) },
        new object[] { nameof(HingeNoBias) },
        new object[] { nameof(GlobalNamespace) },
        new object[] { nameof(Nested) },
        new object[] { nameof(BenchmarkCnn) },
        new object[] { nameof(SpatialZoo) },
        new object[] { nameof(ResidualNet) },
        new object[] { nameof(ProjectionNet) },
    };

    /// <summary>Every valid model by name.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>
    {
        [nameof(BenchmarkMlp)] = BenchmarkMlp,
        [nameof(DigitsMlp)] = DigitsMlp,
        [nameof(PReluBinary)] = PReluBinary,
        [nameof(SeluRegression)] = SeluRegression,
        [nameof(HingeNoBias)] = HingeNoBias,
        [nameof(GlobalNamespace)] = GlobalNamespace,
        [nameof(Nested)] = Nested,
        [nameof(ActivationZoo)] = ActivationZoo,
        [nameof(BenchmarkCnn)] = BenchmarkCnn,
        [nameof(SpatialZoo)] = SpatialZoo,
        [nameof(ResidualNet)] = ResidualNet,
        [nameof(ProjectionNet)] = ProjectionNet,
    };
}
