using System;
using System.Collections.Generic;

namespace Kiln.Generator;

/// <summary>
/// The member names the generated model class declares, read from the generated source line by line: the emitter lays
/// every member out on its own line at the class body's indentation (CodeWriter), so the declarations are the lines
/// at that indentation that are not braces, comments, attributes or directives. A scan of the text costs a fraction of
/// a compiler parse of it, which the declaration checks would otherwise pay for every model
/// (tests/Kiln.Generator.Tests/GeneratedMembersTests.cs checks the scan against the compiler's parse of every test model).
/// </summary>
internal static class GeneratedMembers
{
    private static readonly char[] NameEnds = { '<', '[' };
    private static readonly string[] TypeKeywords = { "class", "struct", "interface", "enum", "record" };

    /// <summary>
    /// Every member name the class <paramref name="className"/> declares in <paramref name="source"/>: fields (each
    /// declarator), properties, methods, events, indexers ("Item"), nested types and delegates; not constructors,
    /// operators or explicit interface implementations (they claim no name in the class).
    /// </summary>
    public static HashSet<string> Names(string source, string className)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        int classIndent = -1, bodyStart = -1;
        // The model's class declaration: the line "partial class <Name> …" (a containing type cannot have its name).
        for (int start = 0; start < source.Length && bodyStart < 0; start = NextLine(source, start))
        {
            int indent = Indent(source, start);
            if (string.CompareOrdinal(source, start + indent, "partial class ", 0, 14) != 0) continue;
            int nameStart = start + indent + 14;
            int nameEnd = nameStart;
            while (nameEnd < source.Length && IsNameChar(source[nameEnd])) nameEnd++;
            if (Unescape(source.Substring(nameStart, nameEnd - nameStart)) != className) continue;
            classIndent = indent;
            bodyStart = NextLine(source, start);
        }
        if (bodyStart < 0) return names;

        int memberIndent = classIndent + 4;
        for (int start = bodyStart; start < source.Length; start = NextLine(source, start))
        {
            int end = LineEnd(source, start);
            int indent = Indent(source, start);
            if (start + indent == end) continue; // blank
            if (indent <= classIndent && source[start + indent] == '}') break; // the end of the class
            if (indent != memberIndent) continue; // inside a member, or a continuation line
            ReadDeclaration(source.Substring(start + indent, end - start - indent), className, names);
        }
        return names;
    }

    /// <summary>The name(s) a declaration line declares, added to <paramref name="names"/>.</summary>
    private static void ReadDeclaration(string line, string className, HashSet<string> names)
    {
        int i = 0;
        // Attribute lists written on the declaration's line.
        while (i < line.Length && line[i] == '[')
        {
            i = SkipBalanced(line, i);
            while (i < line.Length && line[i] == ' ') i++;
        }
        if (i >= line.Length) return;
        char first = line[i];
        if (first is '{' or '}' or ')' or '#' or '~' or ':' or '=' || line.StartsWith("//", StringComparison.Ordinal) || StartsWithWord(line, i, "where")) return;

        var words = new List<string>();
        while (i < line.Length)
        {
            char c = line[i];
            if (c == ' ') { i++; continue; }
            if (c == '(')
            {
                if (words.Count > 0 && !IsModifierOnly(words)) break; // the parameter list
                int close = SkipBalanced(line, i); // a tuple type, one word
                words.Add(line.Substring(i, close - i));
                i = close;
                continue;
            }
            if (c is '=' or ';' or '{' or ',') break;
            int wordStart = i;
            while (i < line.Length && line[i] is not (' ' or '(' or '=' or ';' or '{' or ','))
                i = line[i] is '<' or '[' ? SkipBalanced(line, i) : i + 1;
            words.Add(line.Substring(wordStart, i - wordStart));
        }
        if (words.Count == 0) return;

        // Nested types: the word after the keyword.
        for (int w = 0; w < words.Count - 1; w++)
        {
            if (Array.IndexOf(TypeKeywords, words[w]) < 0) continue;
            string typeName = words[w + 1] is "struct" or "class" && words[w] == "record" && w + 2 < words.Count ? words[w + 2] : words[w + 1];
            names.Add(Unescape(StripGenerics(typeName.TrimEnd(':'))));
            return;
        }
        if (words.Contains("operator") || words.Contains("implicit") || words.Contains("explicit")) return;

        string last = StripGenerics(words[words.Count - 1]);
        if (last.Contains(".")) return; // an explicit interface implementation
        bool parameters = i < line.Length && line[i] == '(';
        if (parameters && CountTypeWords(words) == 1 && Unescape(last) == className) return; // a constructor
        names.Add(last == "this" ? "Item" : Unescape(last)); // an indexer is named Item

        // A field with several declarators: int _a, _b = 1, _c;
        if (i < line.Length && (line[i] == ',' || line[i] == '=') && !parameters && !IsArrow(line, i))
        {
            while (i < line.Length && line[i] != ';')
            {
                if (line[i] is '(' or '[' or '{') { i = SkipBalanced(line, i); continue; }
                if (line[i] == '"') { i = SkipQuoted(line, i); continue; }
                if (line[i] == ',')
                {
                    i++;
                    while (i < line.Length && line[i] == ' ') i++;
                    int nameStart = i;
                    while (i < line.Length && IsNameChar(line[i])) i++;
                    if (i > nameStart) names.Add(Unescape(line.Substring(nameStart, i - nameStart)));
                    continue;
                }
                if (line[i] == '/' && i + 1 < line.Length && line[i + 1] == '/') break;
                i++;
            }
        }
    }

    private static readonly string[] Modifiers =
    {
        "public", "private", "protected", "internal", "static", "readonly", "const", "override", "virtual", "abstract", "sealed",
        "new", "partial", "unsafe", "extern", "volatile", "async", "required", "file", "fixed", "event", "ref",
    };

    private static bool IsModifierOnly(List<string> words)
    {
        foreach (string word in words)
            if (Array.IndexOf(Modifiers, word) < 0) return false;
        return true;
    }

    /// <summary>The words of a declaration head that are not modifiers (a constructor has one: its name).</summary>
    private static int CountTypeWords(List<string> words)
    {
        int count = 0;
        foreach (string word in words)
            if (Array.IndexOf(Modifiers, word) < 0) count++;
        return count;
    }

    private static bool IsArrow(string line, int i) => line[i] == '=' && i + 1 < line.Length && line[i + 1] == '>';

    private static bool StartsWithWord(string line, int i, string word) =>
        string.CompareOrdinal(line, i, word, 0, word.Length) == 0 && (i + word.Length == line.Length || !IsNameChar(line[i + word.Length]));

    /// <summary>A name without its type parameters or an indexer's parameters: Run&lt;TIsa&gt; → Run, this[int i] → this.</summary>
    private static string StripGenerics(string word)
    {
        int cut = word.IndexOfAny(NameEnds);
        return cut < 0 ? word : word.Substring(0, cut);
    }

    private static string Unescape(string name) => name.Length > 0 && name[0] == '@' ? name.Substring(1) : name;

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '@';

    /// <summary>The index just after the bracket that closes the one at <paramref name="i"/> (strings skipped).</summary>
    private static int SkipBalanced(string line, int i)
    {
        char open = line[i];
        char close = open switch { '(' => ')', '[' => ']', '{' => '}', _ => '>' };
        int depth = 0;
        for (int j = i; j < line.Length; j++)
        {
            char c = line[j];
            if (c == '"') { j = SkipQuoted(line, j) - 1; continue; }
            if (c == open) depth++;
            else if (c == close && --depth == 0) return j + 1;
        }
        return line.Length;
    }

    /// <summary>The index just after the string literal that opens at <paramref name="i"/>.</summary>
    private static int SkipQuoted(string line, int i)
    {
        for (int j = i + 1; j < line.Length; j++)
        {
            if (line[j] == '\\') j++;
            else if (line[j] == '"') return j + 1;
        }
        return line.Length;
    }

    private static int Indent(string source, int start)
    {
        int i = start;
        while (i < source.Length && source[i] == ' ') i++;
        return i - start;
    }

    private static int LineEnd(string source, int start)
    {
        int end = source.IndexOf('\n', start);
        return end < 0 ? source.Length : end;
    }

    private static int NextLine(string source, int start)
    {
        int end = source.IndexOf('\n', start);
        return end < 0 ? source.Length : end + 1;
    }
}
