using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex;
using DiffPlex.Model;

namespace Kiln.Generator.Tests;

/// <summary>
/// A small stand-in for Verify (whose core package the registry here lacks), with its file layout:
/// the accepted text lives in <c>Snapshots/&lt;TestClass&gt;.&lt;name&gt;.verified.cs</c> next to the
/// test file (found through <see cref="CallerFilePathAttribute"/>, so the snapshots are read from
/// the source tree, never copied to the output); a mismatch writes <c>.received.cs</c> beside it and
/// fails with a unified diff. With <c>KILN_ACCEPT_SNAPSHOTS=1</c> the received text is accepted
/// (written over the verified file) instead. Line endings are normalised to '\n'.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "KILN_ACCEPT_SNAPSHOTS";

    /// <summary>At most this many changed lines are shown in a failure message.</summary>
    private const int MaxChangedLines = 80;

    private const int Context = 3;

    public static void Verify(string text, string name, [CallerFilePath] string path = "")
    {
        if (string.IsNullOrEmpty(path)) throw new ArgumentException("The caller's file path is required.", nameof(path));
        string directory = Path.Combine(Path.GetDirectoryName(path)!, "Snapshots");
        string testClass = Path.GetFileNameWithoutExtension(path);
        string verifiedPath = Path.Combine(directory, $"{testClass}.{name}.verified.cs");
        string receivedPath = Path.Combine(directory, $"{testClass}.{name}.received.cs");

        string received = Normalize(text);
        string? verified = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;

        if (verified == received)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verifiedPath, received, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(receivedPath, received, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        string header = verified is null
            ? $"No snapshot {verifiedPath} yet; the received text is in {receivedPath}."
            : $"The text differs from {verifiedPath}; the received text is in {receivedPath}.";
        Assert.Fail(header + $"\nAccept it by renaming the file, or by running the tests with {AcceptVariable}=1.\n\n"
            + UnifiedDiff(verified ?? "", received, "verified", "received"));
    }

    public static string Normalize(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');

    /// <summary>A unified diff (three lines of context) of two texts, cut after <see cref="MaxChangedLines"/> changed lines.</summary>
    public static string UnifiedDiff(string oldText, string newText, string oldName, string newName)
    {
        DiffResult diff = Differ.Instance.CreateLineDiffs(oldText, newText, false);
        var output = new StringBuilder();
        output.Append("--- ").Append(oldName).Append('\n');
        output.Append("+++ ").Append(newName).Append('\n');

        // Group the change blocks into hunks whose contexts touch or overlap.
        var hunks = new List<List<DiffBlock>>();
        foreach (DiffBlock block in diff.DiffBlocks)
        {
            if (hunks.Count > 0)
            {
                DiffBlock last = hunks[^1][^1];
                if (block.DeleteStartA - (last.DeleteStartA + last.DeleteCountA) <= 2 * Context)
                {
                    hunks[^1].Add(block);
                    continue;
                }
            }
            hunks.Add(new List<DiffBlock> { block });
        }

        int changed = 0;
        foreach (List<DiffBlock> hunk in hunks)
        {
            DiffBlock first = hunk[0], last = hunk[^1];
            int oldStart = Math.Max(0, first.DeleteStartA - Context);
            int oldEnd = Math.Min(diff.PiecesOld.Count, last.DeleteStartA + last.DeleteCountA + Context);
            int newStart = first.InsertStartB - (first.DeleteStartA - oldStart);
            int newEnd = last.InsertStartB + last.InsertCountB + (oldEnd - (last.DeleteStartA + last.DeleteCountA));
            output.Append($"@@ -{oldStart + 1},{oldEnd - oldStart} +{newStart + 1},{newEnd - newStart} @@\n");

            int a = oldStart;
            foreach (DiffBlock block in hunk)
            {
                for (; a < block.DeleteStartA; a++) output.Append(' ').Append(diff.PiecesOld[a]).Append('\n');
                for (int i = 0; i < block.DeleteCountA; i++, a++)
                {
                    output.Append('-').Append(diff.PiecesOld[a]).Append('\n');
                    if (++changed >= MaxChangedLines) return Truncated(output, diff);
                }
                for (int i = 0; i < block.InsertCountB; i++)
                {
                    output.Append('+').Append(diff.PiecesNew[block.InsertStartB + i]).Append('\n');
                    if (++changed >= MaxChangedLines) return Truncated(output, diff);
                }
            }
            for (; a < oldEnd; a++) output.Append(' ').Append(diff.PiecesOld[a]).Append('\n');
        }
        return output.ToString();
    }

    private static string Truncated(StringBuilder output, DiffResult diff)
    {
        int total = 0;
        foreach (DiffBlock block in diff.DiffBlocks) total += block.DeleteCountA + block.InsertCountB;
        return output.Append($"... (diff cut after {MaxChangedLines} of {total} changed lines)\n").ToString();
    }
}
