using System;
using System.Globalization;
using System.Text;

namespace Kiln.Generator.Emitting;

/// <summary>A minimal indented writer: generated code is text, laid out the way a person would write it.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public void Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
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
