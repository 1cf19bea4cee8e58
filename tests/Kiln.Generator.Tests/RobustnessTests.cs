using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Generator.Tests;

/// <summary>
/// The generator runs on every keystroke: half-typed models must never crash it. A crash would
/// surface as the compiler's "generator failed" warning (CS8785) with no output for the whole
/// compilation; Kiln must instead report KLN diagnostics or stay silent.
/// </summary>
public class RobustnessTests
{
    [Fact]
    public void Every_prefix_of_the_benchmark_model_is_handled()
    {
        string source = TestModels.BenchmarkMlp;
        SyntaxToken[] tokens = CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions)
            .GetRoot().DescendantTokens().Where(t => !t.IsKind(SyntaxKind.EndOfFileToken)).ToArray();
        Assert.True(tokens.Length > 50, $"Only {tokens.Length} tokens.");

        var failures = new List<string>();
        int withSource = 0, withDiagnostics = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            string prefix = source.Substring(0, tokens[i].Span.End);
            GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.EmptyCompilation.AddSyntaxTrees(
                GeneratorHarness.Parse(prefix, GeneratorHarness.SourcePath(0))));

            if (run.Result.Exception is { } exception)
                failures.Add($"cut after token {i} '{tokens[i].Text}': {exception.GetType().Name}: {exception.Message}");
            foreach (Diagnostic d in run.GeneratorDiagnostics)
            {
                if (!d.Id.StartsWith("KLN", StringComparison.Ordinal) || d.Id == Descriptors.InternalErrorId)
                    failures.Add($"cut after token {i} '{tokens[i].Text}': {d}");
            }
            if (run.Sources.Count > 0) withSource++;
            if (!run.GeneratorDiagnostics.IsEmpty) withDiagnostics++;
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
        // Sanity: the whole declaration generates, and many half-typed ones are diagnosed.
        Assert.True(withSource >= 1, "No prefix generated a model, not even the complete one.");
        Assert.True(withDiagnostics > 10, $"Only {withDiagnostics} prefixes were diagnosed.");
    }

    [Theory]
    [InlineData("[Model(Input = 4)] public partial class OnlyModel;")]
    [InlineData("[Model] [Dense(2), SoftmaxCrossEntropy] [Sgd] public partial class NoArguments;")]
    [InlineData("[Model(Input = 4)] [Dense(), SoftmaxCrossEntropy] [Sgd] public partial class MissingUnits;")]
    [InlineData("[Model(Input = 4)] [Dense(\"two\"), SoftmaxCrossEntropy] [Sgd] public partial class WrongArgumentType;")]
    [InlineData("[Model(Input = 4)] [Dense(2, Init = Init.Unknown), SoftmaxCrossEntropy] [Sgd] public partial class UnknownEnum;")]
    [InlineData("[Model(Input = 4)] [Dense(2), Conv2D(3), SoftmaxCrossEntropy] [Sgd] public partial class UnknownAttribute;")]
    [InlineData("[Model(Input = 4), Model(Input = 5)] [Dense(2), SoftmaxCrossEntropy] [Sgd] public partial class TwoModels;")]
    [InlineData("[Model(Input = 4, InputShape = null)] [Dense(2), SoftmaxCrossEntropy] [Sgd] public partial class NullShape;")]
    [InlineData("[Model(Input = 4)] [Dense(2), SoftmaxCrossEntropy] [Sgd] public partial struct AStruct;")]
    [InlineData("[Model(Input = 4)] [Dense(2), SoftmaxCrossEntropy] [Sgd] public partial record ARecord;")]
    [InlineData("public partial class Outer<T> { [Model(Input = 4)] [Dense(2), SoftmaxCrossEntropy] [Sgd] public partial class Inner; }")]
    [InlineData("[Model(Input = 4)] [Dense(2), SoftmaxCrossEntropy] [Sgd] public static partial class Static;")]
    [InlineData("[Model(Input = 4)] [Dense(2), SoftmaxCrossEntropy] [Sgd] public partial class Twice; [Model(Input = 4)] public partial class Twice;")]
    public void Malformed_declarations_never_crash(string declaration)
    {
        GeneratorRun run = GeneratorHarness.Run("using Kiln;\n\n" + declaration);

        Assert.Null(run.Result.Exception);
        Assert.All(run.GeneratorDiagnostics, d =>
        {
            Assert.StartsWith("KLN", d.Id, StringComparison.Ordinal);
            Assert.NotEqual(Descriptors.InternalErrorId, d.Id);
        });
    }

    [Fact]
    public void An_internal_failure_becomes_KLN0000_and_generates_nothing()
    {
        // An out-of-range enum value passes the parser and makes the planner throw; the generator
        // turns the exception into KLN0000 instead of failing the compilation. (The parser should
        // catch this earlier as KLN0008 on the argument: see Unvalidated_values_are_diagnosed.)
        const string source = """
            using Kiln;

            [Model(Input = 4)]
            [Dense(2, Init = (Init)42), SoftmaxCrossEntropy]
            [Sgd]
            public partial class Crashes;
            """;

        GeneratorRun run = GeneratorHarness.Run(source);

        Assert.Null(run.Result.Exception);
        Assert.Empty(run.Sources);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(Descriptors.InternalErrorId, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("Crashes", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
