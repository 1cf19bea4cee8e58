using System;

namespace Kiln.Benchmarks;

/// <summary>
/// A float buffer on the pinned object heap whose first element is 64-byte aligned (plus an
/// optional deliberate offset), so that benchmark inputs sit in memory as a PyTorch tensor's do
/// (its CPU allocator aligns to 64 bytes) and timings do not depend on where the GC happened to
/// put an ordinary array. Batch slices keep the alignment: a batch of 784 floats per sample is a
/// multiple of 64 bytes.
/// </summary>
internal sealed unsafe class AlignedFloats
{
    private const int Alignment = 64;
    private readonly float[] _array;
    private readonly int _offset;

    public AlignedFloats(int length, int misalignFloats = 0)
    {
        if (length < 0 || misalignFloats < 0 || misalignFloats >= Alignment / sizeof(float))
            throw new ArgumentOutOfRangeException(nameof(misalignFloats), "misalignment must be 0..15 floats");
        Length = length;
        _array = GC.AllocateArray<float>(length + Alignment / sizeof(float) + misalignFloats, pinned: true);
        fixed (float* p = _array)
        {
            int skip = (int)((Alignment - (nuint)p % Alignment) % Alignment) / sizeof(float);
            _offset = skip + misalignFloats;
        }
    }

    public int Length { get; }

    /// <summary>Address of the first element modulo 64 (0 unless misaligned on purpose).</summary>
    public int AddressMod64
    {
        get { fixed (float* p = &_array[_offset]) return (int)((nuint)p % Alignment); }
    }

    public Span<float> Span => _array.AsSpan(_offset, Length);

    public Span<float> Slice(int start, int length)
    {
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
            throw new ArgumentOutOfRangeException(nameof(start));
        return _array.AsSpan(_offset + start, length);
    }
}
