using System;
using System.Numerics.Tensors;
using System.Text.Json;
using Kiln.Kernels;
using Kiln.Preprocessing;

namespace Kiln.Data;

/// <summary>
/// Per-feature standardisation x' = (x − mean) / std (docs/techniques.md#preprocessing), or with <see cref="DivideByStd"/> false the
/// zero-centring x' = x − mean, which for images is mean-image subtraction (AlexNet). Fit on the training split only,
/// then apply those statistics to every split, so no test information leaks into training.
/// </summary>
/// <remarks>
/// Statistics are accumulated in double in two passes; std is the population value (divide by N, as numpy's default).
/// A feature whose std is zero or negligible (below 1e-6 · max(1, |mean|), e.g. an always-black border pixel) gets
/// std = 1, so it becomes a constant 0 instead of a division by zero. It lives in <c>Kiln.Data</c> (where it started)
/// and is one of the <see cref="Preprocessor"/> kinds.
/// </remarks>
public sealed class Standardizer : Preprocessor
{
    internal const string KindName = "standardize";

    private float[] _mean = [];
    private float[] _std = [];
    private float[] _inverseStd = [];

    /// <summary>Per-feature mean of the training split (empty until fitted); the mean image for image data.</summary>
    public float[] Mean
    {
        get => _mean;
        set => _mean = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Per-feature standard deviation, with zero replaced by 1 (all ones when <see cref="DivideByStd"/> is false).</summary>
    public float[] Std
    {
        get => _std;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _std = value;
            // One reciprocal per feature, computed once: Apply multiplies instead of dividing and allocates nothing.
            _inverseStd = new float[value.Length];
            for (int j = 0; j < value.Length; j++) _inverseStd[j] = 1f / value[j];
        }
    }

    /// <summary>True (default): divide by the std after centring. False: only subtract the mean (mean image).</summary>
    public bool DivideByStd { get; set; } = true;

    /// <inheritdoc/>
    public override string Kind => KindName;
    /// <inheritdoc/>
    public override bool IsFitted => _mean.Length > 0 && _mean.Length == _std.Length;
    /// <inheritdoc/>
    public override int FeatureCount => IsFitted ? _mean.Length : 0;

    /// <summary>Computes the statistics from <paramref name="train"/>; returns this for chaining.</summary>
    public new Standardizer Fit(Dataset train) => (Standardizer)base.Fit(train);

    private protected override void FitCore(Dataset train)
    {
        int f = train.FeatureCount;
        var sum = new double[f];
        var variance = new double[f];
        InputStandardization.Moments(train.Features, train.Count, f, f, sum, variance);
        var mean = new float[f];
        var std = new float[f];
        for (int j = 0; j < f; j++)
        {
            mean[j] = (float)sum[j];
            std[j] = DivideByStd ? InputStandardization.SafeStd(sum[j], variance[j]) : 1f;
        }
        Mean = mean;
        Std = std;
    }

    /// <summary>Standardises row-major samples in place (any number of rows); the same as <see cref="Preprocessor.Apply(Span{float})"/>.</summary>
    public void TransformInPlace(Span<float> features) => Apply(features);

    /// <summary>Undoes <see cref="TransformInPlace"/>.</summary>
    public void InverseTransformInPlace(Span<float> features)
    {
        EnsureFitted();
        int f = _mean.Length;
        if (features.Length % f != 0)
            throw new ArgumentException($"{features.Length} values are not whole samples of {f} features.", nameof(features));
        for (int o = 0; o < features.Length; o += f)
        {
            Span<float> row = features.Slice(o, f);
            if (DivideByStd) TensorPrimitives.Multiply(row, _std, row);
            TensorPrimitives.Add(row, _mean, row);
        }
    }

    private protected override void ApplyRows(ReadOnlySpan<float> source, Span<float> destination, int rows)
    {
        int f = _mean.Length;
        for (int o = 0; o < rows * f; o += f)
        {
            Span<float> row = destination.Slice(o, f);
            TensorPrimitives.Subtract(source.Slice(o, f), _mean, row);
            if (DivideByStd) TensorPrimitives.Multiply(row, _inverseStd, row);
        }
    }

    private protected override void WriteProperties(Utf8JsonWriter json)
    {
        json.WriteBoolean("divide_by_std", DivideByStd);
        WriteArray(json, "mean", _mean);
        WriteArray(json, "std", _std);
    }

    internal static Standardizer ReadProperties(JsonElement e, string where)
    {
        float[] mean = ReadFloats(e, "mean", -1, where);
        if (mean.Length == 0) throw new JsonException($"{where}: 'mean' is empty.");
        float[] std = ReadFloats(e, "std", mean.Length, where);
        CheckPositive(std, "std", where);
        return new Standardizer { DivideByStd = ReadBool(e, "divide_by_std", true, where), Mean = mean, Std = std };
    }

    /// <summary>Reads <see cref="Preprocessor.ToJson"/> output of a standardizer, or the older form with only <c>mean</c> and <c>std</c>.</summary>
    /// <exception cref="JsonException">Missing, mismatched or invalid arrays, or JSON of another kind.</exception>
    public static new Standardizer FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using JsonDocument doc = ParseDocument(json);
        JsonElement root = doc.RootElement;
        const string where = "standardizer";
        if (root.ValueKind != JsonValueKind.Object) throw new JsonException($"{where}: expected a JSON object, found {root.ValueKind}.");
        if (root.TryGetProperty("kind", out JsonElement kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() != KindName)
            throw new JsonException($"{where}: the JSON is preprocessing of kind '{kind.GetString()}', not '{KindName}'.");
        return ReadProperties(root, where);
    }
}
