using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Kiln.Checkpoints.Tests;

/// <summary>
/// An independent safetensors reader and writer for the tests (no code shared with Kiln.Checkpoints): reads the
/// header by hand and decodes little-endian floats with BinaryPrimitives; writes arbitrary (also broken) files.
/// </summary>
internal static class RawSafetensors
{
    public sealed record RawTensor(string Name, string DType, int[] Shape, long Begin, long End, byte[] Bytes)
    {
        public float[] Floats()
        {
            var f = new float[Bytes.Length / 4];
            for (int i = 0; i < f.Length; i++) f[i] = BinaryPrimitives.ReadSingleLittleEndian(Bytes.AsSpan(i * 4));
            return f;
        }
    }

    public sealed record RawFile(ulong HeaderLength, string HeaderJson, List<RawTensor> Tensors, Dictionary<string, string> Metadata);

    public static RawFile Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string json = Encoding.UTF8.GetString(bytes, 8, (int)n);
        int dataStart = 8 + (int)n;
        var tensors = new List<RawTensor>();
        var metadata = new Dictionary<string, string>();
        using JsonDocument doc = JsonDocument.Parse(json);
        foreach (JsonProperty p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                foreach (JsonProperty m in p.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString()!;
                continue;
            }
            var shape = new List<int>();
            foreach (JsonElement d in p.Value.GetProperty("shape").EnumerateArray()) shape.Add(d.GetInt32());
            long begin = p.Value.GetProperty("data_offsets")[0].GetInt64();
            long end = p.Value.GetProperty("data_offsets")[1].GetInt64();
            tensors.Add(new RawTensor(p.Name, p.Value.GetProperty("dtype").GetString()!, shape.ToArray(), begin, end,
                bytes.AsSpan(dataStart + (int)begin, (int)(end - begin)).ToArray()));
        }
        return new RawFile(n, json, tensors, metadata);
    }

    /// <summary>Writes tensors contiguously in the given order with the given header fields (which may lie).</summary>
    public static void Write(string path, IReadOnlyDictionary<string, string>? metadata, IEnumerable<RawTensor> tensors,
        Func<string, string>? editHeader = null, Func<byte[], byte[]>? editFile = null)
    {
        var sb = new StringBuilder("{");
        bool first = true;
        if (metadata is not null)
        {
            sb.Append("\"__metadata__\":").Append(JsonSerializer.Serialize(metadata));
            first = false;
        }
        var data = new MemoryStream();
        long offset = 0;
        foreach (RawTensor t in tensors)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append(JsonSerializer.Serialize(t.Name)).Append(":{\"dtype\":\"").Append(t.DType).Append("\",\"shape\":[")
              .Append(string.Join(",", t.Shape)).Append("],\"data_offsets\":[").Append(offset).Append(',')
              .Append(offset + t.Bytes.Length).Append("]}");
            offset += t.Bytes.Length;
            data.Write(t.Bytes);
        }
        sb.Append('}');
        string header = editHeader is null ? sb.ToString() : editHeader(sb.ToString());
        byte[] h = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        data.ToArray().CopyTo(file, 8 + h.Length);
        File.WriteAllBytes(path, editFile is null ? file : editFile(file));
    }
}
