using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Runtime.Intrinsics;
using Kiln;
using Kiln.Benchmarks;

// Per-stage breakdown of a batch-1 Predict of the benchmark CNN and MLP (docs/perf/predict-b1.md). Each model is subclassed
// and its generated RunStage override wrapped with timestamps, so the timed code is exactly the generated inference
// forward. Per call and stage: the stage's wall time (first part's start to last part's end), its parts' busy times, and
// which arm it ran (1 part or all). The rest of a call (input copy, checks, softmax, the pool's hand-off before the first
// part starts) is the call's time minus its stages'. Every figure is the minimum over the calls (interference only slows
// a call) with the median beside it; the machine this runs on is usually shared.
// Usage: dotnet build benchmarks/PredictStages -c Release, then
//   KILN_THREADS=1|2 dotnet benchmarks/PredictStages/bin/Release/net10.0/Kiln.PredictStages.dll [--calls 4000] [--only cnn,mlp] [--isa avx512|avx2|portable]
// or, for the floor (reading a layer's weights from cache on 1 and 2 threads, CacheRead.cs):
//   dotnet benchmarks/PredictStages/bin/Release/net10.0/Kiln.PredictStages.dll --bandwidth [--sizes 940,470,401,131] [--calls 4000]
// and one thread's half of the MLP's first layer on the packed and a row-major layout (GemvProbe.cs): --gemv
// and the MLP's float32 batch-1 Predict next to its bf16 and int8 predictors (LowPrecisionProbe.cs): --low-precision
internal static class Program
{
    private static int Main(string[] args)
    {
        int calls = 4000;
        string only = "cnn,mlp";
        bool bandwidth = false, gemv = false, lowPrecision = false;
        int[] sizes = { 940, 470, 401, 131 };
        IsaPath isa = Vector512.IsHardwareAccelerated ? IsaPath.Avx512 : Vector256.IsHardwareAccelerated ? IsaPath.Avx2 : IsaPath.Portable;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--calls": calls = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--only": only = args[++i]; break;
                case "--isa": isa = Enum.Parse<IsaPath>(args[++i], ignoreCase: true); break;
                case "--bandwidth": bandwidth = true; break;
                case "--gemv": gemv = true; break;
                case "--low-precision": lowPrecision = true; break;
                case "--sizes": sizes = args[++i].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray(); break;
                default: Console.Error.WriteLine($"unknown option '{args[i]}'"); return 2;
            }
        }
        string threads = Environment.GetEnvironmentVariable("KILN_THREADS") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine($"# KILN_THREADS={threads}, {isa} path, {Environment.ProcessorCount} CPUs, load average {LoadAverage()}, {calls} timed calls");
        if (bandwidth || gemv || lowPrecision)
        {
            if (bandwidth) CacheRead.Run(sizes, calls);
            if (gemv) GemvProbe.Run(calls, isa);
            if (lowPrecision) LowPrecisionProbe.Run(calls);
            return 0;
        }
        if (only.Contains("cnn")) Run("CNN", new StagedCnn(isa), calls);
        if (only.Contains("mlp")) Run("MLP", new StagedMlp(isa), calls);
        return 0;
    }

    private static void Run(string name, IStaged model, int calls)
    {
        var rnd = new Random(1);
        var inputs = new float[784 * 256];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(rnd.NextDouble() * 2 - 1);
        var labels = new int[256];
        for (int i = 0; i < labels.Length; i++) labels[i] = rnd.Next(10);
        var outputs = new float[10];
        var m = (IKilnModel)model;
        for (int s = 0; s < 4; s++) m.TrainStep(inputs, labels, 256);   // running statistics that are not the identity
        ReadOnlySpan<float> x = inputs.AsSpan(0, 784);
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 1.0) m.Predict(x, outputs, 1);
        Recorder rec = model.Recorder;
        rec.Reset(calls);
        for (int i = 0; i < calls; i++)
        {
            rec.BeginCall();
            long t0 = Stopwatch.GetTimestamp();
            m.Predict(x, outputs, 1);
            rec.EndCall(Stopwatch.GetTimestamp() - t0);
        }
        rec.Print(name);
    }

    private static string LoadAverage()
    {
        try { return System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (System.IO.IOException) { return "?"; }
    }
}

internal interface IStaged
{
    Recorder Recorder { get; }
}

/// <summary>Per call: each stage's parts' start and end (any thread), then per-stage and per-call figures.</summary>
internal sealed class Recorder
{
    private const int MaxParts = 64;
    private readonly string[] _names;
    private readonly long[,] _start, _end;
    private readonly int[] _parts;
    private readonly List<int> _order = new();
    private double[][] _wall = Array.Empty<double[]>(), _busy = Array.Empty<double[]>();
    private int[] _wide = Array.Empty<int>(), _seen = Array.Empty<int>();
    private double[] _call = Array.Empty<double>(), _rest = Array.Empty<double>();
    private int _n;

    public Recorder(Type model)
    {
        var fields = model.GetNestedType("Stages", BindingFlags.NonPublic)!.GetFields(BindingFlags.Public | BindingFlags.Static);
        _names = new string[fields.Max(f => (int)f.GetRawConstantValue()!) + 1];
        foreach (var f in fields) _names[(int)f.GetRawConstantValue()!] = f.Name;
        _start = new long[_names.Length, MaxParts];
        _end = new long[_names.Length, MaxParts];
        _parts = new int[_names.Length];
    }

    public void Reset(int calls)
    {
        _n = 0;
        _wall = _names.Select(_ => new double[calls]).ToArray();
        _busy = _names.Select(_ => new double[calls]).ToArray();
        _wide = new int[_names.Length];
        _seen = new int[_names.Length];
        _call = new double[calls];
        _rest = new double[calls];
        _order.Clear();
    }

    public void BeginCall() => Array.Clear(_parts);

    /// <summary>Called by each part (on its own thread) around the generated stage code.</summary>
    public void Stage(int stage, int part, int parts, long start, long end)
    {
        _start[stage, part] = start;
        _end[stage, part] = end;
        if (part == 0) _parts[stage] = parts;
    }

    public void EndCall(long ticks)
    {
        if (_n >= _call.Length) return;
        double us = 1e6 / Stopwatch.Frequency, stages = 0;
        for (int s = 0; s < _names.Length; s++)
        {
            int parts = _parts[s];
            if (parts == 0) continue;
            if (_seen[s]++ == 0) _order.Add(s);
            long first = long.MaxValue, last = long.MinValue, busy = 0;
            for (int p = 0; p < parts; p++)
            {
                first = Math.Min(first, _start[s, p]);
                last = Math.Max(last, _end[s, p]);
                busy = Math.Max(busy, _end[s, p] - _start[s, p]);
            }
            _wall[s][_n] = (last - first) * us;
            _busy[s][_n] = busy * us;
            if (parts > 1) _wide[s]++;
            stages += (last - first) * us;
        }
        _call[_n] = ticks * us;
        _rest[_n] = ticks * us - stages;
        _n++;
    }

    public void Print(string model)
    {
        Console.WriteLine($"{model} batch-1 Predict, {_n} calls: per stage min / median µs (wall: first part's start to last part's end; part: the slowest part's own time)");
        Console.WriteLine($"  {"stage",-22} {"wide calls",10} {"wall min",9} {"wall med",9} {"part min",9} {"part med",9}");
        double sumMin = 0;
        foreach (int s in _order)
        {
            double[] wall = Present(_wall[s], _n), busy = Present(_busy[s], _n);
            sumMin += wall[0];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {_names[s],-22} {100.0 * _wide[s] / _n,9:F0}% {wall[0],9:F2} {Median(wall),9:F2} {busy[0],9:F2} {Median(busy),9:F2}"));
        }
        double[] call = Sorted(_call, _n), rest = Sorted(_rest, _n);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"outside the stages",-22} {"",10} {rest[0],9:F2} {Median(rest),9:F2}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"whole Predict",-22} {"",10} {call[0],9:F2} {Median(call),9:F2}   (p10 {call[_n / 10]:F2}, p90 {call[_n * 9 / 10]:F2}; stage minima add up to {sumMin:F2})"));
        Console.WriteLine();
    }

    private static double[] Sorted(double[] a, int n)
    {
        var c = a.AsSpan(0, n).ToArray();
        Array.Sort(c);
        return c;
    }

    // A stage that runs only in some calls (none at batch 1 here, but a model may branch) is summarised over those.
    private static double[] Present(double[] a, int n) => Sorted(a, n).Where(v => v > 0).DefaultIfEmpty(0).ToArray();

    private static double Median(double[] sorted) => sorted[sorted.Length / 2];
}

internal sealed class StagedCnn : BenchCnn, IStaged
{
    public Recorder Recorder { get; } = new(typeof(BenchCnn));
    public StagedCnn(IsaPath isa) : base(isa) { }
    protected override void RunStageAvx512(int stage, int part, int parts) { long s = Stopwatch.GetTimestamp(); base.RunStageAvx512(stage, part, parts); Recorder.Stage(stage, part, parts, s, Stopwatch.GetTimestamp()); }
    protected override void RunStageAvx2(int stage, int part, int parts) { long s = Stopwatch.GetTimestamp(); base.RunStageAvx2(stage, part, parts); Recorder.Stage(stage, part, parts, s, Stopwatch.GetTimestamp()); }
    protected override void RunStagePortable(int stage, int part, int parts) { long s = Stopwatch.GetTimestamp(); base.RunStagePortable(stage, part, parts); Recorder.Stage(stage, part, parts, s, Stopwatch.GetTimestamp()); }
}

internal sealed class StagedMlp : BenchMlp, IStaged
{
    public Recorder Recorder { get; } = new(typeof(BenchMlp));
    public StagedMlp(IsaPath isa) : base(isa) { }
    protected override void RunStageAvx512(int stage, int part, int parts) { long s = Stopwatch.GetTimestamp(); base.RunStageAvx512(stage, part, parts); Recorder.Stage(stage, part, parts, s, Stopwatch.GetTimestamp()); }
    protected override void RunStageAvx2(int stage, int part, int parts) { long s = Stopwatch.GetTimestamp(); base.RunStageAvx2(stage, part, parts); Recorder.Stage(stage, part, parts, s, Stopwatch.GetTimestamp()); }
    protected override void RunStagePortable(int stage, int part, int parts) { long s = Stopwatch.GetTimestamp(); base.RunStagePortable(stage, part, parts); Recorder.Stage(stage, part, parts, s, Stopwatch.GetTimestamp()); }
}
