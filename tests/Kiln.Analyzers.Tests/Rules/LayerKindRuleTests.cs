using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;
using Kiln.CodeFixes;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>
/// The spec rules KLN0101–KLN0112, KLN0123, KLN0124, KLN0211 and KLN0222 on the variants real code drifts into, next to
/// the direct cases of ActivationRuleTests, InitRuleTests, NormalisationRuleTests and ConvolutionRuleTests: another
/// spelling (named arguments, qualified names, separate attribute lists, another member of the same family), the same
/// mistake on a convolution, in a residual branch or with GroupNorm/InstanceNorm/Maxout/PReLU, and near misses that
/// must stay clean. Every model here is valid (the generator accepts it).
/// </summary>
public class LayerKindRuleTests
{
    // ---------------------------------------------------------------- KLN0101 sigmoid/tanh in hidden layers

    [Fact]
    public Task KLN0101_spelt_differently() => ValidModel.Fires<SaturatingHiddenActivationAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(units: 8)]
        [[|Kiln.Tanh(Name = "squash")|]]
        [Dense(8, Init = Init.XavierUniform), [|SigmoidAttribute|], Dropout(0.1), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0101_after_a_hidden_convolution_and_in_a_residual_branch() => ValidModel.Fires<SaturatingHiddenActivationAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), [|Sigmoid|]]
        [Residual, Conv2D(4, 3, Padding = 1), BatchNorm, [|Tanh|], Conv2D(4, 3, Padding = 1), EndResidual, ReLU]
        [GlobalAvgPool, Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0101_output_sigmoid_on_a_conv_net_and_non_saturating_hidden_activations_are_fine() => ValidModel.Clean<SaturatingHiddenActivationAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), Swish, Conv2D(4, 3, Padding = 1), GELU, MaxPool(2)]
        [Flatten, Dense(8), PReLU, Dense(1), Sigmoid, MeanSquaredError]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0102 redundant sequences

    [Fact]
    public Task KLN0102_spelt_differently() => ValidModel.Fires<RedundantLayerSequenceAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), GELU, Dropout(0.1)]
        [Dropout(rate: 0.1), [|Swish(Beta = 2)|]]
        [Dense(units: 8), Dropout(0.2)]
        [[|Kiln.Dense(4, Name = "second")|], LeakyReLU(Alpha = 0.2)]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0102_convolutions_without_a_non_linearity_and_maxout_followed_by_an_activation() => ValidModel.Fires<RedundantLayerSequenceAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), [|Conv2D(4, 3, Padding = 1)|], ReLU]
        [Conv2D(4, 3, Padding = 1), BatchNorm, AvgPool(2), [|Conv2D(4, 3, Padding = 1)|], Maxout(2), [|ReLU|]]
        [Conv2D(4, 3, Padding = 1), ReLU, MaxPool(2), [|ELU|]]
        [Conv2D(4, 1), Flatten, [|Dense(8)|], PReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0102_max_pooling_per_sample_norms_and_residual_sums_break_the_chain() => ValidModel.Clean<RedundantLayerSequenceAnalyzer>("""
        [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), MaxPool(2), Conv2D(4, 3, Padding = 1), GroupNorm(2), Conv2D(4, 3, Padding = 1), ReLU]
        [Residual, Conv2D(4, 3, Padding = 1), ReLU, Conv2D(4, 3, Padding = 1), EndResidual, Conv2D(4, 3, Padding = 1), PReLU]
        [Conv2D(4, 3, Padding = 1), Maxout(2), BatchNorm, ReLU]
        [Flatten, Dense(8), LayerNorm, Dense(8), Tanh, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0103 softmax / sigmoid applied twice

    [Fact]
    public Task KLN0103_spelt_differently_and_on_conv_nets() => ValidModel.Fires<DoubleSquashingAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(units: 3, Name = "scores")]
        [[|Kiln.SoftmaxAttribute(Name = "p")|]]
        [SoftmaxCrossEntropyAttribute, Sgd(0.1)]
        public partial class Spelt;

        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, GlobalAvgPool, Dense(10), [|Softmax|], SoftmaxCrossEntropy]
        [Adam]
        public partial class Conv;

        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), PReLU, Flatten, Dense(1), [|Sigmoid|], BinaryCrossEntropy]
        [Adam]
        public partial class Binary;
        """);

    [Fact]
    public Task KLN0103_a_conv_net_with_raw_scores_is_fine() => ValidModel.Clean<DoubleSquashingAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), Sigmoid, GlobalAvgPool, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0104 activation before the loss

    [Fact]
    public Task KLN0104_other_activations_and_a_conv_net_output() => ValidModel.Fires<OutputActivationBeforeLossAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, GlobalAvgPool, Dense(3), [|LeakyReLU(Alpha = 0.1)|]]
        [SoftmaxCrossEntropy]
        [Adam]
        public partial class Conv;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(units: 3), [|Kiln.PReLU|], MulticlassHinge(Margin = 2)]
        [Adam]
        public partial class Hinge;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(1), [|Tanh|], BinaryCrossEntropy]
        [Adam]
        public partial class Binary;
        """);

    [Fact]
    public Task KLN0104_activations_before_the_output_layer_are_fine() => ValidModel.Clean<OutputActivationBeforeLossAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, GlobalAvgPool, Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class Conv;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ELU, Dense(2), Sigmoid, MeanSquaredError]
        [Adam]
        public partial class Bounded;
        """);

    // ---------------------------------------------------------------- KLN0105 init mismatch

    [Fact]
    public Task KLN0105_spelt_differently() => ValidModel.Fires<InitMismatchAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(units: 8, [|Init = Kiln.Init.GlorotNormal|], Name = "h"), PReLU]
        [Dense(8, Bias = false, [|Init = Init.XavierUniform|]), LayerNorm, Swish(Beta = 1.5)]
        [Dense(8, [|Init = Init.HeUniform|])]
        [Dropout(0.1), Sigmoid]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0105_on_convolutions_through_norms_and_across_a_residual_sum() => ValidModel.Fires<InitMismatchAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, [|Init = Init.XavierNormal|]), BatchNorm, ReLU]
        [Conv2D(4, 3, Padding = 1, [|Init = Init.GlorotUniform|]), GroupNorm(2), LeakyReLU]
        [Residual, Conv2D(4, 3, Padding = 1, Init = Init.HeNormal), ReLU, Conv2D(4, 3, Padding = 1, [|Init = Init.LeCunNormal|]), EndResidual, ReLU]
        [Conv2D(4, 3, Padding = 1, [|Init = Init.HeNormal|]), Tanh]
        [Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0105_matching_inits_on_convolutions_and_maxout_are_fine() => ValidModel.Clean<InitMismatchAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, Init = Init.HeNormal), BatchNorm, PReLU]
        [Conv2D(4, 3, Padding = 1, Init = Init.XavierNormal), Tanh]
        [Conv2D(4, 3, Padding = 1, Init = Init.LeCunNormal), SELU]
        [Conv2D(4, 3, Padding = 1, Init = Init.XavierUniform), Maxout(2)]
        [Flatten, Dense(2, Init = Init.GlorotUniform), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0105_fix_on_a_convolution() => VerifyFix.FixAsync<InitMismatchAnalyzer, MatchInitCodeFix>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, [|Init = Init.XavierUniform|]), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, Init = Init.HeUniform), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0106 constant / zero init

    [Fact]
    public Task KLN0106_spelt_differently() => ValidModel.Fires<SymmetricInitAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(units: 8, InitScale = 0.5, [|Init = Kiln.Init.Constant|]), BatchNorm, ReLU]
        [Dense(8, Name = "z", [|Init = Init.Zeros|])]
        [Tanh, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0106_on_hidden_convolutions_and_a_constant_residual_branch_end() => ValidModel.Fires<SymmetricInitAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, [|Init = Init.Zeros|]), ReLU]
        [Residual, Conv2D(4, 3, Padding = 1), ReLU, Conv2D(4, 3, Padding = 1, [|Init = Init.Constant|], InitScale = 0.1), EndResidual, ReLU]
        [Conv2D(4, 1, [|Init = Init.Constant|]), ReLU, GlobalAvgPool, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0106_zero_residual_branch_ends_and_zero_output_layers_are_fine() => ValidModel.Clean<SymmetricInitAnalyzer>("""
        [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
        [Residual, Conv2D(4, 3, Padding = 1), ReLU, Conv2D(4, 3, Padding = 1, Init = Init.Zeros), EndResidual, ReLU]
        [Residual(Projection = true), Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1, Init = Init.Zeros), EndResidual, ReLU]
        [Residual(ZeroInitLast = true), Conv2D(8, 3, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
        [GlobalAvgPool, Dense(2, Init = Init.Zeros), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0107 fixed small init in deep nets

    [Fact]
    public Task KLN0107_spelt_differently() => ValidModel.Fires<SmallFixedInitAnalyzer>("""
        [Model(Input = 256, Seed = 1)]
        [Dense(256, InitScale = 0.01, [|Init = Kiln.Init.Uniform|]), LeakyReLU]
        [Dense(units: 256, [|Init = Init.Normal|], InitScale = 0.005)]
        [PReLU, Dropout(0.1)]
        [Dense(256, Name = "third", [|Init = Init.Normal|]), ELU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0107_deep_conv_stack_with_std_0_01() => ValidModel.Fires<SmallFixedInitAnalyzer>("""
        [Model(InputShape = new[] { 16, 8, 8 }, Seed = 1)]
        [Conv2D(16, 3, Padding = 1, [|Init = Init.Normal|]), ReLU]
        [Conv2D(16, 3, Padding = 1, [|Init = Init.Normal|]), ReLU, MaxPool(2)]
        [Conv2D(16, 3, Padding = 1, [|Init = Init.Normal|]), ReLU]
        [Flatten, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0107_per_sample_norms_and_residual_shortcuts_keep_the_scale() => ValidModel.Clean<SmallFixedInitAnalyzer>("""
        [Model(InputShape = new[] { 16, 8, 8 }, Seed = 1)]
        [Conv2D(16, 3, Padding = 1, Init = Init.Normal), GroupNorm(4), ReLU]
        [Conv2D(16, 3, Padding = 1, Init = Init.Normal), InstanceNorm, ReLU]
        [Conv2D(16, 3, Padding = 1, Init = Init.Normal), GroupNorm(16), ReLU]
        [Flatten, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class Normalised;

        [Model(InputShape = new[] { 16, 8, 8 }, Seed = 1)]
        [Residual, Conv2D(16, 3, Padding = 1, Init = Init.Normal), ReLU, Conv2D(16, 3, Padding = 1, Init = Init.Normal), EndResidual, ReLU]
        [Residual, Conv2D(16, 3, Padding = 1, Init = Init.Normal), ReLU, Conv2D(16, 3, Padding = 1, Init = Init.Normal), EndResidual, ReLU]
        [GlobalAvgPool, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class WithShortcuts;
        """);

    // ---------------------------------------------------------------- KLN0108 bias before a per-channel normalisation

    [Fact]
    public Task KLN0108_spelt_differently() => ValidModel.Fires<BiasBeforeBatchNormAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [[|Dense(units: 8, Init = Init.HeNormal)|]]
        [Kiln.BatchNorm(Momentum = 0.01), ReLU]
        [Dense(8, Name = "b", [|Bias = true|]), BatchNormAttribute, PReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0108_convolutions_before_batchnorm_instancenorm_and_per_channel_groupnorm() => ValidModel.Fires<BiasBeforeBatchNormAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [[|Conv2D(8, 3, Padding = 1)|], BatchNorm, ReLU]
        [Conv2D(8, 3, Padding = 1, [|Bias = true|]), MaxPool(2), BatchNorm, ReLU]
        [[|Conv2D(8, 3, Padding = 1)|], InstanceNorm, ReLU]
        [[|Conv2D(8, 3, Padding = 1)|], GroupNorm(8), ReLU]
        [[|Conv2D(8, 1)|], Flatten, BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0108_shared_mean_norms_padded_pooling_and_bias_free_layers_are_fine() => ValidModel.Clean<BiasBeforeBatchNormAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(8, 3, Padding = 1), GroupNorm(2), ReLU]
        [Conv2D(8, 3, Padding = 1), LayerNorm, ReLU]
        [Conv2D(8, 3, Padding = 1), AvgPool(3, Stride = 1, Padding = 1), BatchNorm, ReLU]
        [Conv2D(8, 3, Padding = 1), ReLU, BatchNorm]
        [Conv2D(8, 3, Padding = 1, Bias = false), BatchNorm, ReLU]
        [Flatten, Dense(8), LayerNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0108_fix_on_a_convolution() => VerifyFix.FixAsync<BiasBeforeBatchNormAnalyzer, DisableBiasCodeFix>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [[|Conv2D(8, 3, Padding = 1)|], InstanceNorm, ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(8, 3, Padding = 1, Bias = false), InstanceNorm, ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0109 normalisation after the activation

    [Fact]
    public Task KLN0109_spelt_differently() => ValidModel.Fires<BatchNormAfterActivationAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(units: 8, Bias = false)]
        [LeakyReLU(Alpha = 0.2, Name = "act")]
        [[|Kiln.BatchNorm(Epsilon = 1e-3)|], Dense(8), PReLU, [|BatchNormAttribute|]]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0109_in_conv_blocks_with_batchnorm_groupnorm_and_instancenorm() => ValidModel.Fires<BatchNormAfterActivationAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, Bias = false), ReLU, [|BatchNorm|]]
        [Conv2D(4, 3, Padding = 1), ELU, [|GroupNorm(2)|]]
        [Conv2D(4, 3, Padding = 1), Swish, [|InstanceNorm|]]
        [Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0109_layernorm_after_activations_and_input_normalisation_are_fine() => ValidModel.Clean<BatchNormAfterActivationAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [BatchNorm, Conv2D(4, 3, Padding = 1), GroupNorm(2), ReLU]
        [Conv2D(4, 3, Padding = 1), ReLU, LayerNorm]
        [Flatten, Dense(8), GELU, LayerNorm, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0109_fix_swaps_groupnorm_and_activation_in_a_conv_block() => VerifyFix.FixAsync<BatchNormAfterActivationAnalyzer, ReorderLayersCodeFix>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, [|GroupNorm(2)|], Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), GroupNorm(2), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0110 dropout before BatchNorm

    [Fact]
    public Task KLN0110_spelt_differently() => ValidModel.Fires<DropoutBeforeBatchNormAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), PReLU]
        [[|Dropout(rate: 0.2, Scaling = DropoutScaling.Inverted)|]]
        [Kiln.BatchNorm(Momentum = 0.05)]
        [Dense(8, Bias = false), [|Kiln.Dropout(0.1, Name = "d")|], [|Dropout(0.1)|], ELU, BatchNorm]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0110_in_conv_blocks_through_pooling_and_flatten() => ValidModel.Fires<DropoutBeforeBatchNormAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, Bias = false), ReLU, [|Dropout(0.2)|], BatchNorm]
        [Conv2D(4, 3, Padding = 1, Bias = false), ReLU, [|Dropout(0.2)|], MaxPool(2), BatchNorm]
        [Conv2D(4, 3, Padding = 1), ReLU, [|Dropout(0.2)|], Flatten, BatchNorm]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0110_a_convolution_a_per_sample_norm_or_a_residual_sum_in_between_is_fine() => ValidModel.Clean<DropoutBeforeBatchNormAnalyzer>("""
        [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, Bias = false), BatchNorm, ReLU, Dropout(0.2)]
        [Conv2D(4, 3, Padding = 1, Bias = false), BatchNorm, ReLU, Dropout(0.2), GroupNorm(2)]
        [Residual, Conv2D(4, 3, Padding = 1), ReLU, Dropout(0.1), EndResidual, BatchNorm]
        [Dropout(0.1), LayerNorm, BatchNorm, ReLU]
        [Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0111 / KLN0112 dropout rate and scaling

    [Fact]
    public Task KLN0111_spelt_differently_and_in_a_conv_stack() => ValidModel.Fires<HighDropoutRateAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, Dropout([|0.75|]), Conv2D(4, 3, Padding = 1), ReLU]
        [Flatten, Dense(8), ReLU, Kiln.Dropout([|rate: 0.6|], Name = "heavy")]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0111_rates_up_to_one_half_in_a_conv_stack_are_fine() => ValidModel.Clean<HighDropoutRateAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, Dropout(0.5), Conv2D(4, 3, Padding = 1), ReLU, Dropout(rate: 0.0)]
        [Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0112_spelt_differently_and_in_a_conv_stack() => ValidModel.Fires<UnscaledDropoutAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, Dropout(rate: 0.2, [|Scaling = Kiln.DropoutScaling.None|]), Conv2D(4, 3, Padding = 1), ReLU]
        [Flatten, Dense(8), ReLU, Dropout(rate: 0.3, Name = "late", [|Scaling = DropoutScaling.None|])]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0112_zero_rate_without_scaling_is_fine() => ValidModel.Clean<UnscaledDropoutAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, Dropout(0, Scaling = DropoutScaling.None), Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0123 SELU with BatchNorm / dropout

    [Fact]
    public Task KLN0123_in_a_conv_net_and_spelt_differently() => ValidModel.Fires<SeluCombinationAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, Init = Init.LeCunNormal), [|Kiln.BatchNorm(Momentum = 0.01)|], SELU]
        [Flatten, Dense(8, Init = Init.LeCunNormal), SELUAttribute, [|Dropout(rate: 0.2)|]]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0123_selu_conv_net_without_batchnorm_or_dropout_is_fine() => ValidModel.Clean<SeluCombinationAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1, Init = Init.LeCunNormal), SELU, MaxPool(2)]
        [Flatten, Dense(8, Init = Init.LeCunNormal), SELU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0124 Maxout

    [Fact]
    public Task KLN0124_spelt_differently_and_in_a_residual_branch() => ValidModel.Fires<MaxoutParametersAnalyzer>("""
        [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
        [Residual, Conv2D(4, 3, Padding = 1), Kiln.Maxout([|3|], Name = "m"), Conv2D(4, 3, Padding = 1), EndResidual, ReLU]
        [Flatten, Dense(8), MaxoutAttribute([|pieces: 2|]), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0124_prelu_is_not_maxout() => ValidModel.Clean<MaxoutParametersAnalyzer>("""
        [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), PReLU, Flatten, Dense(8), LeakyReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0211 dropout inside a conv stack

    [Fact]
    public Task KLN0211_spelt_differently_in_a_residual_branch_and_after_pooling() => ValidModel.Fires<DropoutInConvStackAnalyzer>("""
        [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
        [Residual, Conv2D(4, 3, Padding = 1), ReLU, [|Kiln.Dropout(rate: 0.1)|], Conv2D(4, 3, Padding = 1), EndResidual, ReLU]
        [AvgPool(2), [|DropoutAttribute(0.2, Name = "pooled")|]]
        [Conv2D(8, 3, Padding = 1), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0211_dropout_after_the_last_convolution_of_a_residual_net_is_fine() => ValidModel.Clean<DropoutInConvStackAnalyzer>("""
        [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
        [Residual, Conv2D(4, 3, Padding = 1), ReLU, Conv2D(4, 3, Padding = 1), EndResidual, ReLU, Dropout(0.1)]
        [Flatten, Dropout(0.3), Dense(8), ReLU, Dropout(0.3), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0222 no input normalisation

    [Fact]
    public Task KLN0222_spelt_differently_and_on_an_image_model() => ValidModel.Fires<NoInputNormalizationAnalyzer>("""
        [[|Kiln.Model(Seed = 1, InputShape = new[] { 1, 8, 8 })|]]
        [Conv2D(4, 3, Padding = 1), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Image;

        [[|ModelAttribute(MaxBatch = 32, Input = 4, Seed = 1)|]]
        [Dense(2), SoftmaxCrossEntropy, Adam]
        public partial class Flat;
        """);

    [Fact]
    public Task KLN0222_per_channel_declaration_on_an_image_model_is_fine() => ValidModel.Clean<NoInputNormalizationAnalyzer>("""
        [Model(InputShape = new[] { 3, 8, 8 }, Seed = 1, Normalize = InputNormalization.PerChannel)]
        [Conv2D(4, 3, Padding = 1), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);
}
