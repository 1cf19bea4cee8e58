using System;

namespace Kiln.Kernels.Tests.Conv;

/// <summary>im2col and its transpose against double loops written from the index formula, on every ISA path.</summary>
public sealed class Im2ColTests
{
    // Channels, Height, Width, KernelH, KernelW, StrideH, StrideW, PadH, PadW, DilationH, DilationW
    internal static readonly ConvGeometry[] Geometries =
    {
        new(1, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1),    // the benchmark's first layer
        new(16, 14, 14, 5, 5, 1, 1, 2, 2, 1, 1),   // its second layer
        new(3, 7, 9, 3, 2, 2, 1, 1, 0, 1, 1),      // non-square kernel, stride 2 on one axis
        new(17, 6, 5, 3, 3, 2, 2, 1, 1, 2, 2),     // dilation 2, channel tail
        new(32, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1),     // 1×1
        new(16, 8, 7, 3, 3, 1, 1, 1, 1, 1, 1),
        new(1, 9, 7, 3, 3, 2, 2, 1, 1, 2, 1),      // one channel, dilation on one axis
        new(3, 6, 6, 2, 3, 1, 2, 0, 1, 1, 2),
        new(2, 3, 3, 3, 3, 1, 1, 3, 3, 1, 1),      // padding so wide some windows miss the input
        new(5, 4, 11, 1, 4, 3, 2, 0, 2, 1, 3),
        new(1, 6, 7, 1, 1, 2, 2, 0, 0, 1, 1),      // 1-float patches: the narrow path's 8-float writes span several pixels
        new(2, 9, 8, 2, 3, 2, 3, 1, 2, 3, 1),      // narrow rows with strides and row dilation
        new(1, 70, 66, 3, 3, 1, 1, 1, 1, 1, 1),    // a padded image too large for the stack
    };

    public static TheoryData<IsaPath, int, bool> Cases()
    {
        var d = new TheoryData<IsaPath, int, bool>();
        foreach (IsaPath p in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            for (int i = 0; i < Geometries.Length; i++)
                foreach (bool cf in new[] { false, true })
                    d.Add(p, i, cf);
        return d;
    }

    [Theory, MemberData(nameof(Cases))]
    public void ForwardMatchesReference(IsaPath path, int geometry, bool channelsFirst) =>
        Isa.Invoke(this, nameof(ForwardCore), path, Geometries[geometry], channelsFirst);

    private void ForwardCore<TIsa>(ConvGeometry g, bool channelsFirst) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(7 + g.Channels);
        float[] x = Data.Uniform(rnd, samples * g.InputSize, -1, 1);
        double[] expected = ConvReference.Im2Col(x, g, channelsFirst, samples);
        int perSample = g.OutPixels * g.PatchSize;
        Assert.Equal(expected.Length, samples * perSample);
        string ctx = $"{typeof(TIsa).Name} {g} channelsFirst={channelsFirst}";

        // Stale non-zero contents must be overwritten everywhere, zeros included.
        float[] col = Data.Filled(expected.Length, 42f);
        Im2Col.Forward<TIsa>(x, col, g, channelsFirst, 0, samples);
        Near.All(col, expected, 0, 0, ctx);

        // A range writes only its own samples, and the split ranges rebuild the whole batch exactly.
        float[] split = Data.Filled(expected.Length, float.NaN);
        Im2Col.Forward<TIsa>(x, split, g, channelsFirst, 1, 3);
        for (int i = 0; i < perSample; i++) Assert.True(float.IsNaN(split[i]), $"{ctx}: sample 0 written by range [1,3)");
        Im2Col.Forward<TIsa>(x, split, g, channelsFirst, 0, 1);
        Assert.Equal(col, split);
    }

    [Theory, MemberData(nameof(Cases))]
    public void BackwardMatchesAdjoint(IsaPath path, int geometry, bool channelsFirst) =>
        Isa.Invoke(this, nameof(BackwardCore), path, Geometries[geometry], channelsFirst);

    private void BackwardCore<TIsa>(ConvGeometry g, bool channelsFirst) where TIsa : struct, ISimdPath
    {
        const int samples = 3;
        var rnd = new Random(11 + g.Channels);
        int colLength = samples * g.OutPixels * g.PatchSize, xLength = samples * g.InputSize;
        float[] dcol = Data.Uniform(rnd, colLength, -1, 1);
        double[] expected = ConvReference.Col2Im(dcol, g, channelsFirst, samples);
        string ctx = $"{typeof(TIsa).Name} {g} channelsFirst={channelsFirst}";

        float[] dx = Data.Filled(xLength, 42f);   // overwritten, not accumulated into
        Im2Col.Backward<TIsa>(dcol, dx, g, channelsFirst, 0, samples);
        // Each dx is a sum of at most KH·KW terms of size ≤ 1.
        Near.All(dx, expected, 1e-5, 1e-6, ctx);

        // The defining identity of the transpose: <Im2Col(x), dcol> = <x, Col2Im(dcol)>.
        float[] x = Data.Uniform(rnd, xLength, -1, 1), col = new float[colLength];
        Im2Col.Forward<TIsa>(x, col, g, channelsFirst, 0, samples);
        double lhs = ConvReference.Dot(col, dcol, colLength), rhs = ConvReference.Dot(x, dx, xLength);
        Near.Check(rhs, lhs, 1e-3, 1e-5, $"{ctx} <Im2Col(x), dcol> vs <x, Col2Im(dcol)>");

        float[] split = Data.Filled(xLength, float.NaN);
        Im2Col.Backward<TIsa>(dcol, split, g, channelsFirst, 2, 3);
        for (int i = 0; i < 2 * g.InputSize; i++) Assert.True(float.IsNaN(split[i]), $"{ctx}: samples 0..1 written by range [2,3)");
        Im2Col.Backward<TIsa>(dcol, split, g, channelsFirst, 0, 2);
        Assert.Equal(dx, split);
    }

    [Fact]
    public void GeometryDerivedSizes()
    {
        var g = new ConvGeometry(3, 28, 30, 5, 3, 2, 1, 2, 0, 1, 2);
        Assert.Equal((28 + 4 - 4 - 1) / 2 + 1, g.OutHeight);
        Assert.Equal((30 + 0 - 4 - 1) / 1 + 1, g.OutWidth);
        Assert.Equal(g.OutHeight * g.OutWidth, g.OutPixels);
        Assert.Equal(5 * 3 * 3, g.PatchSize);
        Assert.Equal(3 * 28 * 30, g.InputSize);
        // Derived sizes follow a `with` copy instead of keeping the old values.
        Assert.Equal(new ConvGeometry(3, 10, 30, 5, 3, 2, 1, 2, 0, 1, 2).OutHeight, (g with { Height = 10 }).OutHeight);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        var g = new ConvGeometry(2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
        int xs = g.InputSize, cs = g.OutPixels * g.PatchSize;
        var e = Assert.Throws<ArgumentException>(() => Im2Col.Forward<Avx512Path>(new float[2 * xs - 1], new float[2 * cs], g, false, 0, 2));
        Assert.Equal("x", e.ParamName);
        Assert.Contains($"{2 * xs}", e.Message);
        e = Assert.Throws<ArgumentException>(() => Im2Col.Forward<Avx2Path>(new float[2 * xs], new float[2 * cs - 1], g, false, 0, 2));
        Assert.Equal("col", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Im2Col.Backward<PortablePath>(new float[2 * cs - 1], new float[2 * xs], g, false, 1, 2));
        Assert.Equal("dcol", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Im2Col.Backward<PortablePath>(new float[2 * cs], new float[xs], g, false, 1, 2));
        Assert.Equal("dx", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Im2Col.Forward<Avx512Path>(new float[2 * xs], new float[2 * cs], g, false, 2, 1));
        e = Assert.Throws<ArgumentException>(() => Im2Col.Forward<Avx512Path>(new float[xs], new float[cs], g with { StrideH = 0 }, false, 0, 1));
        Assert.Contains("StrideH", e.Message);
        e = Assert.Throws<ArgumentException>(() => Im2Col.Forward<Avx512Path>(new float[xs], new float[cs], g with { KernelW = 9 }, false, 0, 1));
        Assert.Contains("does not fit", e.Message);
        e = Assert.Throws<ArgumentException>(() => Im2Col.Forward<Avx512Path>(new float[xs], new float[cs], g with { PadW = -1 }, false, 0, 1));
        Assert.Contains("padding", e.Message);
    }
}
