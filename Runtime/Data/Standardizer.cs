using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kiln.Data;

/// <summary>
/// Per-feature standardisation x' = (x − mean) / std (CATALOGUE §2). Fit on the training split only, then
/// transform every split with those statistics, so no test information leaks into training.
/// </summary>
/// <remarks>
/// Statistics are accumulated in double in two passes; std is the population value (divide by N, as numpy's default).
/// A feature whose std is zero or negligible (below 1e-6 · max(1, |mean|), e.g. an always-black border
/// pixel) gets std = 1, so it becomes a constant 0 instead of a division by zero.
/// <see cref="Mean"/> and <see cref="Std"/> are plain public arrays so a fitted standardizer round-trips
/// through JSON (<see cref="ToJson"/>, <see cref="FromJson"/>) next to a checkpoint.
/// </remarks>
public sealed class Standardizer
{
    /// <summary>Per-feature mean of the training split (empty until fitted).</summary>
    public float[] Mean { get; set; } = [];
    /// <summary>Per-feature standard deviation, with zero replaced by 1 (empty until fitted).</summary>
    public float[] Std { get; set; } = [];

    [JsonIgnore]
    public bool IsFitted => Mean.Length > 0 && Mean.Length == Std.Length;

    /// <summary>Computes the statistics from <paramref name="train"/>; returns this for chaining.</summary>
    public Standardizer Fit(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException($"Cannot fit a standardizer on the empty data set '{train.Name}'.", nameof(train));
        int f = train.FeatureCount, n = train.Count;
        float[] x = train.Features;
        // Two passes (mean, then squared deviations) avoid the cancellation of E[x²] − mean².
        var sum = new double[f];
        for (int o = 0; o < x.Length; o += f)
            for (int j = 0; j < f; j++) sum[j] += x[o + j];
        for (int j = 0; j < f; j++) sum[j] /= n;
        var sq = new double[f];
        for (int o = 0; o < x.Length; o += f)
            for (int j = 0; j < f; j++)
            {
                double d = x[o + j] - sum[j];
                sq[j] += d * d;
            }
        var mean = new float[f];
        var std = new float[f];
        for (int j = 0; j < f; j++)
        {
            double m = sum[j], s = Math.Sqrt(sq[j] / n);
            mean[j] = (float)m;
            std[j] = s < 1e-6 * Math.Max(1, Math.Abs(m)) ? 1f : (float)s;
        }
        Mean = mean;
        Std = std;
        return this;
    }

    /// <summary>A standardised copy of <paramref name="data"/> (the source is untouched).</summary>
    public Dataset Transform(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        EnsureFitted();
        if (data.FeatureCount != Mean.Length)
            throw new ArgumentException($"Data set '{data.Name}' has {data.FeatureCount} features; the standardizer was fitted on {Mean.Length}.", nameof(data));
        var copy = (float[])data.Features.Clone();
        TransformInPlace(copy);
        return data.WithFeatures(copy);
    }

    /// <summary>Standardises row-major samples in place (any number of rows).</summary>
    public void TransformInPlace(Span<float> features)
    {
        EnsureFitted();
        int f = Mean.Length;
        if (features.Length % f != 0)
            throw new ArgumentException($"{features.Length} values are not whole samples of {f} features.", nameof(features));
        // Multiply by the reciprocal: one division per feature instead of per value.
        Span<float> inv = f <= 4096 ? stackalloc float[f] : new float[f];
        for (int j = 0; j < f; j++) inv[j] = 1f / Std[j];
        for (int o = 0; o < features.Length; o += f)
        {
            Span<float> row = features.Slice(o, f);
            for (int j = 0; j < f; j++) row[j] = (row[j] - Mean[j]) * inv[j];
        }
    }

    /// <summary>Undoes <see cref="TransformInPlace"/>.</summary>
    public void InverseTransformInPlace(Span<float> features)
    {
        EnsureFitted();
        int f = Mean.Length;
        if (features.Length % f != 0)
            throw new ArgumentException($"{features.Length} values are not whole samples of {f} features.", nameof(features));
        for (int o = 0; o < features.Length; o += f)
        {
            Span<float> row = features.Slice(o, f);
            for (int j = 0; j < f; j++) row[j] = row[j] * Std[j] + Mean[j];
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, KilnJsonContext.Default.Standardizer);

    public static Standardizer FromJson(string json)
    {
        Standardizer s = JsonSerializer.Deserialize(json, KilnJsonContext.Default.Standardizer)
            ?? throw new JsonException("Standardizer JSON is null.");
        if (!s.IsFitted) throw new JsonException("Standardizer JSON lacks matching 'mean' and 'std' arrays.");
        return s;
    }

    private void EnsureFitted()
    {
        if (!IsFitted) throw new InvalidOperationException("The standardizer is not fitted: call Fit(train) first.");
    }
}
