using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Analyzers.Tests.Harness;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// Analyzers run on every keystroke: half-typed code must never make one throw. Every rule runs (all analyzers
/// together, concurrently) on the source cut after each token and with each token deleted; the analyzer
/// driver's exception hook, AD0001 and Kiln's own KLN0100 must all stay silent.
/// </summary>
public class RobustnessTests
{
    /// <summary>A model that triggers most spec rules, followed by user code that triggers the code rules.</summary>
    private const string Source = AnalyzerHarness.Prelude + """
        [Model(Input = 64, MaxBatch = 2048)]
        [Dense(64, Init = Init.XavierNormal), Sigmoid, Dropout(0.7, Scaling = DropoutScaling.None), BatchNorm, ReLU]
        [Dense(32, Init = Init.Normal), ReLU, BatchNorm, Dense(32, Init = Init.Zeros), Tanh, Dropout(0.2, Scaling = DropoutScaling.TestTime)]
        [Dense(10), Softmax, SoftmaxCrossEntropy]
        [Momentum(2.0), L2(0.1, ApplyTo = PenaltyTarget.All), StepDecay(Milestones = new[] { 30 })]
        public partial class Bad;

        public static class Code
        {
            public static void Run(Bad model, DataSplit split, float[] xTest, int[] yTest, float[] h, Random rng)
            {
                model.TrainStep(xTest, yTest, 8);
                var s = new Standardizer().Fit(split.Test);
                var fresh = new Bad();
                fresh.Predict(xTest, h, 8);
                var space = new SearchSpace().Uniform("lr", 1e-4, 0.1).Uniform("momentum", 0.8, 0.99).Choice("units", 32, 64);
                foreach (var p in space.Grid(3)) { }
                for (int i = 0; i < h.Length; i++) h[i] *= rng.NextSingle() < 0.8f ? 1f : 0f;
                Trainer.Fit(new Bad(), split.Train, null, 10, 8);
            }
        }
        """;

    private static readonly SyntaxToken[] Tokens = CSharpSyntaxTree.ParseText(Source, AnalyzerHarness.ParseOptions).GetRoot()
        .DescendantTokens().Where(t => !t.IsKind(SyntaxKind.EndOfFileToken)).ToArray();

    [Fact]
    public async Task The_full_source_triggers_many_rules()
    {
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(new[] { Source }, generate: true);
        run.AssertNoFailures();
        int rules = run.Diagnostics.Select(d => d.Id).Distinct().Count();
        Assert.True(rules >= 20, $"Only {rules} rules fired:\n" + string.Join("\n", run.Diagnostics));
    }

    [Fact]
    public Task Every_prefix_is_handled() =>
        RunAllAsync(Tokens.Select((t, i) => ($"cut after token {i} '{t.Text}'", Source.Substring(0, t.Span.End))));

    [Fact]
    public Task Every_single_token_deletion_is_handled() =>
        RunAllAsync(Tokens.Select((t, i) => ($"token {i} '{t.Text}' removed", Source.Remove(t.SpanStart, t.Span.Length))));

    [Fact]
    public async Task Code_fixes_never_throw_on_any_diagnostic_of_the_source()
    {
        var fixes = typeof(Kiln.CodeFixes.KilnCodeFix).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t))
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!).ToArray();
        var workspace = new AdhocWorkspace();
        Project project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Default, "P", "P", LanguageNames.CSharp,
            compilationOptions: AnalyzerHarness.CompilationOptions, parseOptions: AnalyzerHarness.ParseOptions, metadataReferences: AnalyzerHarness.References));
        Document document = project.AddDocument("Test0.cs", Source, filePath: AnalyzerHarness.SourcePath(0));
        Compilation compilation = (await document.Project.GetCompilationAsync())!;
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(compilation, ImmutableArray<Diagnostic>.Empty, AnalyzerHarness.AllAnalyzers);
        int applied = 0;
        foreach (Diagnostic diagnostic in run.Diagnostics)
            foreach (CodeFixProvider fix in fixes.Where(f => f.FixableDiagnosticIds.Contains(diagnostic.Id)))
            {
                var actions = new List<CodeAction>();
                await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (a, _) => actions.Add(a), CancellationToken.None));
                foreach (CodeAction action in actions)
                {
                    var operations = await action.GetOperationsAsync(CancellationToken.None);
                    Solution changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
                    string text = (await changed.GetDocument(document.Id)!.GetTextAsync()).ToString();
                    Assert.NotEqual(Source, text);
                    Assert.DoesNotContain(CSharpSyntaxTree.ParseText(text, AnalyzerHarness.ParseOptions).GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
                    applied++;
                }
            }
        Assert.True(applied >= 10, $"Only {applied} fixes applied.");
    }

    private static async Task RunAllAsync(IEnumerable<(string Name, string Source)> cases)
    {
        var failures = new List<string>();
        int runs = 0, diagnosed = 0;
        foreach ((string name, string source) in cases)
        {
            runs++;
            AnalysisRun run;
            try
            {
                run = await AnalyzerHarness.AnalyzeAsync(new[] { source }, generate: false);
            }
            catch (Exception ex)
            {
                failures.Add($"{name}: the analysis threw {ex}");
                continue;
            }
            failures.AddRange(run.Failures.Select(f => $"{name}: {f}"));
            if (!run.Diagnostics.IsEmpty) diagnosed++;
        }
        Assert.True(runs > 200, $"Only {runs} cases.");
        Assert.True(failures.Count == 0, $"{failures.Count} failures in {runs} runs:\n" + string.Join("\n", failures.Take(30)));
        Assert.True(diagnosed > runs / 4, $"Only {diagnosed} of {runs} edited sources were diagnosed at all.");
    }
}
