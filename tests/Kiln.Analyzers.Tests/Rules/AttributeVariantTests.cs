using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>
/// The rules whose values live on attributes (KLN0117, KLN0122, KLN0217, KLN0312), each written several independent ways:
/// positional vs named arguments, the Attribute suffix and a qualified name, other attribute orders and lists, constants,
/// other layer kinds where the rule applies; and the near misses next to each.
/// </summary>
public class AttributeVariantTests
{
    private const string Conv = """
        [Conv2D(4, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2)]
        [Flatten, Dense(3), SoftmaxCrossEntropy]
        """;

    // ---------------------------------------------------------------- KLN0117

    [Fact]
    public Task KLN0117_variants() => Verify.AnalyzerAsync<DecayOnAllParametersAnalyzer>($$"""
        public static class Hyper { public const double Lambda = 5e-4; }

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [L2(lambda: 1e-4, [|ApplyTo = PenaltyTarget.All|])]
        [Adam]
        public partial class NamedLambda;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Kiln.L1Attribute(Hyper.Lambda, [|ApplyTo = Kiln.PenaltyTarget.All|]), Momentum(0.1)]
        public partial class QualifiedWithSuffix;

        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        {{Conv}}
        [Momentum(0.05)]
        [ElasticNet(1e-4, Beta = 0.3, [|ApplyTo = PenaltyTarget.All|])]
        public partial class OnAConvNetWithBatchNorm;
        """, generate: false);

    [Fact]
    public Task KLN0117_near_misses() => Verify.NoDiagnosticsAsync<DecayOnAllParametersAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam, L2(0, ApplyTo = PenaltyTarget.All)]
        public partial class ZeroStrength;

        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        {{Conv}}
        [Momentum(0.05), WeightDecay(5e-4)]
        public partial class DefaultTarget;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [AdamW(WeightDecay = 0.05), L1Attribute(lambda: 1e-5, ApplyTo = PenaltyTarget.Weights)]
        public partial class WeightsSpelledOut;
        """, generate: false);

    // ---------------------------------------------------------------- KLN0217

    [Fact]
    public Task KLN0217_variants() => Verify.AnalyzerAsync<StrongWeightDecayAnalyzer>($$"""
        public static class Hyper { public const double Strong = 0.05; }

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [L1([|lambda: 0.2|], ApplyTo = PenaltyTarget.Weights)]
        [Adam]
        public partial class NamedLambdaWithTarget;

        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        {{Conv}}
        [Kiln.WeightDecayAttribute([|Hyper.Strong|]), Momentum(0.1)]
        public partial class QualifiedConstOnAConvNet;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [ElasticNet([|1e-1|], Beta = 0.9), Adam(1e-3)]
        public partial class ElasticNetFirst;
        """, generate: false);

    [Fact]
    public Task KLN0217_near_misses() => Verify.NoDiagnosticsAsync<StrongWeightDecayAnalyzer>($$"""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam, L2(lambda: 1e-2)]
        public partial class AtTheLimit;

        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        {{Conv}}
        [Kiln.L2Attribute(5e-4, ApplyTo = PenaltyTarget.All), Momentum(0.1)]
        public partial class UsualOnAConvNet;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [AdamW(1e-3, WeightDecay = 0.1)]
        public partial class DecoupledDecayIsNotAPenalty;
        """, generate: false);

    // ---------------------------------------------------------------- KLN0122

    [Fact]
    public Task KLN0122_variants() => Verify.AnalyzerAsync<NoSeedAnalyzer>($$"""
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [[|Model(MaxBatch = 32, Input = 4)|]]
        [Adam]
        public partial class ModelAttributeAfterTheLayers;

        [[|Kiln.ModelAttribute(InputShape = new[] { 1, 8, 8 })|]]
        {{Conv}}
        [Momentum(0.1)]
        public partial class QualifiedOnAConvNet;

        [Adam, [|Model(Input = 4, MaxBatch = 8)|], Dense(2), SoftmaxCrossEntropy]
        public partial class OneList;
        """, generate: false);

    [Fact]
    public Task KLN0122_near_misses() => Verify.NoDiagnosticsAsync<NoSeedAnalyzer>($$"""
        public static class Run { public const int Seed = 7; }

        [Model(Seed = Run.Seed, Input = 4)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class ConstSeedFirst;

        [Kiln.ModelAttribute(InputShape = new[] { 1, 8, 8 }, Seed = 0)]
        {{Conv}}
        [Momentum(0.1)]
        public partial class ZeroSeedOnAConvNet;

        [Dense(2), SoftmaxCrossEntropy]
        [Adam]
        [Model(Input = 4, MaxBatch = 8, Seed = 42)]
        public partial class SeedLast;
        """, generate: false);

    // ---------------------------------------------------------------- KLN0312

    [Fact]
    public Task KLN0312_variants() => Verify.AnalyzerAsync<TestTimeDropoutAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, MaxPool(2)]
        [Flatten, Dense(16), ReLU, Kiln.DropoutAttribute(0.5, [|Scaling = Kiln.DropoutScaling.TestTime|]), Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class QualifiedInAConvNetsHead;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(rate: 0.2, [|Scaling = DropoutScaling.TestTime|]), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class NamedRate;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU]
        [Dropout(0.1, Name = "drop", [|Scaling = DropoutScaling.TestTime|])]
        [Dense(2), SoftmaxCrossEntropy, Adam]
        public partial class OwnListWithAName;
        """, generate: false);

    [Fact]
    public Task KLN0312_near_misses() => Verify.NoDiagnosticsAsync<TestTimeDropoutAnalyzer>("""
        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(0.3, Scaling = DropoutScaling.Inverted), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class InvertedSpelledOut;

        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(4, 3, Padding = 1), ReLU, MaxPool(2)]
        [Flatten, Dense(16), SELU, AlphaDropout(0.05), Dense(3), SoftmaxCrossEntropy]
        [Adam]
        public partial class AlphaDropoutHasNoScaling;

        [Model(Input = 4, Seed = 1)]
        [Dense(8), ReLU, Dropout(rate: 0.2), Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class DefaultScaling;
        """, generate: false);
}
