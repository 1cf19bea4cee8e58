using System;

namespace Kiln.Kernels;

/// <summary>Inverted-dropout masks.</summary>
public static partial class Dropout
{
    /// <summary>mask[i] = (u_i &lt; keep) ? scale : 0 with u_i uniform [0,1) drawn in order from rng (identical on every ISA path).</summary>
    /// <remarks>
    /// One <see cref="KilnRandom.NextFloat"/> per element, in index order, so a seed gives the same mask
    /// everywhere. The generator state is copied to a local for the loop (registers instead of memory
    /// through the ref) and written back at the end.
    /// </remarks>
    public static void FillMask(Span<float> mask, float keep, float scale, ref KilnRandom rng)
    {
        if (!(keep >= 0f && keep <= 1f)) throw new ArgumentOutOfRangeException(nameof(keep), keep, "The keep probability must be in [0, 1].");
        KilnRandom r = rng;
        for (int i = 0; i < mask.Length; i++) mask[i] = r.NextFloat() < keep ? scale : 0f;
        rng = r;
    }
}
