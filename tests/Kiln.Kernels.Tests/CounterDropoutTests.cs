using System;
using System.Linq;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The counter-based dropout masks (Dropout.Draw / DrawColumns): each element a pure function of (key, index), equal to
/// an independent reference on every ISA path and for any split, with the right keep rate and no visible correlation
/// between neighbouring elements, rows or consecutive steps' keys.
/// </summary>
public sealed class CounterDropoutTests
{
    // The generator's definition written out independently, in 64-bit arithmetic reduced mod 2³²:
    // x = mix(i·0x9E3779B9 + key_lo), u = mix(x xor key_hi) >> 8, mix = (xs16, ×0x21F0AAAD, xs15, ×0x735A2D97, xs15).
    private static uint ReferenceUniform(long index, ulong key)
    {
        static ulong Mix(ulong x)
        {
            x &= 0xFFFFFFFF;
            x = ((x ^ (x >> 16)) * 0x21F0AAAD) & 0xFFFFFFFF;
            x = ((x ^ (x >> 15)) * 0x735A2D97) & 0xFFFFFFFF;
            return x ^ (x >> 15);
        }
        ulong first = Mix((ulong)index * 0x9E3779B9 + (key & 0xFFFFFFFF));
        return (uint)(Mix(first ^ (key >> 32)) >> 8);
    }

    private static float ReferenceValue(long index, double keep, float scale, ulong key) =>
        ReferenceUniform(index, key) < Math.Ceiling(keep * (1 << 24)) ? scale : 0f;

    [Theory]
    [MemberData(nameof(Isa.Paths), MemberType = typeof(Isa))]
    public void DrawMatchesTheReferenceOnEveryPath(IsaPath path)
    {
        var rng = new KilnRandom(11);
        foreach ((int first, int n) in new[] { (0, 1), (0, 15), (0, 16), (3, 37), (1000, 1003), (int.MaxValue - 40, 40), (123456, 4099) })
        {
            ulong key = rng.NextUInt64();
            foreach (float keep in new[] { 0.8f, 0.5f, 0.01f, 1f, 0f })
            {
                float[] mask = new float[n];
                Isa.Invoke(this, nameof(DrawOn), new[] { Isa.Marker(path) }, mask, first, keep, 1.25f, key);
                for (int j = 0; j < n; j++)
                {
                    float expected = ReferenceValue((long)first + j, keep, 1.25f, key);
                    if (mask[j] != expected) Assert.Fail($"{path}: element {first + j} of key {key:X16} at keep {keep} is {mask[j]}, expected {expected}");
                }
            }
        }
        Assert.Equal(ReferenceUniform(77, 0xDEADBEEF12345678), Dropout.Uniform24(77, 0xDEADBEEF12345678));
        Assert.Equal(ReferenceValue(5, 0.3, 2f, 42), Dropout.MaskValue(5, 0.3f, 2f, 42));
    }

    private static void DrawOn<TIsa>(float[] mask, int first, float keep, float scale, ulong key) where TIsa : struct, ISimdPath =>
        Dropout.Draw<TIsa>(mask, first, keep, scale, key);

    private static void DrawColumnsOn<TIsa>(float[] mask, int width, int c0, int c1, float keep, float scale, ulong key) where TIsa : struct, ISimdPath =>
        Dropout.DrawColumns<TIsa>(mask, width, c0, c1, keep, scale, key);

    [Theory]
    [MemberData(nameof(Isa.Paths), MemberType = typeof(Isa))]
    public void AnySplitGivesTheSameMask(IsaPath path)
    {
        Type[] isa = { Isa.Marker(path) };
        const int rows = 37, width = 100;
        const ulong key = 0x0123456789ABCDEF;
        float[] whole = new float[rows * width];
        Isa.Invoke(this, nameof(DrawOn), isa, whole, 0, 0.8f, 1.25f, key);
        // Column blocks (a column-split BatchNorm stage's parts), unaligned and uneven.
        float[] byColumns = new float[rows * width];
        int[] cuts = { 0, 16, 17, 64, 99, 100 };
        for (int p = 0; p + 1 < cuts.Length; p++)
            Isa.Invoke(this, nameof(DrawColumnsOn), isa, byColumns, width, cuts[p], cuts[p + 1], 0.8f, 1.25f, key);
        Assert.Equal(whole, byColumns);
        // Row ranges (a row-split stage's parts), drawn into slices of the same buffer.
        float[] byRows = new float[rows * width];
        int[] rowCuts = { 0, 8, 9, 30, 37 };
        for (int p = 0; p + 1 < rowCuts.Length; p++)
        {
            int r0 = rowCuts[p], r1 = rowCuts[p + 1];
            float[] part = new float[(r1 - r0) * width];
            Isa.Invoke(this, nameof(DrawOn), isa, part, r0 * width, 0.8f, 1.25f, key);
            part.CopyTo(byRows, r0 * width);
        }
        Assert.Equal(whole, byRows);
    }

    [Theory]
    [InlineData(0.8f)]
    [InlineData(0.5f)]
    [InlineData(0.1f)]
    [InlineData(0.999f)]
    public void KeepRateIsRightOverManyDraws(float keep)
    {
        // 64 keys (steps) × 16,384 elements: the kept count of each step within 5 binomial standard deviations, the
        // total within 5 as well, and every element's own keep rate over the steps consistent with keep (χ² over the
        // elements' counts: 64 draws each).
        const int n = 16_384, steps = 64;
        var noise = new KilnRandom(2024);
        float[] mask = new float[n];
        int[] perElement = new int[n];
        long total = 0;
        double sdStep = Math.Sqrt(n * keep * (1 - keep));
        for (int s = 0; s < steps; s++)
        {
            Dropout.Draw<Avx512Path>(mask, 0, keep, 1 / keep, noise.NextUInt64());
            int kept = 0;
            for (int i = 0; i < n; i++)
            {
                if (mask[i] == 0f) continue;
                Assert.Equal(1 / keep, mask[i]);
                kept++;
                perElement[i]++;
            }
            Assert.InRange(kept, n * keep - 5 * sdStep, n * keep + 5 * sdStep);
            total += kept;
        }
        double sdTotal = Math.Sqrt((double)n * steps * keep * (1 - keep));
        Assert.InRange(total, n * steps * keep - 5 * sdTotal, n * steps * keep + 5 * sdTotal);
        // Dispersion of the per-element counts: Σ (k − m)² / (m(1 − p)) over n elements is ≈ χ²(n − 1)-like, mean n, sd √(2n).
        double mean = steps * keep, chi = perElement.Sum(k => (k - mean) * (k - mean)) / (mean * (1 - keep));
        Assert.InRange(chi, n - 6 * Math.Sqrt(2.0 * n), n + 6 * Math.Sqrt(2.0 * n));
    }

    [Fact]
    public void NeighboursRowsAndStepsAreIndependent()
    {
        // P(both kept) = keep² for pairs that a weak hash would correlate: adjacent elements, the same column of
        // adjacent rows (width 256), the same element under consecutive keys, and keys that differ in one bit.
        const float keep = 0.5f;
        const int n = 1 << 18, width = 256;
        var noise = new KilnRandom(77);
        ulong key = noise.NextUInt64(), next = noise.NextUInt64();
        float[] a = new float[n], b = new float[n], c = new float[n];
        Dropout.Draw<Avx512Path>(a, 0, keep, 1f, key);
        Dropout.Draw<Avx512Path>(b, 0, keep, 1f, next);
        Dropout.Draw<Avx512Path>(c, 0, keep, 1f, key ^ 1);
        void Pairs(string what, Func<int, bool> both, int count)
        {
            int hits = 0;
            for (int i = 0; i < count; i++) if (both(i)) hits++;
            double p = keep * keep, sd = Math.Sqrt(count * p * (1 - p));
            Assert.True(Math.Abs(hits - count * p) <= 5 * sd, $"{what}: {hits} of {count} pairs both kept, expected {count * p} ± {5 * sd:F0}");
        }
        Pairs("adjacent elements", i => a[i] != 0 && a[i + 1] != 0, n - 1);
        Pairs("adjacent rows", i => a[i] != 0 && a[i + width] != 0, n - width);
        Pairs("consecutive keys", i => a[i] != 0 && b[i] != 0, n);
        Pairs("keys one bit apart", i => a[i] != 0 && c[i] != 0, n);
        // The 24-bit uniforms themselves: 256 equal bins of the top 8 bits, χ² with 255 degrees of freedom.
        int[] bins = new int[256];
        for (int i = 0; i < n; i++) bins[Dropout.Uniform24(i, key) >> 16]++;
        double expected = n / 256.0, chi = bins.Sum(k => (k - expected) * (k - expected) / expected);
        Assert.InRange(chi, 255 - 6 * Math.Sqrt(510), 255 + 6 * Math.Sqrt(510));
    }

    [Fact]
    public void MasksAreReproducibleAndBadArgumentsAreNamed()
    {
        float[] m1 = new float[300], m2 = new float[300];
        Dropout.Draw<Avx2Path>(m1, 5, 0.7f, 2f, 99);
        Dropout.Draw<PortablePath>(m2, 5, 0.7f, 2f, 99);
        Assert.Equal(m1, m2);
        Dropout.Draw<Avx512Path>(m2, 5, 0.7f, 2f, 100);
        Assert.NotEqual(m1, m2);
        Dropout.Draw<Avx512Path>(m1, 0, 1f, 2f, 3);
        Assert.All(m1, v => Assert.Equal(2f, v));
        Dropout.Draw<Avx512Path>(m1, 0, 0f, 2f, 3);
        Assert.All(m1, v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>("keep", () => Dropout.Draw<Avx512Path>(m1, 0, 1.5f, 1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>("first", () => Dropout.Draw<Avx512Path>(m1, -1, 0.5f, 1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>("first", () => Dropout.Draw<Avx512Path>(m1, int.MaxValue - 10, 0.5f, 1f, 0));
        var e = Assert.Throws<ArgumentException>("mask", () => Dropout.DrawColumns<Avx512Path>(m1, 7, 0, 7, 0.5f, 1f, 0));
        Assert.Contains("width 7", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Dropout.DrawColumns<Avx512Path>(m1, 100, 50, 101, 0.5f, 1f, 0));
    }
}
