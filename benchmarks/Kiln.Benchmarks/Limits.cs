using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Threading;
using Kiln.Kernels;

namespace Kiln.Benchmarks;

/// <summary>
/// <c>--limits</c>: what this machine can do, measured on 1 and N threads in the same process, as JSON for
/// benchmarks/peers/compare.sh and docs/perf/limits.md: the FMA peak (<see cref="FmaPeak"/>'s loop, best of many 2-ms
/// rounds), read bandwidth from buffers resident in L1, L2, L3 and DRAM, store bandwidth to DRAM (non-temporal and
/// ordinary), a cache line's round trip between two threads and the worker pool's empty-stage cost
/// (<see cref="PoolProbe"/>), and the benchmark models' work counted from their layers (<see cref="ModelWork"/>), so a
/// target can be turned into what it needs from the machine.
/// Bandwidth: every thread streams its own buffer (so "resident per core" for the cache levels); the threads start
/// each round together and a round lasts until the slowest one ends, so an N-thread figure is the bytes all threads
/// moved over that time. The best round is the limit (interference only ever slows a round), the median says how
/// disturbed the machine was.
/// Options: <c>--threads N</c> (default: every CPU), <c>--seconds S</c> per bandwidth probe and thread count
/// (default 0.25), <c>--quick</c> (0.06 s, fewer probe samples), <c>--no-fma</c>, <c>--pretty</c>.
/// </summary>
internal static class Limits
{
    /// <summary>A bandwidth probe: what it does and how many bytes each thread's buffer holds.</summary>
    internal sealed record Probe(string Name, ProbeKind Kind, long BytesPerThread, string Meaning);

    internal enum ProbeKind { Read, WriteNonTemporal, Write }

    /// <summary>
    /// The probes, smallest buffer first. 32 KiB fits any L1d; 0.5 and 0.9 MB fit a 1 MB L2 per core; 16 and 32 MiB
    /// show where L3 ends, which this project's VM does not report (lscpu lists no caches).
    /// </summary>
    internal static readonly Probe[] Probes =
    {
        new("read_l1", ProbeKind.Read, 32 << 10, "read, 32 KiB per thread (L1)"),
        new("read_l2_512k", ProbeKind.Read, 512 << 10, "read, 512 KiB per thread (L2)"),
        new("read_l2_896k", ProbeKind.Read, 896 << 10, "read, 896 KiB per thread (L2)"),
        new("read_l3_8m", ProbeKind.Read, 8 << 20, "read, 8 MiB per thread (L3)"),
        new("read_16m", ProbeKind.Read, 16 << 20, "read, 16 MiB per thread (L3 if it holds it, else DRAM)"),
        new("read_32m", ProbeKind.Read, 32 << 20, "read, 32 MiB per thread (L3 if it holds it, else DRAM)"),
        new("read_dram_64m", ProbeKind.Read, 64 << 20, "read, 64 MiB per thread (DRAM)"),
        new("write_nt_dram_64m", ProbeKind.WriteNonTemporal, 64 << 20, "non-temporal store, 64 MiB per thread (DRAM)"),
        new("write_dram_64m", ProbeKind.Write, 64 << 20, "ordinary store, 64 MiB per thread (DRAM, with write-allocate)"),
    };

    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount;
        double seconds = 0.25;
        bool pretty = false, quick = false, fma = true;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
                switch (a)
                {
                    case "--threads": threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--seconds": seconds = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--quick": quick = true; seconds = 0.06; break;
                    case "--no-fma": fma = false; break;
                    case "--pretty": pretty = true; break;
                    default: throw new ArgumentException($"unknown option '{a}'.");
                }
            }
            if (threads < 1 || !(seconds > 0)) throw new ArgumentException("--threads and --seconds must be positive.");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"--limits: {e.Message}");
            return 2;
        }

        int[] counts = threads == 1 ? new[] { 1 } : new[] { 1, threads };
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = pretty }))
        {
            w.WriteStartObject();
            w.WriteString("cpu_model", MachineProbes.CpuModel());
            w.WriteNumber("vector_bits", Vector512.IsHardwareAccelerated ? 512 : 256);
            w.WriteNumber("threads", threads);
            w.WriteString("seconds_per_probe", seconds.ToString("G", CultureInfo.InvariantCulture));
            if (fma)
            {
                w.WriteStartObject("fma");
                foreach (int n in counts)
                {
                    // Many short rounds: on a shared machine a 2-ms window without interference is far more likely
                    // than a 300-ms one (the --fma-peak side's rounds), and the best round is the figure.
                    FmaPeak.Result r = FmaPeak.Measure(n, 0.002, quick ? 30 : 100);
                    w.WriteStartObject($"threads_{n}");
                    w.WriteNumber("peak_gflop_per_s", Math.Round(r.Best, 1));
                    w.WriteNumber("median_gflop_per_s", Math.Round(r.Median, 1));
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }

            w.WriteStartObject("bandwidth");
            foreach (Probe p in Probes)
            {
                w.WriteStartObject(p.Name);
                w.WriteString("what", p.Meaning);
                w.WriteNumber("bytes_per_thread", p.BytesPerThread);
                foreach (int n in counts)
                {
                    Rounds r = Bandwidth(p, n, seconds);
                    w.WriteStartObject($"threads_{n}");
                    w.WriteNumber("best_gb_per_s", Math.Round(r.BestGbPerS, 2));
                    w.WriteNumber("median_gb_per_s", Math.Round(r.MedianGbPerS, 2));
                    w.WriteNumber("rounds", r.Count);
                    w.WriteNumber("bytes_per_round", r.BytesPerRound);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();

            if (threads > 1)
            {
                int samples = quick ? 60 : 300;
                w.WriteStartObject("cross_thread");
                Write(w, "cache_line_round_trip_us", PoolProbe.CacheLinePingPong(samples, 200));
                using (var pool = new WorkerPool(threads))
                {
                    Write(w, "pool_empty_stage_us", PoolProbe.EmptyStage(pool, samples, 50));
                    w.WriteNumber("pool_threads", pool.Parallelism);
                }
                Write(w, "yielding_wakeup_us", PoolProbe.YieldingWakeUp(quick ? 30 : 100));
                Write(w, "blocking_wakeup_us", PoolProbe.BlockingWakeUp(quick ? 30 : 100));
                w.WriteEndObject();
            }

            w.WriteStartObject("work");
            WriteWork(w, ModelWork.Of("mlp", new BenchMlp()));
            WriteWork(w, ModelWork.Of("cnn", new BenchCnn()));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
        return 0;
    }

    private static void Write(Utf8JsonWriter w, string name, ProbeTiming t)
    {
        w.WriteStartObject(name);
        w.WriteNumber("median", Math.Round(t.MedianUs, 4));
        w.WriteNumber("p90", Math.Round(t.P90Us, 4));
        w.WriteNumber("max", Math.Round(t.MaxUs, 2));
        w.WriteNumber("samples", t.Samples);
        w.WriteEndObject();
    }

    private static void WriteWork(Utf8JsonWriter w, ModelWork m)
    {
        w.WriteStartObject(m.Model);
        w.WriteNumber("train_flop_per_sample", m.TrainingFlopPerSample);
        w.WriteNumber("infer_flop_per_sample", m.InferenceFlopPerSample);
        w.WriteNumber("train_flop_executed_per_sample", m.TrainingFlopExecutedPerSample);
        w.WriteNumber("infer_flop_executed_per_sample", m.InferenceFlopExecutedPerSample);
        w.WriteNumber("product_weight_bytes", m.ProductWeightBytes);
        w.WriteNumber("parameter_floats", m.ParameterFloats);
        w.WriteNumber("adam_bytes_per_step", m.AdamBytesPerStep);
        w.WriteNumber("activation_bytes_per_sample", m.ActivationBytesPerSample);
        w.WriteStartArray("layers");
        foreach (LayerWork l in m.Layers)
        {
            w.WriteStartObject();
            w.WriteString("name", l.Name);
            w.WriteString("kind", l.Kind);
            w.WriteNumber("forward_macs", l.ForwardMacs);
            w.WriteNumber("winograd_macs", l.WinogradMacs);
            w.WriteNumber("product_floats", l.ProductFloats);
            w.WriteNumber("output_floats", l.OutputFloats);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    // ------------------------------------------------------------------------------------------ bandwidth

    internal readonly record struct Rounds(double BestGbPerS, double MedianGbPerS, int Count, long BytesPerRound);

    /// <summary>
    /// Rounds of <paramref name="threads"/> threads each streaming its own 64-byte-aligned buffer (touched first, so no
    /// page fault is timed) for about <paramref name="seconds"/>. Each round moves at least 4 MiB per thread (several
    /// passes over a small buffer) so its timestamps cost nothing; at least 5 rounds.
    /// </summary>
    internal static unsafe Rounds Bandwidth(Probe probe, int threads, double seconds)
    {
        long bytes = probe.BytesPerThread;
        int passes = (int)Math.Max(1, (4L << 20) / bytes);
        var buffers = new nint[threads];
        for (int t = 0; t < threads; t++)
        {
            buffers[t] = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
            new Span<float>((void*)buffers[t], (int)(bytes / sizeof(float))).Fill(1e-3f);
        }
        try
        {
            long[] start = new long[threads], end = new long[threads];
            var times = new System.Collections.Generic.List<long>();
            var barrier = new SpinBarrier(threads);
            bool stop = false;
            long deadline = 0;
            var workers = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int id = t;
                workers[t] = new Thread(() =>
                {
                    float* p = (float*)buffers[id];
                    long floats = bytes / sizeof(float);
                    Stream(probe.Kind, p, floats, 1); // this thread's first pass (code tier, TLB) untimed
                    while (true)
                    {
                        barrier.SignalAndWait();
                        if (Volatile.Read(ref stop)) break;
                        start[id] = Stopwatch.GetTimestamp();
                        Stream(probe.Kind, p, floats, passes);
                        end[id] = Stopwatch.GetTimestamp();
                        barrier.SignalAndWait();
                        if (id == 0)
                        {
                            long lo = long.MaxValue, hi = long.MinValue;
                            for (int k = 0; k < threads; k++) { lo = Math.Min(lo, start[k]); hi = Math.Max(hi, end[k]); }
                            times.Add(hi - lo);
                            if (deadline == 0) deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
                            Volatile.Write(ref stop, times.Count >= 5 && Stopwatch.GetTimestamp() >= deadline || times.Count >= 100_000);
                        }
                    }
                }) { IsBackground = true, Name = $"limits-{id}" };
                workers[t].Start();
            }
            foreach (Thread worker in workers) worker.Join();
            double roundBytes = (double)bytes * passes * threads;
            var gbs = new double[times.Count];
            for (int i = 0; i < gbs.Length; i++) gbs[i] = roundBytes / (times[i] / (double)Stopwatch.Frequency) * 1e-9;
            Array.Sort(gbs);
            return new Rounds(gbs[^1], MachineProbes.Median(gbs), gbs.Length, (long)roundBytes);
        }
        finally
        {
            foreach (nint b in buffers) NativeMemory.AlignedFree((void*)b);
        }
    }

    private static unsafe void Stream(ProbeKind kind, float* p, long floats, int passes)
    {
        switch (kind)
        {
            case ProbeKind.Read: Sink(Read(p, floats, passes)); break;
            case ProbeKind.WriteNonTemporal: WriteNonTemporal(p, floats, passes); break;
            default: Write(p, floats, passes); break;
        }
    }

    private static float _sink;

    private static void Sink(float value) => Volatile.Write(ref _sink, value);

    /// <summary>
    /// Sums <paramref name="passes"/> passes over <paramref name="floats"/> floats (a multiple of 128) into eight
    /// independent vector accumulators, so the adds never wait on each other and only the loads limit it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe float Read(float* p, long floats, int passes)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int r = 0; r < passes; r++)
                for (long i = 0; i < floats; i += 128)
                {
                    float* q = p + i;
                    a0 += Vector512.Load(q); a1 += Vector512.Load(q + 16); a2 += Vector512.Load(q + 32); a3 += Vector512.Load(q + 48);
                    a4 += Vector512.Load(q + 64); a5 += Vector512.Load(q + 80); a6 += Vector512.Load(q + 96); a7 += Vector512.Load(q + 112);
                }
            return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
        }
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        for (int r = 0; r < passes; r++)
            for (long i = 0; i < floats; i += 64)
            {
                float* q = p + i;
                b0 += Vector256.Load(q); b1 += Vector256.Load(q + 8); b2 += Vector256.Load(q + 16); b3 += Vector256.Load(q + 24);
                b4 += Vector256.Load(q + 32); b5 += Vector256.Load(q + 40); b6 += Vector256.Load(q + 48); b7 += Vector256.Load(q + 56);
            }
        return Vector256.Sum(((b0 + b1) + (b2 + b3)) + ((b4 + b5) + (b6 + b7)));
    }

    /// <summary>Ordinary vector stores over the buffer: each line is read for ownership before it is written.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Write(float* p, long floats, int passes)
    {
        for (int r = 0; r < passes; r++)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var v = Vector512.Create((float)r);
                for (long i = 0; i < floats; i += 64)
                {
                    v.Store(p + i); v.Store(p + i + 16); v.Store(p + i + 32); v.Store(p + i + 48);
                }
            }
            else
            {
                var v = Vector256.Create((float)r);
                for (long i = 0; i < floats; i += 32)
                {
                    v.Store(p + i); v.Store(p + i + 8); v.Store(p + i + 16); v.Store(p + i + 24);
                }
            }
        }
    }

    /// <summary>
    /// Non-temporal (streaming) stores over the 64-byte-aligned buffer, which bypass the caches and skip the read for
    /// ownership; ordinary stores where the CPU has no such instruction the runtime exposes.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void WriteNonTemporal(float* p, long floats, int passes)
    {
        if (!Avx512F.IsSupported && !Avx.IsSupported) { Write(p, floats, passes); return; }
        for (int r = 0; r < passes; r++)
        {
            if (Avx512F.IsSupported)
            {
                var v = Vector512.Create((float)r);
                for (long i = 0; i < floats; i += 64)
                {
                    Avx512F.StoreAlignedNonTemporal(p + i, v); Avx512F.StoreAlignedNonTemporal(p + i + 16, v);
                    Avx512F.StoreAlignedNonTemporal(p + i + 32, v); Avx512F.StoreAlignedNonTemporal(p + i + 48, v);
                }
            }
            else
            {
                var v = Vector256.Create((float)r);
                for (long i = 0; i < floats; i += 32)
                {
                    Avx.StoreAlignedNonTemporal(p + i, v); Avx.StoreAlignedNonTemporal(p + i + 8, v);
                    Avx.StoreAlignedNonTemporal(p + i + 16, v); Avx.StoreAlignedNonTemporal(p + i + 24, v);
                }
            }
        }
        Sse.StoreFence();
    }

    /// <summary>
    /// A reusable barrier whose waiters spin (yielding the core after a while, never sleeping a fixed time), so a round
    /// starts on every thread within a cache line's round trip of the last arrival.
    /// </summary>
    private sealed class SpinBarrier(int parties)
    {
        private readonly int _parties = parties;
        private int _remaining = parties;
        private int _generation;

        public void SignalAndWait()
        {
            int generation = Volatile.Read(ref _generation);
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                Volatile.Write(ref _remaining, _parties);
                Interlocked.Increment(ref _generation);
                return;
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == generation) spin.SpinOnce(-1);
        }
    }
}
