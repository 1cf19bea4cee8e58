using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using Kiln.Data;

namespace Kiln.Preprocessing;

/// <summary>
/// A data preprocessing step (docs/techniques.md#preprocessing): its statistics are fitted on the training split only, then applied
/// unchanged to every split and to every sample the model sees later; it is saved with the model in the checkpoint
/// (<c>CheckpointMetadata.Preprocessing</c>), so inference applies exactly what training did.
/// </summary>
/// <remarks>
/// <para>The path is <c>p.Fit(split.Train)</c>, then <c>p.Apply(dataset)</c> (in place) on each split, or
/// <see cref="FitTransform(DataSplit)"/> which can only fit on the training part.</para>
/// <para><see cref="Apply(Span{float})"/> works on any number of whole samples, in place, and allocates nothing, so it
/// can run per batch. An instance holds scratch buffers: use one instance per thread.</para>
/// <para>The kinds: <see cref="Standardizer"/> (per-feature mean/std, or the mean image alone),
/// <see cref="ChannelNormalizer"/> (per-channel mean, or mean and std), <see cref="PcaWhitener"/>,
/// <see cref="ZcaWhitener"/>, and <see cref="Chain"/> of several.</para>
/// </remarks>
public abstract class Preprocessor
{
    private protected Preprocessor() { }

    /// <summary>The kind as stored in JSON: <c>standardize</c>, <c>channel_normalize</c>, <c>pca_whiten</c>, <c>zca_whiten</c>, <c>chain</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>Whether the statistics are present (fitted or loaded).</summary>
    public abstract bool IsFitted { get; }

    /// <summary>Features per input sample (0 until fitted).</summary>
    public abstract int FeatureCount { get; }

    /// <summary>Features per output sample: <see cref="FeatureCount"/> except for PCA keeping fewer components.</summary>
    public virtual int OutputFeatureCount => FeatureCount;

    /// <summary>Computes the statistics from <paramref name="train"/> (the training split only); returns this.</summary>
    public Preprocessor Fit(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException($"Cannot fit {GetType().Name} on the empty data set '{train.Name}'.", nameof(train));
        FitCore(train);
        return this;
    }

    /// <summary>Fits on <c>split.Train</c> only and returns transformed copies of both parts (the sources are untouched).</summary>
    public DataSplit FitTransform(DataSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        Fit(split.Train);
        return new DataSplit(Transform(split.Train), Transform(split.Test));
    }

    /// <summary>Transforms whole samples in place (any number of rows); allocates nothing.</summary>
    /// <exception cref="InvalidOperationException">Not fitted, or the step changes the feature count (use the two-span overload).</exception>
    public void Apply(Span<float> samples)
    {
        int rows = CheckRows(samples.Length, "samples");
        if (OutputFeatureCount != FeatureCount)
            throw new InvalidOperationException(
                $"{GetType().Name} maps {FeatureCount} features to {OutputFeatureCount}, so it cannot work in place; use Apply(source, destination) or Transform.");
        if (rows > 0) ApplyRows(samples, samples, rows);
    }

    /// <summary>Transforms whole samples from <paramref name="source"/> into <paramref name="destination"/> (rows × <see cref="OutputFeatureCount"/>).</summary>
    /// <remarks>The spans must be the same memory or not overlap at all.</remarks>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination)
    {
        int rows = CheckRows(source.Length, "source");
        if (destination.Length != (long)rows * OutputFeatureCount)
            throw new ArgumentException($"{rows} samples of {OutputFeatureCount} output features need {(long)rows * OutputFeatureCount} values; the destination holds {destination.Length}.", nameof(destination));
        if (source.Overlaps(destination, out int offset) && offset != 0)
            throw new ArgumentException("The source and destination overlap partially; pass the same span or disjoint ones.", nameof(destination));
        if (rows > 0) ApplyRows(source, destination, rows);
    }

    /// <summary>Transforms the features of <paramref name="data"/> in place.</summary>
    public void Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckDataset(data);
        Apply(data.Features);
    }

    /// <summary>A transformed copy of <paramref name="data"/> (the source is untouched); the image shape is kept when the feature count is.</summary>
    public Dataset Transform(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckDataset(data);
        var output = new float[(long)data.Count * OutputFeatureCount];
        if (data.Count > 0) ApplyRows(data.Features, output, data.Count);
        return OutputFeatureCount == FeatureCount
            ? data.WithFeatures(output)
            : new Dataset(output, data.Labels, OutputFeatureCount, data.ClassCount, null, data.Name);
    }

    /// <summary>Several steps applied in order, fitted in order (each on the training data as transformed by the steps before it).</summary>
    /// <remarks>Only the last step may change the feature count (PCA keeping fewer components).</remarks>
    public static Preprocessor Chain(params Preprocessor[] steps) => new PreprocessorChain(steps);

    /// <summary>The fitted statistics as compact JSON (floats written exactly: <see cref="FromJson"/> restores them bit for bit).</summary>
    public string ToJson()
    {
        EnsureFitted();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer)) WriteJson(json);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads any preprocessing written by <see cref="ToJson"/>; every field is validated.</summary>
    /// <exception cref="JsonException">Malformed JSON, an unknown kind, or inconsistent or non-finite statistics; the message says which.</exception>
    public static Preprocessor FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using JsonDocument doc = ParseDocument(json);
        return Read(doc.RootElement, "preprocessing");
    }

    // ------------------------------------------------------------ for the kinds

    private protected abstract void FitCore(Dataset train);

    /// <summary><paramref name="rows"/> samples; source and destination are the same memory or disjoint.</summary>
    private protected abstract void ApplyRows(ReadOnlySpan<float> source, Span<float> destination, int rows);

    /// <summary>Writes the properties after <c>kind</c>.</summary>
    private protected abstract void WriteProperties(Utf8JsonWriter json);

    internal void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("kind", Kind);
        WriteProperties(json);
        json.WriteEndObject();
    }

    internal static Preprocessor Read(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new JsonException($"{where}: expected a JSON object, found {e.ValueKind}.");
        string kind = e.TryGetProperty("kind", out JsonElement k) && k.ValueKind == JsonValueKind.String
            ? k.GetString()!
            : throw new JsonException($"{where}: missing the string 'kind'.");
        Preprocessor p = kind switch
        {
            Standardizer.KindName => Standardizer.ReadProperties(e, where),
            ChannelNormalizer.KindName => ChannelNormalizer.ReadProperties(e, where),
            PcaWhitener.KindName => PcaWhitener.ReadProperties(e, where),
            ZcaWhitener.KindName => ZcaWhitener.ReadProperties(e, where),
            PreprocessorChain.KindName => PreprocessorChain.ReadProperties(e, where),
            _ => throw new JsonException($"{where}: unknown kind '{kind}' (expected {Standardizer.KindName}, {ChannelNormalizer.KindName}, {PcaWhitener.KindName}, {ZcaWhitener.KindName} or {PreprocessorChain.KindName})."),
        };
        return p;
    }

    internal static JsonDocument ParseDocument(string json)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw new JsonException($"preprocessing: not valid JSON: {e.Message}", e); }
    }

    private protected void EnsureFitted()
    {
        if (!IsFitted) throw new InvalidOperationException($"The {GetType().Name} is not fitted: call Fit(train) first.");
    }

    private int CheckRows(int length, string what)
    {
        EnsureFitted();
        int f = FeatureCount;
        if (length % f != 0)
            throw new ArgumentException($"{length} values are not whole samples of {f} features.", what);
        return length / f;
    }

    private void CheckDataset(Dataset data)
    {
        EnsureFitted();
        if (data.FeatureCount != FeatureCount)
            throw new ArgumentException($"Data set '{data.Name}' has {data.FeatureCount} features; the {GetType().Name} was fitted on {FeatureCount}.", nameof(data));
    }

    // ------------------------------------------------------------ shared statistics and JSON helpers

    /// <summary>Per-feature mean of <paramref name="data"/> in double.</summary>
    internal static double[] FeatureMeans(Dataset data)
    {
        int f = data.FeatureCount;
        float[] x = data.Features;
        var mean = new double[f];
        for (int o = 0; o < x.Length; o += f)
            for (int j = 0; j < f; j++) mean[j] += x[o + j];
        for (int j = 0; j < f; j++) mean[j] /= data.Count;
        return mean;
    }

    internal static void WriteArray(Utf8JsonWriter json, string name, ReadOnlySpan<float> values)
    {
        json.WriteStartArray(name);
        foreach (float v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }

    internal static void WriteArray(Utf8JsonWriter json, string name, ReadOnlySpan<double> values)
    {
        json.WriteStartArray(name);
        foreach (double v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }

    internal static JsonElement Property(JsonElement e, string name, JsonValueKind kind, string where) =>
        e.TryGetProperty(name, out JsonElement p) && p.ValueKind == kind
            ? p
            : throw new JsonException($"{where}: missing the {(kind == JsonValueKind.Array ? "array" : kind.ToString().ToLowerInvariant())} '{name}'.");

    internal static float[] ReadFloats(JsonElement e, string name, int expected, string where)
    {
        JsonElement array = Property(e, name, JsonValueKind.Array, where);
        int n = array.GetArrayLength();
        if (expected >= 0 && n != expected) throw new JsonException($"{where}: '{name}' has {n} values, expected {expected}.");
        var values = new float[n];
        int i = 0;
        foreach (JsonElement v in array.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetSingle(out float x) || !float.IsFinite(x))
                throw new JsonException($"{where}: '{name}'[{i}] is {v.GetRawText()}, not a finite number.");
            values[i++] = x;
        }
        return values;
    }

    internal static double[] ReadDoubles(JsonElement e, string name, int expected, string where)
    {
        JsonElement array = Property(e, name, JsonValueKind.Array, where);
        int n = array.GetArrayLength();
        if (n != expected) throw new JsonException($"{where}: '{name}' has {n} values, expected {expected}.");
        var values = new double[n];
        int i = 0;
        foreach (JsonElement v in array.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double x) || !double.IsFinite(x))
                throw new JsonException($"{where}: '{name}'[{i}] is {v.GetRawText()}, not a finite number.");
            values[i++] = x;
        }
        return values;
    }

    internal static int ReadInt(JsonElement e, string name, int min, string where)
    {
        JsonElement p = Property(e, name, JsonValueKind.Number, where);
        if (!p.TryGetInt32(out int v) || v < min) throw new JsonException($"{where}: '{name}' is {p.GetRawText()}, expected an integer ≥ {min}.");
        return v;
    }

    internal static bool ReadBool(JsonElement e, string name, bool fallback, string where)
    {
        if (!e.TryGetProperty(name, out JsonElement p)) return fallback;
        return p.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new JsonException($"{where}: '{name}' is {p.GetRawText()}, expected true or false."),
        };
    }

    internal static void CheckPositive(float[] values, string name, string where)
    {
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] > 0)) throw new JsonException($"{where}: '{name}'[{i}] is {values[i]}; standard deviations must be positive.");
    }

    internal static IReadOnlyList<float> ReadOnly(float[] values) => Array.AsReadOnly(values);
}
