using System;
using System.Collections.Generic;
using System.Text;

namespace Kiln.Analyzers;

/// <summary>Identifier words: "xTestFeatures" → x, test, features; "learning_rate" → learning, rate.</summary>
public static class Words
{
    /// <summary>The lower-case words of an identifier (camelCase, PascalCase, snake_case, digits and acronyms split).</summary>
    public static List<string> Split(string identifier)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        void Flush()
        {
            if (current.Length > 0) words.Add(current.ToString().ToLowerInvariant());
            current.Clear();
        }
        for (int i = 0; i < identifier.Length; i++)
        {
            char c = identifier[i];
            if (!char.IsLetterOrDigit(c)) { Flush(); continue; }
            if (current.Length > 0)
            {
                char previous = identifier[i - 1];
                bool lowerToUpper = char.IsUpper(c) && (char.IsLower(previous) || char.IsDigit(previous));
                bool acronymEnd = char.IsUpper(c) && char.IsUpper(previous) && i + 1 < identifier.Length && char.IsLower(identifier[i + 1]);
                bool digitEdge = char.IsDigit(c) != char.IsDigit(previous) && !(char.IsDigit(c) && IsNumberedWord(current.ToString()));
                if (lowerToUpper || acronymEnd || digitEdge) Flush();
            }
            current.Append(c);
        }
        Flush();
        return words;
    }

    /// <summary>Words that keep a trailing digit ("beta1", "beta2", "l2", "b1"): short names whose number is part of the name.</summary>
    private static bool IsNumberedWord(string word) => word.Equals("beta", StringComparison.OrdinalIgnoreCase)
        || word.Equals("l", StringComparison.OrdinalIgnoreCase) || word.Equals("b", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when any word of <paramref name="identifier"/> is one of <paramref name="candidates"/>.</summary>
    public static bool ContainsAny(string identifier, IReadOnlyCollection<string> candidates)
    {
        foreach (string word in Split(identifier))
            foreach (string candidate in candidates)
                if (word == candidate) return true;
        return false;
    }

    /// <summary>The identifier lower-cased with separators removed ("held_out" → "heldout").</summary>
    public static string Squashed(string identifier)
    {
        var sb = new StringBuilder(identifier.Length);
        foreach (char c in identifier)
            if (char.IsLetterOrDigit(c)) sb.Append(char.ToLowerInvariant(c));
        return sb.ToString();
    }
}
