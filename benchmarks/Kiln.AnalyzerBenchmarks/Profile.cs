using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.AnalyzerBenchmarks;

/// <summary>
/// Where the analyzer time goes, measured interleaved (each round runs every variant once, medians compared):
/// the analyzer driver with an empty analyzer (its own cost), the spec rules, the code rules, everything.
/// </summary>
public static class Profile
{
    public static int Run(int rounds)
    {
        Compilation compilation = SyntheticProject.Create();
        ImmutableArray<DiagnosticAnalyzer> all = SyntheticProject.Analyzers();
        var variants = new List<(string Name, ImmutableArray<DiagnosticAnalyzer> Analyzers)>
        {
            ("compile only", ImmutableArray<DiagnosticAnalyzer>.Empty),
            ("driver + empty analyzer", ImmutableArray.Create<DiagnosticAnalyzer>(new Empty())),
            ("spec rules", all.Where(a => a is Kiln.Analyzers.SpecRuleAnalyzer).ToImmutableArray()),
            ("code rules", all.Where(a => a is not Kiln.Analyzers.SpecRuleAnalyzer).ToImmutableArray()),
            ("all rules", all),
            ("all rules, analyzer diagnostics only", all),
        };
        var samples = variants.Select(_ => new List<double>()).ToArray();
        for (int round = -1; round < rounds; round++)
            for (int v = 0; v < variants.Count; v++)
            {
                GC.Collect();
                long t0 = Stopwatch.GetTimestamp();
                if (variants[v].Analyzers.IsEmpty) SyntheticProject.CompileOnly(compilation);
                else if (variants[v].Name.EndsWith("only", StringComparison.Ordinal)) SyntheticProject.AnalyzeOnly(compilation, variants[v].Analyzers);
                else SyntheticProject.CompileWithAnalyzers(compilation, variants[v].Analyzers);
                if (round >= 0) samples[v].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        double baseline = Median(samples[0]);
        for (int v = 0; v < variants.Count; v++)
            Console.WriteLine($"{variants[v].Name,-38} median {Median(samples[v]),7:F0} ms  ({(Median(samples[v]) - baseline) / baseline,6:P1})");
        return 0;
    }

    private static double Median(List<double> values) => values.OrderBy(x => x).ElementAt(values.Count / 2);

#pragma warning disable RS1036, RS1041, RS2008 // a measuring probe, never loaded by a compiler
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    private sealed class Empty : DiagnosticAnalyzer
    {
        private static readonly DiagnosticDescriptor Rule = new("X0001", "x", "x", "x", DiagnosticSeverity.Warning, true);
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule);
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
        }
    }
#pragma warning restore RS1036, RS1041, RS2008
}
