using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Kiln.Checkpoints;

namespace Kiln.Interop;

/// <summary>What <see cref="TorchWeights.Load"/> did.</summary>
/// <param name="Loaded">Each Kiln tensor loaded and the PyTorch tensor it came from.</param>
/// <param name="Ignored">PyTorch tensors the model has no use for (BatchNorm's <c>num_batches_tracked</c>, and others when not strict).</param>
public sealed record TorchLoadReport(IReadOnlyList<(string Kiln, string Torch)> Loaded, IReadOnlyList<string> Ignored);

/// <summary>
/// PyTorch weights in and out, as safetensors files of a <c>state_dict</c>. Names and layouts are PyTorch's: Linear
/// <c>weight</c> [out, in], Conv2d <c>weight</c> [out, in, kh, kw], BatchNorm <c>weight</c>/<c>bias</c>/<c>running_mean</c>/
/// <c>running_var</c>/<c>num_batches_tracked</c>, PReLU <c>weight</c>, GroupNorm/LayerNorm <c>weight</c>/<c>bias</c>; the
/// first Linear after a flattened convolution reads its input in PyTorch's (C, H, W) order and is permuted to Kiln's
/// (H, W, C). See docs/interop.md.
/// </summary>
/// <remarks>
/// The name map goes from Kiln layer names to PyTorch module prefixes (<c>"conv0" → "features.0"</c>; for a residual
/// block with a projection, the block's name maps to the projection module). Without a map, the model is taken to mirror an
/// <c>nn.Sequential</c>: every layer attribute is one module, numbered from 0 (activations, Dropout, Flatten and pools
/// included), and a residual block is one module with its layers in an <c>nn.Sequential</c> named <c>branch</c> and its
/// projection named <c>projection</c>.
/// </remarks>
public static class TorchWeights
{
    /// <summary>
    /// Loads a PyTorch state_dict saved as safetensors. All or nothing: every tensor is found, checked (dtype F32, the
    /// expected PyTorch shape, finite values) and converted before the model changes; a failure throws
    /// <see cref="CheckpointException"/> naming the tensor and what was wrong, and leaves the model unchanged. On success
    /// the optimiser state of the loaded tensors is zeroed (fresh moments for the new weights); the step counter and the
    /// input normalisation statistics are kept.
    /// </summary>
    /// <param name="model">The model to fill.</param>
    /// <param name="path">The safetensors file (<c>safetensors.torch.save_file(model.state_dict(), path)</c>).</param>
    /// <param name="map">Kiln layer name → PyTorch module prefix; null infers the <c>nn.Sequential</c> numbering.</param>
    /// <param name="strict">True: a PyTorch tensor the model has no use for (other than <c>num_batches_tracked</c>) is an error.</param>
    public static TorchLoadReport Load(IKilnModel model, string path, IReadOnlyDictionary<string, string>? map = null, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        List<Binding> bindings = Bindings(model, map);
        CheckpointFile file = Checkpoint.Read(path);
        var staged = new List<(TensorInfo Tensor, float[] Values)>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (Binding b in bindings)
        {
            CheckpointTensor t = file.Find(b.TorchName)
                ?? throw new CheckpointException(path, b.TorchName, $"not in the file; Kiln's {b.Tensor.Name} ({Checkpoint.FormatShape(b.TorchShape)} in PyTorch's layout) is read from it. " +
                                                 $"The file has: {string.Join(", ", file.Tensors.Select(x => x.Name).Take(20))}{(file.Tensors.Count > 20 ? ", …" : "")}.");
            if (t.DType != "F32")
                throw new CheckpointException(path, b.TorchName, $"dtype {t.DType}, but Kiln's {b.Tensor.Name} needs F32 (save with tensor.float()).");
            bool broadcastSlope = b.Tensor.Role == TensorRole.Alpha && t.Shape.Length == 1 && t.Shape[0] == 1;
            if (!broadcastSlope && !t.Shape.SequenceEqual(b.TorchShape))
                throw new CheckpointException(path, b.TorchName,
                    $"shape {Checkpoint.FormatShape(t.Shape)}, but Kiln's {b.Tensor.Name} (shape {Checkpoint.FormatShape(b.Tensor.Shape)}) expects {Checkpoint.FormatShape(b.TorchShape)} in PyTorch's layout.");
            float[] values = t.ToFloatArray();
            for (int i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i]))
                    throw new CheckpointException(path, b.TorchName, $"element {i} is {values[i]}; Kiln's {b.Tensor.Name} needs finite values.");
            if (broadcastSlope) values = Enumerable.Repeat(values[0], b.Tensor.Length).ToArray(); // nn.PReLU() shares one slope
            staged.Add((b.Tensor, b.ToKiln(values)));
            used.Add(b.TorchName);
        }
        var ignored = file.Tensors.Select(t => t.Name).Where(n => !used.Contains(n)).ToList();
        string? unexpected = ignored.FirstOrDefault(n => !n.EndsWith(".num_batches_tracked", StringComparison.Ordinal));
        if (strict && unexpected is not null)
            throw new CheckpointException(path, unexpected,
                $"{model.ModelName} has no tensor that maps to it (the map gives {string.Join(", ", bindings.Select(b => b.TorchName))}); pass strict: false to ignore it.");

        foreach ((TensorInfo tensor, float[] values) in staged)
        {
            values.CopyTo(model.TensorData(tensor));
            if (tensor.Trainable)
                for (int slot = 0; slot < model.OptimizerStateCount; slot++) model.TensorState(tensor, slot).Clear();
        }
        return new TorchLoadReport(bindings.Select(b => (b.Tensor.Name, b.TorchName)).ToList(), ignored);
    }

    /// <summary>
    /// Saves the model's parameters and running statistics as a PyTorch state_dict in safetensors (F32, PyTorch's names
    /// and layouts, plus an I64 <c>num_batches_tracked</c> = <see cref="IKilnModel.Step"/> per BatchNorm), which
    /// <c>model.load_state_dict(safetensors.torch.load_file(path))</c> accepts for the mirroring PyTorch model. Written
    /// through a temporary file renamed over the target.
    /// </summary>
    public static void Save(IKilnModel model, string path, IReadOnlyDictionary<string, string>? map = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        List<Binding> bindings = Bindings(model, map);
        var entries = new List<(string Name, string DType, int[] Shape, byte[] Data)>();
        var counters = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Binding b in bindings)
        {
            float[] values = b.ToTorch(model.TensorData(b.Tensor).ToArray());
            var bytes = new byte[values.Length * sizeof(float)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            entries.Add((b.TorchName, "F32", b.TorchShape, bytes));
            if (b.Tensor.Role == TensorRole.RunningMean) counters.Add(b.TorchName[..^"running_mean".Length] + "num_batches_tracked");
        }
        foreach (string counter in counters) entries.Add((counter, "I64", [], BitConverter.GetBytes(model.Step)));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors is little-endian; Kiln runs on little-endian machines.");
        WriteSafetensors(path, entries, new Dictionary<string, string> { ["format"] = "pt", ["kiln_model"] = model.ModelName });
    }

    /// <summary>Each Kiln tensor's PyTorch name under <paramref name="map"/> (null: the inferred <c>nn.Sequential</c> numbering).</summary>
    public static IReadOnlyDictionary<string, string> TorchNames(IKilnModel model, IReadOnlyDictionary<string, string>? map = null) =>
        Bindings(model, map).ToDictionary(b => b.Tensor.Name, b => b.TorchName, StringComparer.Ordinal);

    private sealed record Binding(TensorInfo Tensor, string TorchName, int[] TorchShape, Func<float[], float[]> ToKiln, Func<float[], float[]> ToTorch);

    private static List<Binding> Bindings(IKilnModel model, IReadOnlyDictionary<string, string>? map)
    {
        ModelArchitecture arch = model.Architecture
            ?? throw new NotSupportedException($"{model.ModelName} has no architecture description (IKilnModel.Architecture is null): rebuild it with a Kiln generator that emits one.");
        ILookup<string, TensorInfo> byLayer = model.Tensors.Where(t => t.Role is not (TensorRole.Mean or TensorRole.StandardDeviation)).ToLookup(t => t.Layer, StringComparer.Ordinal);
        var shapes = model.Layers.ToDictionary(l => l.Name, l => l.OutputShape, StringComparer.Ordinal);
        var bindings = new List<Binding>();

        int[] shape = arch.InputShape.Count switch { 3 => arch.InputShape.ToArray(), 2 => [1, arch.InputShape[0], arch.InputShape[1]], _ => [arch.InputSize] };
        int[]? permutation = null; // set between a Flatten of spatial activations and the Dense that reads it
        int module = 0, inner = 0;
        string? block = null;
        for (int i = 0; i < arch.Layers.Count; i++)
        {
            ArchitectureLayer layer = arch.Layers[i];
            string? prefix = map is null ? (block is null ? $"{module}" : $"{block}.branch.{inner}") : map.GetValueOrDefault(layer.Name);
            if (layer.Kind == ArchitectureLayerKind.Residual)
            {
                if (permutation is not null && !layer.Projection)
                    throw new NotSupportedException($"{model.ModelName}: residual block {layer.Name} reads a flattened convolution without a projection; PyTorch's (C, H, W) order and Kiln's (H, W, C) order cannot be matched through its identity shortcut.");
                block = map is null ? $"{module}" : null;
                inner = 0;
                if (layer.Projection)
                {
                    string projectionPrefix = map is null ? $"{block}.projection" : prefix ?? throw MissingMap(model, layer.Name);
                    TensorInfo p = model.Tensors.First(t => t.Name == layer.Name + ".projection");
                    bindings.Add(WeightBinding(p, projectionPrefix + ".weight", permutation));
                    permutation = null;
                }
                continue;
            }
            if (layer.Kind == ArchitectureLayerKind.EndResidual)
            {
                if (map is null) module++;
                block = null;
                string? open = arch.Layers.Take(i).LastOrDefault(l => l.Kind == ArchitectureLayerKind.Residual)?.Name;
                if (open is not null && shapes.TryGetValue(open, out int[]? blockShape)) shape = blockShape;
                continue;
            }
            if (map is null)
            {
                if (block is null) module++;
                else inner++;
            }
            if (layer.Kind == ArchitectureLayerKind.Flatten && shape.Length == 3 && i > 0)
                permutation = Layouts.HwcToChw(shape[0], shape[1], shape[2]);
            if (layer.Kind == ArchitectureLayerKind.Flatten) shape = [shape.Aggregate(1, (a, b) => a * b)];
            foreach (TensorInfo t in byLayer[layer.Name])
            {
                if (prefix is null) throw MissingMap(model, layer.Name);
                string suffix = t.Role switch
                {
                    TensorRole.Weight or TensorRole.Gamma or TensorRole.Alpha => "weight",
                    TensorRole.Bias or TensorRole.Beta => "bias",
                    TensorRole.RunningMean => "running_mean",
                    TensorRole.RunningVariance => "running_var",
                    _ => throw new NotSupportedException($"{model.ModelName}: tensor {t.Name} ({t.Role}) has no PyTorch counterpart."),
                };
                if (t.Role == TensorRole.Weight) bindings.Add(WeightBinding(t, $"{prefix}.{suffix}", permutation));
                else if (permutation is not null && t.Length == permutation.Length) bindings.Add(VectorBinding(t, $"{prefix}.{suffix}", permutation));
                else bindings.Add(new Binding(t, $"{prefix}.{suffix}", [t.Length], v => v, v => v));
            }
            if (layer.Kind == ArchitectureLayerKind.Dense) permutation = null;
            if (shapes.TryGetValue(layer.Name, out int[]? next)) shape = next;
        }
        var duplicate = bindings.GroupBy(b => b.TorchName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"The map sends {string.Join(" and ", duplicate.Select(b => b.Tensor.Name))} to the same PyTorch tensor '{duplicate.Key}'.", nameof(map));
        return bindings;
    }

    private static ArgumentException MissingMap(IKilnModel model, string layer) =>
        new($"The map has no PyTorch module for layer '{layer}' of {model.ModelName}; map every layer with tensors (or pass null for the nn.Sequential numbering).", "map");

    /// <summary>Dense [in, out] ↔ Linear [out, in] (input rows permuted after a flattened convolution); Conv2D [kh, kw, c, o] ↔ Conv2d [o, c, kh, kw].</summary>
    private static Binding WeightBinding(TensorInfo t, string name, int[]? permutation)
    {
        if (t.Shape.Length == 4)
        {
            int kh = t.Shape[0], kw = t.Shape[1], c = t.Shape[2], o = t.Shape[3];
            return new Binding(t, name, [o, c, kh, kw], v => Layouts.OihwToKilnConv(v, kh, kw, c, o), v => Layouts.KilnConvToOihw(v, kh, kw, c, o));
        }
        int inputs = t.Shape[0], outputs = t.Shape[1];
        if (permutation is not null && permutation.Length != inputs) permutation = null;
        int[]? p = permutation;
        return new Binding(t, name, [outputs, inputs],
            v =>
            {
                var kiln = new float[v.Length];
                for (int k = 0; k < inputs; k++)
                    for (int o = 0; o < outputs; o++) kiln[k * outputs + o] = v[o * inputs + (p is null ? k : p[k])];
                return kiln;
            },
            v =>
            {
                var torch = new float[v.Length];
                for (int k = 0; k < inputs; k++)
                    for (int o = 0; o < outputs; o++) torch[o * inputs + (p is null ? k : p[k])] = v[k * outputs + o];
                return torch;
            });
    }

    /// <summary>A per-feature vector of a flattened convolution's output (a BatchNorm or PReLU between Flatten and Dense).</summary>
    private static Binding VectorBinding(TensorInfo t, string name, int[] p) => new(t, name, [t.Length],
        v =>
        {
            var kiln = new float[v.Length];
            for (int k = 0; k < kiln.Length; k++) kiln[k] = v[p[k]];
            return kiln;
        },
        v =>
        {
            var torch = new float[v.Length];
            for (int k = 0; k < v.Length; k++) torch[p[k]] = v[k];
            return torch;
        });

    /// <summary>A safetensors file: 8-byte header length, JSON header padded with spaces to 8 bytes, data in header order.</summary>
    private static void WriteSafetensors(string path, List<(string Name, string DType, int[] Shape, byte[] Data)> entries, Dictionary<string, string> metadata)
    {
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var kv in metadata) json.WriteString(kv.Key, kv.Value);
            json.WriteEndObject();
            long offset = 0;
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.DType);
                json.WriteStartArray("shape");
                foreach (int d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.Data.Length;
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - header.Length % 8) % 8);
        header.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(BitConverter.GetBytes((ulong)header.Length));
                header.WriteTo(stream);
                foreach (var e in entries) stream.Write(e.Data);
                stream.Flush(true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
