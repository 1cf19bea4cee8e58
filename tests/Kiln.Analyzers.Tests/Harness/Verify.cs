using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Tests.Harness;

/// <summary>
/// The analyzer verifier: <c>await Verify.AnalyzerAsync&lt;TAnalyzer&gt;(markup)</c> compiles
/// <see cref="AnalyzerHarness.Prelude"/> + the markup's source, runs the generator (unless told not to) and the one
/// analyzer, and asserts that exactly the marked diagnostics of that analyzer's rule are reported, that nothing threw,
/// that the source is valid C#, and that each diagnostic has a formatted message and the rule's help link.
/// </summary>
public static class Verify
{
    public static Task<AnalysisRun> AnalyzerAsync<TAnalyzer>(string markup, bool generate = true) where TAnalyzer : KilnAnalyzer, new() =>
        AnalyzerAsync(new TAnalyzer(), markup, generate);

    public static async Task<AnalysisRun> AnalyzerAsync(KilnAnalyzer analyzer, string markup, bool generate = true)
    {
        (string source, List<ExpectedDiagnostic> expected) = Markup.Parse(AnalyzerHarness.Prelude + markup, analyzer.Rule.Id);
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(new[] { source }, generate, ImmutableArray.Create<DiagnosticAnalyzer>(analyzer));
        run.AssertNoFailures();
        Diagnostic[] errors = AnalyzerHarness.SourceErrors(run.Compilation).ToArray();
        Assert.True(errors.Length == 0, "The test source does not compile:\n" + string.Join("\n", errors.Select(e => e.ToString())));

        Diagnostic[] reported = run.Diagnostics.Where(d => d.Id == analyzer.Rule.Id).ToArray();
        var actual = reported.Select(d => new ExpectedDiagnostic(d.Id, d.Location.SourceSpan)).ToList();
        actual.Sort(Markup.Compare);
        Assert.True(expected.SequenceEqual(actual), $"Expected\n{Describe(source, expected)}\nbut got\n{Describe(source, actual)}\n"
            + string.Join("\n", reported.Select(d => "  " + d)));
        foreach (Diagnostic diagnostic in reported)
        {
            Assert.Equal(analyzer.Rule.HelpLinkUri, diagnostic.Descriptor.HelpLinkUri);
            string message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            Assert.DoesNotMatch(@"\{[0-9]+\}", message);
            Assert.True(message.Length > 20, message);
            Assert.Equal(AnalyzerHarness.SourcePath(0), diagnostic.Location.SourceTree?.FilePath);
        }
        return run;
    }

    /// <summary>The analyzer reports nothing on the source (a near miss).</summary>
    public static Task<AnalysisRun> NoDiagnosticsAsync<TAnalyzer>(string source, bool generate = true) where TAnalyzer : KilnAnalyzer, new()
    {
        if (source.Contains("[|", StringComparison.Ordinal) || source.Contains("{|", StringComparison.Ordinal))
            throw new ArgumentException("A near-miss case carries no markers.", nameof(source));
        return AnalyzerAsync(new TAnalyzer(), source, generate);
    }

    private static string Describe(string source, IEnumerable<ExpectedDiagnostic> diagnostics)
    {
        var lines = diagnostics.Select(d => $"  {d.Id} at {d.Span}: '{Safe(source, d)}'").ToArray();
        return lines.Length == 0 ? "  (nothing)" : string.Join("\n", lines);
    }

    private static string Safe(string source, ExpectedDiagnostic d) =>
        d.Span.End <= source.Length ? source.Substring(d.Span.Start, d.Span.Length) : "?";
}
