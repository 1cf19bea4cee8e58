using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;
using Kiln.CodeFixes;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>
/// KLN0125 (softmax trained with MSE), KLN0126 (deep plain stack), KLN0127 (feature map smaller than the window) and
/// KLN0128 (stride that skips input): each with the direct case, another spelling, a conv/other-layer variant and near
/// misses, on models the generator accepts.
/// </summary>
public class ArchitectureRuleTests
{
    // ---------------------------------------------------------------- KLN0125 softmax + MSE

    [Fact]
    public Task KLN0125_softmax_output_trained_with_mse() => ValidModel.Fires<SoftmaxWithMeanSquaredErrorAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), [|Softmax|], MeanSquaredError]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0125_spelt_differently() => ValidModel.Fires<SoftmaxWithMeanSquaredErrorAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(units: 8), Tanh]
        [Dense(4, Name = "logits")]
        [[|Kiln.Softmax(Name = "probabilities")|]]
        [MeanSquaredErrorAttribute]
        [Sgd(LearningRate = 0.1)]
        public partial class M;
        """);

    [Fact]
    public Task KLN0125_on_a_conv_net() => ValidModel.Fires<SoftmaxWithMeanSquaredErrorAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, MaxPool(2), Conv2D(8, 3, Padding = 1), ReLU, GlobalAvgPool]
        [Dense(10), [|Softmax|], MeanSquaredError, Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0125_raw_or_sigmoid_regression_and_cross_entropy_are_fine() => ValidModel.Clean<SoftmaxWithMeanSquaredErrorAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), MeanSquaredError]
        [Adam]
        public partial class Raw;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), Sigmoid, MeanSquaredError]
        [Adam]
        public partial class Bounded;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class Classifier;
        """);

    [Fact]
    public Task KLN0125_fix_removes_the_softmax_and_uses_cross_entropy() => VerifyFix.FixAsync<SoftmaxWithMeanSquaredErrorAnalyzer, UseSoftmaxCrossEntropyCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), [|Softmax|], MeanSquaredError]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0125_fix_keeps_the_spelling_of_the_loss_and_the_other_lists() => VerifyFix.FixAsync<SoftmaxWithMeanSquaredErrorAnalyzer, UseSoftmaxCrossEntropyCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3)]
        [[|Softmax(Name = "p")|]]
        [Kiln.MeanSquaredErrorAttribute, Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3)]
        [Kiln.SoftmaxCrossEntropyAttribute, Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0125_fix_all_in_document() => VerifyFix.FixAllAsync<SoftmaxWithMeanSquaredErrorAnalyzer, UseSoftmaxCrossEntropyCodeFix>(new[] { """
        [Model(Input = 4, Seed = 1)]
        [Dense(3), [|Softmax|], MeanSquaredError]
        [Adam]
        public partial class A;

        [Model(Input = 4, Seed = 1)]
        [Dense(5), [|Softmax|]]
        [MeanSquaredError]
        [Adam]
        public partial class B;
        """ }, new[] { """
        [Model(Input = 4, Seed = 1)]
        [Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class A;

        [Model(Input = 4, Seed = 1)]
        [Dense(5)]
        [SoftmaxCrossEntropy]
        [Adam]
        public partial class B;
        """ }, Microsoft.CodeAnalysis.CodeFixes.FixAllScope.Document);

    // ---------------------------------------------------------------- KLN0126 deep plain stack

    [Fact]
    public Task KLN0126_ten_dense_layers_without_normalisation_or_shortcuts() => ValidModel.Fires<DeepPlainStackAnalyzer>("""
        [[|Model(Input = 16, Seed = 1)|]]
        [Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU]
        [Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0126_spelt_differently() => ValidModel.Fires<DeepPlainStackAnalyzer>("""
        [[|Kiln.Model(Seed = 1, Input = 16, Normalize = InputNormalization.PerFeature)|]]
        [Dense(units: 32, Init = Init.HeNormal), LeakyReLU(Alpha = 0.1), Dropout(0.1)]
        [Dense(32), ELU, Dense(32), PReLU, Dense(32), GELU]
        [Dense(32), Maxout(2), Dense(32), Swish, Dense(32), ReLU]
        [Dense(32), Tanh, Dense(32), ReLU]
        [Dense(1), BinaryCrossEntropy]
        [Sgd(0.01)]
        public partial class M;
        """);

    [Fact]
    public Task KLN0126_deep_conv_net() => ValidModel.Fires<DeepPlainStackAnalyzer>("""
        [[|Model(InputShape = new[] { 1, 16, 16 }, Seed = 1)|]]
        [Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), ReLU, MaxPool(2)]
        [Conv2D(16, 3, Padding = 1), ReLU, Conv2D(16, 3, Padding = 1), ReLU, MaxPool(2)]
        [Conv2D(32, 3, Padding = 1), ReLU, Conv2D(32, 3, Padding = 1), ReLU, Conv2D(32, 3, Padding = 1), ReLU, MaxPool(2)]
        [Conv2D(64, 1), ReLU, Flatten, Dense(64), ReLU, Dropout(0.5), Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    private const string DeepPlain = """
        [Model(Input = 16, Seed = 1, MaxBatch = 64)]
        [Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU]
        [Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Plain;

        """;

    [Fact]
    public Task KLN0126_lsuv_on_that_model_or_orthogonal_with_the_right_gain_is_fine() => ValidModel.Clean<DeepPlainStackAnalyzer>(DeepPlain + """
        [Model(Input = 16, Seed = 1)]
        [Dense(16, Init = Init.Orthogonal), ReLU, Dense(16, Init = Init.Orthogonal), ReLU, Dense(16, Init = Init.Orthogonal), ReLU]
        [Dense(16, Init = Init.Orthogonal, InitScale = 1.4142), ReLU, Dense(16, Init = Init.Orthogonal), ReLU, Dense(16, Init = Init.Orthogonal), ReLU]
        [Dense(16, Init = Init.Orthogonal), ReLU, Dense(16, Init = Init.Orthogonal), ReLU, Dense(16, Init = Init.Orthogonal), Tanh]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Isometric;

        public static class Run
        {
            public static void Train(Dataset data)
            {
                var options = new TrainerOptions { Epochs = 2, BatchSize = 32, Lsuv = new LsuvOptions() };
                IKilnModel model = new Plain();
                Trainer.Fit(model, data, null, options);
            }
        }
        """);

    [Fact]
    public Task KLN0126_lsuv_called_directly_is_fine_too() => ValidModel.Clean<DeepPlainStackAnalyzer>(DeepPlain + """
        public static class Run
        {
            private static Plain Make() => new Plain();

            public static void Train(Dataset data)
            {
                var model = Make();
                Lsuv.Initialize(model, data);
                Trainer.Fit(model, data, null, 2, 32);
            }
        }
        """);

    [Fact]
    public Task KLN0126_lsuv_on_another_model_or_orthogonal_with_the_wrong_gain_still_fires() => ValidModel.Fires<DeepPlainStackAnalyzer>(
        DeepPlain.Replace("[Model(Input = 16, Seed = 1, MaxBatch = 64)]", "[[|Model(Input = 16, Seed = 1, MaxBatch = 64)|]]") + """
        [Model(Input = 16, Seed = 1, MaxBatch = 64)]
        [Dense(16), BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Small;

        [[|Model(Input = 16, Seed = 1)|]]
        [Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU, Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU, Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU]
        [Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU, Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU, Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU]
        [Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU, Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU, Dense(16, Init = Init.Orthogonal, InitScale = 1), ReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class GainOne;

        public static class Run
        {
            public static void Train(Dataset data)
            {
                var plain = new Plain();
                var small = new Small();
                Lsuv.Initialize(small, data);                                     // LSUV on the other model
                Trainer.Fit(plain, data, null, new TrainerOptions { Lsuv = null });
            }
        }
        """);

    [Fact]
    public Task KLN0126_shallower_normalised_residual_and_self_normalising_stacks_are_fine() => ValidModel.Clean<DeepPlainStackAnalyzer>("""
        [Model(Input = 16, Seed = 1)]
        [Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU]
        [Dense(16), ReLU, Dense(16), ReLU, Dense(16), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Nine;

        [Model(InputShape = new[] { 1, 16, 16 }, Seed = 1)]
        [Conv2D(8, 3, Padding = 1, Bias = false), GroupNorm(2), ReLU, Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), ReLU]
        [Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), ReLU]
        [Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), ReLU, GlobalAvgPool, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class OneNorm;

        [Model(InputShape = new[] { 8, 8, 8 }, Seed = 1)]
        [Residual, Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [Residual, Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [Residual, Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [Residual, Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [Residual, Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [GlobalAvgPool, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class Shortcuts;

        [Model(Input = 16, Seed = 1)]
        [Dense(16, Init = Init.LeCunNormal), SELU, Dense(16, Init = Init.LeCunNormal), SELU, Dense(16, Init = Init.LeCunNormal), SELU]
        [Dense(16, Init = Init.LeCunNormal), SELU, Dense(16, Init = Init.LeCunNormal), SELU, Dense(16, Init = Init.LeCunNormal), SELU]
        [Dense(16, Init = Init.LeCunNormal), SELU, Dense(16, Init = Init.LeCunNormal), SELU, Dense(16, Init = Init.LeCunNormal), SELU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class SelfNormalising;
        """);

    // ---------------------------------------------------------------- KLN0127 feature map smaller than the window

    [Fact]
    public Task KLN0127_pooled_to_one_pixel_then_a_padded_3x3_convolution() => ValidModel.Fires<WindowMostlyPaddingAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, MaxPool(2), MaxPool(2), MaxPool(2)]
        [[|Conv2D(8, 3, Padding = 1)|], ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0127_spelt_differently_dilated_and_pooling() => ValidModel.Fires<WindowMostlyPaddingAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(filters: 4, kernel: 3, Padding = 1), ReLU, AvgPool(size: 2)]
        [[|Conv2D(4, 3, Dilation = 2, Padding = 2)|], ReLU, MaxPool(2)]
        [[|Kiln.MaxPool(3, Stride = 1, Padding = 1, Name = "late")|]]
        [[|Conv2D(4, 1, KernelHeight = 3, Padding = 1)|], ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0127_strided_convolutions_shrink_the_map() => ValidModel.Fires<WindowMostlyPaddingAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 4, Stride = 2, Padding = 1), ReLU, Conv2D(8, 4, Stride = 2, Padding = 1), ReLU, [|Conv2D(8, 4, Stride = 2, Padding = 1)|], ReLU]
        [Residual, [|Conv2D(8, 3, Padding = 1)|], ReLU, [|Conv2D(8, 3, Padding = 1)|], EndResidual, ReLU]
        [Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0127_maps_at_least_as_large_as_the_window_and_one_by_one_convolutions_are_fine() => ValidModel.Clean<WindowMostlyPaddingAnalyzer>("""
        [Model(InputShape = new[] { 1, 12, 12 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, MaxPool(2), MaxPool(2), Conv2D(4, 3, Padding = 1), ReLU]
        [MaxPool(3), Conv2D(8, 1), ReLU, GlobalAvgPool, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;

        [Model(Input = 16, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Flat;
        """);

    // ---------------------------------------------------------------- KLN0128 stride larger than the window

    [Fact]
    public Task KLN0128_one_by_one_convolution_with_stride_two() => ValidModel.Fires<StrideSkipsInputAnalyzer>("""
        [Model(InputShape = new[] { 1, 9, 9 }, Seed = 1)]
        [Conv2D(4, 1, [|Stride = 2|]), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0128_spelt_differently_pooling_rectangular_and_dilated_windows() => ValidModel.Fires<StrideSkipsInputAnalyzer>("""
        [Model(InputShape = new[] { 1, 9, 9 }, Seed = 1)]
        [Conv2D(filters: 4, kernel: 1, KernelHeight = 3, [|Stride = 2|]), ReLU]
        [Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Conv;

        [Model(InputShape = new[] { 1, 7, 7 }, Seed = 1)]
        [Kiln.Conv2D(4, 2, Name = "holes", Dilation = 3, [|Stride = 3|]), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Holes;

        [Model(InputShape = new[] { 2, 8, 8 }, Seed = 1)]
        [MaxPool(2, [|Stride = 3|]), Conv2D(4, 3, Padding = 1), ReLU, AvgPoolAttribute(size: 1, [|Stride = 2|])]
        [Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Pool;
        """);

    [Fact]
    public Task KLN0128_overlapping_and_tiling_windows_and_projection_shortcuts_are_fine() => ValidModel.Clean<StrideSkipsInputAnalyzer>("""
        [Model(InputShape = new[] { 4, 9, 9 }, Seed = 1)]
        [Conv2D(4, 2, Dilation = 2, Stride = 1), ReLU, MaxPool(3, Stride = 2)]
        [Conv2D(4, 3, Stride = 2, Padding = 1), ReLU, AvgPool(2)]
        [Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;

        [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
        [Residual(Projection = true), Conv2D(8, 4, Stride = 2, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [GlobalAvgPool, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Projected;
        """);
}
