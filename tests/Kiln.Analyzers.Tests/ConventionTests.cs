using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Kiln.Analyzers.Tests.Harness;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Tests;

/// <summary>The rule table, release tracking, rule pages, generated code, configuration and the split with the generator.</summary>
public class ConventionTests
{
    private static string RepositoryRoot([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));

    [Fact]
    public void Every_pitfall_descriptor_has_one_analyzer_and_follows_the_conventions()
    {
        var analyzers = AnalyzerHarness.AllAnalyzers.Cast<KilnAnalyzer>().ToArray();
        Assert.True(analyzers.Length >= 29, $"Only {analyzers.Length} analyzers.");
        var byRule = analyzers.GroupBy(a => a.Rule.Id).ToDictionary(g => g.Key, g => g.Count());
        foreach (DiagnosticDescriptor d in Descriptors.Pitfalls)
        {
            Assert.Matches("^KLN0[1-3][0-9]{2}$", d.Id);
            Assert.Same(d, Descriptors.ById(d.Id));
            Assert.Contains(d.Category, new[] { Descriptors.PitfallCategory, Descriptors.UsageCategory });
            Assert.True(d.IsEnabledByDefault);
            Assert.Equal(Descriptors.HelpLinkBase + d.Id + ".md", d.HelpLinkUri);
            Assert.NotEqual(DiagnosticSeverity.Error, d.DefaultSeverity);
            Assert.False(string.IsNullOrWhiteSpace(d.Description.ToString(CultureInfo.InvariantCulture)), d.Id);
            if (d.Id != Descriptors.AnalyzerFailedId)
                Assert.True(byRule.TryGetValue(d.Id, out int count) && count == 1, $"{d.Id} needs exactly one analyzer.");
        }
        Assert.Empty(Descriptors.Pitfalls.Select(d => d.Id).Intersect(Descriptors.All.Select(d => d.Id)));
        Assert.All(analyzers, a => Assert.Equal(new[] { a.Rule.Id, Descriptors.AnalyzerFailedId }, a.SupportedDiagnostics.Select(d => d.Id)));
    }

    [Fact]
    public void Release_tracking_lists_every_descriptor_with_its_category_and_severity()
    {
        string unshipped = File.ReadAllText(Path.Combine(RepositoryRoot(), "Generator", "AnalyzerReleases.Unshipped.md"));
        foreach (DiagnosticDescriptor d in Descriptors.All.Concat(Descriptors.Pitfalls))
            Assert.Matches(new Regex($@"^{d.Id} \| {Regex.Escape(d.Category)} \| {d.DefaultSeverity} \|", RegexOptions.Multiline), unshipped);
    }

    [Fact]
    public void Every_rule_has_a_page_with_the_required_sections()
    {
        string rules = Path.Combine(RepositoryRoot(), "docs", "rules");
        foreach (DiagnosticDescriptor d in Descriptors.All.Concat(Descriptors.Pitfalls))
        {
            string page = Path.Combine(rules, d.Id + ".md");
            Assert.True(File.Exists(page), $"Missing {page}.");
            string text = File.ReadAllText(page);
            Assert.StartsWith("# " + d.Id, text, StringComparison.Ordinal);
            foreach (string section in new[] { "## What it detects", "## Why", "## Example", "## Fix", "## Suppress" })
                Assert.True(text.Contains(section, StringComparison.Ordinal), $"{d.Id}.md lacks '{section}'.");
            if (d.DefaultSeverity != DiagnosticSeverity.Error)
                Assert.Contains($"dotnet_diagnostic.{d.Id}.severity", text, StringComparison.Ordinal);
        }
        string index = File.ReadAllText(Path.Combine(rules, "README.md"));
        foreach (DiagnosticDescriptor d in Descriptors.All.Concat(Descriptors.Pitfalls))
            Assert.Contains($"[{d.Id}]({d.Id}.md)", index, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_fix_targets_pitfall_rules_and_offers_fix_all()
    {
        var fixes = typeof(Kiln.CodeFixes.KilnCodeFix).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t))
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!).ToArray();
        Assert.True(fixes.Length >= 9);
        var pitfalls = Descriptors.Pitfalls.Select(d => d.Id).ToHashSet();
        foreach (CodeFixProvider fix in fixes)
        {
            Assert.All(fix.FixableDiagnosticIds, id => Assert.Contains(id, pitfalls));
            FixAllProvider? all = fix.GetFixAllProvider();
            Assert.NotNull(all);
            Assert.Contains(FixAllScope.Document, all!.GetSupportedFixAllScopes());
            Assert.Contains(FixAllScope.Project, all.GetSupportedFixAllScopes());
        }
    }

    private const string Pitfalls = """
        [Model(Input = 4)]
        [Dense(8, Init = Init.XavierNormal), Sigmoid, Dense(8), BatchNorm, ReLU, Dropout(0.7, Scaling = DropoutScaling.None)]
        [Dense(3), Softmax, SoftmaxCrossEntropy]
        [AdaGrad(0.5)]
        public partial class Bad;
        """;

    [Fact]
    public async Task Generated_code_is_not_analysed()
    {
        string generated = "// <auto-generated/>\n" + AnalyzerHarness.Prelude + Pitfalls;
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(new[] { generated }, generate: false);
        run.AssertNoFailures();
        Assert.Empty(run.Diagnostics);

        AnalysisRun user = await AnalyzerHarness.AnalyzeAsync(new[] { AnalyzerHarness.Prelude + Pitfalls }, generate: false);
        Assert.True(user.Diagnostics.Length >= 6, string.Join("\n", user.Diagnostics));

        // A .g.cs file name marks generated code too; and the generator's own output (which contains the
        // model's partial declaration) never produces a diagnostic.
        Compilation compilation = AnalyzerHarness.Compile(AnalyzerHarness.Prelude + Pitfalls.Replace("public partial class Bad;", "public partial class Bad { }"));
        compilation = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(),
            compilation.SyntaxTrees.Single().WithFilePath("/src/Bad.g.cs"));
        AnalysisRun named = await AnalyzerHarness.AnalyzeAsync(compilation, ImmutableArray<Diagnostic>.Empty, AnalyzerHarness.AllAnalyzers);
        Assert.Empty(named.Diagnostics);
    }

    [Fact]
    public async Task Analyzers_never_report_on_generated_sources_of_valid_models()
    {
        const string model = """
            [Model(Input = 4, Seed = 1, Normalize = InputNormalization.PerFeature)]
            [Dense(8, Bias = false), BatchNorm, ReLU, Dropout(0.2), Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class Good;
            """;
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(new[] { AnalyzerHarness.Prelude + model }, generate: true);
        run.AssertNoFailures();
        Assert.True(run.Compilation.SyntaxTrees.Count() > 1, "The generator produced nothing.");
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public async Task Spec_errors_are_left_to_the_generator()
    {
        // Rate 1.5 is KLN0008 (generator); KLN0111 (rate > 0.5) must not repeat it. The missing seed is reported
        // on [Model], which carries no error here.
        const string model = """
            [Model(Input = 4)]
            [Dense(8), ReLU, Dropout(1.5), Dense(2), SoftmaxCrossEntropy]
            [Adam(LearningRate = -1)]
            public partial class Invalid;
            """;
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(new[] { AnalyzerHarness.Prelude + model }, generate: true);
        run.AssertNoFailures();
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == Descriptors.HyperParameterOutOfDomainId);
        Assert.DoesNotContain(run.Diagnostics, d => d.Id.StartsWith("KLN00", StringComparison.Ordinal));
        Assert.DoesNotContain(run.Diagnostics, d => d.Id is Descriptors.HighDropoutRateId or Descriptors.LearningRateRangeId);
        Assert.Contains(run.Diagnostics, d => d.Id == Descriptors.NoSeedId);

        // A pitfall on an attribute that carries a spec error is dropped: "no optimiser" (KLN0010) sits on
        // [Model], so the missing-seed hint (KLN0122, also on [Model]) waits until the model is valid there.
        const string noOptimizer = """
            [Model(Input = 4)]
            [Dense(8), ReLU, Dense(3), SoftmaxCrossEntropy]
            public partial class NoOptimizer;
            """;
        AnalysisRun second = await AnalyzerHarness.AnalyzeAsync(new[] { AnalyzerHarness.Prelude + noOptimizer }, generate: true);
        Assert.Contains(second.GeneratorDiagnostics, d => d.Id == Descriptors.OptimizerCountId);
        Assert.DoesNotContain(second.Diagnostics, d => d.Id == Descriptors.NoSeedId);
    }

    [Fact]
    public async Task Severity_is_configurable_through_editorconfig()
    {
        const string config = """
            is_global = true
            dotnet_diagnostic.KLN0101.severity = none
            dotnet_diagnostic.KLN0122.severity = error
            """;
        Compilation compilation = AnalyzerHarness.Compile(AnalyzerHarness.Prelude + Pitfalls);
        var options = (Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions)compilation.Options;
        var analyzerConfig = AnalyzerConfig.Parse(config, "/.globalconfig");
        AnalyzerConfigSet set = AnalyzerConfigSet.Create(new[] { analyzerConfig });
        AnalyzerConfigOptionsResult global = set.GlobalConfigOptions;
        compilation = compilation.WithOptions(options.WithSpecificDiagnosticOptions(global.TreeOptions));
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(compilation, ImmutableArray<Diagnostic>.Empty, AnalyzerHarness.AllAnalyzers);
        run.AssertNoFailures();
        Assert.DoesNotContain(run.Diagnostics, d => d.Id == "KLN0101");
        Assert.Contains(run.Diagnostics, d => d.Id == "KLN0122" && d.Severity == DiagnosticSeverity.Error);
        Assert.Contains(run.Diagnostics, d => d.Id == "KLN0111" && d.Severity == DiagnosticSeverity.Warning);
    }

    [Fact]
    public async Task Pragma_suppresses_a_rule()
    {
        string source = AnalyzerHarness.Prelude + "#pragma warning disable KLN0101\n" + Pitfalls;
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(new[] { source }, generate: false);
        Assert.DoesNotContain(run.Diagnostics, d => d.Id == "KLN0101");
        Assert.Contains(run.Diagnostics, d => d.Id == "KLN0111");
    }

    [Fact]
    public async Task A_clean_model_and_workflow_raise_nothing()
    {
        const string clean = """
            [Model(Input = 64, MaxBatch = 64, Seed = 42, Normalize = InputNormalization.None)]
            [Dense(128, Bias = false, Init = Init.HeNormal), BatchNorm, ReLU, Dropout(0.2)]
            [Dense(64, Bias = false), BatchNorm, ReLU]
            [Dense(10), SoftmaxCrossEntropy]
            [Adam(LearningRate = 1e-3)]
            public partial class Clean;

            public static class Workflow
            {
                public static double Run(Dataset data)
                {
                    DataSplit split = data.Split(0.8, 42);
                    var standardizer = new Standardizer().Fit(split.Train);
                    Dataset train = standardizer.Transform(split.Train), test = standardizer.Transform(split.Test);
                    var model = new Clean();
                    Trainer.Fit(model, train, test, 10, 64);
                    var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).OneMinusLogUniform("beta1", 0.8, 0.99);
                    var random = new KilnRandom(1);
                    HyperParameters trial = space.Sample(ref random);
                    return Trainer.Evaluate(model, test).Accuracy + trial.GetDouble("lr");
                }
            }
            """;
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(new[] { AnalyzerHarness.Prelude + clean }, generate: true);
        run.AssertNoFailures();
        Assert.Empty(AnalyzerHarness.SourceErrors(run.Compilation));
        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
    }
}
