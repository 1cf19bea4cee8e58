using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Generator.Tests;

/// <summary>
/// Small feature-focused snapshots beside the whole-model ones: for one layer kind or one inference fusion, only what its
/// steps print (fields, initialisation, views, training forward, backward, inference; ModelEmitter.EmitFeature), so a
/// change to a layer's file shows up in its own snapshot. Flatten prints nothing (it is not a step).
/// </summary>
public class FeatureSnapshotTests
{
    /// <summary>(name, input, layer attributes, the layers whose steps are shown).</summary>
    private static readonly (string Name, string Input, string Layers, string[] Focus)[] Features =
    {
        // One per layer kind.
        ("Dense", "Input = 6", "[Dense(4, BiasInit = 0.1), Tanh, Dense(3)]", new[] { "dense0" }),
        ("DenseDropConnect", "Input = 6", "[Dense(8, DropConnect = 0.25), Tanh, Dense(3)]", new[] { "dense0" }),
        ("Conv2DShallow", "InputShape = new[] { 2, 6, 6 }", "[Conv2D(4, 3, Padding = 1), Tanh, Flatten, Dense(3)]", new[] { "conv0" }),
        ("Conv2DImplicitGemm", "InputShape = new[] { 8, 6, 6 }", "[Conv2D(4, 3, Padding = 1, Stride = 1), Tanh, Flatten, Dense(3)]", new[] { "conv0" }),
        ("Conv2DWinograd", "InputShape = new[] { 8, 6, 6 }", "[Conv2D(16, 3, Padding = 1), Tanh, Flatten, Dense(3)]", new[] { "conv0" }),
        ("Conv2DPointwise", "InputShape = new[] { 4, 5, 5 }", "[Conv2D(6, 1), Tanh, Flatten, Dense(3)]", new[] { "conv0" }),
        ("BatchNorm", "Input = 6", "[Dense(8), Tanh, BatchNorm, Dense(3)]", new[] { "bn0" }),
        ("BatchNorm2D", "InputShape = new[] { 2, 4, 4 }", "[Conv2D(4, 3, Padding = 1), Tanh, BatchNorm, Flatten, Dense(3)]", new[] { "bn0" }),
        ("Dropout", "Input = 6", "[Dense(8), ReLU, Dropout(0.3), Dense(3)]", new[] { "relu0" }),
        ("DropoutTestTime", "Input = 6", "[Dense(8), Tanh, Dense(8), Dropout(0.3, Scaling = DropoutScaling.TestTime), Dense(3)]", new[] { "dropout0" }),
        ("AlphaDropout", "Input = 6", "[Dense(8, Init = Init.LeCunNormal), SELU, AlphaDropout(0.1), Dense(3)]", new[] { "alphadropout0" }),
        ("DenseOrthogonal", "Input = 6", "[Dense(4, Init = Init.Orthogonal), Tanh, Dense(3)]", new[] { "dense0" }),
        ("LeakyReLU", "Input = 6", "[Dense(8), Tanh, LeakyReLU(0.2), Dense(3)]", new[] { "leakyrelu0" }),
        ("PReLU", "Input = 6", "[Dense(8), Tanh, PReLU(Init = 0.1), Dense(3)]", new[] { "prelu0" }),
        ("Softmax", "Input = 6", "[Dense(8), Tanh, Dense(3), Softmax]", new[] { "softmax0" }),
        ("MaxPool", "InputShape = new[] { 2, 6, 6 }", "[Conv2D(2, 1), MaxPool(2, Stride = 1), Flatten, Dense(3)]", new[] { "maxpool0" }),
        ("AvgPool", "InputShape = new[] { 2, 6, 6 }", "[Conv2D(2, 1), AvgPool(3, Stride = 1, Padding = 1), Flatten, Dense(3)]", new[] { "avgpool0" }),
        ("GlobalAvgPool", "InputShape = new[] { 2, 4, 4 }", "[Conv2D(4, 1), GlobalAvgPool, Dense(3)]", new[] { "globalavgpool0" }),
        ("FractionalMaxPool", "InputShape = new[] { 2, 8, 8 }", "[Conv2D(2, 1), FractionalMaxPool(1.5, TestDraws = 2), Flatten, Dense(3)]", new[] { "fractionalmaxpool0" }),
        ("LayerNorm", "Input = 6", "[Dense(8), LayerNorm, Tanh, Dense(3)]", new[] { "layernorm0" }),
        ("InstanceNorm", "InputShape = new[] { 2, 4, 4 }", "[Conv2D(4, 1), InstanceNorm, Flatten, Dense(3)]", new[] { "instancenorm0" }),
        ("GroupNorm", "InputShape = new[] { 2, 4, 4 }", "[Conv2D(4, 1), GroupNorm(2), Flatten, Dense(3)]", new[] { "groupnorm0" }),
        ("Maxout", "Input = 6", "[Dense(8), Maxout(3), Dense(3)]", new[] { "maxout0" }),
        ("Residual", "Input = 6", "[Dense(8), Residual(Survival = 0.8), Dense(8), Tanh, EndResidual, Dense(3)]", new[] { "residual0" }),
        ("ScalarBias", "Input = 6", "[Dense(8), ScalarBias, Tanh, Dense(3)]", new[] { "scalarbias0" }),
        ("Multiplier", "InputShape = new[] { 2, 4, 4 }", "[Conv2D(4, 1), Multiplier, Flatten, Dense(3)]", new[] { "multiplier0" }),
        ("ResidualFixup", "Input = 6", "[Fixup] [Dense(8), ReLU, Residual, Dense(8), ReLU, Dense(8), Multiplier, EndResidual, Residual, Dense(8), EndResidual, Dense(3)]", new[] { "dense1", "dense2", "dense3" }),
        ("ResidualProjection", "InputShape = new[] { 2, 4, 4 }", "[Conv2D(2, 1), Residual(Projection = true), Conv2D(4, 2, Stride = 2), EndResidual, Flatten, Dense(3)]", new[] { "residual0" }),
        // One per inference fusion (Planning/InferenceFusion.cs).
        ("FusionBatchNormFoldedReLU", "Input = 6", "[Dense(8), BatchNorm, ReLU, Dense(3)]", new[] { "dense0" }),
        ("FusionBatchNormFoldedPReLU", "Input = 6", "[Dense(8), BatchNorm, PReLU, Dense(3)]", new[] { "dense0" }),
        ("FusionConvPoolSplitDense", "InputShape = new[] { 8, 8, 8 }", "[Conv2D(4, 3, Padding = 1), ReLU, MaxPool(2), Flatten, Dense(3)]", new[] { "conv0", "dense0" }),
        ("FusionPoolIntoPaddedConv", "InputShape = new[] { 8, 8, 8 }", "[Conv2D(4, 3, Padding = 1), ReLU, MaxPool(2), Conv2D(4, 3, Padding = 1), Flatten, Dense(3)]", new[] { "conv0", "conv1" }),
        ("FusionWinogradTilePool", "InputShape = new[] { 8, 8, 8 }", "[Conv2D(16, 3, Padding = 1), ReLU, AvgPool(2), Flatten, Dense(3)]", new[] { "conv0" }),
    };

    public static IEnumerable<object[]> Names() => Features.Select(f => new object[] { f.Name });

    private static string Source((string Name, string Input, string Layers, string[] Focus) f) => $$"""
        using Kiln;

        [Model({{f.Input}}, MaxBatch = 32, Seed = 1)]
        {{f.Layers}}
        [SoftmaxCrossEntropy, Sgd(0.1)]
        public partial class {{f.Name}};
        """;

    [Theory]
    [MemberData(nameof(Names))]
    public void Feature_matches_snapshot(string name)
    {
        var feature = Features.Single(f => f.Name == name);
        string source = Source(feature);
        GeneratorHarness.Run(source).AssertNoGeneratorDiagnostics();

        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(source);
        INamedTypeSymbol type = compilation.GetTypeByMetadataName(name)!;
        ParseResult parsed = ModelSpecParser.Parse(type, default);
        Assert.NotNull(parsed.Spec);
        ModelPlan plan = Planner.Build(parsed.Spec!);
        var focus = new HashSet<string>(feature.Focus);
        string text = ModelEmitter.EmitFeature(plan, step => StepLayers(step).Any(focus.Contains));
        foreach (string layer in feature.Focus) Assert.Contains(layer, text);
        Snapshot.Verify(text, name);
    }

    /// <summary>The layers a step prints (both ends of a residual block go by the block's name).</summary>
    private static IEnumerable<string> StepLayers(StepPlan step) =>
        step is ResidualStartStep start ? new[] { start.Layer.Name } : step.Owner.DescribedLayers(step).Select(l => l.Name);
}
