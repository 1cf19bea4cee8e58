using System.IO;
using Kiln.Training;

namespace Kiln.Runtime.Tests;

/// <summary>The once-per-process warning when a model from an unoptimised (Debug) assembly is trained.</summary>
public class DebugBuildNoticeTests
{
    [Fact]
    public void Reads_the_optimisation_flag_the_compiler_wrote()
    {
        Assert.False(DebugBuildNotice.IsUnoptimized(typeof(object).Assembly));   // CoreLib is optimised
#if DEBUG
        Assert.True(DebugBuildNotice.IsUnoptimized(typeof(DebugBuildNoticeTests).Assembly));
#else
        Assert.False(DebugBuildNotice.IsUnoptimized(typeof(DebugBuildNoticeTests).Assembly));
#endif
    }

    [Fact]
    public void Message_names_the_model_and_the_fix_only_for_an_unoptimised_assembly()
    {
        var model = new FakeModel(4, 2);
        string? message = DebugBuildNotice.Message(model, environmentValue: null);
#if DEBUG
        Assert.NotNull(message);
        Assert.Contains(model.ModelName, message);
        Assert.Contains("-c Release", message);
        Assert.Contains(DebugBuildNotice.EnvironmentVariable, message);
#else
        Assert.Null(message);
#endif
        Assert.Null(DebugBuildNotice.Message(model, environmentValue: "1"));
    }

    [Fact]
    public void An_unoptimised_runtime_is_reported_as_many_times_slower()
    {
        var model = new FakeModel(4, 2);
        string? message = DebugBuildNotice.Message(model, environmentValue: null, runtimeUnoptimized: true);
        Assert.NotNull(message);
        Assert.Contains("Kiln.Runtime", message);
        Assert.Contains("many times slower", message);
        Assert.Null(DebugBuildNotice.Message(model, environmentValue: "true", runtimeUnoptimized: true));
    }

    [Fact]
    public void Writes_nothing_for_an_optimised_model()
    {
        var error = new StringWriter();
        DebugBuildNotice.WarnOnce(new FakeModel(4, 2), error);
#if DEBUG
        // Another test may already have warned in this process; at most one line is ever written.
        Assert.True(error.ToString().Split('\n', System.StringSplitOptions.RemoveEmptyEntries).Length <= 1);
#else
        Assert.Equal("", error.ToString());
#endif
    }
}
