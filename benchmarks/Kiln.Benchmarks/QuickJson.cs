using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using Kiln;
using Kiln.Data;
using static Kiln.Benchmarks.MachineProbes;

namespace Kiln.Benchmarks;

/// <summary>
/// <c>--quick-json</c>: the Kiln side of peers/compare.sh. Measures with <see cref="Stopwatch"/>,
/// outside BenchmarkDotNet, exactly what benchmarks/peers/torch_mlp.py measures and prints the same
/// JSON keys:
/// <list type="bullet">
/// <item><c>train_b64_samples_per_s</c>, <c>train_b256_samples_per_s</c>: after warm-up (steps and
/// at least <c>--warmup-seconds</c>, so the JIT has reached its final tier), <c>--rounds</c> rounds of
/// TrainStep calls, each round timed as a whole; the median round's samples/s.</item>
/// <item><c>infer_b1_median_us</c>, <c>infer_b256_median_us</c>: every Predict call timed on its own;
/// the median (p10, p90 and min in details).</item>
/// </list>
/// Options: <c>--threads N</c> (sets KILN_THREADS before the first model exists), <c>--isa
/// avx512|avx2|portable</c>, <c>--data [DIR]</c> (Fashion-MNIST instead of synthetic data),
/// <c>--samples</c>, <c>--warmup-steps</c>, <c>--warmup-seconds</c>, <c>--rounds</c>,
/// <c>--round-seconds</c>, <c>--min-round-steps</c>, <c>--infer-runs</c>, <c>--infer-runs-256</c>,
/// <c>--quick</c>, <c>--pretty</c>, <c>--misalign F</c> (start the inputs F floats past a 64-byte
/// boundary, 0..15; default 0, aligned as a PyTorch tensor is), <c>--model mlp|cnn</c> (BenchMlp, the
/// default, or the benchmark CNN BenchCnn; same keys, same data: 784 = 1×28×28 pixels).
/// Also <c>train_flop_per_sample</c> (<see cref="TrainingFlops"/>) and the training rates in GFLOP/s it gives
/// (<c>train_b64_gflop_per_s</c>, <c>train_b256_gflop_per_s</c>), for the efficiency figures.
/// </summary>
internal static class QuickJson
{
    private sealed class Options
    {
        public int? Threads;
        public IsaPath? Isa;
        public string? Data;
        public int Samples = 16384;
        public int WarmupSteps = 30;
        public double WarmupSeconds = 1.0;
        public int Rounds = 5;
        public double RoundSeconds = 1.0;
        public int MinRoundSteps = 16;
        public int InferRuns = 2000;
        public int InferRuns256 = 300;
        public bool Pretty;
        public int MisalignFloats;
        /// <summary>"mlp" (BenchMlp) or "cnn" (BenchCnn).</summary>
        public string Model = "mlp";
    }

    /// <summary>The measured model: a fresh instance per measurement.</summary>
    private static IKilnModel CreateModel(Options o) => o.Model == "cnn" ? new BenchCnn() : new BenchMlp();

    private static string ModelDescription(Options o) => o.Model == "cnn"
        ? "1x28x28-Conv16@5x5p2(BN,ReLU,MaxPool2)-Conv32@5x5p2(BN,ReLU,MaxPool2)-Flatten-128(ReLU,Dropout0.3)-10, softmax CE, Adam"
        : "784-256(BN,ReLU,Dropout0.2)-128(BN,ReLU)-10, softmax CE, Adam";

    private static readonly Dictionary<int, float> LearningRates = new() { [64] = 1e-3f, [256] = 2e-3f };

    public static int Run(string[] args)
    {
        Options o;
        try { o = Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"--quick-json: {e.Message}");
            return 2;
        }

        // Must happen before the first model (and with it the runtime's worker pool) exists.
        if (o.Threads is int t)
            Environment.SetEnvironmentVariable("KILN_THREADS", t.ToString(CultureInfo.InvariantCulture));

        var clock = Stopwatch.StartNew();
        (AlignedFloats x, int[] y) = o.Data is null
            ? BenchData.Synthetic(o.Samples, BenchData.InputSize, BenchData.Classes, seed: 42, o.MisalignFloats)
            : BenchData.FashionMnist(o.Data, o.Samples, seed: 42, o.MisalignFloats);
        string dataName = o.Data is null
            ? $"synthetic N(0,1) standardised, {y.Length} samples, uniform labels"
            : $"fashion-mnist ({o.Data}, {y.Length} training images, standardised)";

        var train64 = MeasureTraining(x, y, 64, o);
        var train256 = MeasureTraining(x, y, 256, o);
        var infer1 = MeasureInference(x, y, 1, o.InferRuns, Math.Max(50, o.InferRuns / 10), o);
        var infer256 = MeasureInference(x, y, 256, o.InferRuns256, Math.Max(10, o.InferRuns256 / 10), o);

        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = o.Pretty }))
        {
            w.WriteStartObject();
            w.WriteString("framework", "kiln");
            w.WriteString("model", ModelDescription(o));
            w.WriteString("kiln_threads", Environment.GetEnvironmentVariable("KILN_THREADS") ?? "");
            w.WriteNumber("threads", Threads);
            w.WriteString("isa", train64.Isa.ToString());
            w.WriteString("data", dataName);
            w.WriteNumber("input_address_mod_64", x.AddressMod64);
            w.WriteNumber("train_b64_samples_per_s", Math.Round(train64.SamplesPerSecond, 1));
            w.WriteNumber("train_b256_samples_per_s", Math.Round(train256.SamplesPerSecond, 1));
            w.WriteNumber("infer_b1_median_us", Math.Round(infer1.MedianUs, 2));
            w.WriteNumber("infer_b256_median_us", Math.Round(infer256.MedianUs, 2));
            // Effective arithmetic rate of training, for the efficiency figures (TrainingFlops says what counts).
            long flop = TrainingFlops.PerSample(o.Model);
            w.WriteNumber("train_flop_per_sample", flop);
            w.WriteNumber("train_b64_gflop_per_s", Math.Round(train64.SamplesPerSecond * flop * 1e-9, 2));
            w.WriteNumber("train_b256_gflop_per_s", Math.Round(train256.SamplesPerSecond * flop * 1e-9, 2));
            w.WriteStartObject("details");
            train64.Write(w, "train_b64");
            train256.Write(w, "train_b256");
            infer1.Write(w, "infer_b1");
            infer256.Write(w, "infer_b256");
            w.WriteNumber("wall_s", Math.Round(clock.Elapsed.TotalSeconds, 1));
            w.WriteEndObject();
            w.WriteStartObject("machine");
            w.WriteString("cpu", CpuModel());
            w.WriteNumber("logical_cpus", Environment.ProcessorCount);
            w.WriteString("runtime", RuntimeInformation.FrameworkDescription);
            w.WriteString("os", RuntimeInformation.OSDescription);
            w.WriteString("isa_best", KilnIsa.Best.ToString());
            w.WriteBoolean("vector512_accelerated", Vector512.IsHardwareAccelerated);
            w.WriteBoolean("server_gc", System.Runtime.GCSettings.IsServerGC);
            w.WriteString("tiered_pgo", Environment.GetEnvironmentVariable("DOTNET_TieredPGO") ?? "default");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
        return 0;
    }

    private sealed record TrainResult(int Batch, IsaPath Isa, double SamplesPerSecond, double Best, double[] Rounds,
        double[] RunQueueWaitFractions, int WarmupSteps, float FirstLoss, float LastLoss, float LearningRate, double AllocatedBytesPerStep)
    {
        public void Write(Utf8JsonWriter w, string name)
        {
            w.WriteStartObject(name);
            w.WriteNumber("samples_per_s", Math.Round(SamplesPerSecond, 1));
            w.WriteStartArray("rounds_samples_per_s");
            foreach (double r in Rounds) w.WriteNumberValue(Math.Round(r, 1));
            w.WriteEndArray();
            w.WriteNumber("best_samples_per_s", Math.Round(Best, 1));
            w.WriteStartArray("rounds_runqueue_wait_fraction");
            foreach (double f in RunQueueWaitFractions) w.WriteNumberValue(Math.Round(f, 4));
            w.WriteEndArray();
            w.WriteNumber("warmup_steps", WarmupSteps);
            WriteFloat(w, "first_loss", FirstLoss);
            WriteFloat(w, "last_loss", LastLoss);
            w.WriteNumber("learning_rate", LearningRate);
            w.WriteNumber("allocated_bytes_per_op", AllocatedBytesPerStep);
            w.WriteString("isa", Isa.ToString());
            w.WriteEndObject();
        }
    }

    private sealed record InferResult(double MedianUs, double P10Us, double P90Us, double MinUs, int Runs, int Warmup,
        double AllocatedBytesPerOp, double RunQueueWaitFraction)
    {
        public void Write(Utf8JsonWriter w, string name)
        {
            w.WriteStartObject(name);
            w.WriteNumber("median_us", Math.Round(MedianUs, 3));
            w.WriteNumber("p10_us", Math.Round(P10Us, 3));
            w.WriteNumber("p90_us", Math.Round(P90Us, 3));
            w.WriteNumber("min_us", Math.Round(MinUs, 3));
            w.WriteNumber("runs", Runs);
            w.WriteNumber("warmup", Warmup);
            w.WriteNumber("allocated_bytes_per_op", AllocatedBytesPerOp);
            if (double.IsFinite(RunQueueWaitFraction)) w.WriteNumber("runqueue_wait_fraction", Math.Round(RunQueueWaitFraction, 4));
            else w.WriteNull("runqueue_wait_fraction");
            w.WriteEndObject();
        }
    }

    private static TrainResult MeasureTraining(AlignedFloats x, int[] y, int batch, Options o)
    {
        IKilnModel model = CreateModel(o);
        if (o.Isa is IsaPath isa) model.Isa = isa;
        model.LearningRate = LearningRates[batch];
        int batches = y.Length / batch;
        if (batches == 0) throw new ArgumentException($"--samples must be at least {batch}.");
        int next = 0;

        float Step()
        {
            int b = next++ % batches;
            return model.TrainStep(x.Slice(b * batch * BenchData.InputSize, batch * BenchData.InputSize), y.AsSpan(b * batch, batch), batch);
        }

        Timing.Rounds r = Timing.TrainingRounds(_ => Step(), batch, o.WarmupSteps, o.WarmupSeconds, o.Rounds, o.RoundSeconds, o.MinRoundSteps);
        (double median, double best) = r.Summary();
        return new TrainResult(batch, model.Isa, median, best, r.SamplesPerSecond, r.WaitFractions, r.WarmupSteps, r.FirstLoss, r.LastLoss,
            LearningRates[batch], r.AllocatedBytesPerStep);
    }

    private static InferResult MeasureInference(AlignedFloats x, int[] y, int batch, int runs, int warmup, Options o)
    {
        IKilnModel model = CreateModel(o);
        if (o.Isa is IsaPath isa) model.Isa = isa;
        // A few training steps so that BatchNorm running statistics are not the identity (the peer
        // runs train-mode forward passes for the same reason).
        for (int i = 0; i < 4; i++)
            model.TrainStep(x.Slice(i * 256 * BenchData.InputSize, 256 * BenchData.InputSize), y.AsSpan(i * 256, 256), 256);

        var outputs = new AlignedFloats(batch * BenchData.Classes);
        Timing.Calls c = Timing.TimedCalls(() => model.Predict(x.Slice(0, batch * BenchData.InputSize), outputs.Span, batch), runs, warmup, o.WarmupSeconds);
        float sum = 0;
        for (int i = 0; i < BenchData.Classes; i++) sum += outputs.Span[i];
        if (!(Math.Abs(sum - 1f) < 1e-3f))
            Console.Error.WriteLine($"--quick-json: warning: Predict probabilities of sample 0 sum to {sum}, not 1.");
        return new InferResult(c.MedianUs, c.P10Us, c.P90Us, c.MinUs, c.Runs, c.Warmup, c.AllocatedBytesPerCall, c.RunQueueWaitFraction);
    }

    /// <summary>Threads the runtime runs kernels on: KILN_THREADS, or every CPU.</summary>
    private static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable("KILN_THREADS"), out int t) && t > 0 ? t : Environment.ProcessorCount;

    private static void WriteFloat(Utf8JsonWriter w, string name, float value)
    {
        if (float.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
    }


    private static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
            int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
            double Dbl() => double.Parse(Value(), CultureInfo.InvariantCulture);
            switch (a)
            {
                case "--threads": o.Threads = Int(); if (o.Threads < 1) throw new ArgumentException("--threads must be ≥ 1."); break;
                case "--isa": o.Isa = KilnIsa.Validate(KilnIsa.Parse(Value())); break;
                case "--data":
                    o.Data = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : Idx.DefaultFashionMnistDirectory;
                    break;
                case "--samples": o.Samples = Int(); break;
                case "--warmup-steps": o.WarmupSteps = Int(); break;
                case "--warmup-seconds": o.WarmupSeconds = Dbl(); break;
                case "--rounds": o.Rounds = Int(); break;
                case "--round-seconds": o.RoundSeconds = Dbl(); break;
                case "--min-round-steps": o.MinRoundSteps = Int(); break;
                case "--infer-runs": o.InferRuns = Int(); break;
                case "--infer-runs-256": o.InferRuns256 = Int(); break;
                case "--pretty": o.Pretty = true; break;
                case "--misalign": o.MisalignFloats = Int(); break;
                case "--model":
                    o.Model = Value();
                    if (o.Model is not ("mlp" or "cnn")) throw new ArgumentException("--model must be mlp or cnn.");
                    break;
                case "--quick":
                    o.WarmupSteps = 5; o.WarmupSeconds = 0.3; o.Rounds = 2; o.RoundSeconds = 0.2;
                    o.InferRuns = 100; o.InferRuns256 = 20;
                    break;
                default: throw new ArgumentException($"unknown option '{a}'.");
            }
        }
        if (o.Rounds < 1 || o.InferRuns < 1 || o.InferRuns256 < 1) throw new ArgumentException("counts must be ≥ 1.");
        return o;
    }
}
