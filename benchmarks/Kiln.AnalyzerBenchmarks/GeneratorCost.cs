extern alias KilnGenerator;

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.AnalyzerBenchmarks;

/// <summary>
/// The cost of the Kiln source generator on a warm compiler (issue 18, scope 5: ≤ 20 ms per model): the generator
/// driver over the first 1, 10 or 50 models of the synthetic project, in process (the JIT, the metadata references and
/// the compiler are warm). Every operation sees models the generator has never seen (MaxBatch takes a new value each
/// iteration), so no memo of an earlier iteration can answer for it; the syntax trees are made outside the timing.
/// <list type="bullet">
/// <item><b>Generate</b>: a new driver over all N models, as a command-line build runs it. Its ms/model column is the target's.</item>
/// <item><b>EditOneModel</b>: the IDE case: the driver of the previous iteration, one model's attribute edited; one model is regenerated.</item>
/// <item><b>EditOtherFile</b>: the driver of the previous iteration, a file without a model edited: nothing should be regenerated.</item>
/// <item><b>Floor</b> (<c>Version = floor</c>): a generator that only reads each model's attributes (ForAttributeWithMetadataName and
/// GetAttributes): what binding the attributes costs any generator, Kiln's or not.</item>
/// </list>
/// With <c>KILN_BASE_GENERATOR=/path/to/Kiln.Generator.dll</c> the same benchmarks also run that build of the generator
/// (<c>Version = base</c>, loaded in its own AssemblyLoadContext) in the same process, interleaved by BenchmarkDotNet's
/// order, for an A/B of two revisions (compare-generator.sh builds one).
/// </summary>
[Config(typeof(GeneratorCostConfig))]
[MemoryDiagnoser]
public class GeneratorCost
{
    private static readonly CSharpParseOptions ParseOptions = SyntheticProject.ParseOptions;
    private const string Unrelated = "namespace Other;\n\npublic static class Unrelated\n{\n    public static int Value => VALUE;\n}\n";

    private static readonly IReadOnlyList<string> s_sources = SyntheticProject.Sources();
    private CSharpCompilation _user = null!;
    private IIncrementalGenerator _generator = null!;
    private GeneratorDriver _driver = null!;
    private CSharpCompilation _next = null!;
    private int _iteration;

    [Params(1, 10, 50)]
    public int Models { get; set; }

    [ParamsSource(nameof(Versions))]
    public string Version { get; set; } = "head";

    /// <summary>head (this build), base (KILN_BASE_GENERATOR, when set) and floor.</summary>
    public static IEnumerable<string> Versions() => Generators.Available();

    [GlobalSetup]
    public void Setup()
    {
        _user = SyntheticProject.UserCompilation(Models).AddSyntaxTrees(
            CSharpSyntaxTree.ParseText(Unrelated.Replace("VALUE", "0", StringComparison.Ordinal), ParseOptions, "/synthetic/Other.cs"));
        _generator = Generators.Create(Version);
        _driver = NewDriver().RunGenerators(_user.Clone());
        GeneratorDriverRunResult result = _driver.GetRunResult();
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) || (Version != "floor" && result.GeneratedTrees.Length != Models))
            throw new InvalidOperationException($"{Version}: {result.GeneratedTrees.Length} files for {Models} models; " + string.Join("\n", result.Diagnostics));
    }

    private GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create(new[] { _generator.AsSourceGenerator() }, parseOptions: ParseOptions);

    /// <summary>The text of model <paramref name="index"/> with a MaxBatch no earlier iteration used: a new spec, the same work.</summary>
    private string Fresh(int index) => s_sources[index].Replace("MaxBatch = 128",
        "MaxBatch = " + (100 + _iteration % 1000).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private CSharpCompilation Replace(CSharpCompilation compilation, string path, string text)
    {
        SyntaxTree old = compilation.SyntaxTrees.First(t => t.FilePath == path);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, ParseOptions, path));
    }

    [IterationSetup(Target = nameof(Generate))]
    public void NewModels()
    {
        _iteration++;
        CSharpCompilation next = _user;
        for (int m = 0; m < Models; m++) next = Replace(next, $"/synthetic/Model{m}.cs", Fresh(m));
        _next = next;
        _user = next;
    }

    [IterationSetup(Target = nameof(EditOneModel))]
    public void EditModel()
    {
        _iteration++;
        _next = _user = Replace(_user, "/synthetic/Model0.cs", Fresh(0));
    }

    [IterationSetup(Target = nameof(EditOtherFile))]
    public void EditOther()
    {
        _iteration++;
        _next = Replace(_user, "/synthetic/Other.cs", Unrelated.Replace("VALUE", _iteration.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    /// <summary>A new driver over N models: the whole generator, as in a command-line build.</summary>
    [Benchmark]
    public int Generate() => NewDriver().RunGenerators(_next).GetRunResult().GeneratedTrees.Length;

    /// <summary>The warm driver, one model's attribute edited.</summary>
    [Benchmark]
    public int EditOneModel()
    {
        _driver = _driver.RunGenerators(_next);
        return _driver.GetRunResult().GeneratedTrees.Length;
    }

    /// <summary>The warm driver, a file without a model edited.</summary>
    [Benchmark]
    public int EditOtherFile()
    {
        _driver = _driver.RunGenerators(_next);
        return _driver.GetRunResult().GeneratedTrees.Length;
    }
}

/// <summary>In process (the A/B loads the base generator next to this one), a few iterations, the per-model columns.</summary>
public sealed class GeneratorCostConfig : ManualConfig
{
    /// <summary>Time the benchmarks by the thread's CPU time (<see cref="ThreadCpuClock"/>) instead of the wall clock: "generator --cpu-clock".</summary>
    public static bool CpuClock { get; set; }

    public GeneratorCostConfig()
    {
        Job job = Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(10);
        AddJob(CpuClock ? job.WithClock(ThreadCpuClock.Instance).WithId("thread CPU time") : job.WithId("wall clock"));
        AddColumn(new PerModelColumn(allocations: false), new PerModelColumn(allocations: true));
        WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared, BenchmarkDotNet.Order.MethodOrderPolicy.Declared));
    }
}

/// <summary>
/// Time (or allocated bytes) per regenerated model: Generate regenerates all N, EditOneModel one; EditOtherFile none
/// (its column shows the whole operation's cost).
/// </summary>
public sealed class PerModelColumn : IColumn
{
    private readonly bool _allocations;

    public PerModelColumn(bool allocations) => _allocations = allocations;

    public string Id => _allocations ? "KB/model" : "ms/model";
    public string ColumnName => Id;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => _allocations ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => _allocations ? "Kilobytes allocated per regenerated model" : "Milliseconds (mean) per regenerated model";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        if (report?.ResultStatistics is null) return "NA";
        int models = (int)benchmarkCase.Parameters["Models"];
        int regenerated = benchmarkCase.Descriptor.WorkloadMethod.Name switch
        {
            nameof(GeneratorCost.Generate) => models,
            nameof(GeneratorCost.EditOneModel) => 1,
            _ => 1,
        };
        if (!_allocations) return (report.ResultStatistics.Mean / 1e6 / regenerated).ToString("F2", CultureInfo.InvariantCulture);
        long? bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
        return bytes is { } b ? (b / 1024.0 / regenerated).ToString("F0", CultureInfo.InvariantCulture) : "NA";
    }
}

/// <summary>The generators the benchmark compares: this build's, an older build's (KILN_BASE_GENERATOR) and the floor.</summary>
public static class Generators
{
    public const string BaseVariable = "KILN_BASE_GENERATOR";

    public static string[] Available() => Environment.GetEnvironmentVariable(BaseVariable) is { Length: > 0 }
        ? new[] { "head", "base", "floor" }
        : new[] { "head", "floor" };

    public static IIncrementalGenerator Create(string version) => version switch
    {
        "head" => new KilnGenerator::Kiln.Generator.ModelGenerator(),
        "floor" => new AttributeFloor(),
        "base" => LoadBase(),
        _ => throw new ArgumentException("unknown generator version " + version, nameof(version)),
    };

    private static IIncrementalGenerator LoadBase()
    {
        string path = Path.GetFullPath(Environment.GetEnvironmentVariable(BaseVariable)!);
        var context = new GeneratorLoadContext(path);
        Assembly assembly = context.LoadFromAssemblyPath(path);
        Type type = assembly.GetType("Kiln.Generator.ModelGenerator", throwOnError: true)!;
        return (IIncrementalGenerator)Activator.CreateInstance(type)!;
    }

    /// <summary>Kiln.Generator from the given file; everything else (Microsoft.CodeAnalysis above all) from the default context.</summary>
    private sealed class GeneratorLoadContext : AssemblyLoadContext
    {
        private readonly string _path;
        public GeneratorLoadContext(string path) : base("base generator") => _path = path;
        protected override Assembly? Load(AssemblyName name) => name.Name == "Kiln.Generator" ? LoadFromAssemblyPath(_path) : null;
    }

#pragma warning disable RS1036, RS1041 // a measuring probe, never loaded by a compiler
    /// <summary>Reads every [Model] class's attributes and generates nothing: the binding any attribute-driven generator pays.</summary>
    [Generator(LanguageNames.CSharp)]
    private sealed class AttributeFloor : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<int> counts = context.SyntaxProvider.ForAttributeWithMetadataName("Kiln.ModelAttribute",
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax,
                static (ctx, _) => ctx.TargetSymbol.GetAttributes().Sum(a => a.ConstructorArguments.Length + a.NamedArguments.Length));
            context.RegisterSourceOutput(counts, static (_, _) => { });
        }
    }
#pragma warning restore RS1036, RS1041
}
