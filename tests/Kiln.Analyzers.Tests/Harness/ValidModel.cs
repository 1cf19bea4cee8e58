using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;

namespace Kiln.Analyzers.Tests.Harness;

/// <summary>
/// The analyzer verifier on models the generator accepts: runs the generator too and asserts it reports no error, so a
/// variant cannot pass (or stay clean) only because its model is invalid and the rule's report was dropped.
/// </summary>
public static class ValidModel
{
    /// <summary>Exactly the marked diagnostics of <typeparamref name="TAnalyzer"/>'s rule, on valid models.</summary>
    public static async Task Fires<TAnalyzer>(string markup) where TAnalyzer : KilnAnalyzer, new() =>
        AssertValid(await Verify.AnalyzerAsync<TAnalyzer>(markup, generate: true));

    /// <summary>No diagnostic of <typeparamref name="TAnalyzer"/>'s rule (a near miss), on valid models.</summary>
    public static async Task Clean<TAnalyzer>(string source) where TAnalyzer : KilnAnalyzer, new() =>
        AssertValid(await Verify.NoDiagnosticsAsync<TAnalyzer>(source, generate: true));

    private static void AssertValid(AnalysisRun run)
    {
        Diagnostic[] errors = run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, "The test model is not valid:\n" + string.Join("\n", errors.Select(e => e.ToString())));
    }
}
