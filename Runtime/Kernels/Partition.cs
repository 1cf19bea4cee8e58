using System;

namespace Kiln.Kernels;

/// <summary>Splits index ranges between the threads of a parallel stage.</summary>
public static class Partition
{
    /// <summary>Splits [0, total) into <paramref name="parts"/> near-equal ranges whose starts are multiples of <paramref name="align"/>.</summary>
    /// <remarks>
    /// The range is cut into ⌈total/align⌉ blocks of <paramref name="align"/> (the last may be short) and
    /// part p gets blocks [p·B/parts, (p+1)·B/parts): consecutive, disjoint, covering [0, total), sizes
    /// differing by at most one block. Parts beyond the block count get an empty range.
    /// </remarks>
    public static (int Start, int End) Range(int total, int part, int parts, int align)
    {
        Checks.NonNegative(total, nameof(total));
        if (parts < 1) throw new ArgumentOutOfRangeException(nameof(parts), parts, "There must be at least one part.");
        if ((uint)part >= (uint)parts) throw new ArgumentOutOfRangeException(nameof(part), part, $"The part must be in [0, {parts}).");
        if (align < 1) throw new ArgumentOutOfRangeException(nameof(align), align, "The alignment must be at least 1.");
        long blocks = ((long)total + align - 1) / align;
        long b0 = blocks * part / parts, b1 = blocks * (part + 1) / parts;
        return ((int)Math.Min(total, b0 * align), (int)Math.Min(total, b1 * align));
    }
}
