using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Kiln;
using Kiln.Data;
using Kiln.LowPrecision;
using Kiln.Training;

// Accuracy and latency of float32 Predict against bf16 and int8 (docs/low-precision.md) on Fashion-MNIST.
// Usage: dotnet run -c Release --project benchmarks/Kiln.LowPrecisionBench -- [--epochs N] [--cnn] [--rounds R]
// Latency rounds interleave the three predictors (f32, bf16, int8 in turn), so a load change on the machine hits all alike;
// the figures are medians over rounds of the mean time per call within a round, by wall clock and by this thread's CPU time.
// Run with KILN_THREADS=1 to compare one thread with one thread (the low-precision runner is single-threaded).

int epochs = Arg("--epochs", 8), rounds = Arg("--rounds", 15);
bool cnn = args.Contains("--cnn");
DataSplit data = Idx.LoadFashionMnist();
Console.WriteLine($"Fashion-MNIST: {data.Train.Count} train, {data.Test.Count} test; {Environment.ProcessorCount} logical CPUs; KILN_THREADS={Environment.GetEnvironmentVariable("KILN_THREADS") ?? "(unset)"}");
Run(new LowPrecisionMlp(), "MLP 784-256-128-10 (BatchNorm, ReLU, Dropout)", epochs);
if (cnn) Run(new LowPrecisionCnn(), "CNN conv5x5(16)-pool-conv5x5(32)-pool-dense128", Math.Max(1, epochs / 4));

void Run(IKilnModel model, string title, int modelEpochs)
{
    Console.WriteLine($"\n== {title}: training {modelEpochs} epochs at batch 256");
    var sw = Stopwatch.StartNew();
    Trainer.Fit(model, data.Train, validation: null, epochs: modelEpochs, batchSize: 256);
    Console.WriteLine($"trained in {sw.Elapsed.TotalSeconds:F1} s");
    int calibrationRows = 4 * 256; // four training batches
    float[] calibration = data.Train.Features.AsSpan(0, calibrationRows * model.InputSize).ToArray();
    LowPrecisionPredictor bf16 = model.ToLowPrecision(Precision.BFloat16);
    LowPrecisionPredictor int8 = model.ToLowPrecision(Precision.Int8, calibration);
    var predictors = new (string Name, PredictFn Predict)[]
    {
        ("float32", model.Predict), ("bf16", bf16.Predict), ("int8", int8.Predict),
    };
    long floatBytes = model.Tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)).Sum(t => 4L * t.Length);
    Console.WriteLine($"weights: float32 {floatBytes / 1024.0:F0} KiB, bf16 {bf16.WeightBytes / 1024.0:F0} KiB, int8 {int8.WeightBytes / 1024.0:F0} KiB (padding and scales included)");
    double floatAccuracy = 0;
    foreach (var (name, predict) in predictors)
    {
        double accuracy = Accuracy(predict, data.Test, model.OutputSize, Math.Min(256, model.MaxBatch));
        if (name == "float32") floatAccuracy = accuracy;
        Console.WriteLine($"accuracy {name,-8} {accuracy * 100:F2}%  ({(accuracy - floatAccuracy) * 100:+0.00;-0.00;0.00} points)");
    }
    foreach (int batch in new[] { 1, Math.Min(256, model.MaxBatch) })
    {
        float[] x = data.Test.Features.AsSpan(0, batch * model.InputSize).ToArray();
        var y = new float[batch * model.OutputSize];
        // Calls per round: about 20 ms of float32 work.
        foreach (var p in predictors) p.Predict(x, y, batch);
        var probe = Stopwatch.StartNew();
        int probes = 0;
        while (probe.Elapsed.TotalMilliseconds < 20) { model.Predict(x, y, batch); probes++; }
        int calls = Math.Max(1, probes);
        var times = predictors.Select(_ => new List<double>()).ToArray();
        var cpu = predictors.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < predictors.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                double cpuStart = ThreadCpu.Microseconds();
                for (int c = 0; c < calls; c++) predictors[i].Predict(x, y, batch);
                cpu[i].Add((ThreadCpu.Microseconds() - cpuStart) / calls);
                times[i].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls);
            }
        double baseline = Median(times[0]), cpuBaseline = Median(cpu[0]);
        Console.WriteLine($"batch {batch}: {calls} calls per round, {rounds} interleaved rounds; medians of per-round means, wall clock and this thread's CPU time");
        for (int i = 0; i < predictors.Length; i++)
        {
            double m = Median(times[i]), c = Median(cpu[i]);
            Console.WriteLine($"  {predictors[i].Name,-8} wall {m,10:F2} µs/call ({baseline / m:F2}x float32, rounds {times[i].Min():F2}..{times[i].Max():F2})" +
                $"   thread CPU {c,10:F2} µs/call ({cpuBaseline / c:F2}x float32)");
        }
    }
}

static double Accuracy(PredictFn predict, Dataset test, int classes, int chunk)
{
    var y = new float[chunk * classes];
    int correct = 0;
    for (int start = 0; start < test.Count; start += chunk)
    {
        int n = Math.Min(chunk, test.Count - start);
        predict(test.Features.AsSpan(start * test.FeatureCount, n * test.FeatureCount), y.AsSpan(0, n * classes), n);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = y.AsSpan(i * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
            if (best == test.Labels[start + i]) correct++;
        }
    }
    return correct / (double)test.Count;
}

static double Median(List<double> values)
{
    var sorted = values.OrderBy(v => v).ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

int Arg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): on a loaded machine it leaves out the time the thread waited for a core. Meaningful for float32 only with KILN_THREADS=1 (its pool threads are not counted).</summary>
static class ThreadCpu
{
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    public static double Microseconds()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        ClockGetTime(3, out TimeSpec t); // CLOCK_THREAD_CPUTIME_ID
        return t.Seconds * 1e6 + t.Nanoseconds / 1e3;
    }
}

delegate void PredictFn(ReadOnlySpan<float> inputs, Span<float> outputs, int batch);

/// <summary>The benchmark MLP (as Samples/FashionMnist's FashionMlp).</summary>
[Model(Input = 784, MaxBatch = 256, Seed = 42, Normalize = InputNormalization.None)]
[Dense(256, Init = Init.HeNormal), BatchNorm, ReLU, Dropout(0.2)]
[Dense(128, Init = Init.HeNormal), BatchNorm, ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class LowPrecisionMlp;

/// <summary>The benchmark CNN.</summary>
[Model(InputShape = new[] { 1, 28, 28 }, MaxBatch = 256, Seed = 42)]
[Conv2D(16, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
[Conv2D(32, 5, Padding = 2), BatchNorm, ReLU, MaxPool(2)]
[Flatten, Dense(128), ReLU, Dropout(0.3)]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 1e-3)]
public partial class LowPrecisionCnn;
