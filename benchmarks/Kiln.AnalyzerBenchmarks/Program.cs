using System;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Linq;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.AnalyzerBenchmarks;

/// <summary>Compiling the 50-model project with and without the Kiln analyzers (the ratio is BenchmarkDotNet's Ratio column).</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 12)]
public class AnalyzerOverhead
{
    private Compilation _compilation = null!;
    private ImmutableArray<DiagnosticAnalyzer> _analyzers;

    [GlobalSetup]
    public void Setup()
    {
        _compilation = SyntheticProject.Create();
        _analyzers = SyntheticProject.Analyzers();
    }

    [Benchmark(Baseline = true, Description = "compile (GetDiagnostics)")]
    public int Compile() => SyntheticProject.CompileOnly(_compilation);

    [Benchmark(Description = "compile + Kiln analyzers")]
    public int CompileWithAnalyzers() => SyntheticProject.CompileWithAnalyzers(_compilation, _analyzers);
}

public static class Program
{
    public static int Main(string[] args)
    {
        SyntheticProject.Concurrent = !args.Contains("serial");
        args = args.Where(a => a != "serial").ToArray();
        if (args.Length > 1 && args[0] == "write") return Write(args[1]);
        if (args.Length > 0 && args[0] == "profile") return Profile.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
        if (args.Length > 0 && args[0] == "generator-stages") return GeneratorStages.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
        if (args.Length > 0 && args[0] == "quick") return Quick(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 15);
        if (args.Length > 0 && args[0] == "generator")
        {
            GeneratorCostConfig.CpuClock = args.Contains("--cpu-clock");
            string[] rest = args.Skip(1).Where(a => a != "--cpu-clock").ToArray();
            if (!rest.Contains("--filter")) rest = rest.Concat(new[] { "--filter", "*" }).ToArray(); // else BenchmarkDotNet asks
            BenchmarkSwitcher.FromTypes(new[] { typeof(GeneratorCost) }).Run(rest);
            return 0;
        }
        BenchmarkSwitcher.FromTypes(new[] { typeof(AnalyzerOverhead) }).Run(args);
        return 0;
    }

    /// <summary>
    /// Interleaved timing without BenchmarkDotNet (a minute instead of several): warm up, then alternate the two
    /// measurements <paramref name="rounds"/> times and compare medians, so drift on a shared machine hits both.
    /// </summary>
    private static int Quick(int rounds)
    {
        Compilation compilation = SyntheticProject.Create();
        ImmutableArray<DiagnosticAnalyzer> analyzers = SyntheticProject.Analyzers();
        int userTrees = compilation.SyntaxTrees.Count(t => t.FilePath.StartsWith("/synthetic/", StringComparison.Ordinal));
        int lines = compilation.SyntaxTrees.Sum(t => t.GetText().Lines.Count);
        Console.WriteLine($"{SyntheticProject.Models} models: {userTrees} user files + {compilation.SyntaxTrees.Count() - userTrees} generated, {lines:N0} lines; {analyzers.Length} analyzers");

        // What the analyzers report on the project (it is meant to contain some pitfalls).
        var withAnalyzers = compilation.Clone().WithAnalyzers(analyzers);
        var found = withAnalyzers.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        Console.WriteLine("Kiln diagnostics: " + string.Join(", ", found.GroupBy(d => d.Id).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")));

        for (int i = 0; i < 3; i++) { SyntheticProject.CompileOnly(compilation); SyntheticProject.CompileWithAnalyzers(compilation, analyzers); }
        var baseline = new double[rounds];
        var analysed = new double[rounds];
        for (int i = 0; i < rounds; i++)
        {
            GC.Collect();
            long t0 = Stopwatch.GetTimestamp();
            SyntheticProject.CompileOnly(compilation);
            baseline[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            GC.Collect();
            t0 = Stopwatch.GetTimestamp();
            SyntheticProject.CompileWithAnalyzers(compilation, analyzers);
            analysed[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        double b = Median(baseline), a = Median(analysed);
        Console.WriteLine($"compile (GetDiagnostics):            median {b,8:F1} ms  (min {baseline.Min():F1})");
        Console.WriteLine($"compile + Kiln analyzers:            median {a,8:F1} ms  (min {analysed.Min():F1})");
        Console.WriteLine($"analyzer overhead:                   {(a - b) / b:P1} of compile time (target ≤ 10%)");
        return 0;
    }

    /// <summary>
    /// Writes the synthetic project as a real one (50 files and a csproj referencing the runtime, the generator and the
    /// analyzers from this repository), to measure a real build with <c>-p:ReportAnalyzer=true</c>.
    /// </summary>
    private static int Write(string directory)
    {
        string repository = System.IO.Path.GetFullPath(System.IO.Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        System.IO.Directory.CreateDirectory(directory);
        var sources = SyntheticProject.Sources();
        for (int i = 0; i < sources.Count; i++) System.IO.File.WriteAllText(System.IO.Path.Combine(directory, $"Model{i}.cs"), sources[i]);
        System.IO.File.WriteAllText(System.IO.Path.Combine(directory, "Synthetic.csproj"), $$"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
                <NoWarn>$(NoWarn);CS0649</NoWarn>
                <KilnAnalyzers Condition="'$(KilnAnalyzers)' == ''">true</KilnAnalyzers>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{{repository}}/Runtime/Kiln.Runtime.csproj" />
                <ProjectReference Include="{{repository}}/Generator/Kiln.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                <ProjectReference Condition="'$(KilnAnalyzers)' == 'true'" Include="{{repository}}/Analyzers/Kiln.Analyzers.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
            </Project>
            """);
        Console.WriteLine($"Wrote {sources.Count} models and Synthetic.csproj to {directory}");
        return 0;
    }

    private static double Median(double[] values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
