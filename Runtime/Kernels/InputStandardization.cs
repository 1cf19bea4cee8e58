using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// The model-owned input normalisation of <c>[Model(Normalize = …)]</c> (CATALOGUE §2): statistics fitted on training
/// inputs, applied while a batch is copied into the model, saved with the model as tensors. Samples are sample-major;
/// per-channel statistics read each sample as channels-first (C planes of H·W values), the layout of <c>InputShape</c>.
/// </summary>
public static class InputStandardization
{
    /// <summary>A standard deviation below this is treated as 1: a (near-)constant input is only centred, never blown up.</summary>
    public const float MinStd = 1e-6f;

    /// <summary>
    /// Fits mean and standard deviation (population, in double) of each of <paramref name="channels"/> groups over
    /// <paramref name="count"/> samples of <paramref name="features"/> floats; channels = features gives per-feature statistics.
    /// </summary>
    public static void Fit(ReadOnlySpan<float> inputs, int count, int features, int channels, Span<float> mean, Span<float> std)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Fitting the input normalisation needs at least one sample.");
        if (channels <= 0 || features % channels != 0)
            throw new ArgumentException($"{channels} channels do not divide {features} features.", nameof(channels));
        Checks.Length(inputs.Length, count * features, nameof(inputs));
        Checks.Length(mean.Length, channels, nameof(mean));
        Checks.Length(std.Length, channels, nameof(std));
        int pixels = features / channels;
        var sum = new double[channels];
        var squares = new double[channels];
        // Two passes (mean, then squared deviations): the one-pass Σx² − n·μ² loses digits on unnormalised pixel values.
        for (int s = 0; s < count; s++)
        {
            ReadOnlySpan<float> row = inputs.Slice(s * features, features);
            for (int f = 0; f < features; f++) sum[f / pixels] += row[f];
        }
        double n = (double)count * pixels;
        for (int c = 0; c < channels; c++) sum[c] /= n;
        for (int s = 0; s < count; s++)
        {
            ReadOnlySpan<float> row = inputs.Slice(s * features, features);
            for (int f = 0; f < features; f++)
            {
                double d = row[f] - sum[f / pixels];
                squares[f / pixels] += d * d;
            }
        }
        for (int c = 0; c < channels; c++)
        {
            double sd = Math.Sqrt(squares[c] / n);
            if (!double.IsFinite(sum[c]) || !double.IsFinite(sd))
                throw new ArgumentException($"The inputs contain NaN or ±∞ (statistic {c} is not finite).", nameof(inputs));
            mean[c] = (float)sum[c];
            std[c] = sd < MinStd ? 1f : (float)sd;
        }
    }

    /// <summary>x = (inputs − mean[c]) / std[c] for <paramref name="batch"/> samples (channels = features: per feature).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply<TIsa>(ReadOnlySpan<float> inputs, Span<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, int batch, int features, int channels)
        where TIsa : struct, ISimdPath
    {
        if (channels <= 0 || features % channels != 0)
            throw new ArgumentException($"{channels} channels do not divide {features} features.", nameof(channels));
        Checks.Length(inputs.Length, batch * features, nameof(inputs));
        if (x.Length < batch * features) throw new ArgumentException($"x holds {x.Length} floats; expected at least {batch * features}.", nameof(x));
        Checks.Length(mean.Length, channels, nameof(mean));
        Checks.Length(std.Length, channels, nameof(std));
        int pixels = features / channels;
        for (int s = 0; s < batch; s++)
        {
            if (channels == features)
                Run<TIsa>(inputs.Slice(s * features, features), x.Slice(s * features, features), mean, std);
            else
                for (int c = 0; c < channels; c++)
                {
                    int start = s * features + c * pixels;
                    Run<TIsa>(inputs.Slice(start, pixels), x.Slice(start, pixels), mean[c], std[c]);
                }
        }
    }

    // Per feature: element-wise against the statistics vectors.
    private static void Run<TIsa>(ReadOnlySpan<float> u, Span<float> y, ReadOnlySpan<float> mean, ReadOnlySpan<float> std) where TIsa : struct, ISimdPath
    {
        ref float pu = ref MemoryMarshal.GetReference(u);
        ref float py = ref MemoryMarshal.GetReference(y);
        ref float pm = ref MemoryMarshal.GetReference(mean);
        ref float ps = ref MemoryMarshal.GetReference(std);
        int n = u.Length, i;
        if (VectorPath.Is512<TIsa>()) i = Vectors<Ops512, Vector512<float>>(ref pu, ref py, ref pm, ref ps, n);
        else if (VectorPath.Is256<TIsa>()) i = Vectors<Ops256, Vector256<float>>(ref pu, ref py, ref pm, ref ps, n);
        else i = Vectors<Ops128, Vector128<float>>(ref pu, ref py, ref pm, ref ps, n);
        for (; i < n; i++) Unsafe.Add(ref py, i) = (Unsafe.Add(ref pu, i) - Unsafe.Add(ref pm, i)) / Unsafe.Add(ref ps, i);
    }

    private static int Vectors<TO, TV>(ref float u, ref float y, ref float mean, ref float std, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        for (; i + w <= n; i += w) TO.Store(TO.Div(TO.Sub(TO.Load(ref u, i), TO.Load(ref mean, i)), TO.Load(ref std, i)), ref y, i);
        return i;
    }

    // Per channel: one mean and one std for a whole plane.
    private static void Run<TIsa>(ReadOnlySpan<float> u, Span<float> y, float mean, float std) where TIsa : struct, ISimdPath
    {
        ref float pu = ref MemoryMarshal.GetReference(u);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = u.Length, i;
        if (VectorPath.Is512<TIsa>()) i = Planes<Ops512, Vector512<float>>(ref pu, ref py, mean, std, n);
        else if (VectorPath.Is256<TIsa>()) i = Planes<Ops256, Vector256<float>>(ref pu, ref py, mean, std, n);
        else i = Planes<Ops128, Vector128<float>>(ref pu, ref py, mean, std, n);
        for (; i < n; i++) Unsafe.Add(ref py, i) = (Unsafe.Add(ref pu, i) - mean) / std;
    }

    private static int Planes<TO, TV>(ref float u, ref float y, float mean, float std, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV m = TO.Splat(mean), s = TO.Splat(std);
        for (; i + w <= n; i += w) TO.Store(TO.Div(TO.Sub(TO.Load(ref u, i), m), s), ref y, i);
        return i;
    }
}
