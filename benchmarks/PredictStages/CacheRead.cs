using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;

// The floor of a batch-1 Dense: the time to read its weights from the core's cache. Each thread owns a buffer of the given
// size (kept resident by reading it over and over) and times single passes over it with 512-bit loads into eight
// independent sums; the minimum pass over many is the undisturbed time (interference only slows a pass). With two threads
// both read at once, each its own buffer (the batch-1 split: each core streams its half of the weights from its own L2):
// a barrier starts every pass on both threads together and a pass takes the slower thread's time, so the figure is the
// concurrent one (a pass in which one thread was descheduled is only slower, and the minimum ignores it).
// Usage: Kiln.PredictStages --bandwidth [--sizes 940,470,401,131] (KB); prints per size and thread count the minimum
// and median pass time and the bandwidth it implies.
internal static unsafe class CacheRead
{
    public static void Run(int[] sizesKb, int passes)
    {
        Console.WriteLine($"# cache read bandwidth: minimum (median) of {passes} timed passes per thread; 512-bit loads, 8 independent sums");
        Console.WriteLine($"  {"KB per thread",13} {"threads",7} {"min µs",8} {"med µs",8} {"GB/s/thread",12} {"GB/s total",11}");
        foreach (int kb in sizesKb)
            foreach (int threads in new[] { 1, 2 })
            {
                (double min, double med) = Measure(kb * 1024, threads, passes);
                double perThread = kb * 1024 / (min * 1e3);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {kb,13} {threads,7} {min,8:F3} {med,8:F3} {perThread,12:F1} {perThread * threads,11:F1}"));
            }
        Console.WriteLine();
    }

    private static (double Min, double Median) Measure(int bytes, int threads, int passes)
    {
        var times = new double[threads][];
        var start = new Barrier(threads);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() => times[id] = Passes(bytes, passes, start)) { IsBackground = true };
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();
        // Per pass index, the slower thread's time: both read at once only if both were fast together.
        var slowest = new double[passes];
        for (int i = 0; i < passes; i++)
        {
            double s = 0;
            for (int t = 0; t < threads; t++) s = Math.Max(s, times[t][i]);
            slowest[i] = s;
        }
        Array.Sort(slowest);
        return (slowest[0], slowest[passes / 2]);
    }

    private static double[] Passes(int bytes, int passes, Barrier start)
    {
        int floats = bytes / 4 / 128 * 128;
        float[] buffer = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        for (int i = 0; i < floats; i++) buffer[i] = i & 7;
        var times = new double[passes];
        double us = 1e6 / Stopwatch.Frequency;
        float sink = 0;
        fixed (float* p = buffer)
        {
            for (int w = 0; w < 200; w++) sink += Pass(p, floats);   // resident in this core's cache
            for (int i = 0; i < passes; i++)
            {
                start.SignalAndWait();
                long t0 = Stopwatch.GetTimestamp();
                sink += Pass(p, floats);
                times[i] = (Stopwatch.GetTimestamp() - t0) * us;
            }
        }
        if (sink == float.MinValue) Console.WriteLine(sink);   // keeps the sums alive
        return times;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Pass(float* p, int floats)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int i = 0; i < floats; i += 128)
        {
            s0 += Vector512.Load(p + i);
            s1 += Vector512.Load(p + i + 16);
            s2 += Vector512.Load(p + i + 32);
            s3 += Vector512.Load(p + i + 48);
            s4 += Vector512.Load(p + i + 64);
            s5 += Vector512.Load(p + i + 80);
            s6 += Vector512.Load(p + i + 96);
            s7 += Vector512.Load(p + i + 112);
        }
        return Vector512.Sum(((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)));
    }
}
