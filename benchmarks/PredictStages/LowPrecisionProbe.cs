using System;
using System.Diagnostics;
using System.Globalization;
using Kiln;
using Kiln.Benchmarks;
using Kiln.LowPrecision;

// Batch-1 latency of the benchmark MLP's float32 Predict next to its bf16 and int8 predictors (docs/low-precision.md),
// the three called in turn, round after round, so a phase of the shared machine slows all three alike. The float32
// Predict uses the pool (KILN_THREADS); the low-precision runner is single-threaded.
// Usage: KILN_THREADS=1|2 Kiln.PredictStages --low-precision [--calls 4000]
internal static class LowPrecisionProbe
{
    public static void Run(int calls)
    {
        var rnd = new Random(1);
        var inputs = new float[784 * 256];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(rnd.NextDouble() * 2 - 1);
        var labels = new int[256];
        for (int i = 0; i < labels.Length; i++) labels[i] = rnd.Next(10);
        var model = new BenchMlp();
        for (int s = 0; s < 4; s++) model.TrainStep(inputs, labels, 256);
        LowPrecisionPredictor bf16 = model.ToLowPrecision(Precision.BFloat16);
        LowPrecisionPredictor int8 = model.ToLowPrecision(Precision.Int8, inputs);
        var outputs = new float[10];
        ReadOnlySpan<float> x = inputs.AsSpan(0, 784);
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 1.0)
        {
            model.Predict(x, outputs, 1);
            bf16.Predict(x, outputs, 1);
            int8.Predict(x, outputs, 1);
        }
        const int rounds = 10;
        int per = Math.Max(1, calls / rounds);
        var times = new double[3][];
        for (int v = 0; v < 3; v++) times[v] = new double[rounds * per];
        double us = 1e6 / Stopwatch.Frequency;
        for (int r = 0; r < rounds; r++)
            for (int v = 0; v < 3; v++)
                for (int i = 0; i < per; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    if (v == 0) model.Predict(x, outputs, 1);
                    else if (v == 1) bf16.Predict(x, outputs, 1);
                    else int8.Predict(x, outputs, 1);
                    times[v][r * per + i] = (Stopwatch.GetTimestamp() - t0) * us;
                }
        Console.WriteLine($"MLP batch-1 Predict, {rounds} rounds of {per} calls each in turn: min / median µs");
        string[] names = { "float32 (generated)", "bf16 predictor", "int8 predictor" };
        for (int v = 0; v < 3; v++)
        {
            Array.Sort(times[v]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {names[v],-22} {times[v][0],7:F2} {times[v][times[v].Length / 2],7:F2}"));
        }
        Console.WriteLine();
    }
}
