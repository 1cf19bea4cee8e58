extern alias KilnGenerator;

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Tests.Harness;

/// <summary>What one analysis run produced.</summary>
public sealed record AnalysisRun(
    Compilation Compilation,
    ImmutableArray<Diagnostic> Diagnostics,
    IReadOnlyList<string> Exceptions,
    ImmutableArray<Diagnostic> GeneratorDiagnostics)
{
    /// <summary>Analyzer failures of any kind: exceptions seen by the driver, AD0001, or Kiln's own KLN0100.</summary>
    public IEnumerable<string> Failures => Exceptions.Concat(Diagnostics
        .Where(d => d.Id is "AD0001" or "KLN0100")
        .Select(d => d.ToString()));

    public void AssertNoFailures()
    {
        string[] failures = Failures.ToArray();
        Assert.True(failures.Length == 0, "Analyzer failures:\n" + string.Join("\n", failures));
    }
}

/// <summary>
/// Builds compilations the way the compiler would (framework references from TRUSTED_PLATFORM_ASSEMBLIES plus
/// Kiln.Runtime.dll), optionally runs the Kiln generator over them, and runs analyzers through
/// <see cref="CompilationWithAnalyzers"/> with an exception hook, so a throwing analyzer fails the test.
/// </summary>
public static class AnalyzerHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        .WithNullableContextOptions(NullableContextOptions.Enable)
        .WithAllowUnsafe(true);

    /// <summary>The usings every test source starts with (so test cases stay short).</summary>
    public const string Prelude = "using System;\nusing Kiln;\nusing Kiln.Data;\nusing Kiln.Training;\nusing Kiln.Tuning;\n\n";

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    public static ImmutableArray<MetadataReference> References => s_references.Value;

    private static readonly Lazy<CSharpCompilation> s_empty = new(() =>
        CSharpCompilation.Create("Kiln.UserCode", Array.Empty<SyntaxTree>(), References, CompilationOptions));

    /// <summary>Every Kiln analyzer (one per rule), found by reflection.</summary>
    public static readonly ImmutableArray<DiagnosticAnalyzer> AllAnalyzers = typeof(KilnAnalyzer).Assembly.GetTypes()
        .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && t.GetCustomAttributes(typeof(DiagnosticAnalyzerAttribute), false).Length > 0)
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string runtime = typeof(Kiln.ModelAttribute).Assembly.Location;
        string tpa = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set.");
        var byName = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            if (path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        byName[Path.GetFileNameWithoutExtension(runtime)] = runtime;
        // Test and Roslyn assemblies are not what user code compiles against.
        foreach (string name in byName.Keys.Where(n => n.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) || n.StartsWith("xunit", StringComparison.Ordinal)
                     || n.StartsWith("Kiln.", StringComparison.Ordinal) && n != "Kiln.Runtime").ToList())
            byName.Remove(name);
        return byName.Values.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    }

    public static string SourcePath(int index) => $"/src/Test{index}.cs";

    public static SyntaxTree Parse(string source, int index = 0) => CSharpSyntaxTree.ParseText(source, ParseOptions, SourcePath(index));

    /// <summary>The sources compiled together (no generator).</summary>
    public static CSharpCompilation Compile(params string[] sources) =>
        s_empty.Value.AddSyntaxTrees(sources.Select((s, i) => Parse(s, i)));

    /// <summary>The compilation plus the Kiln generator's output, as the compiler sees it when analyzers run.</summary>
    public static (Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics) Generate(Compilation compilation)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new KilnGenerator::Kiln.Generator.ModelGenerator().AsSourceGenerator() }, parseOptions: ParseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (output, diagnostics);
    }

    /// <summary>Runs <paramref name="analyzers"/> (all of them by default) over the sources, after the generator when <paramref name="generate"/>.</summary>
    public static Task<AnalysisRun> AnalyzeAsync(string[] sources, bool generate, ImmutableArray<DiagnosticAnalyzer>? analyzers = null, AnalyzerOptions? options = null)
    {
        Compilation compilation = Compile(sources);
        ImmutableArray<Diagnostic> generatorDiagnostics = ImmutableArray<Diagnostic>.Empty;
        if (generate) (compilation, generatorDiagnostics) = Generate(compilation);
        return AnalyzeAsync(compilation, generatorDiagnostics, analyzers ?? AllAnalyzers, options);
    }

    public static async Task<AnalysisRun> AnalyzeAsync(Compilation compilation, ImmutableArray<Diagnostic> generatorDiagnostics,
        ImmutableArray<DiagnosticAnalyzer> analyzers, AnalyzerOptions? options = null)
    {
        var exceptions = new ConcurrentQueue<string>();
        var withAnalyzers = compilation.WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(
            options ?? new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: (exception, analyzer, diagnostic) => exceptions.Enqueue($"{analyzer.GetType().Name} threw {exception.GetType().Name}: {exception.Message}"),
            concurrentAnalysis: true,
            logAnalyzerExecutionTime: false,
            reportSuppressedDiagnostics: false));
        ImmutableArray<Diagnostic> diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        return new AnalysisRun(compilation, diagnostics, exceptions.ToArray(), generatorDiagnostics);
    }

    /// <summary>Errors in the test's own sources (not in generated code): a test case must be valid C#.</summary>
    public static IEnumerable<Diagnostic> SourceErrors(Compilation compilation) => compilation.GetDiagnostics()
        .Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree?.FilePath.StartsWith("/src/", StringComparison.Ordinal) == true);
}
