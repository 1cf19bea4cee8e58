using System.Text.RegularExpressions;

namespace Kiln.Generator.Tests;

/// <summary>
/// BatchNorm2D → element-wise activation → 2×2 stride-2 max pool runs fused in training (one forward stage that pools, one
/// backward stage that scatters the pooled gradient); every other sequence keeps the separate BatchNorm and pool passes.
/// </summary>
public class TrainingPoolFusionTests
{
    private static string Generate(string layers)
    {
        string source = $$"""
            using Kiln;

            [Model(InputShape = new[] { 3, 12, 12 }, MaxBatch = 16)]
            {{layers}}
            [Flatten, Dense(3), SoftmaxCrossEntropy]
            [Sgd]
            public partial class Probe;
            """;
        GeneratorRun run = GeneratorHarness.Run(source);
        Assert.Empty(run.GeneratorDiagnostics);
        return run.Sources["Probe.g.cs"];
    }

    private static string Method(string code, string name)
    {
        Match m = Regex.Match(code, $@"private void {name}\(\)[\s\S]*?\n        }}\n");
        Assert.True(m.Success, $"no {name}");
        return m.Value;
    }

    [Theory]
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2)]")]
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, Tanh, MaxPool(2, Stride = 2)]")]
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, MaxPool(2)]")]
    public void BatchNorm_activation_and_a_2x2_max_pool_fuse(string layers)
    {
        string code = Generate(layers);
        Assert.Contains("K::BatchNorm.NormalizeMaxPool2x2<TIsa, ", code);
        Assert.Contains("K::BatchNorm.MaxPool2x2BackwardSums<TIsa, ", code);
        Assert.DoesNotContain("Execute(Stages.Maxpool0Forward", Method(code, "ForwardTraining"));
        Assert.DoesNotContain("Pooling.MaxBackward", code);
        Assert.DoesNotContain("Execute(Stages.Maxpool0Backward", Method(code, "Backward"));
    }

    [Theory]
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU]")]                                 // no pool
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU, AvgPool(2)]")]                     // average pool
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU, MaxPool(3)]")]                     // not 2×2
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2, Stride = 1)]")]         // overlapping windows
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU, MaxPool(2, Padding = 1)]")]        // padded
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU, Dropout(0.2), MaxPool(2)]")]       // dropout in the chain
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, PReLU, MaxPool(2)]")]                    // activation with its own pass
    [InlineData("[Conv2D(8, 3, Padding = 1), ReLU, MaxPool(2)]")]                                // no BatchNorm
    [InlineData("[Conv2D(8, 3, Padding = 1), BatchNorm, ReLU, Residual, Conv2D(8, 3, Padding = 1), EndResidual, MaxPool(2)]")] // shortcut reads the pre-pool tensor
    [InlineData("[Residual, Conv2D(3, 3, Padding = 1), BatchNorm, ReLU, EndResidual, MaxPool(2)]")] // the chain ends a residual branch
    public void Other_sequences_keep_the_separate_passes(string layers)
    {
        string code = Generate(layers);
        Assert.DoesNotContain("NormalizeMaxPool2x2", code);
        Assert.DoesNotContain("MaxPool2x2BackwardSums", code);
        if (layers.Contains("MaxPool"))
        {
            Assert.Matches(@"Execute\(Stages\.Maxpool0Forward", Method(code, "ForwardTraining"));
            Assert.Contains("Pooling.MaxBackward", code);
        }
    }
}
