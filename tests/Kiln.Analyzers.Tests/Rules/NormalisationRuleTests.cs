using System.Linq;
using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;
using Kiln.CodeFixes;
using Microsoft.CodeAnalysis;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>KLN0108–KLN0112, KLN0312, KLN0123: BatchNorm, dropout and SELU.</summary>
public class NormalisationRuleTests
{
    [Fact]
    public Task KLN0108_bias_right_before_batchnorm() => Verify.AnalyzerAsync<BiasBeforeBatchNormAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [[|Dense(8)|], BatchNorm, ReLU]
        [Dense(8, [|Bias = true|]), BatchNorm, ReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0108_no_bias_or_no_batchnorm_is_fine() => Verify.NoDiagnosticsAsync<BiasBeforeBatchNormAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), BatchNorm, ReLU]
        [Dense(8), ReLU, BatchNorm]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0108_fix_appends_Bias_false() => VerifyFix.FixAsync<BiasBeforeBatchNormAnalyzer, DisableBiasCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [[|Dense(8, Init = Init.HeNormal)|], BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.HeNormal, Bias = false), BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0108_fix_turns_Bias_true_into_false() => VerifyFix.FixAsync<BiasBeforeBatchNormAnalyzer, DisableBiasCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, [|Bias = true|]), BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0109_batchnorm_after_the_activation() => Verify.AnalyzerAsync<BatchNormAfterActivationAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, [|BatchNorm|]]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0109_batchnorm_before_the_activation_or_on_the_input_is_fine() => Verify.NoDiagnosticsAsync<BatchNormAfterActivationAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [BatchNorm, Dense(8), BatchNorm, ReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0109_fix_swaps_batchnorm_and_activation() => VerifyFix.FixAsync<BatchNormAfterActivationAnalyzer, ReorderLayersCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), ReLU(Name = "act"), [|BatchNorm(Momentum = 0.01)|]]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), BatchNorm(Momentum = 0.01), ReLU(Name = "act")]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0110_dropout_before_batchnorm() => Verify.AnalyzerAsync<DropoutBeforeBatchNormAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), [|Dropout(0.3)|], BatchNorm, ReLU]
        [Dense(8), ReLU, [|Dropout(0.2)|], BatchNorm]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0110_dropout_at_the_end_of_a_block_is_fine() => Verify.NoDiagnosticsAsync<DropoutBeforeBatchNormAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), BatchNorm, ReLU, Dropout(0.2)]
        [Dense(8, Bias = false), BatchNorm, ReLU, Dropout(0.2)]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0110_fix_moves_the_dropout_after_batchnorm_and_activation_across_lists() => VerifyFix.FixAsync<DropoutBeforeBatchNormAnalyzer, ReorderLayersCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), [|Dropout(0.3)|]]
        [BatchNorm, ReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), BatchNorm]
        [ReLU, Dropout(0.3)]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0110_fix_all_in_document() => VerifyFix.FixAllAsync<DropoutBeforeBatchNormAnalyzer, ReorderLayersCodeFix>(new[] { """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), [|Dropout(0.3)|], BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class A;

        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), ReLU, [|Dropout(0.3)|], BatchNorm, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class B;
        """ }, new[] { """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), BatchNorm, ReLU, Dropout(0.3), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class A;

        [Model(Input = 4, Seed = 1)]
        [Dense(8, Bias = false), ReLU, BatchNorm, Dropout(0.3), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class B;
        """ }, Microsoft.CodeAnalysis.CodeFixes.FixAllScope.Document);

    [Fact]
    public Task KLN0111_dropout_rate_above_one_half() => Verify.AnalyzerAsync<HighDropoutRateAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout([|0.7|])]
        [Dense(8), ReLU, Dropout([|rate: 0.51|])]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0111_half_and_invalid_rates_are_not_reported() => Verify.NoDiagnosticsAsync<HighDropoutRateAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.5)]
        [Dense(8), ReLU, Dropout(1.0)]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0112_dropout_without_scaling() => Verify.AnalyzerAsync<UnscaledDropoutAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.3, [|Scaling = DropoutScaling.None|])]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0112_inverted_and_vanilla_are_scaled() => Verify.NoDiagnosticsAsync<UnscaledDropoutAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.3), Dense(8), ReLU, Dropout(0.3, Scaling = DropoutScaling.TestTime)]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0112_fix_uses_inverted_dropout() => VerifyFix.FixAsync<UnscaledDropoutAnalyzer, InvertedDropoutCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.3, [|Scaling = DropoutScaling.None|]), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.3, Scaling = DropoutScaling.Inverted), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0312_vanilla_dropout() => Verify.AnalyzerAsync<TestTimeDropoutAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.3, [|Scaling = DropoutScaling.TestTime|]), Dense(8), ReLU, Dropout(0.3)]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0312_fix_uses_inverted_dropout() => VerifyFix.FixAsync<TestTimeDropoutAnalyzer, InvertedDropoutCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.3, [|Scaling = DropoutScaling.TestTime|]), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.3, Scaling = DropoutScaling.Inverted), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0123_selu_with_batchnorm_or_dropout() => Verify.AnalyzerAsync<SeluCombinationAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.LeCunNormal), [|BatchNorm|], SELU, [|Dropout(0.1)|]]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public async Task KLN0123_message_points_to_AlphaDropout()
    {
        AnalysisRun run = await Verify.AnalyzerAsync<SeluCombinationAnalyzer>("""
            [Model(Input = 4, Seed = 1)]
            [Dense(8, Init = Init.LeCunNormal), SELU, [|Dropout(0.05)|]]
            [Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class M;
            """, generate: false);
        string message = run.Diagnostics.Single(d => d.Id == "KLN0123").GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("[AlphaDropout(0.05)]", message);
    }

    [Fact]
    public Task KLN0123_fix_uses_AlphaDropout() => VerifyFix.FixAsync<SeluCombinationAnalyzer, UseAlphaDropoutCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.LeCunNormal), SELU, [|Dropout(0.1, Scaling = DropoutScaling.Inverted, Name = "drop")|]]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1, Name = "drop")]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public async Task KLN0123_fix_is_not_offered_on_BatchNorm() => Assert.Empty(await VerifyFix.TitlesAsync<SeluCombinationAnalyzer, UseAlphaDropoutCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.LeCunNormal), [|BatchNorm|], SELU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """));

    [Fact]
    public async Task KLN0123_selu_with_alpha_dropout_is_clean()
    {
        AnalysisRun run = await Verify.NoDiagnosticsAsync<SeluCombinationAnalyzer>("""
            [Model(Input = 4, Seed = 1)]
            [Dense(8, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1), Dense(8, Init = Init.LeCunNormal), SELU, AlphaDropout(0.05)]
            [Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class M;
            """);
        // The model is valid and the generator built both AlphaDropout layers, so the silence above is the rule's, not a
        // parse failure's or an ignored attribute's.
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        string generated = string.Concat(run.Compilation.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", System.StringComparison.Ordinal)).Select(t => t.ToString()));
        Assert.Contains("\"alphadropout1\"", generated);
    }

    [Fact]
    public Task KLN0123_plain_selu_and_relu_with_batchnorm_are_fine() => Verify.NoDiagnosticsAsync<SeluCombinationAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.LeCunNormal), SELU, Dense(8, Init = Init.LeCunNormal), SELU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class S;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), BatchNorm, ReLU, Dropout(0.2)]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class R;
        """, generate: false);
}
