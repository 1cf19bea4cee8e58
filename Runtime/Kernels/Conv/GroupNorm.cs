using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// Group normalisation over NHWC samples: per sample s and group g (channels [g·C/G, (g+1)·C/G) over
/// all pixels), y = γ[c]·(x − μ)·invStd + β[c] with the biased variance. LayerNorm is groups = 1,
/// InstanceNorm is groups = channels, LayerNorm after a dense layer is pixels = 1.
/// </summary>
/// <remarks>
/// A group's channels are strided across pixels, so instead of reducing a group at a time every pass
/// walks the sample pixel by pixel over its whole contiguous channel run, collecting per-channel
/// partial sums that are then folded into their groups (a few scalars per channel). That keeps every
/// pass vectorised whatever the group size, InstanceNorm's one channel included. The variance is
/// two-pass (Σ(x − μ)²), accurate when |μ| ≫ σ.
/// </remarks>
public static class GroupNorm
{
    /// <summary>Normalises samples [s0, s1); mean/invStd[sample·groups + g] are written for the backward.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TIsa>(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> mean, Span<float> invStd, int pixels, int channels, int groups, float epsilon, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        Validate(pixels, channels, groups, s0, s1);
        if (!(epsilon >= 0f)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "GroupNorm's epsilon must not be negative.");
        long size = (long)s1 * pixels * channels;
        Checks.Length(x.Length, size, nameof(x));
        Checks.Length(gamma.Length, channels, nameof(gamma));
        Checks.Length(beta.Length, channels, nameof(beta));
        Checks.Length(y.Length, size, nameof(y));
        Checks.Length(mean.Length, (long)s1 * groups, nameof(mean));
        Checks.Length(invStd.Length, (long)s1 * groups, nameof(invStd));

        float[]? rented = null;
        Span<float> scratch = channels <= StackChannels ? stackalloc float[3 * StackChannels] : (rented = ArrayPool<float>.Shared.Rent(3 * channels));
        Span<float> sum = scratch.Slice(0, channels), mu = scratch.Slice(channels, channels), scale = scratch.Slice(2 * channels, channels);
        int per = channels / groups;
        float invCount = 1f / ((float)pixels * per);
        scoped var a = new Args { Pixels = pixels, Channels = channels };
        a.Mu = ref MemoryMarshal.GetReference(mu);
        a.Scale = ref MemoryMarshal.GetReference(scale);
        a.Shift = ref MemoryMarshal.GetReference(beta);
        for (int s = s0; s < s1; s++)
        {
            nint o = (nint)s * pixels * channels;
            a.X = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), o);
            a.Out = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), o);

            a.Sum = ref MemoryMarshal.GetReference(sum);
            Columns<TIsa, ColumnSum>(ref a);
            for (int g = 0; g < groups; g++)
            {
                float m = GroupTotal(sum, g, per) * invCount;
                mean[s * groups + g] = m;
                mu.Slice(g * per, per).Fill(m);
            }
            Columns<TIsa, ColumnSquaredDeviation>(ref a);
            for (int g = 0; g < groups; g++)
            {
                float istd = 1f / MathF.Sqrt(GroupTotal(sum, g, per) * invCount + epsilon);
                invStd[s * groups + g] = istd;
                for (int c = g * per; c < (g + 1) * per; c++) scale[c] = gamma[c] * istd;
            }
            Columns<TIsa, NormalizeAffine>(ref a);
        }
        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary>
    /// dx for samples [s0, s1) (overwritten) with the statistics of <see cref="Forward{TIsa}"/>;
    /// dgamma/dbeta are ACCUMULATED (+=), so each worker can own partial buffers that the caller sums.
    /// </summary>
    /// <remarks>
    /// With x̂ = (x − μ)·invStd and means over the group's M = pixels·C/G elements,
    /// dx = invStd·(γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<TIsa>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta,
        int pixels, int channels, int groups, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        Validate(pixels, channels, groups, s0, s1);
        long size = (long)s1 * pixels * channels;
        Checks.Length(x.Length, size, nameof(x));
        Checks.Length(dy.Length, size, nameof(dy));
        Checks.Length(gamma.Length, channels, nameof(gamma));
        Checks.Length(mean.Length, (long)s1 * groups, nameof(mean));
        Checks.Length(invStd.Length, (long)s1 * groups, nameof(invStd));
        Checks.Length(dx.Length, size, nameof(dx));
        Checks.Length(dgamma.Length, channels, nameof(dgamma));
        Checks.Length(dbeta.Length, channels, nameof(dbeta));

        float[]? rented = null;
        Span<float> scratch = channels <= StackChannels ? stackalloc float[5 * StackChannels] : (rented = ArrayPool<float>.Shared.Rent(5 * channels));
        Span<float> sumDy = scratch.Slice(0, channels), sumDyDev = scratch.Slice(channels, channels), mu = scratch.Slice(2 * channels, channels);
        Span<float> k1 = scratch.Slice(3 * channels, channels), k2k3 = scratch.Slice(4 * channels, channels);
        int per = channels / groups;
        float invCount = 1f / ((float)pixels * per);
        scoped var a = new Args { Pixels = pixels, Channels = channels };
        a.Mu = ref MemoryMarshal.GetReference(mu);
        a.Sum = ref MemoryMarshal.GetReference(sumDy);
        a.Sum2 = ref MemoryMarshal.GetReference(sumDyDev);
        a.Scale = ref MemoryMarshal.GetReference(k1);
        for (int s = s0; s < s1; s++)
        {
            nint o = (nint)s * pixels * channels;
            a.X = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), o);
            a.Dy = ref Unsafe.Add(ref MemoryMarshal.GetReference(dy), o);
            a.Out = ref Unsafe.Add(ref MemoryMarshal.GetReference(dx), o);
            for (int g = 0; g < groups; g++) mu.Slice(g * per, per).Fill(mean[s * groups + g]);
            Columns<TIsa, ColumnGradientSums>(ref a);

            // Per group: m1 = mean(γ·dy), m2 = mean(γ·dy·x̂); then dx = k1·dy + k2·(x − μ) + k3 per channel.
            Span<float> k2 = k2k3, k3 = sumDyDev;   // k3 reuses Σdy·(x − μ) once dγ has taken it
            for (int g = 0; g < groups; g++)
            {
                float istd = invStd[s * groups + g];
                float m1 = 0, m2 = 0;
                for (int c = g * per; c < (g + 1) * per; c++)
                {
                    float dgc = sumDyDev[c] * istd;   // Σ dy·x̂ over the sample's pixels
                    dgamma[c] += dgc;
                    dbeta[c] += sumDy[c];
                    m1 += gamma[c] * sumDy[c];
                    m2 += gamma[c] * dgc;
                }
                m1 *= invCount;
                m2 *= invCount;
                for (int c = g * per; c < (g + 1) * per; c++)
                {
                    k1[c] = istd * gamma[c];
                    k2[c] = -istd * istd * m2;
                    k3[c] = -istd * m1;
                }
            }
            a.Shift = ref MemoryMarshal.GetReference(k3);
            a.Sum = ref MemoryMarshal.GetReference(k2);
            Columns<TIsa, InputGradient>(ref a);
            a.Sum = ref MemoryMarshal.GetReference(sumDy);
        }
        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary>Channel counts up to this keep their per-channel scratch on the stack.</summary>
    private const int StackChannels = 512;

    private static void Validate(int pixels, int channels, int groups, int s0, int s1)
    {
        if (pixels < 1) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "GroupNorm needs at least one pixel per sample.");
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "GroupNorm needs at least one channel.");
        if (groups < 1 || channels % groups != 0)
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"GroupNorm's group count must divide the {channels} channels.");
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
    }

    private static float GroupTotal(Span<float> perChannel, int g, int per)
    {
        float t = 0;
        for (int c = g * per; c < (g + 1) * per; c++) t += perChannel[c];
        return t;
    }

    /// <summary>One sample's buffers (pixels×channels) and per-channel vectors, for the column passes.</summary>
    private ref struct Args
    {
        public ref float X, Dy, Out, Sum, Sum2, Mu, Scale, Shift;
        public int Pixels, Channels;
    }

    /// <summary>A pass over the pixels for the channel chunk [c, c + width), written once over every vector width.</summary>
    private interface IColumnPass
    {
        static abstract void Chunk<TO, TV>(ref Args a, int c) where TO : struct, IVectorOps<TV> where TV : struct;
    }

    /// <summary>Runs <typeparamref name="TPass"/> over all channels: the path's full vectors, then 128-bit lanes, then scalars.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<TIsa, TPass>(ref Args a) where TIsa : struct, ISimdPath where TPass : struct, IColumnPass
    {
        int c = 0;
        if (VectorPath.Lanes<TIsa>() == 16) c = Chunks<TPass, Ops512, Vector512<float>>(ref a, c);
        else if (VectorPath.Lanes<TIsa>() == 8) c = Chunks<TPass, Ops256, Vector256<float>>(ref a, c);
        c = Chunks<TPass, Ops128, Vector128<float>>(ref a, c);
        Chunks<TPass, OpsScalar, float>(ref a, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Chunks<TPass, TO, TV>(ref Args a, int c) where TPass : struct, IColumnPass where TO : struct, IVectorOps<TV> where TV : struct
    {
        for (; c + TO.Count <= a.Channels; c += TO.Count) TPass.Chunk<TO, TV>(ref a, c);
        return c;
    }

    /// <summary>Sum[c] = Σ_p X[p, c].</summary>
    private readonly struct ColumnSum : IColumnPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Chunk<TO, TV>(ref Args a, int c) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV acc = TO.Zero;
            nint stride = a.Channels;
            for (int p = 0; p < a.Pixels; p++) acc = TO.Add(acc, TO.Load(ref a.X, p * stride + c));
            TO.Store(acc, ref a.Sum, c);
        }
    }

    /// <summary>Sum[c] = Σ_p (X[p, c] − Mu[c])².</summary>
    private readonly struct ColumnSquaredDeviation : IColumnPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Chunk<TO, TV>(ref Args a, int c) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV acc = TO.Zero, mu = TO.Load(ref a.Mu, c);
            nint stride = a.Channels;
            for (int p = 0; p < a.Pixels; p++)
            {
                TV d = TO.Sub(TO.Load(ref a.X, p * stride + c), mu);
                acc = TO.Fma(d, d, acc);
            }
            TO.Store(acc, ref a.Sum, c);
        }
    }

    /// <summary>Out[p, c] = (X[p, c] − Mu[c])·Scale[c] + Shift[c].</summary>
    private readonly struct NormalizeAffine : IColumnPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Chunk<TO, TV>(ref Args a, int c) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV mu = TO.Load(ref a.Mu, c), scale = TO.Load(ref a.Scale, c), shift = TO.Load(ref a.Shift, c);
            nint stride = a.Channels;
            for (int p = 0; p < a.Pixels; p++)
            {
                nint i = p * stride + c;
                TO.Store(TO.Fma(TO.Sub(TO.Load(ref a.X, i), mu), scale, shift), ref a.Out, i);
            }
        }
    }

    /// <summary>Sum[c] = Σ_p Dy[p, c], Sum2[c] = Σ_p Dy[p, c]·(X[p, c] − Mu[c]).</summary>
    private readonly struct ColumnGradientSums : IColumnPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Chunk<TO, TV>(ref Args a, int c) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV sumDy = TO.Zero, sumDyDev = TO.Zero, mu = TO.Load(ref a.Mu, c);
            nint stride = a.Channels;
            for (int p = 0; p < a.Pixels; p++)
            {
                nint i = p * stride + c;
                TV dy = TO.Load(ref a.Dy, i);
                sumDy = TO.Add(sumDy, dy);
                sumDyDev = TO.Fma(dy, TO.Sub(TO.Load(ref a.X, i), mu), sumDyDev);
            }
            TO.Store(sumDy, ref a.Sum, c);
            TO.Store(sumDyDev, ref a.Sum2, c);
        }
    }

    /// <summary>Out[p, c] = Scale[c]·Dy[p, c] + Sum[c]·(X[p, c] − Mu[c]) + Shift[c] (k1, k2, k3 of the backward).</summary>
    private readonly struct InputGradient : IColumnPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Chunk<TO, TV>(ref Args a, int c) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV k1 = TO.Load(ref a.Scale, c), k2 = TO.Load(ref a.Sum, c), k3 = TO.Load(ref a.Shift, c), mu = TO.Load(ref a.Mu, c);
            nint stride = a.Channels;
            for (int p = 0; p < a.Pixels; p++)
            {
                nint i = p * stride + c;
                TV dev = TO.Sub(TO.Load(ref a.X, i), mu);
                TO.Store(TO.Fma(k1, TO.Load(ref a.Dy, i), TO.Fma(k2, dev, k3)), ref a.Out, i);
            }
        }
    }
}
