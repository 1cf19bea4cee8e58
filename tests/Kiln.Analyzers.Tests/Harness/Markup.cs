using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.Analyzers.Tests.Harness;

/// <summary>A diagnostic expected at a span of the clean source.</summary>
public sealed record ExpectedDiagnostic(string Id, TextSpan Span)
{
    public override string ToString() => $"{Id}@{Span}";
}

/// <summary>
/// The markup of the Roslyn testing packages: <c>{|KLN0101:Sigmoid|}</c> expects KLN0101 on <c>Sigmoid</c>, and
/// <c>[|Sigmoid|]</c> expects the rule under test there. Markers may nest. Returns the source without them.
/// </summary>
public static class Markup
{
    public static (string Source, List<ExpectedDiagnostic> Expected) Parse(string markup, string? defaultId)
    {
        var source = new StringBuilder(markup.Length);
        var expected = new List<ExpectedDiagnostic>();
        var open = new Stack<(string Id, int Start)>();
        int i = 0;
        while (i < markup.Length)
        {
            if (At(markup, i, "{|"))
            {
                int colon = markup.IndexOf(':', i + 2);
                string id = colon < 0 ? "" : markup.Substring(i + 2, colon - i - 2);
                if (id.Length == 0 || !IsId(id)) throw new FormatException($"'{{|' at {i} must be followed by a diagnostic id and ':'.");
                open.Push((id, source.Length));
                i = colon + 1;
            }
            else if (At(markup, i, "[|"))
            {
                open.Push((defaultId ?? throw new FormatException("'[|' needs a rule under test."), source.Length));
                i += 2;
            }
            else if (At(markup, i, "|}") || At(markup, i, "|]"))
            {
                if (open.Count == 0) throw new FormatException($"'{markup.Substring(i, 2)}' at {i} closes no marker.");
                (string id, int start) = open.Pop();
                expected.Add(new ExpectedDiagnostic(id, TextSpan.FromBounds(start, source.Length)));
                i += 2;
            }
            else source.Append(markup[i++]);
        }
        if (open.Count > 0) throw new FormatException($"{open.Count} marker(s) are not closed.");
        expected.Sort(Compare);
        return (source.ToString(), expected);
    }

    public static int Compare(ExpectedDiagnostic a, ExpectedDiagnostic b) =>
        a.Span.Start != b.Span.Start ? a.Span.Start.CompareTo(b.Span.Start)
        : a.Span.End != b.Span.End ? a.Span.End.CompareTo(b.Span.End)
        : string.CompareOrdinal(a.Id, b.Id);

    private static bool At(string text, int index, string token) => string.CompareOrdinal(text, index, token, 0, token.Length) == 0;

    private static bool IsId(string id)
    {
        foreach (char c in id) if (!char.IsLetterOrDigit(c)) return false;
        return true;
    }
}
