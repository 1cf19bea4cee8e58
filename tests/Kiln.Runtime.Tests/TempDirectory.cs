using System;
using System.IO;
using System.IO.Compression;

namespace Kiln.Runtime.Tests;

/// <summary>A per-test scratch directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kiln-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="bytes"/> raw, or gzip-compressed when <paramref name="gzip"/>.</summary>
    public string Write(string name, byte[] bytes, bool gzip = false)
    {
        string p = File(name);
        if (!gzip)
        {
            System.IO.File.WriteAllBytes(p, bytes);
            return p;
        }
        using var fs = System.IO.File.Create(p);
        using var gz = new GZipStream(fs, CompressionLevel.Fastest);
        gz.Write(bytes);
        return p;
    }

    public string WriteText(string name, string text, bool gzip = false) => Write(name, System.Text.Encoding.UTF8.GetBytes(text), gzip);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }   // best effort: a leftover temp folder must not fail a test
    }
}
