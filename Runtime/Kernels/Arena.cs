using System;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

/// <summary>A float buffer whose first element is 64-byte aligned (pinned array), zero-initialised.</summary>
/// <remarks>
/// The array lives on the pinned object heap, so its address never changes and the aligned start
/// offset computed once stays valid; aligned rows keep vector loads from splitting cache lines.
/// </remarks>
public sealed class Arena
{
    /// <summary>Alignment of the first element, in bytes.</summary>
    public const int Alignment = 64;

    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed floats, pinned, the first one aligned to <see cref="Alignment"/> bytes.</summary>
    public Arena(int length)
    {
        Checks.NonNegative(length, nameof(length));
        const int pad = Alignment / sizeof(float) - 1;
        _array = GC.AllocateArray<float>(checked(length + pad), pinned: true);
        _offset = AlignedOffset(_array);
        Length = length;
    }

    /// <summary>Number of floats.</summary>
    public int Length { get; }

    /// <summary>All the floats of the arena.</summary>
    public Span<float> Span => new(_array, _offset, Length);

    /// <summary>The <paramref name="length"/> floats starting at <paramref name="offset"/>.</summary>
    public Span<float> Slice(int offset, int length) => Span.Slice(offset, length);

    private static unsafe int AlignedOffset(float[] array)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref array[0]);
        // float arrays are 4-byte aligned, so the distance to the next 64-byte boundary is whole floats.
        return (int)(((Alignment - (address & (Alignment - 1))) & (Alignment - 1)) / sizeof(float));
    }
}
