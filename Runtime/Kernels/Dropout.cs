using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels;

/// <summary>Inverted-dropout masks.</summary>
public static partial class Dropout
{
    /// <summary>mask[i] = (u_i &lt; keep) ? scale : 0 with u_i uniform [0,1) drawn in order from rng (identical on every ISA path).</summary>
    /// <remarks>
    /// One <see cref="KilnRandom.NextFloat"/>-equivalent draw per element, in index order, so a seed gives
    /// the same mask everywhere. NextFloat is b·2⁻²⁴ with b the top 24 bits of a draw, so u &lt; keep is
    /// exactly b &lt; ⌈keep·2²⁴⌉: an integer compare turned into a bit mask, with no float conversion and
    /// no data-dependent branch (a mispredicted branch per element would cost more than the generator).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FillMask(Span<float> mask, float keep, float scale, ref KilnRandom rng)
    {
        if (!(keep >= 0f && keep <= 1f)) throw new ArgumentOutOfRangeException(nameof(keep), keep, "The keep probability must be in [0, 1].");
        ulong threshold = (ulong)Math.Ceiling(keep * (double)(1 << 24));
        int scaleBits = BitConverter.SingleToInt32Bits(scale);
        // The generator state in a local (registers) rather than behind the ref, written back at the end.
        KilnRandom r = rng;
        ref float m = ref MemoryMarshal.GetReference(mask);
        for (int i = 0; i < mask.Length; i++)
        {
            ulong b = r.NextUInt64() >> 40;
            int keepBits = (int)((long)(b - threshold) >> 63); // all ones when b < threshold
            Unsafe.Add(ref m, i) = BitConverter.Int32BitsToSingle(scaleBits & keepBits);
        }
        rng = r;
    }
}
