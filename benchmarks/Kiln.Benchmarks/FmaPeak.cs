using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using System.Threading;

namespace Kiln.Benchmarks;

/// <summary>
/// <c>--fma-peak</c>: this machine's single-precision FMA peak, the denominator of the efficiency figures
/// (benchmarks/README.md, "Efficiency"). Each thread runs a loop of nothing but fused multiply-adds on
/// <see cref="Chains"/> independent accumulators of the widest accelerated vector (Vector512 where the CPU has
/// AVX-512), so neither latency nor memory limits it: <see cref="Chains"/> covers an FMA latency of 4–6 cycles on
/// two pipes with room to spare. One FMA on a 16-float vector counts 32 FLOP.
/// Measured on 1 thread and on N threads at once (started together; the slowest thread's time counts), each
/// <c>--fma-rounds</c> times: the best round is the peak (interference only ever slows a round), the median and the
/// run-queue wait (time runnable without a CPU) of every round say how disturbed the machine was.
/// Options: <c>--threads N</c> (default: every CPU), <c>--fma-seconds S</c> (per round, default 0.3),
/// <c>--fma-rounds R</c> (default 5), <c>--pretty</c>.
/// </summary>
internal static class FmaPeak
{
    /// <summary>Independent accumulator chains per thread.</summary>
    public const int Chains = 16;

    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount, rounds = 5;
        double seconds = 0.3;
        bool pretty = false;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
                switch (a)
                {
                    case "--threads": threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--fma-seconds": seconds = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--fma-rounds": rounds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--pretty": pretty = true; break;
                    case "--quick": seconds = 0.1; rounds = 3; break;
                    default: throw new ArgumentException($"unknown option '{a}'.");
                }
            }
            if (threads < 1 || rounds < 1 || !(seconds > 0)) throw new ArgumentException("--threads, --fma-rounds and --fma-seconds must be positive.");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"--fma-peak: {e.Message}");
            return 2;
        }

        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = pretty }))
        {
            w.WriteStartObject();
            w.WriteNumber("vector_bits", VectorBits);
            w.WriteNumber("chains", Chains);
            w.WriteNumber("flop_per_fma", 2 * VectorBits / 32);
            foreach (int n in threads == 1 ? new[] { 1 } : new[] { 1, threads })
            {
                Result r = Measure(n, seconds, rounds);
                w.WriteStartObject($"threads_{n}");
                w.WriteNumber("threads", n);
                w.WriteNumber("peak_gflop_per_s", Math.Round(r.Best, 1));
                w.WriteNumber("median_gflop_per_s", Math.Round(r.Median, 1));
                w.WriteStartArray("rounds_gflop_per_s");
                foreach (double g in r.Rounds) w.WriteNumberValue(Math.Round(g, 1));
                w.WriteEndArray();
                w.WriteStartArray("rounds_runqueue_wait_fraction");
                foreach (double f in r.Waits) w.WriteNumberValue(Math.Round(f, 4));
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
        return 0;
    }

    /// <summary>512 with accelerated Vector512, else 256: the vectors <see cref="Loop(long)"/> runs on.</summary>
    private static int VectorBits => Vector512.IsHardwareAccelerated ? 512 : 256;

    internal sealed record Result(double Best, double Median, double[] Rounds, double[] Waits);

    /// <summary>
    /// <paramref name="rounds"/> rounds of <paramref name="threads"/> threads each running the same number of
    /// FMA iterations, sized from a calibration run to take about <paramref name="seconds"/>.
    /// </summary>
    internal static Result Measure(int threads, double seconds, int rounds)
    {
        // Calibrate on this thread (also brings the loop to its final JIT tier: it is AggressiveOptimization anyway).
        long iterations = 1 << 16;
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            Sink(Loop(iterations));
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (s >= 0.05) { iterations = Math.Max(1, (long)(iterations * seconds / s)); break; }
            iterations *= 4;
        }

        double flopPerIteration = Chains * 2.0 * VectorBits / 32;
        var gflops = new double[rounds];
        var waits = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            var elapsed = new double[threads];
            var waited = new long[threads];
            using var go = new ManualResetEventSlim(false);
            using var ready = new CountdownEvent(threads);
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int id = t;
                workers[t] = new Thread(() =>
                {
                    ready.Signal();
                    go.Wait();
                    long w0 = ThreadWaitNs();
                    long t0 = Stopwatch.GetTimestamp();
                    Sink(Loop(iterations));
                    elapsed[id] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    waited[id] = ThreadWaitNs() - w0;
                }) { IsBackground = true, Name = $"fma-{id}" };
                workers[t].Start();
            }
            ready.Wait();
            long start = Stopwatch.GetTimestamp();
            go.Set();
            foreach (Thread worker in workers) worker.Join();
            double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long totalWait = 0;
            foreach (long w in waited) totalWait += w;
            waits[r] = totalWait * 1e-9 / (wall * threads);
            double slowest = 0;
            foreach (double e in elapsed) slowest = Math.Max(slowest, e);
            gflops[r] = threads * iterations * flopPerIteration / slowest * 1e-9;
        }
        double[] sorted = (double[])gflops.Clone();
        Array.Sort(sorted);
        return new Result(sorted[^1], sorted[sorted.Length / 2], gflops, waits);
    }

    /// <summary>
    /// Nanoseconds the calling thread has spent runnable without a CPU (second field of /proc/thread-self/schedstat;
    /// 0 where it cannot be read). Read per thread, since a thread's figures vanish from /proc when it exits.
    /// </summary>
    private static long ThreadWaitNs()
    {
        try
        {
            string[] fields = System.IO.File.ReadAllText("/proc/thread-self/schedstat").Split(' ');
            return fields.Length > 1 && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ns) ? ns : 0;
        }
        catch (System.IO.IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    private static float _sink;

    private static void Sink(float value) => Volatile.Write(ref _sink, value);

    /// <summary>
    /// <paramref name="iterations"/> × <see cref="Chains"/> vector FMAs, acc = acc·a + b on independent accumulators
    /// (a &lt; 1, so every chain converges to b / (1 − a) and never overflows or goes subnormal), on Vector512 where it
    /// is accelerated, else Vector256. Returns one lane of their sum so the JIT cannot drop the loop.
    /// </summary>
    internal static float Loop(long iterations) =>
        Vector512.IsHardwareAccelerated ? Loop<Vector512<float>, Ops512>(iterations) : Loop<Vector256<float>, Ops256>(iterations);

    /// <summary>The vector operations the loop needs, so one generic body serves both widths (the JIT specialises it).</summary>
    private interface IOps<TVector>
    {
        static abstract TVector Create(float value);
        static abstract TVector Fma(TVector a, TVector b, TVector c);
        static abstract TVector Add(TVector a, TVector b);
        static abstract float First(TVector v);
    }

    private readonly struct Ops512 : IOps<Vector512<float>>
    {
        public static Vector512<float> Create(float value) => Vector512.Create(value);
        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        public static float First(Vector512<float> v) => v.ToScalar();
    }

    private readonly struct Ops256 : IOps<Vector256<float>>
    {
        public static Vector256<float> Create(float value) => Vector256.Create(value);
        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        public static float First(Vector256<float> v) => v.ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop<TVector, TOps>(long iterations) where TVector : struct where TOps : struct, IOps<TVector>
    {
        TVector a = TOps.Create(0.999999f), b = TOps.Create(1e-6f);
        TVector c0 = TOps.Create(0.10f), c1 = TOps.Create(0.11f), c2 = TOps.Create(0.12f), c3 = TOps.Create(0.13f);
        TVector c4 = TOps.Create(0.14f), c5 = TOps.Create(0.15f), c6 = TOps.Create(0.16f), c7 = TOps.Create(0.17f);
        TVector c8 = TOps.Create(0.18f), c9 = TOps.Create(0.19f), c10 = TOps.Create(0.20f), c11 = TOps.Create(0.21f);
        TVector c12 = TOps.Create(0.22f), c13 = TOps.Create(0.23f), c14 = TOps.Create(0.24f), c15 = TOps.Create(0.25f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = TOps.Fma(c0, a, b); c1 = TOps.Fma(c1, a, b);
            c2 = TOps.Fma(c2, a, b); c3 = TOps.Fma(c3, a, b);
            c4 = TOps.Fma(c4, a, b); c5 = TOps.Fma(c5, a, b);
            c6 = TOps.Fma(c6, a, b); c7 = TOps.Fma(c7, a, b);
            c8 = TOps.Fma(c8, a, b); c9 = TOps.Fma(c9, a, b);
            c10 = TOps.Fma(c10, a, b); c11 = TOps.Fma(c11, a, b);
            c12 = TOps.Fma(c12, a, b); c13 = TOps.Fma(c13, a, b);
            c14 = TOps.Fma(c14, a, b); c15 = TOps.Fma(c15, a, b);
        }
        TVector s01 = TOps.Add(c0, c1), s23 = TOps.Add(c2, c3), s45 = TOps.Add(c4, c5), s67 = TOps.Add(c6, c7);
        TVector s89 = TOps.Add(c8, c9), sab = TOps.Add(c10, c11), scd = TOps.Add(c12, c13), sef = TOps.Add(c14, c15);
        return TOps.First(TOps.Add(TOps.Add(TOps.Add(s01, s23), TOps.Add(s45, s67)), TOps.Add(TOps.Add(s89, sab), TOps.Add(scd, sef))));
    }
}
