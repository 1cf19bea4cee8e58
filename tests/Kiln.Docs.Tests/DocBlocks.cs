using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Kiln.Docs.Tests;

/// <summary>A fenced ```csharp block of a Markdown file.</summary>
/// <param name="File">Path relative to the repository root, with forward slashes.</param>
/// <param name="Line">1-based line of the opening fence.</param>
/// <param name="Code">The block's text.</param>
/// <param name="Fragment">True when the fence says <c>```csharp fragment</c>: shown for reading, not compiled.</param>
/// <param name="Expected">Diagnostic ids the fence declares as the point of the example (<c>```csharp expect=CS0246</c>).</param>
public sealed record DocBlock(string File, int Line, string Code, bool Fragment, string Expected = "")
{
    /// <summary>Shown by the test runner for each case: the place to fix.</summary>
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>Finds the documentation files and their C# blocks.</summary>
public static class DocBlocks
{
    /// <summary>The repository root (recorded at build time).</summary>
    public static string Root { get; } = typeof(DocBlocks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>README.md and every Markdown file under docs/.</summary>
    public static IEnumerable<string> MarkdownFiles() =>
        new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories).OrderBy(p => p, StringComparer.Ordinal));

    private static readonly Regex Fence = new(@"^\s*```", RegexOptions.Compiled);

    /// <summary>The ```csharp (or ```cs, ```c#) blocks of <paramref name="path"/>.</summary>
    public static IEnumerable<DocBlock> Read(string path)
    {
        string relative = Path.GetRelativePath(Root, path).Replace('\\', '/');
        string[] lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            if (!Fence.IsMatch(lines[i])) continue;
            string info = lines[i].Trim().TrimStart('`').Trim();
            int start = i;
            int end = i + 1;
            while (end < lines.Length && !Fence.IsMatch(lines[end])) end++;
            string[] words = info.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0 && words[0] is "csharp" or "cs" or "c#")
                yield return new DocBlock(relative, start + 1, string.Join("\n", lines[(start + 1)..Math.Min(end, lines.Length)]),
                    words.Skip(1).Contains("fragment"),
                    string.Join(",", words.Skip(1).Where(w => w.StartsWith("expect=", StringComparison.Ordinal)).Select(w => w["expect=".Length..])));
            i = end;
        }
    }

    /// <summary>Every block of every documentation file, as xunit theory data.</summary>
    public static TheoryData<DocBlock> All()
    {
        var data = new TheoryData<DocBlock>();
        foreach (string file in MarkdownFiles())
            foreach (DocBlock block in Read(file))
                data.Add(block);
        return data;
    }
}
