using System;
using System.Globalization;
using System.Text;

namespace Kiln.Generator.Emitting;

/// <summary>A minimal indented writer: generated code is text, laid out the way a person would write it.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    /// <summary>The longest line the writer emits where it can wrap: longer statements break after an argument's comma.</summary>
    public const int MaxLineLength = 200;

    /// <summary>Writes one line at the current indentation, wrapped at <see cref="MaxLineLength"/> (see <see cref="LineWrapper"/>).</summary>
    public void Line(string line = "")
    {
        if (line.Length == 0)
        {
            _text.Append('\n');
            return;
        }
        string indented = new string(' ', _indent * 4) + line;
        if (indented.Length <= MaxLineLength) _text.Append(indented).Append('\n');
        else foreach (string part in LineWrapper.Wrap(indented, MaxLineLength)) _text.Append(part).Append('\n');
    }

    /// <summary>Writes a block of lines (a raw string), re-indented at the current level.</summary>
    public void Block(string lines)
    {
        foreach (string line in lines.Replace("\r\n", "\n").Split('\n')) Line(line.TrimEnd());
    }

    public void Open(string header)
    {
        if (header.Length > 0) Line(header);
        Line("{");
        _indent++;
    }

    public void Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
    }

    public override string ToString() => _text.ToString();

    /// <summary>
    /// The file-local alias every generated file declares for the kernels' namespace, so that kernel calls read
    /// <c>K::Gemm.Forward&lt;TIsa, K::BiasEpilogue&gt;(…)</c>. The <c>::</c> form looks the name up among aliases only:
    /// a type or member named K in the user's code cannot capture it.
    /// </summary>
    public const string KernelsAlias = "using K = global::Kiln.Kernels;";

    /// <summary>The prefix of a kernels type in generated code (through <see cref="KernelsAlias"/>).</summary>
    public const string K = "K::";

    /// <summary>A float literal in the invariant culture that round-trips (1E-05f, 0.001f, 2f).</summary>
    public static string Float(double value)
    {
        float f = (float)value;
        if (float.IsNaN(f) || float.IsInfinity(f)) throw new ArgumentOutOfRangeException(nameof(value), value, "Non-finite literal.");
        string text = f.ToString("R", CultureInfo.InvariantCulture);
        return text + "f";
    }

    /// <summary>A double literal in the invariant culture that round-trips.</summary>
    public static string Double(double value) => value.ToString("R", CultureInfo.InvariantCulture) + "d";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Wraps a generated line that is longer than the limit the way a person would: a comment at spaces (keeping its
/// <c>//</c> or <c>///</c> prefix), a trailing comment onto its own line above the statement, and a statement after
/// the commas of its outermost argument list, continuing one level deeper. Strings, character literals and
/// generic argument lists are never split. A line with nowhere to break stays as it is.
/// </summary>
internal static class LineWrapper
{
    public static string[] Wrap(string line, int max)
    {
        int lead = 0;
        while (lead < line.Length && line[lead] == ' ') lead++;
        string indent = line.Substring(0, lead), body = line.Substring(lead);
        var lines = new System.Collections.Generic.List<string>();
        if (body.StartsWith("//", StringComparison.Ordinal))
        {
            WrapComment(indent, body, max, lines);
            return lines.ToArray();
        }
        var commas = new System.Collections.Generic.List<(int Position, int Depth)>();
        int comment = Scan(body, commas);
        if (comment >= 0)
        {
            WrapComment(indent, body.Substring(comment), max, lines);
            body = body.Substring(0, comment).TrimEnd();
            if (indent.Length + body.Length <= max)
            {
                lines.Add(indent + body);
                return lines.ToArray();
            }
            commas.RemoveAll(c => c.Position >= comment);
        }
        WrapCode(indent, body, commas, max, lines);
        return lines.ToArray();
    }

    private static void WrapComment(string indent, string comment, int max, System.Collections.Generic.List<string> lines)
    {
        string prefix = comment.StartsWith("///", StringComparison.Ordinal) ? "/// " : "// ";
        string[] words = comment.Substring(prefix.Length - 1).TrimStart().Split(' ');
        var current = new StringBuilder(indent + prefix);
        int empty = current.Length;
        foreach (string word in words)
        {
            if (current.Length > empty && current.Length + 1 + word.Length > max)
            {
                lines.Add(current.ToString());
                current.Clear().Append(indent).Append(prefix);
            }
            if (current.Length > empty) current.Append(' ');
            current.Append(word);
        }
        lines.Add(current.ToString());
    }

    private static void WrapCode(string indent, string body, System.Collections.Generic.List<(int Position, int Depth)> commas, int max,
        System.Collections.Generic.List<string> lines)
    {
        if (commas.Count == 0)
        {
            lines.Add(indent + body);
            return;
        }
        int depth = int.MaxValue;
        foreach ((int _, int d) in commas) depth = Math.Min(depth, d);
        string continuation = indent + "    ";
        int start = 0;
        string prefix = indent;
        while (prefix.Length + body.Length - start > max)
        {
            int cut = -1;
            foreach ((int position, int d) in commas)
            {
                if (d != depth || position < start) continue;
                if (cut >= 0 && prefix.Length + position + 1 - start > max) break;
                cut = position;
            }
            if (cut < 0 || cut + 1 >= body.Length) break;
            lines.Add(prefix + body.Substring(start, cut + 1 - start));
            start = cut + 1;
            while (start < body.Length && body[start] == ' ') start++;
            prefix = continuation;
        }
        lines.Add(prefix + body.Substring(start));
    }

    /// <summary>Records the commas outside strings and generic argument lists with their bracket depth; returns where a trailing <c>//</c> comment starts (or -1).</summary>
    private static int Scan(string s, System.Collections.Generic.List<(int Position, int Depth)> commas)
    {
        int depth = 0, angle = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': i = SkipString(s, i); break;
                case '\'': i = SkipChar(s, i); break;
                case '/' when i + 1 < s.Length && s[i + 1] == '/': return i;
                case '(' or '[' or '{': depth++; break;
                case ')' or ']' or '}': depth--; break;
                case '<' when i > 0 && IsName(s[i - 1]): angle++; break;
                case '>' when angle > 0 && i > 0 && s[i - 1] != ' ' && s[i - 1] != '=': angle--; break;
                case ',' when angle == 0 && depth > 0: commas.Add((i, depth)); break;
            }
        }
        return -1;
    }

    private static bool IsName(char c) => char.IsLetterOrDigit(c) || c == '_';

    /// <summary>The index of the closing quote of the string literal that opens at <paramref name="i"/> (regular, verbatim or interpolated).</summary>
    private static int SkipString(string s, int i)
    {
        bool verbatim = false, interpolated = false;
        for (int k = i - 1; k >= 0 && (s[k] == '@' || s[k] == '$'); k--)
        {
            if (s[k] == '@') verbatim = true;
            else interpolated = true;
        }
        for (int j = i + 1; j < s.Length; j++)
        {
            char c = s[j];
            if (c == '\\' && !verbatim) j++;
            else if (c == '"')
            {
                if (verbatim && j + 1 < s.Length && s[j + 1] == '"') j++;
                else return j;
            }
            else if (c == '{' && interpolated)
            {
                if (j + 1 < s.Length && s[j + 1] == '{') j++;
                else j = SkipHole(s, j);
            }
        }
        return s.Length - 1;
    }

    /// <summary>The index of the brace that closes the interpolation hole opening at <paramref name="i"/>.</summary>
    private static int SkipHole(string s, int i)
    {
        int braces = 0;
        for (int j = i + 1; j < s.Length; j++)
        {
            char c = s[j];
            if (c == '"') j = SkipString(s, j);
            else if (c == '\'') j = SkipChar(s, j);
            else if (c == '{') braces++;
            else if (c == '}' && braces-- == 0) return j;
        }
        return s.Length - 1;
    }

    private static int SkipChar(string s, int i)
    {
        for (int j = i + 1; j < s.Length; j++)
        {
            if (s[j] == '\\') j++;
            else if (s[j] == '\'') return j;
        }
        return s.Length - 1;
    }
}
