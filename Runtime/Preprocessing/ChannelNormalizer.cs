using System;
using System.Collections.Generic;
using System.Text.Json;
using Kiln.Data;
using Kiln.Kernels;

namespace Kiln.Preprocessing;

/// <summary>
/// Per-channel normalisation of C×H×W images (docs/techniques.md#preprocessing): x'[c,h,w] = (x[c,h,w] − mean_c) / std_c, with one mean
/// and one std per channel over every pixel of every training image (ResNet), or with <see cref="DivideByStd"/> false
/// only x − mean_c (VGG).
/// </summary>
/// <remarks>Statistics in double, population std, a constant channel gets std 1 (as <see cref="Standardizer"/>).</remarks>
public sealed class ChannelNormalizer : Preprocessor
{
    internal const string KindName = "channel_normalize";

    private float[] _mean = [];
    private float[] _std = [];
    private float[] _inverseStd = [];

    /// <summary>True (default): divide by the channel std after centring. False: only subtract the channel mean.</summary>
    public bool DivideByStd { get; set; } = true;

    /// <summary>The image shape fitted on (taken from the training set's <see cref="Dataset.Shape"/>).</summary>
    public ImageShape Shape { get; private set; }

    /// <summary>Mean per channel.</summary>
    public IReadOnlyList<float> Mean => ReadOnly(_mean);
    /// <summary>Standard deviation per channel (ones when <see cref="DivideByStd"/> is false).</summary>
    public IReadOnlyList<float> Std => ReadOnly(_std);

    /// <inheritdoc/>
    public override string Kind => KindName;
    /// <inheritdoc/>
    public override bool IsFitted => _mean.Length > 0;
    /// <inheritdoc/>
    public override int FeatureCount => IsFitted ? Shape.Size : 0;

    /// <summary>Computes the channel statistics from <paramref name="train"/>, whose <see cref="Dataset.Shape"/> must be set.</summary>
    public new ChannelNormalizer Fit(Dataset train) => (ChannelNormalizer)base.Fit(train);

    private protected override void FitCore(Dataset train)
    {
        ImageShape shape = train.Shape
            ?? throw new ArgumentException($"ChannelNormalizer needs images: data set '{train.Name}' has no image shape (C, H, W); give it one with WithShape.", nameof(train));
        int c = shape.Channels;
        var sum = new double[c];
        var variance = new double[c];
        InputStandardization.Moments(train.Features, train.Count, shape.Size, c, sum, variance);
        var mean = new float[c];
        var std = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            mean[ch] = (float)sum[ch];
            std[ch] = DivideByStd ? InputStandardization.SafeStd(sum[ch], variance[ch]) : 1f;
        }
        Set(shape, mean, std);
    }

    private void Set(ImageShape shape, float[] mean, float[] std)
    {
        Shape = shape;
        _mean = mean;
        _std = std;
        _inverseStd = new float[std.Length];
        for (int ch = 0; ch < std.Length; ch++) _inverseStd[ch] = 1f / std[ch];
    }

    private protected override void ApplyRows(ReadOnlySpan<float> source, Span<float> destination, int rows)
    {
        int plane = Shape.Height * Shape.Width, size = Shape.Size;
        for (int r = 0; r < rows; r++)
            for (int ch = 0; ch < _mean.Length; ch++)
            {
                int o = r * size + ch * plane;
                ReadOnlySpan<float> src = source.Slice(o, plane);
                Span<float> dst = destination.Slice(o, plane);
                float m = _mean[ch], inv = _inverseStd[ch];
                if (DivideByStd) for (int i = 0; i < plane; i++) dst[i] = (src[i] - m) * inv;
                else for (int i = 0; i < plane; i++) dst[i] = src[i] - m;
            }
    }

    private protected override void WriteProperties(Utf8JsonWriter json)
    {
        json.WriteBoolean("divide_by_std", DivideByStd);
        json.WriteStartArray("shape");
        json.WriteNumberValue(Shape.Channels);
        json.WriteNumberValue(Shape.Height);
        json.WriteNumberValue(Shape.Width);
        json.WriteEndArray();
        WriteArray(json, "mean", _mean);
        WriteArray(json, "std", _std);
    }

    internal static ChannelNormalizer ReadProperties(JsonElement e, string where)
    {
        ImageShape shape = ReadShape(e, where);
        float[] mean = ReadFloats(e, "mean", shape.Channels, where);
        float[] std = ReadFloats(e, "std", shape.Channels, where);
        CheckPositive(std, "std", where);
        var n = new ChannelNormalizer { DivideByStd = ReadBool(e, "divide_by_std", true, where) };
        n.Set(shape, mean, std);
        return n;
    }

    internal static ImageShape ReadShape(JsonElement e, string where)
    {
        JsonElement s = Property(e, "shape", JsonValueKind.Array, where);
        if (s.GetArrayLength() != 3 || !s[0].TryGetInt32(out int c) || !s[1].TryGetInt32(out int h) || !s[2].TryGetInt32(out int w)
            || c <= 0 || h <= 0 || w <= 0 || (long)c * h * w > int.MaxValue)
            throw new JsonException($"{where}: 'shape' is {s.GetRawText()}, expected [channels, height, width] of positive integers.");
        return new ImageShape(c, h, w);
    }
}
