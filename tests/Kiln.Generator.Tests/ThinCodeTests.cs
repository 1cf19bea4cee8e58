using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Emitting;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Generator.Tests;

/// <summary>
/// Generated files hold only what the architecture decides (issue 15 item 4): the model-independent API lives once
/// in the runtime's KilnModel, and every generated line fits <see cref="CodeWriter.MaxLineLength"/>.
/// </summary>
public class ThinCodeTests
{
    public static TheoryData<string> Models => new(TestModels.All.Keys);

    [Theory]
    [MemberData(nameof(Models))]
    public void Every_generated_line_fits_the_limit(string model)
    {
        string source = GeneratorHarness.Run(TestModels.All[model]).SingleSource;
        string[] lines = source.Split('\n');
        var tooLong = lines.Select((l, i) => (Line: i + 1, l.Length)).Where(x => x.Length > CodeWriter.MaxLineLength).ToList();
        Assert.True(tooLong.Count == 0, $"{model}: lines over {CodeWriter.MaxLineLength} characters: {string.Join(", ", tooLong.Select(x => $"{x.Line} ({x.Length})"))}");
    }

    [Fact]
    public void The_digits_model_is_half_its_old_length_and_declares_no_model_independent_member()
    {
        string source = GeneratorHarness.Run(TestModels.DigitsMlp).SingleSource;
        // The AggressiveOptimization attribute lines on the per-step methods (ModelEmitter.HotAttribute) are not counted:
        // one per method, they came after the budget was set and add no model-independent code.
        int lines = source.TrimEnd('\n').Split('\n').Count(l => l.Trim() != ModelEmitter.HotAttribute);
        Assert.True(lines <= 344, $"DigitsMlp.g.cs has {lines} lines besides the hot-method attributes; it had 689 before KilnModel took the shared API (at most half of that).");

        HashSet<string> declared = DeclarationChecks.DeclaredMemberNames(CSharpSyntaxTree.ParseText(source), "DigitsMlp");
        string[] shared = { "Predict", "Evaluate", "EvaluateTargets", "TrainStep", "ComputeGradients", "TensorData", "TensorGradient", "TensorState",
            "CheckLength", "CheckCount", "CheckTensor", "ArgMax", "BeginBatch", "CopyLabels", "CopyTargets", "Execute", "PartsFor",
            "EnterBatchOperation", "SetLearningRateScale", "GetLearningRateScale", "ResetNoise", "GetNoiseState", "SetNoiseState", "RestoreStep" };
        Assert.Equal(Array.Empty<string>(), shared.Where(declared.Contains).ToArray());
        Assert.Contains("partial class DigitsMlp : global::Kiln.KilnModel, global::Kiln.IKilnModel", source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_call_breaks_after_its_outermost_commas_and_keeps_its_tokens()
    {
        string line = "        K::Gemm.Forward<TIsa, K::BiasEpilogue>(" + string.Join(", ", Enumerable.Range(0, 30).Select(i => $"Arg{i}.Slice(r0 * 64, (r1 - r0) * 64)")) + ");";
        string[] wrapped = LineWrapper.Wrap(line, 120);

        Assert.True(wrapped.Length > 1);
        Assert.All(wrapped, l => Assert.True(l.Length <= 120, l));
        Assert.StartsWith("        K::Gemm.Forward<TIsa, K::BiasEpilogue>(Arg0.Slice(r0 * 64, (r1 - r0) * 64),", wrapped[0], StringComparison.Ordinal);
        Assert.All(wrapped.Skip(1), l => Assert.StartsWith("            Arg", l, StringComparison.Ordinal));
        Assert.Equal(Tokens(line), Tokens(string.Join("\n", wrapped)));
    }

    [Fact]
    public void Strings_and_generic_arguments_are_never_split()
    {
        string message = "\"" + string.Join(", ", Enumerable.Repeat("word", 30)) + "\"";
        string line = $"    Throw(Create<int, float, double, long>(1, 2), {message}, $\"{{(a ? \"x, y\" : \"z\")}}, {{b}}\", 'c', ',');";
        string[] wrapped = LineWrapper.Wrap(line, 60);

        Assert.Equal(Tokens(line), Tokens(string.Join("\n", wrapped)));
        Assert.Contains(wrapped, l => l.Contains(message, StringComparison.Ordinal));
        Assert.Contains(wrapped, l => l.Contains("Create<int, float, double, long>(1, 2),", StringComparison.Ordinal));
    }

    [Fact]
    public void A_trailing_comment_moves_above_its_statement_and_comments_wrap_at_spaces()
    {
        string comment = "// " + string.Join(" ", Enumerable.Repeat("because", 12));
        string[] wrapped = LineWrapper.Wrap("    Execute(Stages.HiddenForward, 8192); " + comment, 60);

        Assert.Equal("    Execute(Stages.HiddenForward, 8192);", wrapped[^1]);
        Assert.All(wrapped[..^1], l => Assert.StartsWith("    // because", l, StringComparison.Ordinal));
        Assert.Equal(12, wrapped[..^1].Sum(l => l.Split(' ').Count(w => w == "because")));

        string[] doc = LineWrapper.Wrap("    /// <summary>" + string.Join(" ", Enumerable.Repeat("word", 40)) + "</summary>", 80);
        Assert.All(doc, l => Assert.StartsWith("    /// ", l, StringComparison.Ordinal));
        Assert.All(doc, l => Assert.True(l.Length <= 80, l));
    }

    [Fact]
    public void A_line_with_nowhere_to_break_stays_whole()
    {
        string line = "    var x = " + new string('a', 300) + ";";
        Assert.Equal(new[] { line }, LineWrapper.Wrap(line, 200));
    }

    private static string[] Tokens(string code) =>
        SyntaxFactory.ParseTokens(code).Select(t => t.Text).ToArray();
}
