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
    private static readonly SyntaxToken[] BenchmarkTokens = CSharpSyntaxTree.ParseText(TestModels.BenchmarkMlp, GeneratorHarness.ParseOptions)
        .GetRoot().DescendantTokens().Where(t => !t.IsKind(SyntaxKind.EndOfFileToken)).ToArray();

    private const string ClassDeclaration = "public partial class BenchmarkMlp;";

    [Fact]
    public void Every_prefix_of_the_benchmark_model_is_handled()
    {
        // The source truncated after token i, for every i: what the generator sees while the file is typed top to bottom.
        string source = TestModels.BenchmarkMlp;
        Outcome outcome = RunAll(BenchmarkTokens.Select((t, i) => ($"cut after token {i} '{t.Text}'", source.Substring(0, t.Span.End))));

        Assert.True(BenchmarkTokens.Length > 50, $"Only {BenchmarkTokens.Length} tokens.");
        outcome.AssertClean();
        Assert.True(outcome.WithSource >= 1, "No prefix generated a model, not even the complete one.");
    }

    [Fact]
    public void Every_half_typed_attribute_list_above_the_class_is_handled()
    {
        // The attribute lists cut after token i, with the class declaration still below them: what the
        // generator sees while the attributes of an existing model are edited.
        string source = TestModels.BenchmarkMlp;
        int classStart = source.IndexOf(ClassDeclaration, StringComparison.Ordinal);
        int firstAttribute = source.IndexOf("[Model", StringComparison.Ordinal);
        var cuts = BenchmarkTokens.Select((t, i) => (Token: t, Index: i))
            .Where(x => x.Token.SpanStart >= firstAttribute && x.Token.Span.End <= classStart)
            .Select(x => ($"attributes cut after token {x.Index} '{x.Token.Text}'", source.Substring(0, x.Token.Span.End) + "\n" + ClassDeclaration + "\n"));
        Outcome outcome = RunAll(cuts);

        outcome.AssertClean();
        Assert.True(outcome.WithDiagnostics > 10, $"Only {outcome.WithDiagnostics} of {outcome.Runs} half-typed models were diagnosed.");
    }

    [Fact]
    public void Every_single_token_deletion_is_handled()
    {
        // Token i removed: a typo or a half-done edit anywhere in the declaration.
        string source = TestModels.BenchmarkMlp;
        Outcome outcome = RunAll(BenchmarkTokens.Select((t, i) => ($"token {i} '{t.Text}' removed", source.Remove(t.SpanStart, t.Span.Length))));

        outcome.AssertClean();
        Assert.True(outcome.WithDiagnostics > 5, $"Only {outcome.WithDiagnostics} of {outcome.Runs} edited models were diagnosed.");
    }

    private sealed class Outcome
    {
        public List<string> Failures { get; } = new();
        public int Runs { get; set; }
        public int WithSource { get; set; }
        public int WithDiagnostics { get; set; }

        public void AssertClean() => Assert.True(Failures.Count == 0, $"{Failures.Count} of {Runs} runs failed:\n" + string.Join("\n", Failures.Take(30)));
    }

    /// <summary>Runs a fresh driver on each source (one file, the shared references) and collects what went wrong.</summary>
    private static Outcome RunAll(IEnumerable<(string Name, string Source)> cases)
    {
        var outcome = new Outcome();
        foreach ((string name, string source) in cases)
        {
            outcome.Runs++;
            GeneratorRun run;
            try
            {
                run = GeneratorHarness.Run(GeneratorHarness.EmptyCompilation.AddSyntaxTrees(
                    GeneratorHarness.Parse(source, GeneratorHarness.SourcePath(0))));
            }
            catch (Exception ex)
            {
                outcome.Failures.Add($"{name}: the driver threw {ex.GetType().Name}: {ex.Message}");
                continue;
            }
            if (run.Result.Exception is { } exception)
                outcome.Failures.Add($"{name}: the generator threw {exception.GetType().Name}: {exception.Message}");
            foreach (Diagnostic d in run.GeneratorDiagnostics)
            {
                if (!d.Id.StartsWith("KLN", StringComparison.Ordinal) || d.Id == Descriptors.InternalErrorId)
                    outcome.Failures.Add($"{name}: {d}");
                else
                {
                    try { _ = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture); }
                    catch (FormatException ex) { outcome.Failures.Add($"{name}: {d.Id} message cannot be formatted: {ex.Message}"); }
                }
            }
            if (run.Sources.Count > 0) outcome.WithSource++;
            if (!run.GeneratorDiagnostics.IsEmpty) outcome.WithDiagnostics++;
        }
        return outcome;
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
}
