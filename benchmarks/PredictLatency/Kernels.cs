using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using Kiln.Kernels;

// The batch-1 product of the benchmark MLP's first layer (784×256) on one thread, row-major W (Gemm.Forward) against
// W packed into column panels (GemvPacked), interleaved in rounds: all columns (what one thread does) and half of
// them (one core's share when two threads split the columns). Built only with -p:KilnGemvPacked=true, since older
// builds lack GemvPacked: dotnet run -c Release --project benchmarks/PredictLatency -p:KilnGemvPacked=true -- --kernels
internal static class KernelProbe
{
    public static void Run()
    {
        var rnd = new Random(1);
        var x = new float[784];
        var w = new float[784 * 256];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rnd.NextDouble() - 0.5);
        for (int i = 0; i < x.Length; i++) x[i] = (float)rnd.NextDouble();
        var packed = new float[GemvPacked.PackedLength(784, 256)];
        GemvPacked.Pack(w, packed, 784, 256);
        var y = new float[256];
        var medians = new Dictionary<string, List<double>>();
        void Add(string what, Action a)
        {
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 0.2) a();
            var us = new double[5000];
            for (int i = 0; i < us.Length; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                a();
                us[i] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
            }
            Array.Sort(us);
            if (!medians.TryGetValue(what, out List<double>? list)) medians[what] = list = new List<double>();
            list.Add(us[us.Length / 2]);
        }
        for (int round = 0; round < 5; round++)
        {
            Add("row-major, half the columns", () => Gemm.Forward<Avx512Path, NoEpilogue>(x, w, y, 1, 784, 256, 0, 128, default));
            Add("packed,    half the columns", () => GemvPacked.Forward<Avx512Path, NoEpilogue>(x, packed, y, 784, 256, 0, 128, default));
            Add("row-major, all columns", () => Gemm.Forward<Avx512Path, NoEpilogue>(x, w, y, 1, 784, 256, default));
            Add("packed,    all columns", () => GemvPacked.Forward<Avx512Path, NoEpilogue>(x, packed, y, 784, 256, 0, 256, default));
        }
        foreach ((string what, List<double> m) in medians)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"784x256 batch 1, AVX-512, {what}: median per round {string.Join(" ", m.ConvertAll(v => v.ToString("F2", CultureInfo.InvariantCulture)))} us"));
    }
}
