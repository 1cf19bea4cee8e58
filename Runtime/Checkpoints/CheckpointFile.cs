using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Kiln.Data;
using Kiln.Preprocessing;

namespace Kiln.Checkpoints;

/// <summary>One tensor entry of a safetensors file: its header fields and its bytes.</summary>
public sealed class CheckpointTensor
{
    internal CheckpointTensor(string name, string dtype, int[] shape, long begin, long end, ReadOnlyMemory<byte> data)
    {
        Name = name; DType = dtype; Shape = shape; Begin = begin; End = end; Data = data;
    }

    /// <summary>The tensor name (for Kiln models a <see cref="TensorInfo.Name"/> or <c>&lt;name&gt;.optimizer_state&lt;slot&gt;</c>).</summary>
    public string Name { get; }
    /// <summary>The safetensors dtype, such as <c>F32</c>.</summary>
    public string DType { get; }
    /// <summary>The shape (empty for a scalar).</summary>
    public int[] Shape { get; }
    /// <summary>Start of the data, relative to the data section.</summary>
    public long Begin { get; }
    /// <summary>End (exclusive) of the data, relative to the data section.</summary>
    public long End { get; }
    /// <summary>The raw little-endian bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Number of elements (product of the shape).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Decodes an F32 tensor.</summary>
    public float[] ToFloatArray()
    {
        var values = new float[Data.Length / sizeof(float)];
        CopyTo(values);
        return values;
    }

    /// <summary>Decodes an F32 tensor into <paramref name="destination"/> (exactly <see cref="ElementCount"/> floats).</summary>
    public void CopyTo(Span<float> destination)
    {
        if (DType != "F32") throw new InvalidOperationException($"Tensor '{Name}' is {DType}, not F32.");
        ReadOnlySpan<byte> bytes = Data.Span;
        if (destination.Length != bytes.Length / sizeof(float))
            throw new ArgumentException($"Tensor '{Name}' holds {bytes.Length / sizeof(float)} floats; the destination holds {destination.Length}.", nameof(destination));
        if (BitConverter.IsLittleEndian)
        {
            bytes.CopyTo(MemoryMarshal.AsBytes(destination));
            return;
        }
        for (int i = 0; i < destination.Length; i++)
            destination[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float)));
    }

    internal string ShapeText => Checkpoint.FormatShape(Shape);
}

/// <summary>A parsed and structurally validated safetensors file (see <see cref="Checkpoint.Read"/>).</summary>
public sealed class CheckpointFile
{
    private readonly Dictionary<string, CheckpointTensor> _byName;

    internal CheckpointFile(string path, List<CheckpointTensor> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (CheckpointTensor t in tensors) _byName.Add(t.Name, t);
    }

    /// <summary>
    /// True once the data bytes of every tensor that was checked matched its recorded checksum (<c>kiln_checksums</c>):
    /// after <see cref="Checkpoint.Load"/> and <see cref="Checkpoint.LoadMatching"/> (the loaded tensors) or
    /// <see cref="VerifyChecksums"/> (all tensors). False for files written without checksums (older Kiln versions, other
    /// tools) or with a tensor lacking one, whose bytes could not be verified, and for a file only parsed by
    /// <see cref="Checkpoint.Read"/>. A mismatch never leaves it false: it throws <see cref="CheckpointException"/>.
    /// </summary>
    public bool ChecksumsVerified { get; private set; }

    /// <summary>
    /// Checks every tensor's data bytes against its recorded XxHash3 checksum; returns <see cref="ChecksumsVerified"/>.
    /// </summary>
    /// <exception cref="CheckpointException">A tensor's bytes do not match its checksum (the message names it), or the checksum entry is malformed.</exception>
    public bool VerifyChecksums() => Verify(Tensors);

    internal bool Verify(IReadOnlyList<CheckpointTensor> tensors) => ChecksumsVerified = Checkpoint.VerifyChecksums(this, tensors);

    /// <summary>The file the checkpoint was read from.</summary>
    public string Path { get; }
    /// <summary>Every tensor, in header order.</summary>
    public IReadOnlyList<CheckpointTensor> Tensors { get; }
    /// <summary>The <c>__metadata__</c> entries (all strings), Kiln's and the user's.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor with this name, or null.</summary>
    public CheckpointTensor? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The model class that saved the file (<c>kiln_model</c>), or null for a file Kiln did not write.</summary>
    public string? ModelName => Metadata.GetValueOrDefault(Checkpoint.Keys.Model);
    /// <summary><c>kiln_format_version</c>, or null.</summary>
    public int? FormatVersion => ParseOptional(Checkpoint.Keys.FormatVersion, s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));
    /// <summary>The optimiser step counter when saved, or null.</summary>
    public long? Step => ParseOptional(Checkpoint.Keys.Step, s => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));
    /// <summary>The learning rate when saved, or null.</summary>
    public float? LearningRate => ParseOptional(Checkpoint.Keys.LearningRate, s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));
    /// <summary>The run seed recorded by the caller, or null.</summary>
    public ulong? Seed => ParseOptional(Checkpoint.Keys.Seed, s => ulong.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));
    /// <summary>The dropout seed that <see cref="Checkpoint.Load"/> restarts the stream from, or null.</summary>
    /// <summary>The dropout stream's state recorded at save time (four words), or null in files without it.</summary>
    public ulong[]? NoiseState
    {
        get
        {
            if (!Metadata.TryGetValue(Checkpoint.Keys.NoiseState, out string? text)) return null;
            string[] words = text.Split(',');
            var state = new ulong[4];
            bool ok = words.Length == 4;
            for (int i = 0; ok && i < 4; i++)
                ok = ulong.TryParse(words[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out state[i]);
            if (!ok || (state[0] | state[1] | state[2] | state[3]) == 0)
                throw new CheckpointException(Path, null, $"metadata '{Checkpoint.Keys.NoiseState}' should be four non-zero-in-total hexadecimal words separated by commas, found \"{text}\".");
            return state;
        }
    }

    /// <summary>The seed of the dropout/augmentation noise stream saved with the checkpoint, or null when the file has none.</summary>
    public ulong? NoiseSeed => ParseOptional(Checkpoint.Keys.NoiseSeed, s => ulong.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));
    /// <summary>The ISA path the model ran on when saved (informational; bit-for-bit resumes need the same path).</summary>
    public string? Isa => Metadata.GetValueOrDefault(Checkpoint.Keys.Isa);

    /// <summary>
    /// The standardizer stored under <c>standardizer</c> (older files), or the <c>preprocessing</c> entry when that is a
    /// standardizer; null otherwise.
    /// </summary>
    public Standardizer? Standardizer => Preprocessing as Standardizer;

    private Preprocessor? _preprocessing;
    private bool _preprocessingRead;

    /// <summary>
    /// The stored preprocessing (<c>preprocessing</c>, or an older file's <c>standardizer</c>), restored exactly, or null.
    /// Parsed once; the instance is shared by later calls.
    /// </summary>
    /// <exception cref="CheckpointException">The entry is malformed or inconsistent; the message names the key and the field.</exception>
    public Preprocessor? Preprocessing
    {
        get
        {
            if (_preprocessingRead) return _preprocessing;
            Preprocessor? result = null;
            if (Metadata.TryGetValue(Checkpoint.Keys.Preprocessing, out string? json))
            {
                if (Metadata.ContainsKey(Checkpoint.Keys.Standardizer))
                    throw new CheckpointException(Path, null, $"metadata has both '{Checkpoint.Keys.Preprocessing}' and '{Checkpoint.Keys.Standardizer}'; a checkpoint stores one preprocessing.");
                try { result = Preprocessor.FromJson(json); }
                catch (JsonException e) { throw new CheckpointException(Path, null, $"metadata '{Checkpoint.Keys.Preprocessing}' is not valid preprocessing: {e.Message}", e); }
            }
            else if (Metadata.TryGetValue(Checkpoint.Keys.Standardizer, out string? legacy))
            {
                try { result = Kiln.Data.Standardizer.FromJson(legacy); }
                catch (JsonException e) { throw new CheckpointException(Path, null, $"metadata '{Checkpoint.Keys.Standardizer}' is not a valid standardizer: {e.Message}", e); }
            }
            _preprocessing = result;
            _preprocessingRead = true;
            return result;
        }
    }

    /// <summary>Per-layer learning-rate scales when saved (layer → scale), or null.</summary>
    public IReadOnlyDictionary<string, float>? LearningRateScales
    {
        get
        {
            if (!Metadata.TryGetValue(Checkpoint.Keys.LearningRateScales, out string? json)) return null;
            try
            {
                using JsonDocument doc = JsonDocument.Parse(json);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("expected a JSON object of layer → scale");
                var scales = new Dictionary<string, float>(StringComparer.Ordinal);
                foreach (JsonProperty p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetSingle(out float v))
                        throw new JsonException($"layer '{p.Name}' has a non-numeric scale");
                    if (!scales.TryAdd(p.Name, v)) throw new JsonException($"layer '{p.Name}' appears twice");
                }
                return scales;
            }
            catch (JsonException e)
            {
                throw new CheckpointException(Path, null, $"metadata '{Checkpoint.Keys.LearningRateScales}' is malformed: {e.Message}", e);
            }
        }
    }

    /// <summary>Metadata entries that are not Kiln's own keys.</summary>
    public IReadOnlyDictionary<string, string> UserEntries
    {
        get
        {
            var user = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> kv in Metadata)
                if (!Checkpoint.Keys.IsReserved(kv.Key)) user.Add(kv.Key, kv.Value);
            return user;
        }
    }

    private T? ParseOptional<T>(string key, Func<string, T> parse) where T : struct
    {
        if (!Metadata.TryGetValue(key, out string? text)) return null;
        try { return parse(text); }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new CheckpointException(Path, null, $"metadata '{key}' should be a {typeof(T).Name}, found \"{text}\".", e);
        }
    }
}
