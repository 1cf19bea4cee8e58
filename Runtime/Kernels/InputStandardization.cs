using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// The model-owned input normalisation of <c>[Model(Normalize = …)]</c> (docs/techniques.md#preprocessing): statistics fitted on training
/// inputs, applied while a batch is copied into the model, saved with the model as tensors. Samples are sample-major;
/// per-channel statistics read each sample as channels-first (C planes of H·W values), the layout of <c>InputShape</c>.
/// </summary>
public static class InputStandardization
{
    /// <summary>
    /// Fits mean and standard deviation (population, in double) of each of <paramref name="channels"/> groups over
    /// <paramref name="count"/> samples of <paramref name="features"/> floats; channels = features gives per-feature statistics.
    /// A (near-)constant group gets std 1 (<see cref="SafeStd"/>): it is only centred, never blown up.
    /// </summary>
    public static void Fit(ReadOnlySpan<float> inputs, int count, int features, int channels, Span<float> mean, Span<float> std)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "Fitting the input normalisation needs at least one sample.");
        Checks.Length(mean.Length, channels, nameof(mean));
        Checks.Length(std.Length, channels, nameof(std));
        var mu = new double[channels];
        var variance = new double[channels];
        Moments(inputs, count, features, channels, mu, variance);
        for (int c = 0; c < channels; c++)
        {
            if (!double.IsFinite(mu[c]) || !double.IsFinite(variance[c]))
                throw new ArgumentException($"The inputs contain NaN or ±∞ (statistic {c} is not finite).", nameof(inputs));
            mean[c] = (float)mu[c];
            std[c] = SafeStd(mu[c], variance[c]);
        }
    }

    /// <summary>
    /// Mean and population variance, in double, of each of <paramref name="groups"/> channels-first groups (group g is
    /// features [g·P, (g+1)·P) of every sample, P = features / groups) over <paramref name="count"/> samples. Two passes
    /// (mean, then squared deviations) avoid the cancellation of E[x²] − μ². Every fitted standardisation uses it: the
    /// model's own (<see cref="Fit"/>) and Kiln.Preprocessing's per-feature and per-channel ones.
    /// </summary>
    internal static void Moments(ReadOnlySpan<float> samples, int count, int features, int groups, Span<double> mean, Span<double> variance)
    {
        if (groups <= 0 || features % groups != 0)
            throw new ArgumentException($"{groups} groups do not divide {features} features.", nameof(groups));
        Checks.Length(samples.Length, (long)count * features, nameof(samples));
        int pixels = features / groups;
        mean.Clear();
        variance.Clear();
        for (int s = 0; s < count; s++)
        {
            ReadOnlySpan<float> row = samples.Slice(s * features, features);
            if (pixels == 1) for (int f = 0; f < features; f++) mean[f] += row[f];
            else for (int g = 0; g < groups; g++) mean[g] += Sum(row.Slice(g * pixels, pixels));
        }
        double n = (double)count * pixels;
        for (int g = 0; g < groups; g++) mean[g] /= n;
        for (int s = 0; s < count; s++)
        {
            ReadOnlySpan<float> row = samples.Slice(s * features, features);
            if (pixels == 1)
                for (int f = 0; f < features; f++)
                {
                    double d = row[f] - mean[f];
                    variance[f] += d * d;
                }
            else for (int g = 0; g < groups; g++) variance[g] += SquaredDeviations(row.Slice(g * pixels, pixels), mean[g]);
        }
        for (int g = 0; g < groups; g++) variance[g] /= n;

        static double Sum(ReadOnlySpan<float> plane)
        {
            double total = 0;
            foreach (float v in plane) total += v;
            return total;
        }
        static double SquaredDeviations(ReadOnlySpan<float> plane, double centre)
        {
            double total = 0;
            foreach (float v in plane) total += (v - centre) * (v - centre);
            return total;
        }
    }

    /// <summary>Standard deviation with a floor: below 10⁻⁶·max(1, |mean|) (float rounding noise) a group counts as constant and gets 1.</summary>
    internal static float SafeStd(double mean, double variance)
    {
        double s = Math.Sqrt(variance);
        return s < 1e-6 * Math.Max(1, Math.Abs(mean)) ? 1f : (float)s;
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
        var run = new VectorsRun { U = ref pu, Y = ref py, Mean = ref pm, Std = ref ps, N = n };
        i = VectorPath.Run<TIsa, VectorsRun>(ref run);
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
        var run = new PlanesRun { U = ref pu, Y = ref py, Mean = mean, Std = std, N = n };
        i = VectorPath.Run<TIsa, PlanesRun>(ref run);
        for (; i < n; i++) Unsafe.Add(ref py, i) = (Unsafe.Add(ref pu, i) - mean) / std;
    }

    private static int Planes<TO, TV>(ref float u, ref float y, float mean, float std, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV m = TO.Splat(mean), s = TO.Splat(std);
        for (; i + w <= n; i += w) TO.Store(TO.Div(TO.Sub(TO.Load(ref u, i), m), s), ref y, i);
        return i;
    }

    /// <summary>Vectors's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct VectorsRun : IVectorKernel
    {
        public ref float U;
        public ref float Y;
        public ref float Mean;
        public ref float Std;
        public int N;

        int IVectorKernel.Run<TO, TV>() => Vectors<TO, TV>(ref U, ref Y, ref Mean, ref Std, N);
    }

    /// <summary>Planes's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct PlanesRun : IVectorKernel
    {
        public ref float U;
        public ref float Y;
        public float Mean;
        public float Std;
        public int N;

        int IVectorKernel.Run<TO, TV>() => Planes<TO, TV>(ref U, ref Y, Mean, Std, N);
    }
}
