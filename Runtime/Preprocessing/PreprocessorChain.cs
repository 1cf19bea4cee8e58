using System;
using System.Text.Json;
using Kiln.Data;

namespace Kiln.Preprocessing;

/// <summary>Steps applied in order (<see cref="Preprocessor.Chain"/>); only the last may change the feature count.</summary>
internal sealed class PreprocessorChain : Preprocessor
{
    internal const string KindName = "chain";
    private const int ChunkRows = 64;

    private readonly Preprocessor[] _steps;
    private float[] _scratch = [];

    public PreprocessorChain(Preprocessor[] steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Length == 0) throw new ArgumentException("A preprocessing chain needs at least one step.", nameof(steps));
        for (int i = 0; i < steps.Length; i++)
            if (steps[i] is null) throw new ArgumentNullException(nameof(steps), $"Step {i} of the preprocessing chain is null.");
        _steps = (Preprocessor[])steps.Clone();
        if (IsFitted) CheckAndSize();
    }

    public override string Kind => KindName;
    public override bool IsFitted => Array.TrueForAll(_steps, s => s.IsFitted);
    public override int FeatureCount => IsFitted ? _steps[0].FeatureCount : 0;
    public override int OutputFeatureCount => IsFitted ? _steps[^1].OutputFeatureCount : 0;

    private protected override void FitCore(Dataset train)
    {
        Dataset current = train;
        for (int i = 0; i < _steps.Length; i++)
        {
            _steps[i].Fit(current);
            if (i < _steps.Length - 1)
            {
                if (_steps[i].OutputFeatureCount != _steps[i].FeatureCount)
                    throw new InvalidOperationException($"Step {i} ({_steps[i].GetType().Name}) of the preprocessing chain changes the feature count; only the last step may.");
                current = _steps[i].Transform(current);
            }
        }
        CheckAndSize();
    }

    private void CheckAndSize()
    {
        for (int i = 0; i < _steps.Length; i++)
        {
            if (i > 0 && _steps[i].FeatureCount != _steps[i - 1].OutputFeatureCount)
                throw new InvalidOperationException($"Step {i} ({_steps[i].GetType().Name}) takes {_steps[i].FeatureCount} features; step {i - 1} gives {_steps[i - 1].OutputFeatureCount}.");
            if (i < _steps.Length - 1 && _steps[i].OutputFeatureCount != _steps[i].FeatureCount)
                throw new InvalidOperationException($"Step {i} ({_steps[i].GetType().Name}) of the preprocessing chain changes the feature count; only the last step may.");
        }
        _scratch = OutputFeatureCount == FeatureCount ? [] : new float[ChunkRows * FeatureCount];
    }

    private protected override void ApplyRows(ReadOnlySpan<float> source, Span<float> destination, int rows)
    {
        int f = FeatureCount;
        if (OutputFeatureCount == f)
        {
            _steps[0].Apply(source.Slice(0, rows * f), destination.Slice(0, rows * f));
            for (int i = 1; i < _steps.Length; i++) _steps[i].Apply(destination.Slice(0, rows * f));
            return;
        }
        // The last step reduces the features: run the others on a chunk in the scratch, then the last into the destination.
        int k = OutputFeatureCount;
        for (int r0 = 0; r0 < rows; r0 += ChunkRows)
        {
            int m = Math.Min(ChunkRows, rows - r0);
            Span<float> chunk = _scratch.AsSpan(0, m * f);
            source.Slice(r0 * f, m * f).CopyTo(chunk);
            for (int i = 0; i < _steps.Length - 1; i++) _steps[i].Apply(chunk);
            _steps[^1].Apply(chunk, destination.Slice(r0 * k, m * k));
        }
    }

    private protected override void WriteProperties(Utf8JsonWriter json)
    {
        json.WriteStartArray("steps");
        foreach (Preprocessor s in _steps) s.WriteJson(json);
        json.WriteEndArray();
    }

    internal static PreprocessorChain ReadProperties(JsonElement e, string where)
    {
        JsonElement steps = Property(e, "steps", JsonValueKind.Array, where);
        var list = new Preprocessor[steps.GetArrayLength()];
        if (list.Length == 0) throw new JsonException($"{where}: 'steps' is empty.");
        int i = 0;
        foreach (JsonElement s in steps.EnumerateArray())
        {
            list[i] = Read(s, $"{where}.steps[{i}]");
            i++;
        }
        try { return new PreprocessorChain(list); }
        catch (InvalidOperationException x) { throw new JsonException($"{where}: {x.Message}", x); }
    }
}
