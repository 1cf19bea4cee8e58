using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using Kiln;

namespace Kiln.Grid;

/// <summary>
/// Kiln's side of the scaling grid (benchmarks/grid/run.py). For each selected model of
/// <see cref="GridModels"/> and each batch size, prints one JSON line per measured point:
/// <c>{"model", "batch", "kind": "train"|"infer", "seconds": median seconds per operation, "rounds": [...]}</c>.
/// Training: warm-up, then <c>--rounds</c> rounds of back-to-back TrainStep calls (each at least
/// <c>--round-seconds</c>), each round timed as a whole; the median round's time per step.
/// Inference: every Predict call timed on its own for at least <c>--round-seconds</c> × rounds; the median.
/// Options: <c>--models A,B|all</c>, <c>--batches 1,16,...</c>, <c>--threads N</c>, <c>--round-seconds S</c>,
/// <c>--rounds R</c>, <c>--list</c>.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var opt = new Dictionary<string, string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                Console.Error.WriteLine($"Kiln.Grid: unexpected argument '{args[i]}'.");
                return 2;
            }
            string key = args[i][2..];
            opt[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }

        if (opt.ContainsKey("list"))
        {
            foreach (var (name, _) in GridModels.All) Console.WriteLine(name);
            return 0;
        }
        // Must happen before the first model (and with it the runtime's worker pool) exists.
        if (opt.TryGetValue("threads", out string? threads)) Environment.SetEnvironmentVariable("KILN_THREADS", threads);

        string models = opt.GetValueOrDefault("models", "all");
        var selected = models == "all"
            ? GridModels.All
            : models.Split(',').Select(n => GridModels.All.FirstOrDefault(m => m.Name == n)).ToArray();
        if (selected.Any(m => m.Create is null))
        {
            Console.Error.WriteLine($"Kiln.Grid: unknown model in '{models}'; --list prints the names.");
            return 2;
        }
        int[]? batches = opt.TryGetValue("batches", out string? b)
            ? b.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray()
            : null;
        double roundSeconds = double.Parse(opt.GetValueOrDefault("round-seconds", "0.25"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(opt.GetValueOrDefault("rounds", "3"), CultureInfo.InvariantCulture);

        foreach (var (name, create) in selected)
        {
            IKilnModel model = create();
            var rng = new Random(42);
            var x = new float[model.MaxBatch * model.InputSize];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * 1.7f;
            var y = new int[model.MaxBatch];
            for (int i = 0; i < y.Length; i++) y[i] = rng.Next(model.OutputSize);

            foreach (int batch in batches ?? DefaultBatches(model))
            {
                if (batch > model.MaxBatch) continue;
                var xs = x.AsSpan(0, batch * model.InputSize).ToArray();
                var ys = y.AsSpan(0, batch).ToArray();
                var outs = new float[batch * model.OutputSize];
                double[] train = TimeRounds(() => model.TrainStep(xs, ys, batch), rounds, roundSeconds);
                Write(name, batch, "train", train);
                double[] infer = TimeCalls(() => model.Predict(xs, outs, batch), rounds, roundSeconds);
                Write(name, batch, "infer", infer);
            }
            (model as IDisposable)?.Dispose();
            model = null!;
            GC.Collect();
        }
        return 0;
    }

    private static int[] DefaultBatches(IKilnModel model) =>
        new[] { 1, 16, 64, 256, 1024 }.Where(b => b <= model.MaxBatch).ToArray();

    /// <summary>Warm-up (3 calls and a quarter of a second), then rounds of back-to-back calls; seconds per call of each round.</summary>
    private static double[] TimeRounds(Action op, int rounds, double roundSeconds)
    {
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warm.Elapsed.TotalSeconds < roundSeconds; i++) op();
        var result = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            var clock = Stopwatch.StartNew();
            int calls = 0;
            do { op(); calls++; } while (calls < 2 || clock.Elapsed.TotalSeconds < roundSeconds);
            result[r] = clock.Elapsed.TotalSeconds / calls;
        }
        return result;
    }

    /// <summary>Warm-up as <see cref="TimeRounds"/>, then each call timed on its own for rounds × roundSeconds.</summary>
    private static double[] TimeCalls(Action op, int rounds, double roundSeconds)
    {
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warm.Elapsed.TotalSeconds < roundSeconds / 2; i++) op();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || total.Elapsed.TotalSeconds < rounds * roundSeconds)
        {
            long start = Stopwatch.GetTimestamp();
            op();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return times.ToArray();
    }

    private static void Write(string model, int batch, string kind, double[] times)
    {
        var sorted = times.OrderBy(t => t).ToArray();
        double median = sorted[sorted.Length / 2];
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model, ["batch"] = batch, ["kind"] = kind, ["seconds"] = median, ["samples"] = times.Length,
        }));
        Console.Out.Flush();
    }
}
