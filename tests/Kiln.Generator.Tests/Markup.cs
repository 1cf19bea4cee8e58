using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.Generator.Tests;

/// <summary>A diagnostic expected at a span of the clean source.</summary>
internal sealed record ExpectedDiagnostic(string Id, TextSpan Span);

/// <summary>
/// The markup of the Roslyn testing packages, reduced to what these tests need:
/// <c>{|KLN0008:Dropout(1.5)|}</c> marks the span <c>Dropout(1.5)</c> where diagnostic KLN0008 is
/// expected. Markers may nest. <see cref="Parse"/> returns the source without the markers.
/// </summary>
internal static class Markup
{
    public static (string Source, IReadOnlyList<ExpectedDiagnostic> Expected) Parse(string markup)
    {
        var source = new StringBuilder(markup.Length);
        var expected = new List<ExpectedDiagnostic>();
        var open = new Stack<(string Id, int Start)>();
        int i = 0;
        while (i < markup.Length)
        {
            if (Starts(markup, i, "{|"))
            {
                int colon = markup.IndexOf(':', i + 2);
                if (colon < 0) throw new FormatException($"'{{|' at {i} has no ':' after the diagnostic id.");
                string id = markup.Substring(i + 2, colon - i - 2);
                if (id.Length == 0 || !IsId(id)) throw new FormatException($"'{{|' at {i} is not followed by a diagnostic id and ':' (got '{id}').");
                open.Push((id, source.Length));
                i = colon + 1;
            }
            else if (Starts(markup, i, "|}"))
            {
                if (open.Count == 0) throw new FormatException($"'|}}' at {i} closes no marker.");
                (string id, int start) = open.Pop();
                expected.Add(new ExpectedDiagnostic(id, TextSpan.FromBounds(start, source.Length)));
                i += 2;
            }
            else source.Append(markup[i++]);
        }
        if (open.Count > 0) throw new FormatException($"{open.Count} marker(s) are not closed (first: {open.Peek().Id}).");
        expected.Sort((a, b) => a.Span.Start != b.Span.Start ? a.Span.Start.CompareTo(b.Span.Start) : string.CompareOrdinal(a.Id, b.Id));
        return (source.ToString(), expected);
    }

    private static bool Starts(string text, int index, string token) => string.CompareOrdinal(text, index, token, 0, token.Length) == 0;

    private static bool IsId(string id)
    {
        foreach (char c in id) if (!char.IsLetterOrDigit(c)) return false;
        return true;
    }
}
