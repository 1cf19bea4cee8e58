using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Kiln.Analyzers.Tests.Harness;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit.Abstractions;

namespace Kiln.Analyzers.Tests;

/// <summary>
/// Issue 16's "Done when": every rule's tests hold at least <see cref="MinimumVariants"/> positive variants. Counts, across this
/// project's test sources, the expected diagnostics of each rule: every <c>[|…|]</c> marker in the string arguments of a call
/// whose type argument is the rule's analyzer (<c>Verify.AnalyzerAsync&lt;T&gt;</c>, <c>ValidModel.Fires&lt;T&gt;</c>,
/// <c>VerifyFix.FixAsync&lt;T, TFix&gt;</c>…) and every <c>{|KLNnnnn:…|}</c> marker. The variant kinds each rule can have
/// (direct, through a local/helper/options object, on a non-Dense layer) are listed in docs/rules/README.md.
/// </summary>
public class VariantCoverageTests
{
    public const int MinimumVariants = 3;

    private readonly ITestOutputHelper _output;

    public VariantCoverageTests(ITestOutputHelper output) => _output = output;

    private static string ProjectDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    /// <summary>Positive variants per rule id.</summary>
    public static Dictionary<string, int> Count(IEnumerable<string> sources)
    {
        var idOf = AnalyzerHarness.AllAnalyzers.Cast<KilnAnalyzer>().ToDictionary(a => a.GetType().Name, a => a.Rule.Id, StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        void Add(string id, int n) => counts[id] = counts.TryGetValue(id, out int c) ? c + n : n;
        foreach (string source in sources)
        {
            SyntaxNode root = CSharpSyntaxTree.ParseText(source).GetRoot();
            foreach (InvocationExpressionSyntax call in root.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                GenericNameSyntax? generic = call.Expression switch
                {
                    MemberAccessExpressionSyntax { Name: GenericNameSyntax g } => g,
                    GenericNameSyntax g => g,
                    _ => null,
                };
                if (generic?.TypeArgumentList.Arguments.FirstOrDefault() is not { } type || !idOf.TryGetValue(type.ToString().Split('.').Last(), out string? id)) continue;
                int markers = call.ArgumentList.DescendantTokens().Where(IsString).Sum(t => Occurrences(t.Text, "[|"));
                if (markers > 0) Add(id, markers);
            }
            foreach (SyntaxToken token in root.DescendantTokens().Where(IsString))
                foreach (Match match in Regex.Matches(token.Text, @"\{\|(KLN\d{4}):"))
                    Add(match.Groups[1].Value, 1);
        }
        return counts;
    }

    private static bool IsString(SyntaxToken token) => token.Kind() is SyntaxKind.StringLiteralToken or SyntaxKind.MultiLineRawStringLiteralToken
        or SyntaxKind.SingleLineRawStringLiteralToken or SyntaxKind.InterpolatedStringTextToken or SyntaxKind.InterpolatedRawStringEndToken;

    private static int Occurrences(string text, string token)
    {
        int n = 0;
        for (int i = text.IndexOf(token, StringComparison.Ordinal); i >= 0; i = text.IndexOf(token, i + token.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    [Fact]
    public void Every_rule_has_at_least_three_positive_variants()
    {
        string[] files = Directory.GetFiles(ProjectDirectory(), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar) && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar))
            .ToArray();
        Dictionary<string, int> counts = Count(files.Select(File.ReadAllText));
        var below = new List<string>();
        foreach (DiagnosticDescriptor rule in Descriptors.Pitfalls.Where(d => d.Id != Descriptors.AnalyzerFailedId).OrderBy(d => d.Id, StringComparer.Ordinal))
        {
            int n = counts.TryGetValue(rule.Id, out int c) ? c : 0;
            _output.WriteLine($"{rule.Id} {n}");
            if (n < MinimumVariants) below.Add($"{rule.Id} ({n})");
        }
        Assert.True(below.Count == 0, "Rules with fewer than " + MinimumVariants + " positive variants: " + string.Join(", ", below));
    }

    [Fact]
    public void The_counter_counts_markers_of_the_analyzer_under_test_only()
    {
        const string source = """"
            class T
            {
                Task A() => Verify.AnalyzerAsync<GridSearchAnalyzer>("""x.[|Grid(3)|]; y.[|Grid(4)|];""");
                Task B() => Verify.NoDiagnosticsAsync<GridSearchAnalyzer>("""x.Grid(2);""");
                Task C() => Other.Run<string>("""[|not a rule|]""");
                Task D() => Verify.AnalyzerAsync<NoSeedAnalyzer>("""{|KLN0101:Sigmoid|} [|Model|]""");
            }
            """";
        Dictionary<string, int> counts = Count(new[] { source });
        Assert.Equal(2, counts["KLN0320"]);
        Assert.Equal(1, counts["KLN0122"]);
        Assert.Equal(1, counts["KLN0101"]);
        Assert.Equal(3, counts.Count);
    }
}
