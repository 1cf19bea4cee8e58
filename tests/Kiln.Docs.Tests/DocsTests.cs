extern alias KilnGenerator;
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace Kiln.Docs.Tests;

/// <summary>The documentation's code compiles, and the docs stand on their own.</summary>
public class DocsTests
{
    /// <summary>The rule page a block is on (docs/rules/KLN0101.md → KLN0101), or null.</summary>
    private static string? RuleOf(DocBlock block)
    {
        Match m = Regex.Match(block.File, @"^docs/rules/(KLN\d{4})\.md$");
        return m.Success ? m.Groups[1].Value : null;
    }

    public static TheoryData<DocBlock> Blocks() => DocBlocks.All();

    /// <summary>
    /// Each block compiles with no error. On a rule page the rule's own diagnostic is the point of the example and is
    /// allowed (an error rule's example fails to build on purpose); elsewhere a block also has no Kiln warning, so the
    /// README and guides never show code that the analyzers flag.
    /// </summary>
    [Theory]
    [MemberData(nameof(Blocks))]
    public void Block_compiles(DocBlock block)
    {
        if (block.Fragment) return;
        string? rule = RuleOf(block);
        var expected = new HashSet<string>(block.Expected.Split(',', StringSplitOptions.RemoveEmptyEntries)) { rule ?? "" };
        IReadOnlyList<Diagnostic> diagnostics = BlockCompiler.Compile(block.Code);
        var problems = diagnostics
            .Where(d => !expected.Contains(d.Id))
            .Where(d => d.Severity == DiagnosticSeverity.Error || (rule is null && d.Id.StartsWith("KLN", StringComparison.Ordinal)))
            .Select(d => $"{block.File}:{block.Line + d.Location.GetLineSpan().StartLinePosition.Line + 1}: {d.Id} {d.GetMessage()}")
            .ToList();
        Assert.True(problems.Count == 0, $"The ```csharp block at {block} does not compile cleanly " +
            "(mark a block that is deliberately incomplete with ```csharp fragment):\n" + string.Join("\n", problems));
    }

    [Fact]
    public void The_documents_have_code_blocks_and_few_fragments()
    {
        List<DocBlock> all = DocBlocks.MarkdownFiles().SelectMany(DocBlocks.Read).ToList();
        Assert.Contains(all, b => b.File == "README.md" && !b.Fragment);
        Assert.Contains(all, b => b.File == "docs/getting-started.md" && !b.Fragment);
        // Fragments are the rare exception: a block that cannot stand alone.
        Assert.True(all.Count(b => b.Fragment) * 8 <= all.Count, $"{all.Count(b => b.Fragment)} of {all.Count} blocks are fragments");
    }

    [Fact]
    public void A_broken_block_is_reported()
    {
        // The checker itself must be able to fail: a model error and a missing namespace both show up.
        Assert.Contains(BlockCompiler.Compile("using Kiln;\n[Model(Input = 4, Seed = 1)]\n[Dense(2), SoftmaxCrossEntropy]\n[Adam]\npublic class NotPartial { }"),
            d => d.Id == "KLN0001");
        Assert.Contains(BlockCompiler.Compile("var s = EmbeddedData.DigitsSplit();"), d => d.Id == "CS0103");
        IReadOnlyList<Diagnostic> misspelt = BlockCompiler.Compile(
            "using Kiln;\n[Model(Input = 4, Seed = 1)]\n[Dense(8, Initt = Init.HeNormal), ReLU]\n[Dnse(2), SoftmaxCrossEntropy]\n[Sgd]\npublic partial class Net;");
        Assert.Contains(misspelt, d => d.Id == "KLN0020" && d.GetMessage().Contains("did you mean 'Init'?") && d.GetMessage().Contains("[Dense] takes"));
        Assert.Contains(misspelt, d => d.Id == "KLN0020" && d.GetMessage().Contains("'Dnse' is not a Kiln attribute; did you mean [Dense]?"));
        Assert.Contains(BlockCompiler.Compile("using Kiln;\n[Model(Input = 4, Seed = 1)]\n[Dense(8), Sigmoid]\n[Dense(2), SoftmaxCrossEntropy]\n[Sgd]\npublic partial class Net;"),
            d => d.Id == "KLN0101");
    }

    /// <summary>Docs and README refer only to documents inside the repository.</summary>
    [Fact]
    public void Docs_stand_alone()
    {
        var offenders = new List<string>();
        foreach (string file in DocBlocks.MarkdownFiles())
        {
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                if (Regex.IsMatch(lines[i], @"CATALOGU[E]|DESIGN\.md|course notes|/work/|\u00A7\d"))
                    offenders.Add($"{Path.GetRelativePath(DocBlocks.Root, file)}:{i + 1}: {lines[i].Trim()}");
        }
        Assert.True(offenders.Count == 0, "References to documents outside the repository:\n" + string.Join("\n", offenders));
    }

    /// <summary>The rule help links are absolute and point into the repository named in Directory.Build.props.</summary>
    [Fact]
    public void Rule_help_links_use_the_repository_url()
    {
        string props = File.ReadAllText(Path.Combine(DocBlocks.Root, "Directory.Build.props"));
        string url = Regex.Match(props, "<KilnRepositoryUrl>(.*?)</KilnRepositoryUrl>").Groups[1].Value;
        Assert.StartsWith("https://", url);
        Assert.Equal(KilnGenerator::Kiln.Generator.Spec.Descriptors.HelpLinkBase, url + "/blob/main/docs/rules/");
    }

    /// <summary>The files a package needs exist: licence, changelog, getting-started guide, package READMEs.</summary>
    [Theory]
    [InlineData("LICENSE")]
    [InlineData("CHANGELOG.md")]
    [InlineData("docs/getting-started.md")]
    [InlineData("docs/contributing.md")]
    [InlineData("Runtime/PACKAGE.md")]
    [InlineData("templates/PACKAGE.md")]
    [InlineData("eng/package/icon.png")]
    public void Release_files_exist(string path) => Assert.True(File.Exists(Path.Combine(DocBlocks.Root, path)), path);
}
