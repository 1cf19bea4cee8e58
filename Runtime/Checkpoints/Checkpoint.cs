using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Kiln.Preprocessing;

namespace Kiln.Checkpoints;

/// <summary>
/// Checkpoints in the safetensors format (docs/checkpoints.md): an 8-byte little-endian header length, a UTF-8 JSON
/// header naming every tensor (dtype, shape, data offsets) plus string metadata, then the little-endian data.
/// Saves are atomic (temporary file, flush to disk, rename), refuse NaN/±∞ and record an XxHash3 checksum per tensor;
/// loads validate everything, checksums included, before touching the model.
/// </summary>
public static partial class Checkpoint
{
    /// <summary>The format version this code writes (metadata <c>kiln_format_version</c>).</summary>
    public const int FormatVersion = 1;

    /// <summary>Largest header accepted when reading (the limit of the reference safetensors implementation).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>The name under which optimiser state <paramref name="slot"/> of a tensor is stored.</summary>
    public static string OptimizerStateName(string tensorName, int slot) =>
        tensorName + ".optimizer_state" + slot.ToString(CultureInfo.InvariantCulture);

    internal static class Keys
    {
        public const string Model = "kiln_model";
        public const string FormatVersion = "kiln_format_version";
        public const string Step = "step";
        public const string LearningRate = "learning_rate";
        public const string LearningRateScales = "learning_rate_scales";
        public const string OptimizerStateCount = "optimizer_state_count";
        public const string Loss = "loss";
        public const string InputSize = "input_size";
        public const string OutputSize = "output_size";
        public const string Isa = "isa";
        public const string Seed = "seed";
        public const string NoiseSeed = "noise_seed";
        public const string NoiseState = "noise_state";
        public const string Standardizer = "standardizer";
        public const string Preprocessing = "preprocessing";
        public const string Checksums = "kiln_checksums";

        private static readonly HashSet<string> s_reserved = new(StringComparer.Ordinal)
        {
            Model, FormatVersion, Step, LearningRate, LearningRateScales, OptimizerStateCount, Loss, InputSize, OutputSize,
            Isa, Seed, NoiseSeed, NoiseState, Standardizer, Preprocessing, Checksums,
        };

        public static bool IsReserved(string key) => s_reserved.Contains(key);
    }

    private const string MetadataKey = "__metadata__";
    private const int ChunkBytes = 1 << 20;

    // ---------------------------------------------------------------- save

    /// <summary>
    /// Writes every tensor of <paramref name="model"/> (parameters and running statistics), its optimiser state, step,
    /// learning rate and per-layer scales, plus <paramref name="extra"/>, to <paramref name="path"/> atomically: the data
    /// goes to a temporary file in the same directory, is flushed to disk, then renamed over the path. If anything fails
    /// the temporary file is deleted and an existing checkpoint at the path is left untouched.
    /// </summary>
    public static void Save(IKilnModel model, string path, CheckpointMetadata? extra = null, CheckpointSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        List<Entry> entries = Plan(model);
        string checksums = ChecksumsAndFiniteness(model, entries, full, options); // refuses NaN/∞ before any file is created
        byte[] header = BuildHeader(model, entries, extra, checksums); // validates extra before any file is created

        string temp = System.IO.Path.Combine(directory,
            "." + System.IO.Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".tmp");
        try
        {
            // Shared only for the rename: no one else can open it, so another save's clean-up (an exclusive open) never
            // takes it for a stale file, and it is renamed while still open for the same reason.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Delete, 1 << 16))
            {
                WriteBody(stream, model, entries, header, options?.Progress);
                stream.Flush(flushToDisk: true);
                File.Move(temp, full, overwrite: true);
            }
        }
        catch
        {
            try { File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
        RemoveStaleTemporaryFiles(directory, System.IO.Path.GetFileName(full));
    }

    /// <summary>Writes the checkpoint to a stream (not atomic: prefer <see cref="Save"/> for files).</summary>
    public static void Write(IKilnModel model, Stream stream, CheckpointMetadata? extra = null, CheckpointSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        List<Entry> entries = Plan(model);
        string checksums = ChecksumsAndFiniteness(model, entries, "(stream)", options);
        byte[] header = BuildHeader(model, entries, extra, checksums);
        WriteBody(stream, model, entries, header, options?.Progress);
        stream.Flush();
    }

    private readonly record struct Entry(string Name, TensorInfo Tensor, int Slot); // Slot −1: the tensor itself

    private static List<Entry> Plan(IKilnModel model)
    {
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorInfo t in model.Tensors)
        {
            entries.Add(new Entry(t.Name, t, -1));
            if (!names.Add(t.Name)) throw new InvalidOperationException($"{model.ModelName} has two tensors named '{t.Name}'.");
        }
        foreach (TensorInfo t in model.Tensors)
        {
            if (!t.Trainable) continue;
            for (int slot = 0; slot < model.OptimizerStateCount; slot++)
            {
                string name = OptimizerStateName(t.Name, slot);
                if (!names.Add(name)) throw new InvalidOperationException($"{model.ModelName} has a tensor named '{name}', which clashes with optimiser state.");
                entries.Add(new Entry(name, t, slot));
            }
        }
        return entries;
    }

    /// <summary>The dropout stream's four xoshiro256** words as hex, so a resume continues the same masks.</summary>
    private static string NoiseStateText(IKilnModel model)
    {
        Span<ulong> state = stackalloc ulong[4];
        model.GetNoiseState(state);
        return string.Join(",", state[0].ToString("x16", CultureInfo.InvariantCulture), state[1].ToString("x16", CultureInfo.InvariantCulture),
            state[2].ToString("x16", CultureInfo.InvariantCulture), state[3].ToString("x16", CultureInfo.InvariantCulture));
    }

    private static byte[] BuildHeader(IKilnModel model, List<Entry> entries, CheckpointMetadata? extra, string checksums)
    {
        var metadata = new List<KeyValuePair<string, string>>
        {
            new(Keys.Model, model.ModelName),
            new(Keys.FormatVersion, FormatVersion.ToString(CultureInfo.InvariantCulture)),
            new(Keys.Step, model.Step.ToString(CultureInfo.InvariantCulture)),
            new(Keys.LearningRate, model.LearningRate.ToString("R", CultureInfo.InvariantCulture)),
            new(Keys.LearningRateScales, ScalesJson(model)),
            new(Keys.OptimizerStateCount, model.OptimizerStateCount.ToString(CultureInfo.InvariantCulture)),
            new(Keys.Loss, model.Loss.ToString()),
            new(Keys.InputSize, model.InputSize.ToString(CultureInfo.InvariantCulture)),
            new(Keys.OutputSize, model.OutputSize.ToString(CultureInfo.InvariantCulture)),
            new(Keys.Isa, model.Isa.ToString()),
            new(Keys.NoiseState, NoiseStateText(model)),
            new(Keys.Checksums, checksums),
        };
        if (extra is not null)
        {
            if (extra.Seed is ulong seed) metadata.Add(new(Keys.Seed, seed.ToString(CultureInfo.InvariantCulture)));
            if (extra.NoiseSeed is ulong noise) metadata.Add(new(Keys.NoiseSeed, noise.ToString(CultureInfo.InvariantCulture)));
            if (extra.Standardizer is not null && extra.Preprocessing is not null)
                throw new ArgumentException("Give the preprocessing once: set Preprocessing (a Standardizer is one) or the older Standardizer, not both.", nameof(extra));
            if (extra.Standardizer is { } standardizer)
            {
                if (!standardizer.IsFitted) throw new ArgumentException("The standardizer is not fitted.", nameof(extra));
                CheckPreprocessingFits(standardizer, model, nameof(extra));
                metadata.Add(new(Keys.Standardizer, standardizer.ToJson()));
            }
            if (extra.Preprocessing is { } preprocessing)
            {
                if (!preprocessing.IsFitted) throw new ArgumentException($"The preprocessing ({preprocessing.GetType().Name}) is not fitted.", nameof(extra));
                CheckPreprocessingFits(preprocessing, model, nameof(extra));
                metadata.Add(new(Keys.Preprocessing, preprocessing.ToJson()));
            }
            foreach (KeyValuePair<string, string> kv in extra.Entries)
            {
                if (Keys.IsReserved(kv.Key) || kv.Key == MetadataKey)
                    throw new ArgumentException($"Metadata key '{kv.Key}' is reserved by Kiln; choose another name.", nameof(extra));
                ArgumentNullException.ThrowIfNull(kv.Value, $"extra.Entries[\"{kv.Key}\"]");
                metadata.Add(kv);
            }
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject(MetadataKey);
            foreach (KeyValuePair<string, string> kv in metadata) json.WriteString(kv.Key, kv.Value);
            json.WriteEndObject();
            long offset = 0;
            foreach (Entry e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in e.Tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += (long)e.Tensor.Length * sizeof(float);
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned (as the reference implementation does).
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void CheckPreprocessingFits(Preprocessor preprocessing, IKilnModel model, string parameter)
    {
        if (preprocessing.OutputFeatureCount != model.InputSize)
            throw new ArgumentException(
                $"The preprocessing ({preprocessing.GetType().Name}) produces {preprocessing.OutputFeatureCount} features; {model.ModelName} takes {model.InputSize}.", parameter);
    }

    private static string ScalesJson(IKilnModel model)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (TensorInfo t in model.Tensors)
                if (t.Trainable && seen.Add(t.Layer)) json.WriteNumber(t.Layer, model.GetLearningRateScale(t.Layer));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteBody(Stream stream, IKilnModel model, List<Entry> entries, byte[] header, Action<long, long>? progress)
    {
        long total = 8 + header.Length;
        foreach (Entry e in entries) total += (long)e.Tensor.Length * sizeof(float);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        long written = 8 + header.Length;
        progress?.Invoke(written, total);

        byte[]? swap = BitConverter.IsLittleEndian ? null : new byte[ChunkBytes];
        foreach (Entry e in entries)
        {
            int chunkFloats = ChunkBytes / sizeof(float);
            int count = e.Tensor.Length;
            for (int start = 0; start < count; start += chunkFloats)
            {
                // Re-acquire the span per chunk: spans cannot live across the progress callback in a safe way otherwise.
                ReadOnlySpan<float> data = e.Slot < 0 ? model.TensorData(e.Tensor) : model.TensorState(e.Tensor, e.Slot);
                if (data.Length != count)
                    throw new InvalidOperationException($"{model.ModelName}: tensor '{e.Name}' has {data.Length} values; its TensorInfo says {count}.");
                ReadOnlySpan<float> chunk = data.Slice(start, Math.Min(chunkFloats, count - start));
                if (swap is null)
                {
                    stream.Write(MemoryMarshal.AsBytes(chunk));
                }
                else
                {
                    for (int i = 0; i < chunk.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(swap.AsSpan(i * sizeof(float)), chunk[i]);
                    stream.Write(swap, 0, chunk.Length * sizeof(float));
                }
                written += chunk.Length * sizeof(float);
                progress?.Invoke(written, total);
            }
        }
    }

    // ---------------------------------------------------------------- read

    /// <summary>
    /// Reads and structurally validates a safetensors file: header length within the file, well-formed JSON, string
    /// metadata, known dtypes, sizes that match the shapes, and data offsets that tile the data section exactly
    /// (no overlaps, holes or trailing bytes). Throws <see cref="CheckpointException"/> otherwise.
    /// </summary>
    public static CheckpointFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    /// <summary>Parses safetensors bytes held in memory; <paramref name="name"/> appears in error messages.</summary>
    public static CheckpointFile Parse(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(name);
        if (bytes.Length < 8)
            throw new CheckpointException(name, null, $"the file is {bytes.Length} bytes, shorter than the 8-byte header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new CheckpointException(name, null, $"the header length is {headerLength} bytes, beyond the end of the file ({bytes.Length} bytes; truncated or not a safetensors file).");
        if (headerLength > MaxHeaderBytes)
            throw new CheckpointException(name, null, $"the header length is {headerLength} bytes, above the limit of {MaxHeaderBytes}.");
        int n = (int)headerLength;
        long dataLength = bytes.Length - 8L - n;

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes.AsMemory(8, n), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new CheckpointException(name, null, $"the header is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(name, null, $"the header should be a JSON object, found {doc.RootElement.ValueKind}.");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<CheckpointTensor>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == MetadataKey)
                {
                    if (sawMetadata) throw new CheckpointException(name, null, "the header has two '__metadata__' entries.");
                    sawMetadata = true;
                    if (p.Value.ValueKind != JsonValueKind.Object)
                        throw new CheckpointException(name, null, $"'__metadata__' should be an object of strings, found {p.Value.ValueKind}.");
                    foreach (JsonProperty m in p.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw new CheckpointException(name, null, $"metadata '{m.Name}' should be a string, found {m.Value.ValueKind}.");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                            throw new CheckpointException(name, null, $"metadata '{m.Name}' appears twice.");
                    }
                    continue;
                }
                if (!names.Add(p.Name)) throw new CheckpointException(name, p.Name, "the tensor appears twice in the header.");
                tensors.Add(ParseEntry(name, p, bytes, 8L + n, dataLength));
            }
            CheckTiling(name, tensors, dataLength);
            return new CheckpointFile(name, tensors, metadata);
        }
    }

    private static CheckpointTensor ParseEntry(string file, JsonProperty p, byte[] bytes, long dataStart, long dataLength)
    {
        string tensor = p.Name;
        if (p.Value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(file, tensor, $"the header entry should be an object, found {p.Value.ValueKind}.");
        if (!p.Value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new CheckpointException(file, tensor, "the header entry lacks a string 'dtype'.");
        string dtype = dtypeElement.GetString()!;
        int elementSize = ElementSize(dtype);
        if (elementSize == 0) throw new CheckpointException(file, tensor, $"unknown dtype '{dtype}'.");
        if (!p.Value.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new CheckpointException(file, tensor, "the header entry lacks a 'shape' array.");
        var shape = new int[shapeElement.GetArrayLength()];
        int k = 0;
        long elements = 1;
        foreach (JsonElement d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int dim) || dim < 0)
                throw new CheckpointException(file, tensor, $"shape entries should be non-negative 32-bit integers, found {d.GetRawText()}.");
            shape[k++] = dim;
            elements = elements * dim;
            if (elements > long.MaxValue / 16) throw new CheckpointException(file, tensor, "the shape has too many elements.");
        }
        if (!p.Value.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new CheckpointException(file, tensor, "the header entry lacks 'data_offsets' [begin, end].");
        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new CheckpointException(file, tensor, $"data_offsets should be integers 0 ≤ begin ≤ end, found {offsets.GetRawText()}.");
        long expected = elements * elementSize;
        if (end - begin != expected)
            throw new CheckpointException(file, tensor, $"data_offsets {offsets.GetRawText()} span {end - begin} bytes; dtype {dtype} with shape {FormatShape(shape)} needs {expected}.");
        if (end > dataLength)
            throw new CheckpointException(file, tensor, $"the data ends at byte {end} of the data section, but the file holds only {dataLength} data bytes (truncated?).");
        return new CheckpointTensor(tensor, dtype, shape, begin, end, bytes.AsMemory((int)(dataStart + begin), (int)(end - begin)));
    }

    private static void CheckTiling(string file, List<CheckpointTensor> tensors, long dataLength)
    {
        var sorted = new List<CheckpointTensor>(tensors);
        sorted.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long position = 0;
        string? previous = null;
        foreach (CheckpointTensor t in sorted)
        {
            if (t.Begin < position)
                throw new CheckpointException(file, t.Name, $"the data [{t.Begin}, {t.End}) overlaps tensor '{previous}' (which ends at {position}).");
            if (t.Begin > position)
                throw new CheckpointException(file, t.Name, $"the data starts at {t.Begin}, leaving a hole after byte {position} of the data section.");
            position = t.End;
            previous = t.Name;
        }
        if (position != dataLength)
            throw new CheckpointException(file, null, $"the tensors cover {position} bytes, but the data section holds {dataLength} (trailing bytes).");
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => 0,
    };

    internal static string FormatShape(int[] shape) => "[" + string.Join(", ", shape) + "]";

    // ---------------------------------------------------------------- load

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/>: every tensor, optimiser state, step, learning rate, per-layer
    /// learning-rate scales, and (when recorded) restarts the dropout stream from <c>noise_seed</c>. The file is parsed and
    /// checked completely first — model type, every tensor present with dtype F32 and the model's shape, no unexpected
    /// tensors, well-formed metadata, the loaded tensors' checksums (when the file has them, see
    /// <see cref="CheckpointFile.ChecksumsVerified"/>) and their finiteness (unless <see cref="CheckpointLoadOptions.AllowNonFinite"/>)
    /// — and only then written into the model, so on any
    /// <see cref="CheckpointException"/> the model is unchanged. Returns the parsed file (<see cref="CheckpointFile.Preprocessing"/>, user entries...).
    /// </summary>
    public static CheckpointFile Load(IKilnModel model, string path, CheckpointLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new CheckpointLoadOptions();
        CheckpointFile file = Read(path);
        string f = file.Path;

        int? version = file.FormatVersion;
        if (version > FormatVersion)
            throw new CheckpointException(f, null, $"format version {version} is newer than this Kiln reads ({FormatVersion}).");
        if (!options.AllowDifferentModel && file.ModelName != model.ModelName)
            throw new CheckpointException(f, null, file.ModelName is null
                ? $"no '{Keys.Model}' metadata (not a Kiln checkpoint); expected a checkpoint of {model.ModelName}. Set AllowDifferentModel to load it by tensor names."
                : $"saved from model {file.ModelName}; expected {model.ModelName}. Set AllowDifferentModel to load it by tensor names.");

        // Pair every model tensor (and optimiser state) with its file tensor, checking dtype and shape.
        var plan = new List<(CheckpointTensor Source, TensorInfo Target, int Slot)>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorInfo t in model.Tensors)
        {
            plan.Add((Match(file, model, t.Name, t.Shape, "tensor"), t, -1));
            used.Add(t.Name);
        }
        foreach (TensorInfo t in model.Tensors)
        {
            if (!t.Trainable) continue;
            for (int slot = 0; slot < model.OptimizerStateCount; slot++)
            {
                string name = OptimizerStateName(t.Name, slot);
                used.Add(name);
                if (options.RestoreOptimizerState) plan.Add((Match(file, model, name, t.Shape, $"optimiser state {slot} of"), t, slot));
            }
        }
        if (!options.AllowUnexpectedTensors)
        {
            foreach (CheckpointTensor c in file.Tensors)
                if (!used.Contains(c.Name))
                    throw new CheckpointException(f, c.Name, $"the file has this tensor but {model.ModelName} does not (expected only {model.ModelName}'s tensors{(model.OptimizerStateCount > 0 ? " and their optimiser state" : "")}). Set AllowUnexpectedTensors to ignore it.");
        }

        // Metadata: parse and check everything that will be applied.
        long step = 0;
        float? learningRate = null;
        IReadOnlyDictionary<string, float>? scales = null;
        if (options.RestoreOptimizerState)
        {
            step = file.Step ?? 0;
            learningRate = file.LearningRate;
            if (learningRate is float lr && !(lr >= 0f && float.IsFinite(lr)))
                throw new CheckpointException(f, null, $"metadata '{Keys.LearningRate}' should be a finite number ≥ 0, found {lr.ToString(CultureInfo.InvariantCulture)}.");
            scales = file.LearningRateScales;
            if (scales is not null)
            {
                var layers = new HashSet<string>(StringComparer.Ordinal);
                foreach (TensorInfo t in model.Tensors) if (t.Trainable) layers.Add(t.Layer);
                foreach (KeyValuePair<string, float> kv in scales)
                {
                    if (!layers.Contains(kv.Key))
                        throw new CheckpointException(f, null, $"metadata '{Keys.LearningRateScales}' names layer '{kv.Key}', which {model.ModelName} does not have (or which has no trainable tensors).");
                    if (!(kv.Value >= 0f) || !float.IsFinite(kv.Value))
                        throw new CheckpointException(f, null, $"metadata '{Keys.LearningRateScales}' gives layer '{kv.Key}' the scale {kv.Value.ToString(CultureInfo.InvariantCulture)}; expected a finite number ≥ 0.");
                }
            }
        }
        ulong? noiseSeed = file.NoiseSeed;
        ulong[]? noiseState = file.NoiseState;
        // Parse the preprocessing now, so a bad entry fails before the model changes.
        if (file.Preprocessing is { } preprocessing && preprocessing.OutputFeatureCount != model.InputSize)
            throw new CheckpointException(f, null,
                $"the stored preprocessing ({preprocessing.GetType().Name}) produces {preprocessing.OutputFeatureCount} features; {model.ModelName} takes {model.InputSize}.");
        _ = file.Seed;
        // The data bytes: checksums (where the file has them), then finiteness.
        var sources = new List<CheckpointTensor>(plan.Count);
        foreach ((CheckpointTensor source, _, _) in plan) sources.Add(source);
        file.Verify(sources);
        if (!options.AllowNonFinite)
            foreach (CheckpointTensor source in sources) CheckFinite(source, f);

        // Everything checked: write into the model (copies of validated sizes cannot fail).
        foreach ((CheckpointTensor source, TensorInfo target, int slot) in plan)
            source.CopyTo(slot < 0 ? model.TensorData(target) : model.TensorState(target, slot));
        if (options.RestoreOptimizerState)
        {
            model.RestoreStep(step);
            if (learningRate is float lr) model.LearningRate = lr;
            if (scales is not null)
                foreach (KeyValuePair<string, float> kv in scales) model.SetLearningRateScale(kv.Key, kv.Value);
        }
        // An explicit noise_seed (the caller's resume convention) wins over the recorded stream position.
        if (noiseSeed is ulong seed) model.ResetNoise(seed);
        else if (noiseState is not null) model.SetNoiseState(noiseState);
        return file;
    }

    private static CheckpointTensor Match(CheckpointFile file, IKilnModel model, string name, int[] shape, string what)
    {
        CheckpointTensor c = file.Find(name)
            ?? throw new CheckpointException(file.Path, name, $"missing: {model.ModelName} expects {what} '{name}' with dtype F32 and shape {FormatShape(shape)}.");
        if (c.DType != "F32")
            throw new CheckpointException(file.Path, name, $"expected dtype F32, found {c.DType}.");
        if (!c.Shape.AsSpan().SequenceEqual(shape))
            throw new CheckpointException(file.Path, name, $"expected shape {FormatShape(shape)} (from {model.ModelName}), found {c.ShapeText}.");
        return c;
    }

    /// <summary>
    /// Transfer learning: loads every file tensor whose name and shape (and dtype F32) match a tensor of
    /// <paramref name="model"/>, ignoring the model type, optimiser state, step and learning rate. Other model tensors
    /// keep their values. The file is fully parsed before anything is written.
    /// </summary>
    /// <param name="model">The model to load into.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="allowNonFinite">Load tensors holding NaN or ±∞ (by default such a tensor fails the load before anything changes).</param>
    public static TransferReport LoadMatching(IKilnModel model, string path, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckpointFile file = Read(path);
        var byName = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (TensorInfo t in model.Tensors) byName[t.Name] = t;
        var loaded = new List<string>();
        var skipped = new List<SkippedTensor>();
        var plan = new List<(CheckpointTensor, TensorInfo)>();
        foreach (CheckpointTensor c in file.Tensors)
        {
            if (!byName.TryGetValue(c.Name, out TensorInfo? t))
            {
                skipped.Add(new SkippedTensor(c.Name, c.Name.Contains(".optimizer_state", StringComparison.Ordinal)
                    ? "optimiser state (not transferred)"
                    : $"{model.ModelName} has no tensor of this name"));
                continue;
            }
            if (c.DType != "F32") { skipped.Add(new SkippedTensor(c.Name, $"dtype {c.DType}, expected F32")); continue; }
            if (!c.Shape.AsSpan().SequenceEqual(t.Shape))
            {
                skipped.Add(new SkippedTensor(c.Name, $"shape {c.ShapeText} in the file, {FormatShape(t.Shape)} in {model.ModelName}"));
                continue;
            }
            plan.Add((c, t));
            loaded.Add(c.Name);
        }
        var notInFile = new List<string>();
        foreach (TensorInfo t in model.Tensors) if (file.Find(t.Name) is null) notInFile.Add(t.Name);
        var sources = new List<CheckpointTensor>(plan.Count);
        foreach ((CheckpointTensor c, _) in plan) sources.Add(c);
        file.Verify(sources);
        if (!allowNonFinite)
            foreach (CheckpointTensor c in sources) CheckFinite(c, file.Path);
        foreach ((CheckpointTensor c, TensorInfo t) in plan) c.CopyTo(model.TensorData(t));
        return new TransferReport(loaded, skipped, notInFile);
    }
}
