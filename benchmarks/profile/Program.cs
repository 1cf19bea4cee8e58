using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;
using Kiln;
using Kiln.Benchmarks;

// Per-stage profile of one training step of the benchmark MLP and CNN (docs/perf/training-profile.md).
// Each model is subclassed: the generated RunStageAvx512 / ComputeLoss / TrainCore overrides are wrapped with
// Stopwatch timestamps, so the timed code is exactly the generated training step (same shapes, same kernels).
// A stage's time in one step is max(end) − min(start) over its parts (1 part on 1 thread, 2 on 2 threads;
// it includes the pool's hand-off). Every figure is the minimum over the timed steps (the machine is shared;
// interference only ever slows a step), the median is printed next to it.
// Per product stage: FLOP (direct count and as run: Winograd where the runtime uses it) against the FMA peak; per
// memory-bound stage: bytes of one pass against the read bandwidth of the cache level they fit in, measured at start
// with the --limits probes; "% of roofline" is the time at that limit over the stage's minimum (docs/perf/limits.md).
// Usage: dotnet build benchmarks/profile -c Release, then
//   KILN_THREADS=1|2 dotnet benchmarks/profile/bin/Release/net10.0/Kiln.Profile.dll [--steps-scale 1.0] [--only mlp,mlp64,adam,cnn64,cnn256]
internal static class Program
{
    private static int Main(string[] args)
    {
        double scale = 1.0;
        for (int i = 0; i < args.Length; i++)
            if (args[i] == "--steps-scale") scale = double.Parse(args[++i], CultureInfo.InvariantCulture);
        if (!Vector512.IsHardwareAccelerated) { Console.Error.WriteLine("needs AVX-512"); return 2; }
        int threads = int.TryParse(Environment.GetEnvironmentVariable("KILN_THREADS"), out int t) ? t : Environment.ProcessorCount;
        Console.WriteLine($"# KILN_THREADS={threads}, AVX-512 path, {Environment.ProcessorCount} CPUs, load average {LoadAverage()}");
        double peak1 = FmaPeak(1), peakN = threads > 1 ? FmaPeak(threads) : peak1;
        Console.WriteLine($"FMA peak (16 chains of Vector512 FMA, best 0.4-ms slice per thread): 1 thread {peak1:F1} GFLOP/s, {threads} thread(s) {peakN:F1} GFLOP/s");
        s_roof = Roofline.Measure(threads, peakN);
        Console.WriteLine($"Read bandwidth on {threads} thread(s) (Kiln.Benchmarks --limits probes, best round): {s_roof}");
        Console.WriteLine();
        string only = "mlp,cnn64,cnn256";
        for (int i = 0; i < args.Length; i++)
            if (args[i] == "--only") only = args[++i];
        string[] runs = only.Split(',');
        if (runs.Contains("mlp")) Profile(new ProfiledMlp(), "MLP", 256, (int)(400 * scale), MlpBytes, peakN);
        if (runs.Contains("mlp64")) Profile(new ProfiledMlp(), "MLP", 64, (int)(1200 * scale), MlpBytes, peakN);
        if (runs.Contains("cnn64")) Profile(new ProfiledCnn(), "CNN", 64, (int)(150 * scale), CnnBytes, peakN);
        if (runs.Contains("adam")) AdamProbe();
        if (runs.Contains("cnn256")) Profile(new ProfiledCnn(), "CNN", 256, (int)(40 * scale), CnnBytes, peakN);
        Console.WriteLine($"FMA peak re-measured after the runs: {threads} thread(s) {(threads > 1 ? FmaPeak(threads) : FmaPeak(1)):F1} GFLOP/s");
        return 0;
    }

    /// <summary>
    /// FLOP per sample of each product stage, from the model's layers (Kiln.Benchmarks/LimitsWork.cs): layer "conv1"
    /// gives Conv1Forward, Conv1BackwardInput (direct-convolution count, and the count as run: Winograd where the
    /// runtime uses it) and Conv1BackwardWeights (direct). Returns (counted, executed).
    /// </summary>
    private static (Dictionary<string, long>, Dictionary<string, long>) StageFlops(ModelWork work)
    {
        var counted = new Dictionary<string, long>();
        var executed = new Dictionary<string, long>();
        foreach (LayerWork l in work.Layers)
        {
            if (l.ForwardMacs == 0) continue;
            string stage = char.ToUpperInvariant(l.Name[0]) + l.Name[1..];
            foreach (string pass in new[] { "Forward", "BackwardInput" })
            {
                counted[stage + pass] = 2 * l.ForwardMacs;
                executed[stage + pass] = 2 * l.WinogradMacs;
            }
            counted[stage + "BackwardWeights"] = executed[stage + "BackwardWeights"] = 2 * l.ForwardMacs;
        }
        return (counted, executed);
    }

    // Bytes per sample of the memory-bound stages: one pass over each tensor the stage reads or writes (a lower bound;
    // the kernels may make more passes, from cache), and the distinct bytes among them (a gradient rewritten in place
    // counts once), which decide the cache level the stage's roofline is taken from. The loss (exp-bound) and the rest
    // of TrainCore are not memory-bound and have no entry.
    private static readonly Dictionary<string, (long Moved, long Distinct)> MlpBytes = new()
    {
        ["Bn0Forward"] = (3 * 1024, 3 * 1024), ["Bn1Forward"] = (2 * 512, 2 * 512), ["Bn1Backward"] = (3 * 512, 2 * 512),
        ["Bn0Backward"] = (4 * 1024, 3 * 1024),
    };
    // The fused BatchNorm → ReLU → 2×2 max-pool stages (docs/perf/bn-pool-fusion.md): statistics read the conv output
    // (conv0: 12,544 floats = 50,176 B per sample; conv1: 25,088 B); the forward reads it and writes the activations,
    // the pooled output and its argmax (a quarter each); the backward sums read the conv output, the pooled gradient
    // and the argmax and write the full-size gradient; the backward reads the conv output and that gradient and
    // rewrites the gradient in place. Relu2 (with dropout): activations, mask, output (forward), and the gradient.
    private static readonly Dictionary<string, (long Moved, long Distinct)> CnnBytes = new()
    {
        ["Bn0Statistics"] = (50176, 50176), ["Bn0Forward"] = (2 * 50176 + 2 * 12544, 2 * 50176 + 2 * 12544),
        ["Bn0BackwardSums"] = (2 * 50176 + 2 * 12544, 2 * 50176 + 2 * 12544), ["Bn0Backward"] = (3 * 50176, 2 * 50176),
        ["Bn1Statistics"] = (25088, 25088), ["Bn1Forward"] = (2 * 25088 + 2 * 6272, 2 * 25088 + 2 * 6272),
        ["Bn1BackwardSums"] = (2 * 25088 + 2 * 6272, 2 * 25088 + 2 * 6272), ["Bn1Backward"] = (3 * 25088, 2 * 25088),
        ["Relu2Forward"] = (3 * 512, 3 * 512), ["Relu2Backward"] = (4 * 512, 3 * 512),
    };

    private static Roofline s_roof = null!;

    private static void Profile(IProfiled model, string name, int batch, int steps, Dictionary<string, (long Moved, long Distinct)> bytes, double peak)
    {
        ModelWork work = ModelWork.Of(name, (IKilnModel)model);
        (Dictionary<string, long> flops, Dictionary<string, long> executed) = StageFlops(work);
        long flopPerSample = work.TrainingFlopPerSample;
        var rng = new Random(1);
        var x = new float[batch * 784];
        var y = new int[batch];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        for (int i = 0; i < y.Length; i++) y[i] = rng.Next(10);
        var km = (KilnModel)model;
        var rec = model.Recorder;
        foreach (bool update in new[] { true, false })
        {
            // Warm-up: tier-1 JIT of every kernel (TieredPGO), then a pause for the background compiler.
            for (int i = 0; i < Math.Max(60, steps / 2); i++) Step(km, x, y, batch, update);
            Thread.Sleep(300);
            for (int i = 0; i < Math.Max(20, steps / 4); i++) Step(km, x, y, batch, update);
            rec.Reset(steps);
            for (int i = 0; i < steps; i++)
            {
                rec.BeginStep();
                long s0 = Stopwatch.GetTimestamp();
                Step(km, x, y, batch, update);
                rec.EndStep(Stopwatch.GetTimestamp() - s0);
            }
            Report(rec, name, batch, update, flops, executed, bytes, flopPerSample, peak);
        }
    }

    private static void Step(KilnModel m, float[] x, int[] y, int batch, bool update)
    {
        if (update) m.TrainStep(x, y, batch); else m.ComputeGradients(x, y, batch);
    }

    private static void Report(Recorder r, string name, int batch, bool update, Dictionary<string, long> flops, Dictionary<string, long> executed,
        Dictionary<string, (long Moved, long Distinct)> bytes, long flopPerSample, double peak)
    {
        double tick = 1e6 / Stopwatch.Frequency; // µs per tick
        double stepMin = r.StepTicks.Min() * tick, stepMed = Median(r.StepTicks) * tick;
        Console.WriteLine($"## {name} batch {batch}, {(update ? "TrainStep (with Adam)" : "ComputeGradients (no update)")}, {r.Steps} steps");
        double eff = flopPerSample * (double)batch / (stepMin * 1e3);
        Console.WriteLine($"step: min {stepMin:F1} µs, median {stepMed:F1} µs; {batch / stepMin * 1e6:F0} samples/s; {eff:F1} GFLOP/s = {100 * eff / peak:F0}% of FMA peak");
        Console.WriteLine();
        // "longest part": min over steps of the slowest part's own duration; wall − longest part is the hand-off (a part
        // that starts late because its worker thread was not running).
        // FLOP: direct count (as the efficiency figures count it); "as run": Winograd where the runtime uses it, the
        // numerator of "% of roofline" for a product stage (against the FMA peak). A byte-counted stage's roofline is
        // the read bandwidth of the level its bytes fit in (Roofline.For); time at roofline = its work at that limit.
        Console.WriteLine("| stage | min µs | median µs | share of step (min) | FLOP | FLOP as run | GFLOP/s as run | bytes (1 pass) | GB/s | roofline | time at roofline µs | % of roofline | longest part, min µs |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|");
        double sum = 0, sumRoof = 0;
        foreach (var (label, ticks, busy) in r.Rows())
        {
            double min = ticks.Min() * tick, med = Median(ticks) * tick;
            sum += min;
            string f = "", fx = "", g = "", b = "", bw = "", roof = "", atRoof = "", pct = "";
            double ideal = double.NaN;
            if (flops.TryGetValue(label, out long fl))
            {
                double run = executed[label] * (double)batch;
                f = Fmt(fl * (double)batch); fx = Fmt(run); g = F1(run / (min * 1e3));
                ideal = run / (peak * 1e3);
                roof = $"FMA {peak:F0} GFLOP/s";
            }
            else if (bytes.TryGetValue(label, out var by))
            {
                double total = by.Moved * (double)batch;
                b = Fmt(total); bw = F1(total / (min * 1e3));
                (string level, double gbs) = s_roof.For(by.Distinct * (double)batch);
                ideal = total / (gbs * 1e3);
                roof = $"{level} {gbs:F0} GB/s";
            }
            if (!double.IsNaN(ideal)) { sumRoof += ideal; atRoof = F1(ideal); pct = $"{100 * ideal / min:F0}%"; }
            Console.WriteLine($"| {label} | {min:F1} | {med:F1} | {100 * min / stepMin:F1}% | {f} | {fx} | {g} | {b} | {bw} | {roof} | {atRoof} | {pct} | {busy.Min() * tick:F1} |");
        }
        Console.WriteLine($"| (sum of stage minima) | {sum:F1} | | {100 * sum / stepMin:F1}% | | | | | | | {sumRoof:F1} | | |");
        Console.WriteLine();
    }

    private static string F1(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
    private static string Fmt(double v) => v >= 1e6 ? $"{v / 1e6:F2} M" : v >= 1e3 ? $"{v / 1e3:F1} k" : $"{v:F0}";
    private static double Median(long[] v) { var s = (long[])v.Clone(); Array.Sort(s); return s[s.Length / 2]; }
    private static string LoadAverage() { try { return System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]; } catch { return "?"; } }

    // ------------------------------------------------------------------ Adam: memory- or compute-bound?

    // Adam over dense0's 200,704 weights (one Apply over the whole tensor, AVX-512), against (a) a stream over the same
    // seven arrays' worth of bytes (read w, g, m, v; write w, m, v) with one add per array: the memory limit at this
    // footprint, and (b) Adam on a 4,096-float slice that stays in L1, scaled to the tensor: the arithmetic limit.
    // Minimum over 300 repetitions each.
    private static void AdamProbe()
    {
        const int n = 200_704, slice = 4096, reps = 300;
        var rng = new Random(2);
        float[] Fill(double scale) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() - 0.5) * scale); return a; }
        float[] w = Fill(0.1), g = Fill(0.01), m = Fill(0.001), v = Fill(0);
        for (int i = 0; i < n; i++) v[i] = Math.Abs(v[i]) + 1e-6f;
        var step = new Kiln.Kernels.OptimizerStep(Kiln.Kernels.OptimizerKind.Adam, 1e-3f, 0.9f, 0.999f, 1e-8f, 10);
        double Min(Action a)
        {
            for (int i = 0; i < 20; i++) a();
            long best = long.MaxValue;
            for (int i = 0; i < reps; i++) { long t0 = Stopwatch.GetTimestamp(); a(); best = Math.Min(best, Stopwatch.GetTimestamp() - t0); }
            return best * 1e6 / Stopwatch.Frequency;
        }
        double adam = Min(() => step.Apply<Kiln.Kernels.Avx512Path>(w, g, m, v));
        double stream = Min(() => StreamSevenArrays(w, g, m, v));
        double l1 = Min(() => step.Apply<Kiln.Kernels.Avx512Path>(w.AsSpan(0, slice), g.AsSpan(0, slice), m.AsSpan(0, slice), v.AsSpan(0, slice))) * n / slice;
        double bytes = 7.0 * 4 * n;
        Console.WriteLine($"## Adam over {n} floats ({bytes / 1e6:F2} MB moved), min of {reps}");
        Console.WriteLine($"Adam Apply: {adam:F1} µs ({bytes / adam / 1e3:F1} GB/s); stream of the same bytes: {stream:F1} µs ({bytes / stream / 1e3:F1} GB/s); Adam arithmetic alone (L1-resident slice, scaled): {l1:F1} µs");
        Console.WriteLine();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StreamSevenArrays(float[] w, float[] g, float[] m, float[] v)
    {
        for (int i = 0; i + 16 <= w.Length; i += 16)
        {
            var gv = Vector512.LoadUnsafe(ref g[0], (nuint)i);
            var mv = Vector512.LoadUnsafe(ref m[0], (nuint)i) + gv;
            var vv = Vector512.LoadUnsafe(ref v[0], (nuint)i) + gv;
            (Vector512.LoadUnsafe(ref w[0], (nuint)i) + mv * 1e-30f + vv * 1e-30f).StoreUnsafe(ref w[0], (nuint)i);
            mv.StoreUnsafe(ref m[0], (nuint)i);
            vv.StoreUnsafe(ref v[0], (nuint)i);
        }
    }

    // ------------------------------------------------------------------ FMA peak
    // The stages are timed as minima over short intervals, so the peak is too: each thread runs 600 slices of
    // 50,000 iterations (16 FMA on Vector512 each, about 0.3–0.5 ms) and keeps its fastest slice; the N-thread
    // peak is the sum of the threads' best slices. Long rounds on this loaded machine never run undisturbed.
    private static double FmaPeak(int threads)
    {
        const long iterations = 50_000;
        var best = new double[threads];
        var ts = new Thread[threads];
        using var go = new ManualResetEventSlim();
        for (int i = 0; i < threads; i++)
        {
            int k = i;
            ts[i] = new Thread(() =>
            {
                go.Wait();
                for (int r = 0; r < 600; r++)
                {
                    long s = Stopwatch.GetTimestamp();
                    Fma(iterations);
                    best[k] = Math.Max(best[k], iterations * 16.0 * 32 / Stopwatch.GetElapsedTime(s).TotalSeconds / 1e9);
                }
            });
            ts[i].Start();
        }
        go.Set();
        foreach (var th in ts) th.Join();
        return best.Sum();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma(long n)
    {
        var m = Vector512.Create(0.999999f); var a = Vector512.Create(1e-7f);
        Vector512<float> v0 = a, v1 = a, v2 = a, v3 = a, v4 = a, v5 = a, v6 = a, v7 = a, v8 = a, v9 = a, v10 = a, v11 = a, v12 = a, v13 = a, v14 = a, v15 = a;
        for (long i = 0; i < n; i++)
        {
            v0 = Vector512.FusedMultiplyAdd(v0, m, a); v1 = Vector512.FusedMultiplyAdd(v1, m, a); v2 = Vector512.FusedMultiplyAdd(v2, m, a); v3 = Vector512.FusedMultiplyAdd(v3, m, a);
            v4 = Vector512.FusedMultiplyAdd(v4, m, a); v5 = Vector512.FusedMultiplyAdd(v5, m, a); v6 = Vector512.FusedMultiplyAdd(v6, m, a); v7 = Vector512.FusedMultiplyAdd(v7, m, a);
            v8 = Vector512.FusedMultiplyAdd(v8, m, a); v9 = Vector512.FusedMultiplyAdd(v9, m, a); v10 = Vector512.FusedMultiplyAdd(v10, m, a); v11 = Vector512.FusedMultiplyAdd(v11, m, a);
            v12 = Vector512.FusedMultiplyAdd(v12, m, a); v13 = Vector512.FusedMultiplyAdd(v13, m, a); v14 = Vector512.FusedMultiplyAdd(v14, m, a); v15 = Vector512.FusedMultiplyAdd(v15, m, a);
        }
        var s = v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11 + v12 + v13 + v14 + v15;
        return Vector512.Sum(s);
    }
}

internal interface IProfiled { Recorder Recorder { get; } }

/// <summary>
/// The read bandwidths a memory-bound stage is measured against, on the profile's thread count: the best round of the
/// --limits read probes (Kiln.Benchmarks/Limits.cs), 896 KiB (L2), 8, 16, 32 MiB (L3 as far as it holds) and 64 MiB
/// (DRAM) per thread. A stage is held to the bandwidth of the smallest probe whose buffers together hold its distinct
/// bytes, i.e. of a plain streaming read of a working set that size; read bandwidth, so a stage that also writes can
/// stay below 100 %, and one whose data is partly still in a nearer cache can exceed it.
/// </summary>
internal sealed record Roofline((string Level, long Bytes, double GbPerS)[] Levels)
{
    public static Roofline Measure(int threads, double peak)
    {
        var levels = new List<(string, long, double)>();
        foreach (string name in new[] { "read_l2_896k", "read_l3_8m", "read_16m", "read_32m", "read_dram_64m" })
        {
            Limits.Probe p = Limits.Probes.Single(q => q.Name == name);
            string level = name == "read_l2_896k" ? "L2" : name == "read_dram_64m" ? "DRAM" : $"{p.BytesPerThread * threads >> 20} MiB";
            levels.Add((level, name == "read_dram_64m" ? long.MaxValue : p.BytesPerThread * threads, Limits.Bandwidth(p, threads, 0.3).BestGbPerS));
        }
        return new Roofline(levels.ToArray());
    }

    public (string Level, double GbPerS) For(double bytes)
    {
        foreach (var (level, size, gbs) in Levels)
            if (bytes <= size) return (level, gbs);
        return (Levels[^1].Level, Levels[^1].GbPerS);
    }

    public override string ToString() =>
        string.Join(", ", Levels.Select(l => l.Bytes == long.MaxValue ? $"{l.Level} {l.GbPerS:F1} GB/s" : $"{l.Level} (up to {l.Bytes >> 10} KiB) {l.GbPerS:F1} GB/s"));
}

/// <summary>Per-step start/end timestamps of every stage part, plus the loss and TrainCore.</summary>
internal sealed class Recorder
{
    private const int MaxParts = 8;
    private readonly string[] _names;
    private readonly long[,] _start, _end;
    private long _lossTicks, _coreTicks;
    private List<long[]> _stage = new(), _busy = new();
    private long[] _loss = Array.Empty<long>(), _core = Array.Empty<long>(), _outer = Array.Empty<long>(), _rest = Array.Empty<long>();
    private int _step;
    public long[] StepTicks = Array.Empty<long>();
    public int Steps => _step;

    public Recorder(Type model)
    {
        var stages = model.GetNestedType("Stages", BindingFlags.NonPublic)!;
        var fields = stages.GetFields(BindingFlags.Public | BindingFlags.Static);
        _names = new string[fields.Length];
        foreach (var f in fields) _names[(int)f.GetRawConstantValue()!] = f.Name;
        _start = new long[_names.Length, MaxParts];
        _end = new long[_names.Length, MaxParts];
    }

    public void Reset(int steps)
    {
        _step = 0;
        _stage = _names.Select(_ => new long[steps]).ToList();
        _busy = _names.Select(_ => new long[steps]).ToList();
        _loss = new long[steps]; _core = new long[steps]; _outer = new long[steps]; _rest = new long[steps]; StepTicks = new long[steps];
    }

    public void BeginStep() { Array.Clear(_start); Array.Clear(_end); }

    public void Stage(int stage, int part, long start, long end) { _start[stage, part] = start; _end[stage, part] = end; }
    public void Loss(long ticks) => _lossTicks = ticks;
    public void Core(long ticks) => _coreTicks = ticks;

    public void EndStep(long stepTicks)
    {
        long stagesTotal = 0;
        for (int s = 0; s < _names.Length; s++)
        {
            long lo = long.MaxValue, hi = 0, busy = 0;
            for (int p = 0; p < MaxParts; p++)
                if (_end[s, p] != 0) { lo = Math.Min(lo, _start[s, p]); hi = Math.Max(hi, _end[s, p]); busy = Math.Max(busy, _end[s, p] - _start[s, p]); }
            _busy[s][_step] = busy;
            long wall = hi == 0 ? 0 : hi - lo;
            _stage[s][_step] = wall;
            stagesTotal += wall;
        }
        _loss[_step] = _lossTicks;
        _core[_step] = _coreTicks;
        _rest[_step] = _coreTicks - stagesTotal - _lossTicks;
        _outer[_step] = stepTicks - _coreTicks;
        StepTicks[_step] = stepTicks;
        _step++;
    }

    /// <summary>Per row: the label, its time per step, and the time of its longest part per step (the same on 1 thread).</summary>
    public IEnumerable<(string, long[], long[])> Rows()
    {
        for (int s = 0; s < _names.Length; s++)
            if (_stage[s].Any(v => v != 0)) yield return (_names[s], _stage[s], _busy[s]);
        yield return ("(loss)", _loss, _loss);
        yield return ("(rest of TrainCore)", _rest, _rest);
        yield return ("(outside TrainCore: input copy, NaN check)", _outer, _outer);
    }
}

internal sealed class ProfiledMlp : BenchMlp, IProfiled
{
    public Recorder Recorder { get; } = new(typeof(BenchMlp));
    public ProfiledMlp() : base(IsaPath.Avx512) { }
    protected override void RunStageAvx512(int stage, int part, int parts)
    {
        long s = Stopwatch.GetTimestamp();
        base.RunStageAvx512(stage, part, parts);
        Recorder.Stage(stage, part, s, Stopwatch.GetTimestamp());
    }
    protected override float ComputeLoss(bool useLabels, bool withGradient)
    {
        long s = Stopwatch.GetTimestamp();
        float l = base.ComputeLoss(useLabels, withGradient);
        Recorder.Loss(Stopwatch.GetTimestamp() - s);
        return l;
    }
    protected override float TrainCore(bool useLabels, bool update)
    {
        long s = Stopwatch.GetTimestamp();
        float l = base.TrainCore(useLabels, update);
        Recorder.Core(Stopwatch.GetTimestamp() - s);
        return l;
    }
}

internal sealed class ProfiledCnn : BenchCnn, IProfiled
{
    public Recorder Recorder { get; } = new(typeof(BenchCnn));
    public ProfiledCnn() : base(IsaPath.Avx512) { }
    protected override void RunStageAvx512(int stage, int part, int parts)
    {
        long s = Stopwatch.GetTimestamp();
        base.RunStageAvx512(stage, part, parts);
        Recorder.Stage(stage, part, s, Stopwatch.GetTimestamp());
    }
    protected override float ComputeLoss(bool useLabels, bool withGradient)
    {
        long s = Stopwatch.GetTimestamp();
        float l = base.ComputeLoss(useLabels, withGradient);
        Recorder.Loss(Stopwatch.GetTimestamp() - s);
        return l;
    }
    protected override float TrainCore(bool useLabels, bool update)
    {
        long s = Stopwatch.GetTimestamp();
        float l = base.TrainCore(useLabels, update);
        Recorder.Core(Stopwatch.GetTimestamp() - s);
        return l;
    }
}
