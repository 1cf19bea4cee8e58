using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;
using Kiln.CodeFixes;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>KLN0101–KLN0104: activations in the layer list.</summary>
public class ActivationRuleTests
{
    // ---------------------------------------------------------------- KLN0101 sigmoid/tanh in hidden layers

    [Fact]
    public Task KLN0101_sigmoid_and_tanh_in_hidden_layers() => Verify.AnalyzerAsync<SaturatingHiddenActivationAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), [|Sigmoid|]]
        [Dense(8), [|Tanh(Name = "t")|], Dropout(0.1)]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0101_output_sigmoid_and_hidden_relu_are_fine() => Verify.NoDiagnosticsAsync<SaturatingHiddenActivationAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(8), LeakyReLU]
        [Dense(1), Sigmoid, MeanSquaredError]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0101_fix_replaces_the_activation_by_ReLU() => VerifyFix.FixAsync<SaturatingHiddenActivationAnalyzer, UseReLUCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), [|Tanh(Name = "act")|], Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU(Name = "act"), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0101_fix_keeps_qualification_and_suffix() => VerifyFix.FixAsync<SaturatingHiddenActivationAnalyzer, UseReLUCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), [|Kiln.SigmoidAttribute|], Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), Kiln.ReLUAttribute, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0101_fix_all_in_document_and_project() => Task.WhenAll(
        VerifyFix.FixAllAsync<SaturatingHiddenActivationAnalyzer, UseReLUCodeFix>(new[] { """
            [Model(Input = 4, Seed = 1)]
            [Dense(8), [|Sigmoid|], Dense(8), [|Tanh|], Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class A;
            """ }, new[] { """
            [Model(Input = 4, Seed = 1)]
            [Dense(8), ReLU, Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class A;
            """ }, Microsoft.CodeAnalysis.CodeFixes.FixAllScope.Document),
        VerifyFix.FixAllAsync<SaturatingHiddenActivationAnalyzer, UseReLUCodeFix>(new[] { """
            [Model(Input = 4, Seed = 1)]
            [Dense(8), [|Sigmoid|], Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class A;
            """, """
            [Model(Input = 4, Seed = 1)]
            [Dense(8), [|Tanh|], Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class B;
            """ }, new[] { """
            [Model(Input = 4, Seed = 1)]
            [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class A;
            """, """
            [Model(Input = 4, Seed = 1)]
            [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class B;
            """ }, Microsoft.CodeAnalysis.CodeFixes.FixAllScope.Project));

    // ---------------------------------------------------------------- KLN0102 redundant sequences

    [Fact]
    public Task KLN0102_two_activations_and_two_linear_layers() => Verify.AnalyzerAsync<RedundantLayerSequenceAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.2), [|ELU|]]
        [Dense(8), BatchNorm, [|Dense(8)|], ReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0102_activation_after_batchnorm_and_single_output_dense_are_fine() => Verify.NoDiagnosticsAsync<RedundantLayerSequenceAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, BatchNorm, ReLU, Dropout(0.2)]
        [Dense(8), Tanh, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    // ---------------------------------------------------------------- KLN0103 double softmax / sigmoid

    [Fact]
    public Task KLN0103_softmax_before_softmax_cross_entropy() => Verify.AnalyzerAsync<DoubleSquashingAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), [|Softmax|], SoftmaxCrossEntropy]
        [Adam]
        public partial class M;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(1), [|Sigmoid|]]
        [BinaryCrossEntropy]
        [Adam]
        public partial class B;
        """, generate: false);

    [Fact]
    public Task KLN0103_softmax_before_mse_is_not_double() => Verify.NoDiagnosticsAsync<DoubleSquashingAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), Softmax, MeanSquaredError]
        [Adam]
        public partial class M;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), Sigmoid, Dense(1), BinaryCrossEntropy]
        [Adam]
        public partial class B;
        """, generate: false);

    [Fact]
    public Task KLN0103_fix_removes_the_softmax_from_its_list() => VerifyFix.FixAsync<DoubleSquashingAnalyzer, RemoveLayerCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), [|Softmax|], SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0103_fix_removes_a_list_of_its_own() => VerifyFix.FixAsync<DoubleSquashingAnalyzer, RemoveLayerCodeFix>("""
        namespace N
        {
            [Model(Input = 4, Seed = 1)]
            [Dense(8), ReLU]
            [Dense(3)]
            [[|Softmax|]]
            [SoftmaxCrossEntropy]
            [Adam]
            public partial class M;
        }
        """, """
        namespace N
        {
            [Model(Input = 4, Seed = 1)]
            [Dense(8), ReLU]
            [Dense(3)]
            [SoftmaxCrossEntropy]
            [Adam]
            public partial class M;
        }
        """);

    [Fact]
    public Task KLN0103_fix_removes_the_last_item_of_a_list() => VerifyFix.FixAsync<DoubleSquashingAnalyzer, RemoveLayerCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), [|Softmax|]]
        [SoftmaxCrossEntropy, Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3)]
        [SoftmaxCrossEntropy, Adam]
        public partial class M;
        """);

    // ---------------------------------------------------------------- KLN0104 activation before the loss

    [Fact]
    public Task KLN0104_hidden_style_activation_at_the_output() => Verify.AnalyzerAsync<OutputActivationBeforeLossAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), [|ReLU|], SoftmaxCrossEntropy]
        [Adam]
        public partial class M;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), [|Softmax|], MulticlassHinge]
        [Adam]
        public partial class H;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), [|ReLU|], MeanSquaredError]
        [Adam]
        public partial class R;
        """, generate: false);

    [Fact]
    public Task KLN0104_raw_scores_bounded_regression_and_double_softmax_are_not_reported() => Verify.NoDiagnosticsAsync<OutputActivationBeforeLossAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), Tanh, MeanSquaredError]
        [Adam]
        public partial class R;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), Softmax, SoftmaxCrossEntropy]
        [Adam]
        public partial class D;
        """, generate: false);

    [Fact]
    public Task KLN0104_fix_removes_the_activation() => VerifyFix.FixAsync<OutputActivationBeforeLossAnalyzer, RemoveLayerCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), [|ReLU|], SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);
}
