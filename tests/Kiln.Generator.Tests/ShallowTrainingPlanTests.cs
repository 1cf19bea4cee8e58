namespace Kiln.Generator.Tests;

/// <summary>
/// Which convolutions train by the shallow kernels (ConvPlan.ShallowTraining): those whose small-batch inference takes
/// the register-tile kernel (a kernel row under 16 floats) with dilation 1, no DropConnect and no Winograd training. They
/// get the per-sample dW stages and no im2col buffer; every other convolution keeps im2col + GEMM (or Winograd) unchanged.
/// </summary>
public class ShallowTrainingPlanTests
{
    [Theory]
    [InlineData("Conv2D(16, 5, Padding = 2)", 1, Path.Shallow)]                      // the benchmark CNN's first layer: 5-float kernel rows
    [InlineData("Conv2D(4, 3, Padding = 1)", 2, Path.Shallow)]                       // 6-float rows
    [InlineData("Conv2D(8, 4, Stride = 2)", 3, Path.Shallow)]                        // stride 2, no padding: reads the input itself
    [InlineData("Conv2D(16, 5, Padding = 2)", 4, Path.Im2Col)]                       // 20-float rows: the implicit GEMM's layer
    [InlineData("Conv2D(16, 3, Padding = 1)", 8, Path.Winograd)]                     // Winograd
    [InlineData("Conv2D(8, 3, Dilation = 2, Padding = 2)", 1, Path.Im2Col)]          // dilated: a kernel row's taps are not consecutive
    [InlineData("Conv2D(8, 3, Padding = 1, DropConnect = 0.2)", 1, Path.Im2Col)]     // DropConnect masks dW in the GEMM path
    public void A_convolution_trains_by_the_shallow_kernels_when_its_shape_allows(string conv, int channels, Path path)
    {
        string code = Generate(ProbeSource(conv, channels));
        AssertPath(code, "conv0", path, $"{conv} on {channels} channels");
    }

    /// <summary>A model of one convolution (then ReLU and a Dense) on a <paramref name="channels"/>×10×10 input.</summary>
    internal static string ProbeSource(string conv, int channels) => $$"""
        using Kiln;

        [Model(InputShape = new[] { {{channels}}, 10, 10 }, MaxBatch = 32)]
        [{{conv}}, ReLU, Flatten]
        [Dense(3), SoftmaxCrossEntropy]
        [Sgd]
        public partial class Probe;
        """;

    /// <summary>The generated source of the model Probe; fails on a generator diagnostic or a compile error or warning in it.</summary>
    internal static string Generate(string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);
        Assert.Empty(run.GeneratorDiagnostics);
        run.AssertOutputCompilesCleanly();
        return run.Sources["Probe.g.cs"];
    }

    [Fact]
    public void Only_the_shallow_layers_of_a_network_take_it()
    {
        const string source = """
            using Kiln;

            [Model(InputShape = new[] { 1, 12, 12 }, MaxBatch = 16)]
            [Conv2D(8, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
            [Conv2D(16, 3, Padding = 1), ReLU]
            [Conv2D(16, 1), ReLU, Flatten]
            [Dense(3), SoftmaxCrossEntropy]
            [Adam]
            public partial class Probe;
            """;
        string code = Generate(source);
        AssertPath(code, "conv0", Path.Shallow, "1-channel 5×5");
        AssertPath(code, "conv1", Path.Winograd, "8-channel 3×3");
        // A 1×1 convolution with 16 channels is a plain GEMM on its input: no im2col buffer and no shallow path either.
        Assert.DoesNotContain("Conv2WeightSums", code);
        Assert.DoesNotContain("// conv2 im2col patches", code);
    }

    /// <summary>How a convolution trains: shallow kernels, im2col + GEMM (its patch buffer kept for dW), or Winograd (patches rebuilt for dW).</summary>
    public enum Path { Shallow, Im2Col, Winograd }

    private static void AssertPath(string code, string layer, Path path, string ctx)
    {
        bool shallow = path == Path.Shallow;
        string pascal = char.ToUpperInvariant(layer[0]) + layer[1..];
        Assert.True(code.Contains($"private void {pascal}WeightSums<TIsa>") == shallow, $"{ctx}: {pascal}WeightSums stage {(shallow ? "missing" : "present")}");
        Assert.True(code.Contains($"// {layer} dW of each sample") == shallow, $"{ctx}: per-sample dW slots {(shallow ? "missing" : "present")}");
        Assert.True(code.Contains($"// {layer} im2col patches") == (path == Path.Im2Col), $"{ctx}: im2col buffer {(path == Path.Im2Col ? "missing" : "present")}");
        Assert.True(code.Contains($"// {layer} Winograd weights U") == (path == Path.Winograd), $"{ctx}: Winograd training {(path == Path.Winograd ? "missing" : "present")}");
        if (shallow) Assert.Contains("K::ShallowConvTraining.BackwardWeights<TIsa>(", code);
    }
}
