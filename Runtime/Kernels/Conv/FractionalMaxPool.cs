using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels;

/// <summary>
/// Fractional max pooling (Graham 2014) over NHWC samples with pseudo-random disjoint regions:
/// α = inSize/outSize, starts[i] = ⌈α(i + u)⌉ − ⌈α·u⌉, starts[outSize] = inSize, so region i is
/// [starts[i], starts[i+1]) and, for 1 &lt; α ≤ 2, every region is 1 or 2 wide. The output pixel
/// (oy, ox) is the max over rows [rowStarts[oy], rowStarts[oy+1]) × cols [colStarts[ox], colStarts[ox+1]).
/// </summary>
public static class FractionalMaxPool
{
    /// <summary>Fills starts[0..outSize] (outSize + 1 entries) for one axis and offset u in [0, 1).</summary>
    public static void Regions(int inSize, int outSize, double u, Span<int> starts)
    {
        if (outSize < 1) throw new ArgumentOutOfRangeException(nameof(outSize), outSize, "Fractional max pooling needs at least one output per axis.");
        if (inSize < outSize || inSize > 2 * outSize)
            throw new ArgumentOutOfRangeException(nameof(inSize), inSize, $"Fractional max pooling needs outSize ≤ inSize ≤ 2·outSize (α = inSize/outSize in [1, 2]); got inSize {inSize}, outSize {outSize}.");
        if (!(u >= 0 && u < 1)) throw new ArgumentOutOfRangeException(nameof(u), u, "The region offset u must be in [0, 1).");
        Checks.Length(starts.Length, (long)outSize + 1, nameof(starts));
        double alpha = (double)inSize / outSize;
        double first = Math.Ceiling(alpha * u);
        for (int i = 0; i < outSize; i++) starts[i] = (int)(Math.Ceiling(alpha * (i + u)) - first);
        starts[outSize] = inSize;
    }

    /// <summary>y = max over each region pair; argmax[s·C·outH·outW + o] = the in-sample NHWC input index (empty at inference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TIsa>(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, ReadOnlySpan<int> rowStarts, ReadOnlySpan<int> colStarts,
        int channels, int height, int width, int outH, int outW, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        (int inSize, int outSize) = Validate(x.Length, nameof(x), y.Length, nameof(y), channels, height, width, outH, outW, s0, s1);
        CheckStarts(rowStarts, 0, height, outH, nameof(rowStarts));
        CheckStarts(colStarts, 0, width, outW, nameof(colStarts));
        Checks.Optional(argmax.Length, (long)s1 * outSize, nameof(argmax));
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        ref int pa = ref MemoryMarshal.GetReference(argmax);
        bool withArg = !argmax.IsEmpty;
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref px, (nint)s * inSize);
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    nint o = (nint)s * outSize + ((nint)oy * outW + ox) * channels;
                    Pooling.MaxRun<TIsa>(ref xs, ref Unsafe.Add(ref py, o), ref withArg ? ref Unsafe.Add(ref pa, o) : ref pa, withArg,
                        channels, width, rowStarts[oy], rowStarts[oy + 1], colStarts[ox], colStarts[ox + 1]);
                }
        }
    }

    /// <summary>dx for samples [s0, s1) := 0, then dy scattered to each region's argmax (overwrites).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<TIsa>(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx,
        int channels, int height, int width, int outH, int outW, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        (int inSize, int outSize) = Validate(dx.Length, nameof(dx), dy.Length, nameof(dy), channels, height, width, outH, outW, s0, s1);
        Checks.Length(argmax.Length, (long)s1 * outSize, nameof(argmax));
        Pooling.ScatterToArgmax(dy, argmax, dx, inSize, outSize, s0, s1);
    }

    /// <summary>
    /// Test-time output: y = the mean over <paramref name="draws"/> region sets of the region max.
    /// rowStarts/colStarts hold draws·(out + 1) entries, one set after another.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardAverage<TIsa>(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<int> rowStarts, ReadOnlySpan<int> colStarts, int draws,
        int channels, int height, int width, int outH, int outW, int s0, int s1)
        where TIsa : struct, ISimdPath
    {
        (int inSize, int outSize) = Validate(x.Length, nameof(x), y.Length, nameof(y), channels, height, width, outH, outW, s0, s1);
        if (draws < 1) throw new ArgumentOutOfRangeException(nameof(draws), draws, "Averaging fractional max pooling needs at least one draw.");
        for (int d = 0; d < draws; d++)
        {
            CheckStarts(rowStarts, d * (outH + 1), height, outH, nameof(rowStarts));
            CheckStarts(colStarts, d * (outW + 1), width, outW, nameof(colStarts));
        }
        float[]? rented = null;
        Span<float> draw = channels <= 1024 ? stackalloc float[1024] : (rented = ArrayPool<float>.Shared.Rent(channels));
        ref float pd = ref MemoryMarshal.GetReference(draw);
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int unusedArg = 0;
        float invDraws = 1f / draws;
        for (int s = s0; s < s1; s++)
        {
            ref float xs = ref Unsafe.Add(ref px, (nint)s * inSize);
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    ref float yo = ref Unsafe.Add(ref py, (nint)s * outSize + ((nint)oy * outW + ox) * channels);
                    for (int d = 0; d < draws; d++)
                    {
                        int r = d * (outH + 1) + oy, c = d * (outW + 1) + ox;
                        // The first draw lands in y; later draws go through the scratch run and are added.
                        ref float target = ref d == 0 ? ref yo : ref pd;
                        Pooling.MaxRun<TIsa>(ref xs, ref target, ref unusedArg, false, channels, width, rowStarts[r], rowStarts[r + 1], colStarts[c], colStarts[c + 1]);
                        if (d > 0) AddRun<TIsa>(ref pd, ref yo, channels);
                    }
                    if (draws > 1) ScaleRun<TIsa>(ref yo, invDraws, channels);
                }
        }
        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRun<TIsa>(ref float src, ref float dst, int n) where TIsa : struct, ISimdPath
    {
        var run = new AddIntoRun { Src = ref src, Dst = ref dst, N = n };
        VectorPath.Run<TIsa, AddIntoRun>(ref run);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleRun<TIsa>(ref float values, float a, int n) where TIsa : struct, ISimdPath
    {
        var run = new CopyScaledRun { Src = ref values, A = a, Dst = ref values, N = n };
        VectorPath.Run<TIsa, CopyScaledRun>(ref run);
    }

    private static (int InSize, int OutSize) Validate(int inputLength, string inputName, int outputLength, string outputName,
        int channels, int height, int width, int outH, int outW, int s0, int s1)
    {
        if (channels < 1 || height < 1 || width < 1)
            throw new ArgumentOutOfRangeException(nameof(channels), $"Fractional max pooling needs a non-empty input (channels {channels}, height {height}, width {width}).");
        if (outH < 1 || outW < 1 || outH > height || outW > width)
            throw new ArgumentOutOfRangeException(nameof(outH), $"The output {outH}×{outW} must be non-empty and no larger than the input {height}×{width}.");
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        long inSize = (long)channels * height * width, outSize = (long)channels * outH * outW;
        if (inSize > int.MaxValue) throw new ArgumentException("The per-sample input size overflows an int.", nameof(channels));
        Checks.Length(inputLength, s1 * inSize, inputName);
        Checks.Length(outputLength, s1 * outSize, outputName);
        return ((int)inSize, (int)outSize);
    }

    /// <summary>The set starts[offset..offset+out] must begin at 0, end at size and strictly increase (the kernels index by it unchecked).</summary>
    private static void CheckStarts(ReadOnlySpan<int> starts, int offset, int size, int outSize, string name)
    {
        Checks.Length(starts.Length, (long)offset + outSize + 1, name);
        if (starts[offset] != 0 || starts[offset + outSize] != size)
            throw new ArgumentException($"'{name}' region set at {offset} must start at 0 and end at {size} (got {starts[offset]} … {starts[offset + outSize]}).", name);
        for (int i = offset; i < offset + outSize; i++)
            if (starts[i + 1] <= starts[i])
                throw new ArgumentException($"'{name}' must strictly increase: [{i}] = {starts[i]}, [{i + 1}] = {starts[i + 1]}.", name);
    }

    /// <summary>AddInto's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct AddIntoRun : IVectorKernel
    {
        public ref float Src;
        public ref float Dst;
        public int N;

        int IVectorKernel.Run<TO, TV>()
        {
            ChannelRuns.AddInto<TO, TV>(ref Src, ref Dst, N);
            return 0;
        }
    }

    /// <summary>CopyScaled's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct CopyScaledRun : IVectorKernel
    {
        public ref float Src;
        public float A;
        public ref float Dst;
        public int N;

        int IVectorKernel.Run<TO, TV>()
        {
            ChannelRuns.CopyScaled<TO, TV>(ref Src, A, ref Dst, N);
            return 0;
        }
    }
}
