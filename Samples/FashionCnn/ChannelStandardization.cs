using System;
using Kiln.Data;

namespace Kiln.Samples.FashionCnn;

/// <summary>
/// Per-channel standardisation for images (CATALOGUE §2, the ResNet recipe): one mean and one standard
/// deviation per channel over every pixel of the training split. A convolution applies the same weights at
/// every position, so each position must keep its relation to the others; per-pixel standardisation
/// would blow up the near-constant border pixels instead.
/// </summary>
internal static class ChannelStandardization
{
    /// <summary>A <see cref="Standardizer"/> whose per-feature statistics repeat the channel's, fitted on <paramref name="train"/> (NCHW rows).</summary>
    public static Standardizer Fit(Dataset train, int channels)
    {
        int features = train.FeatureCount;
        if (channels < 1 || features % channels != 0)
            throw new ArgumentException($"{features} features per sample do not split into {channels} channels.", nameof(channels));
        int pixels = features / channels;
        var mean = new float[features];
        var std = new float[features];
        ReadOnlySpan<float> x = train.Features;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, sumSquares = 0;
            for (int s = 0; s < train.Count; s++)
            {
                ReadOnlySpan<float> plane = x.Slice(s * features + c * pixels, pixels);
                foreach (float v in plane)
                {
                    sum += v;
                    sumSquares += (double)v * v;
                }
            }
            double n = (double)train.Count * pixels;
            double m = sum / n;
            double sd = Math.Sqrt(Math.Max(sumSquares / n - m * m, 0));
            mean.AsSpan(c * pixels, pixels).Fill((float)m);
            std.AsSpan(c * pixels, pixels).Fill((float)Math.Max(sd, 1e-6));
        }
        return new Standardizer { Mean = mean, Std = std };
    }
}
