using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Generator.Tests;

/// <summary>
/// Runs <see cref="ModelGenerator"/> over in-memory sources, the way the compiler would: a
/// <see cref="CSharpCompilation"/> referencing the running framework (every assembly of
/// TRUSTED_PLATFORM_ASSEMBLIES) plus Kiln.Runtime.dll, driven by a <see cref="CSharpGeneratorDriver"/>
/// with step tracking on. The reference set is built once and shared by every test: binding the
/// references is the slow part of a compilation.
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>Documentation comments are checked (as with GenerateDocumentationFile): generated XML docs must be well-formed.</summary>
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    public static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        .WithNullableContextOptions(NullableContextOptions.Enable)
        .WithWarningLevel(9999) // every warning wave, as the SDK's latest analysis level
        .WithDeterministic(true)
        .WithOptimizationLevel(OptimizationLevel.Debug)
        .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
        {
            // Missing XML comments: the test models are undocumented (the generated file disables it itself).
            ["CS1591"] = ReportDiagnostic.Suppress,
        });

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    /// <summary>The shared references: the framework and Kiln.Runtime.dll.</summary>
    public static ImmutableArray<MetadataReference> References => s_references.Value;

    /// <summary>
    /// An empty compilation holding only the references. Compilations derived from it with
    /// AddSyntaxTrees share its reference manager, so the references are bound once per test run.
    /// </summary>
    private static readonly Lazy<CSharpCompilation> s_empty = new(() =>
        CSharpCompilation.Create("Kiln.UserCode", Array.Empty<SyntaxTree>(), References, CompilationOptions));

    public static CSharpCompilation EmptyCompilation => s_empty.Value;

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string runtime = typeof(Kiln.ModelAttribute).Assembly.Location;
        string tpa = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string
            ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set; the tests must run on .NET (Core).");
        var byName = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (!path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) continue;
            byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        }
        byName[Path.GetFileNameWithoutExtension(runtime)] = runtime;
        return byName.Values.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    }

    public static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    /// <summary>A compilation of the sources, named /src/Source0.cs, /src/Source1.cs, ...</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources)
    {
        var trees = new SyntaxTree[sources.Length];
        for (int i = 0; i < sources.Length; i++) trees[i] = Parse(sources[i], SourcePath(i));
        return EmptyCompilation.AddSyntaxTrees(trees);
    }

    public static string SourcePath(int index) => $"/src/Source{index}.cs";

    /// <summary>A fresh driver over a fresh <see cref="ModelGenerator"/>, tracking every incremental step.</summary>
    public static GeneratorDriver CreateDriver() => CSharpGeneratorDriver.Create(
        new[] { new ModelGenerator().AsSourceGenerator() },
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once over the sources.</summary>
    public static GeneratorRun Run(params string[] sources) => Run(CreateCompilation(sources));

    public static GeneratorRun Run(CSharpCompilation compilation) => Run(CreateDriver(), compilation);

    /// <summary>Runs <paramref name="driver"/> (which may hold the state of earlier runs) over the compilation.</summary>
    public static GeneratorRun Run(GeneratorDriver driver, CSharpCompilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return new GeneratorRun(driver, compilation, output, diagnostics);
    }
}

/// <summary>What one generator run produced.</summary>
internal sealed class GeneratorRun
{
    private ImmutableArray<Diagnostic>? _outputDiagnostics;

    public GeneratorRun(GeneratorDriver driver, CSharpCompilation input, Compilation output, ImmutableArray<Diagnostic> generatorDiagnostics)
    {
        Driver = driver;
        Input = input;
        Output = output;
        GeneratorDiagnostics = generatorDiagnostics;
        Result = driver.GetRunResult().Results.Single();
        Sources = Result.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString(), StringComparer.Ordinal);
    }

    /// <summary>The driver after the run, to run again incrementally.</summary>
    public GeneratorDriver Driver { get; }

    public CSharpCompilation Input { get; }

    /// <summary>The input plus the generated trees.</summary>
    public Compilation Output { get; }

    /// <summary>The result of the (only) generator.</summary>
    public GeneratorRunResult Result { get; }

    /// <summary>Generated source text by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; }

    /// <summary>Diagnostics the generator reported.</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

    /// <summary>Compiler diagnostics of the output compilation (user code and generated code), hidden ones excluded.</summary>
    public ImmutableArray<Diagnostic> OutputDiagnostics =>
        _outputDiagnostics ??= Output.GetDiagnostics().Where(d => d.Severity != DiagnosticSeverity.Hidden).ToImmutableArray();

    /// <summary>The only generated source (fails when there is not exactly one).</summary>
    public string SingleSource => Assert.Single(Sources).Value;

    /// <summary>Fails, listing them, if the output compilation has any warning or error.</summary>
    public void AssertOutputCompilesCleanly()
    {
        Diagnostic[] problems = OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();
        if (problems.Length == 0) return;
        Assert.Fail($"The output compilation has {problems.Length} warning(s)/error(s); the first ones:\n"
            + string.Join("\n", problems.Take(25).Select(d => "  " + d)));
    }

    /// <summary>Fails if the generator itself reported anything or threw.</summary>
    public void AssertNoGeneratorDiagnostics()
    {
        Assert.Null(Result.Exception);
        Assert.True(GeneratorDiagnostics.IsEmpty, "Unexpected generator diagnostics:\n" + string.Join("\n", GeneratorDiagnostics));
    }
}
