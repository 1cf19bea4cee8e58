using Microsoft.CodeAnalysis;

namespace Kiln.Generator.Tests;

/// <summary>
/// Regression tests for generator bugs found by probing (crashes, uncompilable output, unlocated
/// KLN0000 errors); each now reports a located KLN diagnostic or generates compilable code.
/// </summary>
public class GeneratorIssueTests
{
    [Fact]
    public void Model_on_two_partial_declarations_does_not_crash_the_generator()
    {
        const string source = """
            using Kiln;

            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class Twice;

            [Model(Input = 4)]
            public partial class Twice;
            """;

        GeneratorRun run = GeneratorHarness.Run(source, TestModels.DigitsMlp);

        Assert.Null(run.Result.Exception);
        Assert.Contains("Samples.Digits.DigitsMlp.g.cs", run.Sources.Keys);
    }

    [Fact]
    public void Negative_seed_generates_compilable_code()
    {
        const string source = """
            using Kiln;

            [Model(Input = 4, Seed = -1)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class NegativeSeed;
            """;

        GeneratorRun run = GeneratorHarness.Run(source);

        run.AssertNoGeneratorDiagnostics();
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("""a\"b""")]
    [InlineData("""a\\b""")]
    public void Layer_names_that_break_generated_literals_are_diagnosed(string escapedName)
    {
        DiagnosticTests.AssertDiagnostics("BadName", $$"""
            [Model(Input = 4)]
            [Dense(2, {|KLN0012:Name = "{{escapedName}}"|}), SoftmaxCrossEntropy]
            [Sgd]
            public partial class BadName;
            """);
    }

    [Fact]
    public void Layer_names_that_collide_as_identifiers_are_diagnosed()
    {
        DiagnosticTests.AssertDiagnostics("PascalClash", """
            [Model(Input = 4)]
            [Dense(3, Name = "a_b"), Dense(2, {|KLN0012:Name = "aB"|}), SoftmaxCrossEntropy]
            [Sgd]
            public partial class PascalClash;
            """);
    }

    [Fact]
    public void Hyper_parameters_beyond_float_range_are_diagnosed()
    {
        DiagnosticTests.AssertDiagnostics("HugeLearningRate", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd({|KLN0008:1e300|})]
            public partial class HugeLearningRate;
            """);
    }

    [Fact]
    public void Out_of_range_enum_values_are_diagnosed()
    {
        DiagnosticTests.AssertDiagnostics("BadEnums", """
            [Model(Input = 4)]
            [Dense(4, {|KLN0008:Init = (Init)42|}), Dropout(0.5, {|KLN0008:Scaling = (DropoutScaling)7|}), Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class BadEnums;
            """);
    }

    [Fact]
    public void Sizes_that_overflow_the_arena_are_diagnosed()
    {
        DiagnosticTests.AssertDiagnostics("Huge", """
            [Model(Input = 100000)]
            [Dense({|KLN0008:100000|}), SoftmaxCrossEntropy]
            [Sgd]
            public partial class Huge;
            """);
    }
}
