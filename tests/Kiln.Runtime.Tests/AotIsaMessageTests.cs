namespace Kiln.Runtime.Tests;

/// <summary>
/// A Native AOT image sees only the instruction sets it was published for, so refusing an ISA path there must say how
/// to publish for it rather than blame the CPU (docs/training.md, "Native AOT").
/// </summary>
public class AotIsaMessageTests
{
    [Fact]
    public void Under_the_jit_an_unsupported_path_is_the_cpus()
    {
        string message = KilnIsa.UnsupportedMessage(IsaPath.Avx512, jit: true);
        Assert.Contains("Avx512 is not supported by this CPU", message);
        Assert.Contains($"best available: {KilnIsa.Best}", message);
        Assert.DoesNotContain("IlcInstructionSet", message);
    }

    [Fact]
    public void In_a_native_aot_image_the_message_names_the_publish_setting()
    {
        string message = KilnIsa.UnsupportedMessage(IsaPath.Avx2, jit: false);
        Assert.Contains("Avx2 is not available in this Native AOT build", message);
        Assert.Contains("IlcInstructionSet=x86-64-v4", message);
        Assert.Contains("x86-64-v3 for AVX2", message);
        Assert.Contains("docs/training.md", message);
    }

    [Fact]
    public void This_test_process_runs_under_the_jit()
    {
        // The branch Validate takes in tests; the AOT branch is reached only from a published image.
        Assert.True(System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled);
        Assert.Equal(KilnIsa.Best, KilnIsa.Validate(KilnIsa.Best));
    }
}
