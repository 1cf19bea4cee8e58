using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kiln.Checkpoints;

// Checksums, finiteness and stale temporary files (docs/checkpoints.md, docs/reliability.md).
public static partial class Checkpoint
{
    /// <summary>The prefix of every checksum in <c>kiln_checksums</c>: XxHash3, 64 bits, seed 0, over the tensor's little-endian bytes.</summary>
    internal const string ChecksumPrefix = "xxh3:";

    /// <summary>
    /// One pass over every tensor before the header is written: its XxHash3 for <c>kiln_checksums</c> (a JSON object
    /// tensor → "xxh3:16 hex digits") and, unless allowed, the refusal of NaN and ±∞.
    /// </summary>
    private static string ChecksumsAndFiniteness(IKilnModel model, List<Entry> entries, string path, CheckpointSaveOptions? options)
    {
        bool allowNonFinite = options?.AllowNonFinite ?? false;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            foreach (Entry e in entries)
            {
                ReadOnlySpan<float> data = e.Slot < 0 ? model.TensorData(e.Tensor) : model.TensorState(e.Tensor, e.Slot);
                if (!allowNonFinite && DataGuard.IndexOfNonFinite(data) is int i and >= 0)
                    throw new CheckpointException(path, e.Name, string.Create(CultureInfo.InvariantCulture,
                        $"element {i} is {data[i]}: {model.ModelName} holds non-finite values (a diverged run?) and the save was refused; nothing was written. Set CheckpointSaveOptions.AllowNonFinite to save it anyway."));
                json.WriteString(e.Name, ChecksumPrefix + Hash(data).ToString("x16", CultureInfo.InvariantCulture));
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static ulong Hash(ReadOnlySpan<float> data)
    {
        if (BitConverter.IsLittleEndian) return XxHash3.HashToUInt64(MemoryMarshal.AsBytes(data));
        var bytes = new byte[data.Length * sizeof(float)];
        for (int i = 0; i < data.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), data[i]);
        return XxHash3.HashToUInt64(bytes);
    }

    /// <summary>
    /// Checks the bytes of <paramref name="tensors"/> against the file's <c>kiln_checksums</c>; returns true when each had a
    /// checksum and it matched, false when the file (or one of them) has none; throws naming the first that does not match.
    /// </summary>
    internal static bool VerifyChecksums(CheckpointFile file, IReadOnlyList<CheckpointTensor> tensors)
    {
        if (!file.Metadata.TryGetValue(Keys.Checksums, out string? text)) return false;
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("expected a JSON object of tensor → checksum");
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String || !expected.TryAdd(p.Name, p.Value.GetString()!))
                    throw new JsonException($"tensor '{p.Name}' has a non-string or repeated checksum");
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointException(file.Path, null, $"metadata '{Keys.Checksums}' is malformed: {e.Message}", e);
        }
        bool all = true;
        foreach (CheckpointTensor t in tensors)
        {
            if (!expected.TryGetValue(t.Name, out string? stored)) { all = false; continue; }
            if (!stored.StartsWith(ChecksumPrefix, StringComparison.Ordinal))
                throw new CheckpointException(file.Path, t.Name, $"unknown checksum '{stored}' (this Kiln reads '{ChecksumPrefix}…').");
            string actual = ChecksumPrefix + XxHash3.HashToUInt64(t.Data.Span).ToString("x16", CultureInfo.InvariantCulture);
            if (!string.Equals(stored, actual, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointException(file.Path, t.Name, $"checksum mismatch: the header records {stored}, the data bytes hash to {actual}. The file is damaged (a flipped bit, a truncated or zeroed region); restore it from a copy.");
        }
        return all;
    }

    /// <summary>Refuses a file tensor holding NaN or ±∞, naming the element.</summary>
    private static void CheckFinite(CheckpointTensor tensor, string file)
    {
        if (tensor.DType != "F32") return;
        ReadOnlySpan<byte> bytes = tensor.Data.Span;
        int i;
        float value;
        if (BitConverter.IsLittleEndian)
        {
            ReadOnlySpan<float> floats = MemoryMarshal.Cast<byte, float>(bytes);
            i = DataGuard.IndexOfNonFinite(floats);
            value = i >= 0 ? floats[i] : 0;
        }
        else
        {
            float[] floats = tensor.ToFloatArray();
            i = DataGuard.IndexOfNonFinite(floats);
            value = i >= 0 ? floats[i] : 0;
        }
        if (i >= 0)
            throw new CheckpointException(file, tensor.Name, string.Create(CultureInfo.InvariantCulture,
                $"element {i} is {value}: the checkpoint holds non-finite values (saved from a diverged run?). Set AllowNonFinite to load it anyway."));
    }

    /// <summary>
    /// Deletes temporary files that earlier saves to the same path left behind when they were killed between creating and
    /// renaming them (<c>kill -9</c>, a power cut). Only names of exactly this save's pattern, <c>.&lt;name&gt;.&lt;12 hex
    /// digits&gt;.tmp</c>, are considered, and only files no one holds open: a running save keeps its temporary file open
    /// without sharing, so opening it exclusively fails and it is left alone. Failures are ignored: the save itself succeeded.
    /// </summary>
    private static void RemoveStaleTemporaryFiles(string directory, string fileName)
    {
        string prefix = "." + fileName + ".";
        string[] candidates;
        try { candidates = Directory.GetFiles(directory, prefix + "*.tmp"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (string candidate in candidates)
        {
            string name = System.IO.Path.GetFileName(candidate);
            if (!IsTemporaryName(name, prefix)) continue;
            try
            {
                // Exclusive open: fails while a save in progress (this process or another) holds the file.
                using var stream = new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private static bool IsTemporaryName(string name, string prefix)
    {
        const int RandomDigits = 12;
        if (name.Length != prefix.Length + RandomDigits + ".tmp".Length || !name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(".tmp", StringComparison.Ordinal))
            return false;
        foreach (char c in name.AsSpan(prefix.Length, RandomDigits))
            if (!char.IsAsciiHexDigitLower(c)) return false;
        return true;
    }
}
