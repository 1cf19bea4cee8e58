using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels;

/// <summary>
/// Maxout: z is rows × (units·pieces) with the pieces of unit u contiguous, z[r, u·pieces + j];
/// y[r, u] = max_j z[r, u·pieces + j] (ties: the first piece).
/// </summary>
/// <remarks>
/// The pieces of a unit sit next to each other, so one unit's reduction is a few adjacent scalars and
/// consecutive units are `pieces` apart: there is no contiguous lane run to vectorise without a
/// de-interleaving shuffle per piece count, and the layer is memory-bound, so the loop is scalar.
/// </remarks>
public static class Maxout
{
    /// <summary>y = max over each unit's pieces; argmax[r·units + u] = the winning piece (empty at inference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TIsa>(ReadOnlySpan<float> z, Span<float> y, Span<byte> argmax, int rows, int units, int pieces)
        where TIsa : struct, ISimdPath
    {
        Validate(rows, units, pieces);
        long outputs = (long)rows * units;
        Checks.Length(z.Length, outputs * pieces, nameof(z));
        Checks.Length(y.Length, outputs, nameof(y));
        Checks.Optional(argmax.Length, outputs, nameof(argmax));
        ref float pz = ref MemoryMarshal.GetReference(z);
        ref float py = ref MemoryMarshal.GetReference(y);
        ref byte pa = ref MemoryMarshal.GetReference(argmax);
        bool withArg = !argmax.IsEmpty;
        for (nint o = 0; o < outputs; o++)
        {
            ref float zp = ref Unsafe.Add(ref pz, o * pieces);
            float best = zp;
            int at = 0;
            for (int j = 1; j < pieces; j++)
            {
                float v = Unsafe.Add(ref zp, j);
                if (v > best) { best = v; at = j; }
            }
            Unsafe.Add(ref py, o) = best;
            if (withArg) Unsafe.Add(ref pa, o) = (byte)at;
        }
    }

    /// <summary>dz (overwritten) = dy at each unit's winning piece, 0 at the others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<TIsa>(ReadOnlySpan<float> dy, ReadOnlySpan<byte> argmax, Span<float> dz, int rows, int units, int pieces)
        where TIsa : struct, ISimdPath
    {
        Validate(rows, units, pieces);
        long outputs = (long)rows * units;
        Checks.Length(dy.Length, outputs, nameof(dy));
        Checks.Length(argmax.Length, outputs, nameof(argmax));
        Checks.Length(dz.Length, outputs * pieces, nameof(dz));
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref byte pa = ref MemoryMarshal.GetReference(argmax);
        ref float pdz = ref MemoryMarshal.GetReference(dz);
        for (nint o = 0; o < outputs; o++)
        {
            int at = Unsafe.Add(ref pa, o);
            if (at >= pieces)
                throw new ArgumentException($"argmax[{o}] = {at} is not a piece index (pieces = {pieces}); was it written by the matching forward?", nameof(argmax));
            ref float dzp = ref Unsafe.Add(ref pdz, o * pieces);
            for (int j = 0; j < pieces; j++) Unsafe.Add(ref dzp, j) = 0f;
            Unsafe.Add(ref dzp, at) = Unsafe.Add(ref pdy, o);
        }
    }

    private static void Validate(int rows, int units, int pieces)
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(units, nameof(units));
        if (pieces < 1 || pieces > byte.MaxValue + 1)
            throw new ArgumentOutOfRangeException(nameof(pieces), pieces, "Maxout needs between 1 and 256 pieces per unit (the argmax is a byte).");
    }
}
