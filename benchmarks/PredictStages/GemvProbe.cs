using System;
using System.Diagnostics;
using System.Globalization;
using Kiln;
using Kiln.Kernels;

// One thread's share of the benchmark MLP's first layer at batch 1 (128 of 256 columns of a 784-row W, 401 KB), timed
// alone on the calling thread, against the cache-read floor of the same bytes (CacheRead.cs). Layouts: the packed 64-column
// blocks the two-thread stage reads (GemvPacked), and a 784×128 row-major matrix (one contiguous stream, whole rows).
// Usage: Kiln.PredictStages --gemv [--calls 4000] [--isa …]
internal static class GemvProbe
{
    public static void Run(int calls, IsaPath isa)
    {
        const int k = 784, n = 256, half = 128;
        var rnd = new Random(2);
        var w = new float[k * n];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rnd.NextDouble() - 0.5);
        var x = new float[k];
        for (int i = 0; i < k; i++) x[i] = (float)rnd.NextDouble();
        var packed = new float[GemvPacked.PackedLength(k, n)];
        GemvPacked.Pack(w, packed, k, n);
        var halfW = new float[k * half];
        for (int i = 0; i < k; i++) Array.Copy(w, i * n, halfW, i * half, half);
        var y = new float[n];
        Console.WriteLine($"# one thread's half of dense0 (784×128, {k * half * 4 / 1024} KB), {isa} path, minimum (median) of {calls} calls");
        Report("GemvPacked, one 128-column block", calls, () => Packed(isa, x, packed, y));
        Report("row-major 784×128, one stream", calls, () => RowMajor(isa, x, halfW, y));
        // dense1's share on the same thread: inputs [0, 128) of its 256 by their rows of its 256×128 W, as two 64-row blocks.
        var w1 = new float[256 * 128];
        for (int i = 0; i < w1.Length; i++) w1[i] = (float)(rnd.NextDouble() - 0.5);
        var x1 = new float[256];
        var partials = new float[4 * 128];
        Report("dense1 share: PartialForward 2×64 rows", calls, () => Partial(isa, x1, w1, partials), 128 * 128);
        Console.WriteLine();
    }

    private static void Packed(IsaPath isa, float[] x, float[] packed, float[] y)
    {
        switch (isa)
        {
            case IsaPath.Avx512: GemvPacked.Forward<Avx512Path, NoEpilogue>(x, packed, y, 784, 256, 0, 128, default); break;
            case IsaPath.Avx2: GemvPacked.Forward<Avx2Path, NoEpilogue>(x, packed, y, 784, 256, 0, 128, default); break;
            default: GemvPacked.Forward<PortablePath, NoEpilogue>(x, packed, y, 784, 256, 0, 128, default); break;
        }
    }

    private static void RowMajor(IsaPath isa, float[] x, float[] w, float[] y)
    {
        switch (isa)
        {
            case IsaPath.Avx512: Gemm.Forward<Avx512Path, NoEpilogue>(x, w, y.AsSpan(0, 128), 1, 784, 128, default); break;
            case IsaPath.Avx2: Gemm.Forward<Avx2Path, NoEpilogue>(x, w, y.AsSpan(0, 128), 1, 784, 128, default); break;
            default: Gemm.Forward<PortablePath, NoEpilogue>(x, w, y.AsSpan(0, 128), 1, 784, 128, default); break;
        }
    }

    private static void Partial(IsaPath isa, float[] x, float[] w, float[] partials)
    {
        switch (isa)
        {
            case IsaPath.Avx512: Gemm.PartialForward<Avx512Path>(x, w, partials, 1, 256, 128, 64, 0, 2, 128); break;
            case IsaPath.Avx2: Gemm.PartialForward<Avx2Path>(x, w, partials, 1, 256, 128, 64, 0, 2, 128); break;
            default: Gemm.PartialForward<PortablePath>(x, w, partials, 1, 256, 128, 64, 0, 2, 128); break;
        }
    }

    private static void Report(string what, int calls, Action call, int floats = 784 * 128)
    {
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 0.5) call();
        var t = new double[calls];
        double us = 1e6 / Stopwatch.Frequency;
        for (int i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            t[i] = (Stopwatch.GetTimestamp() - t0) * us;
        }
        Array.Sort(t);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what,-36} {t[0],7:F3} µs ({t[calls / 2]:F3})   {floats * 4 / (t[0] * 1e3),6:F1} GB/s"));
    }
}
