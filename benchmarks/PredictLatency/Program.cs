using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Kiln;
using Kiln.Benchmarks;

// Usage: dotnet PredictLatency.dll [label]   (KILN_THREADS as usual; one line of results per model and batch);
// built with -p:KilnGemvPacked=true, "--kernels" compares the batch-1 kernels instead (Kernels.cs).
// Every Predict is timed on its own; min, p10 and median in µs. "stream" reads the MLP's 0.94 MB of inference
// weights (and half of them: one core's share when the columns are split) with 512-bit loads, the bandwidth floor.
internal static unsafe class Program
{
    private static int Main(string[] args)
    {
#if KILN_GEMV_PACKED
        if (args.Length > 0 && args[0] == "--kernels")
        {
            KernelProbe.Run();
            return 0;
        }
#endif
        string label = args.Length > 0 ? args[0] : "kiln";
        string threads = Environment.GetEnvironmentVariable("KILN_THREADS") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        var rnd = new Random(1);
        var inputs = new float[784 * 256];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(rnd.NextDouble() * 2 - 1);
        var labels = new int[256];
        for (int i = 0; i < labels.Length; i++) labels[i] = rnd.Next(10);
        var outputs = new float[10 * 256];

        foreach ((string name, IKilnModel model) in new (string, IKilnModel)[] { ("mlp", new BenchMlp()), ("cnn", new BenchCnn()) })
        {
            for (int s = 0; s < 4; s++) model.TrainStep(inputs, labels, 256);   // running statistics that are not the identity
            foreach (int batch in new[] { 1, 256 })
            {
                int runs = batch == 1 ? (name == "mlp" ? 20000 : 4000) : (name == "mlp" ? 300 : 30);
                double[] t = Time(() => model.Predict(inputs.AsSpan(0, batch * 784), outputs.AsSpan(0, batch * 10), batch), runs);
                Report(label, threads, $"{name}_b{batch}", t);
            }
        }
        if (Vector512.IsHardwareAccelerated)
        {
            const int all = 235_776;   // floats of the MLP's inference weights (0.94 MB)
            float* w = (float*)NativeMemory.AlignedAlloc(all * 4, 64);
            new Span<float>(w, all).Fill(0.5f);
            float sink = 0;
            Report(label, threads, "stream_0.94MB", Time(() => sink += Stream(w, all), 20000));
            Report(label, threads, "stream_0.47MB", Time(() => sink += Stream(w, all / 2), 20000));
            if (sink == 1) Console.WriteLine();
            NativeMemory.AlignedFree(w);
        }
        return 0;
    }

    private static double[] Time(Action action, int runs)
    {
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 0.5) action();
        var us = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            us[i] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
        }
        Array.Sort(us);
        return us;
    }

    private static void Report(string label, string threads, string what, double[] us) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-8} threads {threads} {what,-14} min {us[0],9:F2}  p10 {us[us.Length / 10],9:F2}  median {us[us.Length / 2],9:F2} us"));

    private static float Stream(float* p, int n)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i + 64 <= n; i += 64)
        {
            a0 += Vector512.Load(p + i);
            a1 += Vector512.Load(p + i + 16);
            a2 += Vector512.Load(p + i + 32);
            a3 += Vector512.Load(p + i + 48);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3);
    }
}
