using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;
using Kiln.CodeFixes;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>KLN0114–KLN0118, KLN0217, KLN0122, KLN0222: optimiser, penalties, batch size, seed and input normalisation.</summary>
public class OptimizerRuleTests
{
    private const string Layers = "[Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]";

    [Fact]
    public Task KLN0114_learning_rates_out_of_range() => Verify.AnalyzerAsync<LearningRateRangeAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Adam([|LearningRate = 0.1|])]
        public partial class A;

        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [AdamW([|1e-6|])]
        public partial class W;

        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Sgd([|2.0|])]
        public partial class S;

        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Nesterov([|LearningRate = 1.5|], Rho = 0.9)]
        public partial class N;
        """, generate: false);

    [Fact]
    public Task KLN0114_usual_rates_are_fine() => Verify.NoDiagnosticsAsync<LearningRateRangeAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Adam]
        public partial class A;

        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Momentum(1.0)]
        public partial class M;

        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [RMSProp(LearningRate = 1e-2)]
        public partial class R;
        """, generate: false);

    [Fact]
    public Task KLN0115_adagrad() => Verify.AnalyzerAsync<AdaGradLongRunAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [[|AdaGrad(0.01)|]]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0115_rmsprop_is_fine() => Verify.NoDiagnosticsAsync<AdaGradLongRunAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [RMSProp]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0115_fix_uses_Adam() => VerifyFix.FixAsync<AdaGradLongRunAnalyzer, ReplaceAdaGradCodeFix>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [[|AdaGrad(0.01, Epsilon = 1e-7)|]]
        public partial class M;
        """, $$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Adam(0.01, Epsilon = 1e-7)]
        public partial class M;
        """);

    [Fact]
    public Task KLN0115_second_fix_uses_RMSProp() => VerifyFix.FixAsync<AdaGradLongRunAnalyzer, ReplaceAdaGradCodeFix>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [[|AdaGrad|]]
        public partial class M;
        """, $$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [RMSProp]
        public partial class M;
        """, actionIndex: 1);

    [Fact]
    public Task KLN0116_lbfgs_with_dropout() => Verify.AnalyzerAsync<LbfgsWithNoiseAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), Tanh, [|Dropout(0.2)|], Dense(2), SoftmaxCrossEntropy]
        [Lbfgs]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0116_lbfgs_without_noise_and_adam_with_dropout_are_fine() => Verify.NoDiagnosticsAsync<LbfgsWithNoiseAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), Tanh, Dense(2), SoftmaxCrossEntropy]
        [Lbfgs]
        public partial class L;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), Tanh, Dropout(0.2), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class A;
        """, generate: false);

    [Fact]
    public Task KLN0117_penalty_on_every_parameter() => Verify.AnalyzerAsync<DecayOnAllParametersAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Momentum(0.1), WeightDecay(1e-4, [|ApplyTo = PenaltyTarget.All|])]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0117_weights_only_is_fine() => Verify.NoDiagnosticsAsync<DecayOnAllParametersAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Momentum(0.1), L2(1e-4, ApplyTo = PenaltyTarget.Weights)]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0217_strong_penalty() => Verify.AnalyzerAsync<StrongWeightDecayAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [Adam, L2([|0.1|])]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0217_usual_penalties_and_adamw_decay_are_fine() => Verify.NoDiagnosticsAsync<StrongWeightDecayAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        {{Layers}}
        [AdamW(WeightDecay = 0.05), L1(1e-3)]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0118_large_batch_high_rate_without_warmup() => Verify.AnalyzerAsync<LargeBatchWithoutWarmupAnalyzer>($$"""
        [Model(Input = 4, Seed = 1, MaxBatch = 4096)]
        {{Layers}}
        [Momentum([|1.6|])]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0118_warmup_small_batch_or_modest_rate_is_fine() => Verify.NoDiagnosticsAsync<LargeBatchWithoutWarmupAnalyzer>($$"""
        [Model(Input = 4, Seed = 1, MaxBatch = 4096)]
        {{Layers}}
        [Momentum(1.6), Warmup(Steps = 2000)]
        public partial class W;

        [Model(Input = 4, Seed = 1, MaxBatch = 256)]
        {{Layers}}
        [Momentum(0.5)]
        public partial class S;

        [Model(Input = 4, Seed = 1, MaxBatch = 4096)]
        {{Layers}}
        [Adam(1e-3)]
        public partial class A;
        """, generate: false);

    [Fact]
    public Task KLN0122_no_seed() => Verify.AnalyzerAsync<NoSeedAnalyzer>($$"""
        [[|Model(Input = 4)|]]
        {{Layers}}
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0222_no_input_normalisation() => Verify.AnalyzerAsync<NoInputNormalizationAnalyzer>($$"""
        [[|Model(Input = 4, Seed = 1)|]]
        {{Layers}}
        [Adam]
        public partial class M;
        """, generate: false);

    [Theory]
    [InlineData("InputNormalization.None")]
    [InlineData("InputNormalization.PerFeature")]
    public Task KLN0222_any_declaration_is_fine(string normalization) => Verify.NoDiagnosticsAsync<NoInputNormalizationAnalyzer>($$"""
        [Model(Input = 4, Seed = 1, Normalize = {{normalization}})]
        {{Layers}}
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0222_fix_declares_per_feature_normalisation() => VerifyFix.FixAsync<NoInputNormalizationAnalyzer, DeclareNormalizationCodeFix>($$"""
        [[|Model(Input = 4, Seed = 1)|]]
        {{Layers}}
        [Adam]
        public partial class M;
        """, $$"""
        [Model(Input = 4, Seed = 1, Normalize = InputNormalization.PerFeature)]
        {{Layers}}
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0122_explicit_seed_even_zero_is_fine() => Verify.NoDiagnosticsAsync<NoSeedAnalyzer>($$"""
        [Model(Input = 4, Seed = 0)]
        {{Layers}}
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0122_fix_declares_the_seed_in_use() => VerifyFix.FixAsync<NoSeedAnalyzer, ExplicitSeedCodeFix>($$"""
        [[|Model(Input = 4, MaxBatch = 64)|]]
        {{Layers}}
        [Adam]
        public partial class M;
        """, $$"""
        [Model(Input = 4, MaxBatch = 64, Seed = 0)]
        {{Layers}}
        [Adam]
        public partial class M;
        """);
}
