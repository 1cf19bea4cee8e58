using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;
using Kiln.CodeFixes;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>KLN0105–KLN0107: weight initialisation.</summary>
public class InitRuleTests
{
    [Fact]
    public Task KLN0105_init_that_does_not_match_the_activation() => Verify.AnalyzerAsync<InitMismatchAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, [|Init = Init.XavierNormal|]), BatchNorm, ReLU]
        [Dense(8, [|Init = Init.GlorotUniform|]), LeakyReLU]
        [Dense(8, [|Init = Init.HeNormal|]), Tanh]
        [Dense(8, [|Init = Init.HeUniform|]), SELU]
        [Dense(8, [|Init = Init.LeCunNormal|]), Dropout(0.1), GELU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0105_matching_auto_and_fixed_scale_inits_are_fine() => Verify.NoDiagnosticsAsync<InitMismatchAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.HeNormal), BatchNorm, ReLU]
        [Dense(8, Init = Init.XavierUniform), Tanh]
        [Dense(8, Init = Init.LeCunNormal), SELU]
        [Dense(8, Init = Init.XavierNormal), SELU]
        [Dense(8), ReLU, Dense(8, Init = Init.Normal), ReLU]
        [Dense(2, Init = Init.GlorotUniform), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0105_fix_uses_He_for_ReLU() => VerifyFix.FixAsync<InitMismatchAnalyzer, MatchInitCodeFix>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, [|Init = Init.XavierUniform|]), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.HeUniform), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """);

    [Fact]
    public Task KLN0105_fix_uses_Xavier_for_tanh_and_LeCun_for_SELU() => VerifyFix.FixAllAsync<InitMismatchAnalyzer, MatchInitCodeFix>(new[] { """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, [|Init = Kiln.Init.HeNormal|]), Tanh]
        [Dense(8, [|Init = Init.GlorotNormal|]), SELU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """ }, new[] { """
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Kiln.Init.XavierNormal), Tanh]
        [Dense(8, Init = Init.LeCunNormal), SELU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """ }, Microsoft.CodeAnalysis.CodeFixes.FixAllScope.Document);

    [Fact]
    public Task KLN0106_constant_and_zero_init_of_hidden_layers() => Verify.AnalyzerAsync<SymmetricInitAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, [|Init = Init.Zeros|]), ReLU]
        [Dense(8, [|Init = Init.Constant|], InitScale = 0.1), ReLU]
        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0106_zero_init_of_the_output_layer_is_fine() => Verify.NoDiagnosticsAsync<SymmetricInitAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8, Init = Init.HeNormal), ReLU]
        [Dense(2, Init = Init.Zeros), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0107_small_gaussian_in_a_deep_network() => Verify.AnalyzerAsync<SmallFixedInitAnalyzer>("""
        [Model(Input = 256, Seed = 1)]
        [Dense(256, [|Init = Init.Normal|]), ReLU]
        [Dense(256, [|Init = Init.Normal|]), ReLU]
        [Dense(256, [|Init = Init.Normal|]), ReLU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class Collapsing;

        [Model(Input = 256, Seed = 1)]
        [Dense(256, [|Init = Init.Uniform|], InitScale = 0.5), Tanh]
        [Dense(256, [|Init = Init.Uniform|], InitScale = 0.5), Tanh]
        [Dense(256), ReLU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class Saturating;
        """, generate: false);

    [Fact]
    public Task KLN0107_shallow_nets_batchnorm_and_well_scaled_normals_are_fine() => Verify.NoDiagnosticsAsync<SmallFixedInitAnalyzer>("""
        [Model(Input = 256, Seed = 1)]
        [Dense(256, Init = Init.Normal), ReLU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class Shallow;

        [Model(Input = 256, Seed = 1)]
        [Dense(256, Init = Init.Normal), BatchNorm, ReLU]
        [Dense(256, Init = Init.Normal), BatchNorm, ReLU]
        [Dense(256, Init = Init.Normal), BatchNorm, ReLU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class Normalised;

        [Model(Input = 200, Seed = 1)]
        [Dense(200, Init = Init.Normal, InitScale = 0.1), ReLU]
        [Dense(200, Init = Init.Normal, InitScale = 0.1), ReLU]
        [Dense(200, Init = Init.Normal, InitScale = 0.1), ReLU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class HeScaled;
        """, generate: false);

    [Fact]
    public Task KLN0107_orthogonal_with_the_wrong_gain_in_a_deep_network() => Verify.AnalyzerAsync<SmallFixedInitAnalyzer>("""
        [Model(Input = 64, Seed = 1)]
        [Dense(64, [|Init = Init.Orthogonal|], InitScale = 0.5), ReLU]
        [Dense(64, [|Init = Init.Orthogonal|], InitScale = 0.5), ReLU]
        [Dense(64, [|Init = Init.Orthogonal|], InitScale = 0.5), ReLU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class Shrinking;
        """, generate: false);

    [Fact]
    public Task KLN0107_lsuv_or_orthogonal_with_the_right_gain_is_fine() => Verify.NoDiagnosticsAsync<SmallFixedInitAnalyzer>("""
        [Model(Input = 256, Seed = 1, MaxBatch = 64)]
        [Dense(256, Init = Init.Normal), ReLU, Dense(256, Init = Init.Normal), ReLU, Dense(256, Init = Init.Normal), ReLU]
        [Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class Rescaled;

        [Model(Input = 64, Seed = 1)]
        [Dense(64, Init = Init.Orthogonal), ReLU, Dense(64, Init = Init.Orthogonal, InitScale = 1.41), ReLU]
        [Dense(64, Init = Init.Orthogonal, InitScale = 1), Tanh, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class RightGain;

        public static class Run
        {
            public static TrainerOptions Options() => new TrainerOptions { Epochs = 3 } with { Lsuv = new LsuvOptions { Tolerance = 0.05 } };

            public static void Train(Dataset data) => Trainer.Fit(new Rescaled(), data, null, Options());
        }
        """);
}
