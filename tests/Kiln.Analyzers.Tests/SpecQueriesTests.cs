using System.Linq;
using System.Threading.Tasks;
using Kiln.Analyzers.Tests.Harness;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// The structural queries the spec rules share (Analyzers/Infrastructure/SpecQueries.cs): shapes against hand-computed
/// (C, H, W) values, the rows a strided window reads and the share of padding it reads against counts done by hand, and
/// residual-branch ownership.
/// </summary>
public class SpecQueriesTests
{
    private static ParsedModel Parse(string model)
    {
        Compilation compilation = AnalyzerHarness.Compile(AnalyzerHarness.Prelude + model);
        INamedTypeSymbol type = compilation.GetTypeByMetadataName("M")!;
        ParsedModel parsed = ModelSpecParser.ParseDetailed(type, default);
        Assert.Empty(parsed.Result.Diagnostics);
        return parsed;
    }

    [Fact]
    public void Input_shapes_follow_strides_padding_dilation_pooling_and_flattening()
    {
        ParsedModel parsed = Parse("""
            [Model(InputShape = new[] { 3, 17, 17 }, Seed = 1)]
            [Conv2D(8, 3, Stride = 2, Padding = 1), ReLU]      // (17 + 2 − 3)/2 + 1 = 9
            [Conv2D(8, 3, Dilation = 2), MaxPool(2, Stride = 1)] // 9 − 5 + 1 = 5; 5 − 2 + 1 = 4
            [Conv2D(4, 1, KernelHeight = 3), AvgPool(2)]        // 2×4, then 1×2
            [Flatten, Dense(6), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class M;
            """);
        ModelSpec spec = parsed.Spec!;
        string[] shapes = SpecQueries.InputShapes(parsed).Select(s => s.ToString()).ToArray();
        Assert.Equal(new[] { "3×17×17", "8×9×9", "8×9×9", "8×5×5", "8×4×4", "4×2×4", "4×1×2", "8", "6", "6", "2" }, shapes);
        Assert.Equal(3 * 3 * 3, SpecQueries.FanIn(spec.Layers[0], SpecQueries.InputShapes(parsed)[0]));
        Assert.Equal(8, SpecQueries.FanIn(spec.Layers[7], SpecQueries.InputShapes(parsed)[7]));
    }

    [Fact]
    public void Global_pooling_and_residual_blocks_keep_the_parser_s_shapes()
    {
        ParsedModel parsed = Parse("""
            [Model(InputShape = new[] { 4, 8, 8 }, Seed = 1)]
            [Residual(Projection = true), Conv2D(8, 4, Stride = 2, Padding = 1), ReLU, Conv2D(8, 3, Padding = 1), EndResidual, ReLU]
            [GlobalAvgPool, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class M;
            """);
        ModelSpec spec = parsed.Spec!;
        SpecQueries.Shape[] shapes = SpecQueries.InputShapes(parsed);
        Assert.Equal("8×4×4", shapes[5].ToString()); // after EndResidual: the branch's shape
        Assert.Equal("8", shapes[7].ToString());     // after GlobalAvgPool: one value per channel
        Assert.Equal(new[] { -1, 0, 0, 0, -1, -1, -1, -1 }, SpecQueries.BranchOpeners(spec));
        Assert.True(SpecQueries.EndsResidualBranch(spec, 3));
        Assert.False(SpecQueries.EndsResidualBranch(spec, 1));
        Assert.False(SpecQueries.EndsResidualBranch(spec, 7));
    }

    [Fact]
    public void Rows_read_and_padding_share_match_hand_counts()
    {
        ParsedModel parsed = Parse("""
            [Model(InputShape = new[] { 1, 9, 9 }, Seed = 1)]
            [Conv2D(2, 1, Stride = 2), Conv2D(2, 2, Dilation = 3, Stride = 3, Padding = 1), ReLU, MaxPool(2), Conv2D(2, 3, Padding = 1)]
            [Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class M;
            """);
        ModelSpec spec = parsed.Spec!;
        SpecQueries.Shape[] shapes = SpecQueries.InputShapes(parsed);
        // 1×1, stride 2 over 9 rows: rows 0, 2, 4, 6, 8.
        Assert.Equal(5, SpecQueries.RowsRead(spec.Layers[0], 9, 1));
        // 5 rows, padding 1, taps k·3 − 1 + 3o for o = 0, 1: −1, 2 | 2, 5 → rows {2} inside [0, 5) twice, 5 is padding.
        Assert.Equal("2×5×5", shapes[1].ToString());
        Assert.Equal(1, SpecQueries.RowsRead(spec.Layers[1], 5, 2));
        // After 2×2 → MaxPool(2): 1×1; a 3×3 window with padding 1 on it reads 1 real value of 9.
        Assert.Equal("2×1×1", shapes[4].ToString());
        Assert.Equal(8.0 / 9, SpecQueries.PaddingShare(spec.Layers[4], shapes[4]), 12);
        // A 3×3 window with padding 1 on 9×9 (first conv's input): per axis 25 of 27 taps inside.
        Assert.Equal(1 - (25.0 / 27) * (25.0 / 27), SpecQueries.PaddingShare(spec.Layers[4], shapes[0]), 12);
    }

    [Fact]
    public async Task Absurd_window_arguments_neither_throw_nor_hang()
    {
        // Spec errors (the generator's) with values that overflow int arithmetic or would mean billions of taps.
        const string model = """
            [Model(InputShape = new[] { 1, 3000001, 3000001 }, Seed = 1, MaxBatch = 1)]
            [Conv2D(2, 1, Stride = 2), Conv2D(2, 2147483647, Dilation = 2147483647, Padding = 2147483647), MaxPool(1000000, Stride = 1, Padding = 999999)]
            [FractionalMaxPool(1.5), Conv2D(2, 3, Padding = 1, Stride = 2), Flatten, Dense(2), Softmax, MeanSquaredError]
            [Adam]
            public partial class M;
            """;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(new[] { AnalyzerHarness.Prelude + model }, generate: false);
        run.AssertNoFailures();
        Assert.True(watch.Elapsed < System.TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
    }
}
