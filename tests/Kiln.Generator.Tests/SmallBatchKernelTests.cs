using System.Text.RegularExpressions;

namespace Kiln.Generator.Tests;

/// <summary>
/// The plan's choice of small-batch convolution kernel, read from the generated inference stage of each convolution:
/// Winograd for 3×3 / 5×5 stride-1 kernels with at least 8 input channels and 16 filters, the register-tile kernel for
/// kernel rows under 16 floats, the implicit GEMM otherwise.
/// </summary>
public class SmallBatchKernelTests
{
    [Theory]
    [InlineData("Conv2D(16, 5, Padding = 2)", 8, "WinogradConv")]     // 5×5, 8 channels, 16 filters
    [InlineData("Conv2D(32, 3, Padding = 1)", 16, "WinogradConv")]    // 3×3
    [InlineData("Conv2D(16, 3)", 8, "WinogradConv")]                  // unpadded: reads the input itself
    [InlineData("Conv2D(16, 5, Padding = 2)", 4, "DirectConv")]       // too few channels for the transforms to pay (kernel row 20 floats)
    [InlineData("Conv2D(8, 3, Padding = 1)", 16, "DirectConv")]       // too few filters
    [InlineData("Conv2D(16, 4, Stride = 2, Padding = 1)", 16, "DirectConv")]
    [InlineData("Conv2D(16, 3, Dilation = 2, Padding = 2)", 16, "DirectConv")]
    [InlineData("Conv2D(16, 7, Padding = 3)", 16, "DirectConv")]      // no 7×7 transform
    [InlineData("Conv2D(16, 3, Padding = 1)", 2, "ShallowConv")]      // kernel row of 6 floats
    public void Each_convolution_gets_the_kernel_its_shape_calls_for(string conv, int channels, string kernel)
    {
        GeneratorRun run = GeneratorHarness.Run(ShallowTrainingPlanTests.ProbeSource(conv, channels));
        Assert.Empty(run.GeneratorDiagnostics);
        string code = run.Sources["Probe.g.cs"];
        Match stage = Regex.Match(code, @"private void Conv0Inference<TIsa>[\s\S]*?\n        }\n");
        Assert.True(stage.Success, "no Conv0Inference stage");
        string[] kernels = { "WinogradConv", "DirectConv", "ShallowConv" };
        foreach (string k in kernels)
        {
            bool used = stage.Value.Contains($"K::{k}.Forward<");
            Assert.True(used == (k == kernel), $"{conv} on {channels} channels: {k}.Forward {(used ? "used" : "not used")}");
        }
        // Winograd's transformed weights exist exactly when a convolution uses it, and are refreshed with the other inference weights.
        Assert.Equal(kernel == "WinogradConv", code.Contains("WinogradConv.TransformWeights(Conv0Weight, _winograd.Slice(0, "));
        Assert.Equal(kernel == "WinogradConv", code.Contains("if (_inferenceWeightsStale) PrepareInferenceWeights();"));
        run.AssertOutputCompilesCleanly();
    }
}
