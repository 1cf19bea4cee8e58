using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels;

/// <summary>Inverted-dropout masks.</summary>
/// <remarks>
/// Training steps draw their masks with <see cref="Draw{TIsa}"/> / <see cref="DrawColumns{TIsa}"/>: a counter-based
/// generator in which element i of a mask is a pure function of (key, i), the key being one draw of the model's noise
/// stream per mask per step. The stage that applies a mask draws the part it owns, on whichever thread runs it, so the
/// masks are the same for any thread count, any split and every ISA path (integer arithmetic only), and a seed (or a
/// checkpoint of the noise stream) reproduces them (docs/perf/mlp-training-step.md has the costs).
/// </remarks>
public static partial class Dropout
{
    /// <summary>mask[i] = (u_i &lt; keep) ? scale : 0 with u_i uniform [0,1) drawn in order from rng (identical on every ISA path).</summary>
    /// <remarks>
    /// One <see cref="KilnRandom.NextFloat"/>-equivalent draw per element, in index order, so a seed gives
    /// the same mask everywhere. NextFloat is b·2⁻²⁴ with b the top 24 bits of a draw, so u &lt; keep is
    /// exactly b &lt; ⌈keep·2²⁴⌉: an integer compare turned into a bit mask, with no float conversion and
    /// no data-dependent branch (a mispredicted branch per element would cost more than the generator).
    /// Serial by construction; generated models use the counter-based <see cref="Draw{TIsa}"/> instead.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FillMask(Span<float> mask, float keep, float scale, ref KilnRandom rng)
    {
        ulong threshold = (ulong)KeepThreshold(keep);
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

    /// <summary>
    /// The 24-bit uniform number (in [0, 2²⁴)) of element <paramref name="index"/> of the mask keyed by <paramref name="key"/>:
    /// two rounds of a 32-bit integer mixer (xor-shift, odd multiply), the first keyed by the key's low word, the second
    /// by its high word. The vector paths of <see cref="Draw{TIsa}"/> compute exactly this, lane by lane.
    /// </summary>
    public static uint Uniform24(int index, ulong key)
    {
        uint x = Mix((uint)index * IndexStride + (uint)key);
        return Mix(x ^ (uint)(key >> 32)) >> 8;
    }

    /// <summary>Element <paramref name="index"/> of the mask keyed by <paramref name="key"/>: scale when <see cref="Uniform24"/> &lt; ⌈keep·2²⁴⌉, else 0.</summary>
    public static float MaskValue(int index, float keep, float scale, ulong key) =>
        Uniform24(index, key) < (uint)KeepThreshold(keep) ? scale : 0f;

    /// <summary>
    /// mask[j] = <see cref="MaskValue"/>(<paramref name="first"/> + j, keep, scale, key) for every j: the part of a
    /// mask that starts at element <paramref name="first"/> (a thread's rows, or a weight range).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">keep is outside [0, 1], or first is negative or the part ends past element 2³¹ − 1.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Draw<TIsa>(Span<float> mask, int first, float keep, float scale, ulong key)
        where TIsa : struct, ISimdPath
    {
        int threshold = KeepThreshold(keep);
        if (first < 0 || (long)first + mask.Length > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(first), first, $"A mask part of {mask.Length} elements must start at an element index in [0, 2³¹ − {mask.Length}].");
        DrawCore<TIsa>(ref MemoryMarshal.GetReference(mask), mask.Length, first, threshold, scale, key);
    }

    /// <summary>
    /// Columns [<paramref name="c0"/>, <paramref name="c1"/>) of every row of a rows × <paramref name="width"/> mask
    /// (the block a column-split BatchNorm stage owns); element (r, c) is <see cref="MaskValue"/>(r·width + c, …), so
    /// the mask equals the one <see cref="Draw{TIsa}"/> gives for the whole tensor.
    /// </summary>
    /// <exception cref="ArgumentException">The mask is not whole rows of width, or the column range is outside [0, width].</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DrawColumns<TIsa>(Span<float> mask, int width, int c0, int c1, float keep, float scale, ulong key)
        where TIsa : struct, ISimdPath
    {
        int threshold = KeepThreshold(keep);
        if (width <= 0 || mask.Length % width != 0)
            throw new ArgumentException($"The mask has {mask.Length} elements, not whole rows of width {width}.", nameof(mask));
        Checks.Range(c0, c1, width, nameof(c0), nameof(c1));
        ref float m = ref MemoryMarshal.GetReference(mask);
        for (int row = 0; row < mask.Length; row += width)
            DrawCore<TIsa>(ref Unsafe.Add(ref m, row + c0), c1 - c0, row + c0, threshold, scale, key);
    }

    private const uint IndexStride = 0x9E3779B9u; // odd (a bijection of the index), the golden-ratio increment
    private const uint Multiplier1 = 0x21F0AAADu, Multiplier2 = 0x735A2D97u;

    // 32-bit xor-shift-multiply mixer: every step is a bijection, so distinct inputs give distinct outputs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Mix(uint x)
    {
        x ^= x >> 16; x *= Multiplier1;
        x ^= x >> 15; x *= Multiplier2;
        return x ^ (x >> 15);
    }

    /// <summary>⌈keep·2²⁴⌉ (2²⁴ keeps everything); <see cref="Uniform24"/> &lt; it has probability keep up to 2⁻²⁴.</summary>
    private static int KeepThreshold(float keep)
    {
        if (!(keep >= 0f && keep <= 1f)) throw new ArgumentOutOfRangeException(nameof(keep), keep, "The keep probability must be in [0, 1].");
        return (int)Math.Ceiling(keep * (double)(1 << 24));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DrawCore<TIsa>(ref float m, int n, int first, int threshold, float scale, ulong key)
        where TIsa : struct, ISimdPath
    {
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        int i = 0;
        if (typeof(TIsa) == typeof(Avx512Path) && Avx512F.IsSupported)
        {
            Vector512<uint> index = (Vector512<uint>.Indices + Vector512.Create((uint)first)) * IndexStride + Vector512.Create(k0);
            Vector512<uint> step = Vector512.Create((uint)Vector512<uint>.Count * IndexStride);
            Vector512<int> limit = Vector512.Create(threshold), bits = Vector512.Create(BitConverter.SingleToInt32Bits(scale));
            for (; i + Vector512<uint>.Count <= n; i += Vector512<uint>.Count, index += step)
            {
                Vector512<uint> x = Mix512(Mix512(index) ^ Vector512.Create(k1));
                Vector512<int> kept = Vector512.LessThan(Vector512.ShiftRightLogical(x, 8).AsInt32(), limit);
                (kept & bits).AsSingle().StoreUnsafe(ref m, (nuint)i);
            }
        }
        else if (typeof(TIsa) == typeof(Avx2Path) && Avx2.IsSupported)
        {
            Vector256<uint> index = (Vector256<uint>.Indices + Vector256.Create((uint)first)) * IndexStride + Vector256.Create(k0);
            Vector256<uint> step = Vector256.Create((uint)Vector256<uint>.Count * IndexStride);
            Vector256<int> limit = Vector256.Create(threshold), bits = Vector256.Create(BitConverter.SingleToInt32Bits(scale));
            for (; i + Vector256<uint>.Count <= n; i += Vector256<uint>.Count, index += step)
            {
                Vector256<uint> x = Mix256(Mix256(index) ^ Vector256.Create(k1));
                Vector256<int> kept = Vector256.LessThan(Vector256.ShiftRightLogical(x, 8).AsInt32(), limit);
                (kept & bits).AsSingle().StoreUnsafe(ref m, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<uint> index = (Vector128<uint>.Indices + Vector128.Create((uint)first)) * IndexStride + Vector128.Create(k0);
            Vector128<uint> step = Vector128.Create((uint)Vector128<uint>.Count * IndexStride);
            Vector128<int> limit = Vector128.Create(threshold), bits = Vector128.Create(BitConverter.SingleToInt32Bits(scale));
            for (; i + Vector128<uint>.Count <= n; i += Vector128<uint>.Count, index += step)
            {
                Vector128<uint> x = Mix128(Mix128(index) ^ Vector128.Create(k1));
                Vector128<int> kept = Vector128.LessThan(Vector128.ShiftRightLogical(x, 8).AsInt32(), limit);
                (kept & bits).AsSingle().StoreUnsafe(ref m, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref m, i) = Uniform24(first + i, key) < (uint)threshold ? scale : 0f;
    }

    // Mix, lane-wise, at each width (the same steps as the scalar Mix).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Mix512(Vector512<uint> x)
    {
        x = (x ^ Vector512.ShiftRightLogical(x, 16)) * Multiplier1;
        x = (x ^ Vector512.ShiftRightLogical(x, 15)) * Multiplier2;
        return x ^ Vector512.ShiftRightLogical(x, 15);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Mix256(Vector256<uint> x)
    {
        x = (x ^ Vector256.ShiftRightLogical(x, 16)) * Multiplier1;
        x = (x ^ Vector256.ShiftRightLogical(x, 15)) * Multiplier2;
        return x ^ Vector256.ShiftRightLogical(x, 15);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Mix128(Vector128<uint> x)
    {
        x = (x ^ Vector128.ShiftRightLogical(x, 16)) * Multiplier1;
        x = (x ^ Vector128.ShiftRightLogical(x, 15)) * Multiplier2;
        return x ^ Vector128.ShiftRightLogical(x, 15);
    }
}
