extern alias KilnGenerator;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using CsCheck;
using Kiln.Analyzers.Tests.Harness;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit.Abstractions;

namespace Kiln.Analyzers.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing of the generator and the analyzers together (issue 14): random attribute combinations
/// (valid and invalid arguments, NaN/∞, undefined enum members, incompatible losses, missing optimisers) inside random
/// declarations (records, structs, generics, static/abstract/file-local classes, nested types, verbatim and non-ASCII
/// names, case-colliding models in one file, primary constructors, members named like generated ones, base classes,
/// verbatim namespaces), and random token cuts of those sources. Every case must satisfy:
/// <list type="bullet">
/// <item>nothing throws: no generator exception (CS8785), no KLN0000, no analyzer exception (AD0001, KLN0100);</item>
/// <item>no diagnostic is located inside a generated file;</item>
/// <item>(whole cases only) a model the oracle (<see cref="FuzzModel.Valid"/>) calls invalid gets a KLN error inside its own
/// declaration and no generated code; a valid one gets its generated members and no KLN error.</item>
/// </list>
/// CI runs a fixed seed and a bounded number of cases. Before a release, run many more:
/// <c>KILN_FUZZ_ITERATIONS=20000 dotnet test tests/Kiln.Analyzers.Tests -c Release --filter FullyQualifiedName~Fuzz</c>
/// (KILN_FUZZ_SEED picks another fixed seed; KILN_FUZZ_RANDOM=1 lets CsCheck draw random seeds and shrink a failure).
/// </summary>
public class GeneratorFuzzTests
{
    /// <summary>Environment variable: number of cases per property (default <see cref="DefaultIterations"/>).</summary>
    public const string IterationsVariable = "KILN_FUZZ_ITERATIONS";
    /// <summary>Environment variable: the fixed seed (default <see cref="DefaultSeed"/>).</summary>
    public const string SeedVariable = "KILN_FUZZ_SEED";
    /// <summary>Environment variable: 1 = random seeds through CsCheck's Sample (with shrinking), for long exploratory runs.</summary>
    public const string RandomVariable = "KILN_FUZZ_RANDOM";

    /// <summary>Cases per property in CI: about a second each (a compilation of up to three generated models plus every analyzer).</summary>
    private const int DefaultIterations = 100;

    /// <summary>Token cuts per run in CI.</summary>
    private const int DefaultCuts = 60;
    private const ulong DefaultSeed = 20261207;

    private readonly ITestOutputHelper _output;

    public GeneratorFuzzTests(ITestOutputHelper output) => _output = output;

    private static int Iterations(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : fallback;

    private static ulong Seed =>
        ulong.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong s) ? s : DefaultSeed;

    /// <summary>Runs <paramref name="check"/> on <paramref name="iterations"/> cases of <paramref name="gen"/>: a fixed seed, or CsCheck's random sampling.</summary>
    private void Run<T>(Gen<T> gen, Action<T> check, int iterations, Func<T, string> print)
    {
        var stopwatch = Stopwatch.StartNew();
        if (Environment.GetEnvironmentVariable(RandomVariable) == "1")
            gen.Sample(check, iter: iterations, threads: 1, print: print);
        else
        {
            var pcg = new PCG(1, Seed);
            for (int i = 0; i < iterations; i++)
            {
                T value = gen.Generate(pcg, null, out _);
                try { check(value); }
                catch (Exception ex) { throw new Xunit.Sdk.XunitException($"Case {i} of seed {Seed} failed: {ex.Message}\n--- source ---\n{print(value)}"); }
            }
        }
        _output.WriteLine($"{iterations} cases in {stopwatch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void Random_models_and_declarations_never_crash_and_every_invalid_one_is_diagnosed()
    {
        var stats = new int[2];
        Run(FuzzGen.Case, c =>
        {
            (string source, (int Start, int End)[] spans) = c.Render();
            Outcome outcome = Analyze(source);
            outcome.AssertNoCrashAndNothingInGeneratedCode();
            for (int i = 0; i < c.Models.Length; i++)
            {
                FuzzModel model = c.Models[i];
                (int start, int end) = spans[i];
                Diagnostic[] errors = outcome.GeneratorDiagnostics
                    .Where(d => d.Id.StartsWith("KLN", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error
                        && d.Location.GetLineSpan().Path == AnalyzerHarness.SourcePath(0) && d.Location.SourceSpan.Start >= start && d.Location.SourceSpan.End <= end)
                    .ToArray();
                bool generated = outcome.HasGeneratedMembers(c, model, i);
                if (model.Valid)
                {
                    Assert.True(errors.Length == 0, $"model '{model.Name}' is valid but got: {string.Join("; ", errors.Select(e => e.ToString()))}");
                    Assert.True(generated, $"model '{model.Name}' is valid but was not generated; generator said: {string.Join("; ", outcome.GeneratorDiagnostics)}");
                    stats[0]++;
                }
                else
                {
                    Assert.True(errors.Length > 0, $"model '{model.Name}' is invalid ({Reasons(model)}) but no KLN error lies in its declaration; generator said: {string.Join("; ", outcome.GeneratorDiagnostics)}");
                    Assert.False(generated, $"model '{model.Name}' is invalid ({Reasons(model)}) but was generated");
                    stats[1]++;
                }
            }
        }, Iterations(DefaultIterations), c => c.ToString());
        _output.WriteLine($"{stats[0]} valid and {stats[1]} invalid models checked");
        Assert.True(stats[0] > 0 && stats[1] > 0, "the generator must produce both valid and invalid models");
    }

    [Fact]
    public void Random_token_cuts_of_generated_sources_never_crash()
    {
        Run(FuzzGen.Cut, cut =>
        {
            string source = CutSource(cut.Case.Render().Source, cut.Where, cut.Mode, cut.Length);
            Analyze(source).AssertNoCrashAndNothingInGeneratedCode();
        }, Iterations(DefaultCuts), cut => $"mode {cut.Mode} at {cut.Where:F3} × {cut.Length}\n" + CutSource(cut.Case.Render().Source, cut.Where, cut.Mode, cut.Length));
    }

    /// <summary>Mode 0: cut after a token; 1: delete <paramref name="length"/> tokens; 2: duplicate them.</summary>
    private static string CutSource(string source, double where, int mode, int length)
    {
        SyntaxToken[] tokens = CSharpSyntaxTree.ParseText(source).GetRoot().DescendantTokens().ToArray();
        int k = Math.Min((int)(where * tokens.Length), tokens.Length - 1);
        int end = Math.Min(k + length, tokens.Length - 1);
        int from = tokens[k].FullSpan.Start, to = tokens[end].FullSpan.Start;
        return mode switch
        {
            0 => source.Substring(0, tokens[k].Span.End),
            1 => source.Remove(from, to - from),
            _ => source.Insert(to, source.Substring(from, to - from)),
        };
    }

    private static string Reasons(FuzzModel m)
    {
        var parts = new List<string>();
        if (!m.Kind.Valid) parts.Add("declaration " + m.Kind.Text);
        if (!m.Outer.Valid) parts.Add("outer " + m.Outer.Text);
        if (!m.PrimaryConstructor.Valid) parts.Add("primary constructor");
        if (!m.Base.Valid) parts.Add("base" + m.Base.Text);
        parts.AddRange(m.Members.Where(x => !x.Valid).Select(x => "member " + x.Text));
        parts.AddRange(m.Attributes.Where(x => !x.Valid).Select(x => "attribute " + x.Text));
        if (m.BatchNormWithBatchOne) parts.Add("BatchNorm with MaxBatch = 1");
        return string.Join(", ", parts);
    }

    /// <summary>Generator and analyzers over the source (plus the base classes), and what they produced.</summary>
    private static Outcome Analyze(string source)
    {
        CSharpCompilation input = AnalyzerHarness.Compile(source, FuzzCase.BaseTypes);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new KilnGenerator::Kiln.Generator.ModelGenerator().AsSourceGenerator() },
            parseOptions: AnalyzerHarness.ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        // Compiler and analyzer diagnostics in one pass over the output (binding it twice would double the cost).
        var exceptions = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var withAnalyzers = output.WithAnalyzers(AnalyzerHarness.AllAnalyzers, new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: (exception, analyzer, _) => exceptions.Enqueue($"{analyzer.GetType().Name} threw {exception.GetType().Name}: {exception.Message}"),
            concurrentAnalysis: true, logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: false));
        ImmutableArray<Diagnostic> all = withAnalyzers.GetAllDiagnosticsAsync().GetAwaiter().GetResult();
        var analysis = new AnalysisRun(output, all, exceptions.ToArray(), generatorDiagnostics);
        return new Outcome(input, output, result, generatorDiagnostics, analysis);
    }

    private sealed record Outcome(CSharpCompilation Input, Compilation Output, GeneratorRunResult Result, ImmutableArray<Diagnostic> GeneratorDiagnostics, AnalysisRun Analysis)
    {
        private bool IsGenerated(SyntaxTree? tree) => tree is not null && !Input.SyntaxTrees.Contains(tree);

        /// <summary>In a generated file: by tree, or by path for the generator's own diagnostics (which carry a path, not a tree).</summary>
        private bool InGeneratedFile(Location location) =>
            location.SourceTree is { } tree ? IsGenerated(tree)
            : location.IsInSource || location.Kind == LocationKind.ExternalFile
                ? !Input.SyntaxTrees.Any(t => t.FilePath == location.GetLineSpan().Path)
                : false;

        public void AssertNoCrashAndNothingInGeneratedCode()
        {
            Assert.True(Result.Exception is null, "the generator threw: " + Result.Exception);
            Diagnostic[] crashes = GeneratorDiagnostics.Where(d => d.Id is "CS8785" or "KLN0000").ToArray();
            Assert.True(crashes.Length == 0, "generator failure: " + string.Join("; ", crashes.Select(d => d.ToString())));
            Analysis.AssertNoFailures();
            Diagnostic[] inGenerated = Analysis.Diagnostics.Concat(GeneratorDiagnostics)
                .Where(d => d.Severity != DiagnosticSeverity.Hidden && InGeneratedFile(d.Location)).ToArray();
            Assert.True(inGenerated.Length == 0, "diagnostics inside generated code:\n" + string.Join("\n", inGenerated.Take(10).Select(d => d.ToString())));
        }

        /// <summary>True when the model's type got the generated members (TrainStep declared in a generated tree).</summary>
        public bool HasGeneratedMembers(FuzzCase c, FuzzModel model, int index)
        {
            string ns = c.Namespace.Text.Replace("namespace ", "").TrimEnd(';').Replace("@", "");
            string outer = model.Outer.Text.Length == 0 ? "" : model.Outer.Text.Split(' ').Last().Replace("{i}", index.ToString(CultureInfo.InvariantCulture)).Replace("@", "").Replace("<T>", "`1") + "+";
            string metadataName = (ns.Length > 0 ? ns + "." : "") + outer + model.PlainName + (model.Kind.Text.Contains("<T>") ? "`1" : "");
            INamedTypeSymbol? type = Output.GetTypeByMetadataName(metadataName);
            // TrainStep and the rest of the shared API are inherited from KilnModel; InputSize is declared by every generated part.
            return type is not null && type.GetMembers("InputSize").Any(m => m.DeclaringSyntaxReferences.Any(r => IsGenerated(r.SyntaxTree)));
        }
    }
}
