using System.Text.RegularExpressions;

namespace Kiln.Generator.Tests;

/// <summary>
/// Batch-1 Predict of a folded Dense with packed weights followed by the Dense that alone reads its output: the first
/// stage also computes the second one's partial products over each thread's columns, and the second stage only adds them
/// on the calling thread (Planning/InferenceFusion.cs, PairDenseLayers). Every other sequence keeps two separate products.
/// </summary>
public class BatchOneDensePairTests
{
    private static string Generate(string layers)
    {
        string source = $$"""
            using Kiln;

            [Model(Input = 512, MaxBatch = 32)]
            {{layers}}
            [SoftmaxCrossEntropy, Sgd]
            public partial class Probe;
            """;
        GeneratorRun run = GeneratorHarness.Run(source);
        Assert.Empty(run.GeneratorDiagnostics);
        return run.Sources["Probe.g.cs"];
    }

    private static string Method(string code, string name)
    {
        Match m = Regex.Match(code, $@"private void {name}\(int part, int parts\)[\s\S]*?\n        }}\n");
        Assert.True(m.Success, $"no {name}");
        return m.Value;
    }

    [Theory]
    [InlineData("[Dense(256), BatchNorm, ReLU, Dense(10)]", 64)]                                   // 4 panels × 16 floats
    [InlineData("[Dense(256), BatchNorm, ReLU, Dropout(0.3), Dense(10)]", 64)]                     // inverted dropout: identity at inference
    [InlineData("[Dense(384), BatchNorm, Tanh, Dense(128), BatchNorm, ReLU, Dense(10)]", 6 * 128)]
    [InlineData("[Dense(256), BatchNorm, Dense(512), BatchNorm, ReLU, Dense(10)]", 4 * 512)]       // no activation; the second one big enough to pack
    public void A_packed_dense_computes_the_next_ones_partial_products_at_batch_1(string layers, int partials)
    {
        string code = Generate(layers);
        Assert.Matches($@"if \(_batch == 1\) K::Gemm\.PartialForward<TIsa>\([\s\S]*?_batchOnePartial\d+\.Slice\(0, {partials}\)", Method(code, "Dense0Inference<TIsa>"));
        Assert.Matches(@"if \(part == 0\) K::Gemm\.SumParts<TIsa, [\s\S]*?_batchOnePartial\d+\.Slice", Method(code, "Dense1Inference<TIsa>"));
        // The sum runs on the calling thread at batch 1; the second layer keeps no packed copy (and pairs with nothing).
        Assert.Matches(@"Execute\(Stages\.Dense1Inference, _batch == 1 \? 0 :", code);
        Assert.DoesNotContain("// dense1, small batches", code);
        Assert.Single(Regex.Matches(code, @"private readonly K::Arena _batchOnePartial\d+ = new"));
    }

    [Theory]
    [InlineData("[Dense(256), BatchNorm, ReLU, Dropout(0.3, Scaling = DropoutScaling.TestTime), Dense(10)]")] // rescaled after the product
    [InlineData("[Dense(256), BatchNorm, PReLU, Dense(10)]")]                  // activation with its own pass
    [InlineData("[Dense(200), BatchNorm, ReLU, Dense(10)]")]                   // not whole panels
    [InlineData("[Dense(256), ReLU, Dense(10)]")]                              // nothing folded: no packed weights
    [InlineData("[Dense(64), BatchNorm, ReLU, Dense(10)]")]                    // one panel: not split at batch 1
    [InlineData("[Dense(256), BatchNorm, ReLU, Residual, Dense(256), EndResidual, Dense(10)]")] // the shortcut reads it too
    public void Other_sequences_keep_separate_products(string layers)
    {
        string code = Generate(layers);
        Assert.DoesNotContain("PartialForward", code);
        Assert.DoesNotContain("SumParts", code);
        Assert.DoesNotContain("_batchOnePartial", code);
    }
}
