using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Kiln.Benchmarks;

using static Kiln.Benchmarks.MachineProbes;

namespace Kiln.Peers;

/// <summary>Command-line options; the measurement options have QuickJson's names and defaults.</summary>
internal sealed class PeerOptions
{
    public string Peer = "";
    public string Model = "mlp";
    public int Threads = Environment.ProcessorCount;
    public string Config = "best";
    public bool Pretty;
    public int Samples = 16384;
    public int WarmupSteps = 30;
    public double WarmupSeconds = 1.0;
    public int Rounds = 5;
    public double RoundSeconds = 1.0;
    public int MinRoundSteps = 16;
    public int InferRuns = 2000;
    public int InferRuns256 = 300;
    public bool Quick;

    public bool Cnn => Model == "cnn";

    /// <summary>Learning rates per batch size, as QuickJson sets them on the Kiln side.</summary>
    public static float LearningRate(int batch) => batch == 64 ? 1e-3f : 2e-3f;

    public string ModelDescription => Cnn
        ? "1x28x28-Conv16@5x5p2(BN,ReLU,MaxPool2)-Conv32@5x5p2(BN,ReLU,MaxPool2)-Flatten-128(ReLU,Dropout0.3)-10, softmax CE, Adam"
        : "784-256(BN,ReLU,Dropout0.2)-128(BN,ReLU)-10, softmax CE, Adam";

    public static PeerOptions Parse(string[] args)
    {
        var o = new PeerOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
            int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
            double Dbl() => double.Parse(Value(), CultureInfo.InvariantCulture);
            switch (a)
            {
                case "--peer": o.Peer = Value(); break;
                case "--model": o.Model = Value(); break;
                case "--threads": o.Threads = Int(); break;
                case "--config": o.Config = Value(); break;
                case "--samples": o.Samples = Int(); break;
                case "--warmup-steps": o.WarmupSteps = Int(); break;
                case "--warmup-seconds": o.WarmupSeconds = Dbl(); break;
                case "--rounds": o.Rounds = Int(); break;
                case "--round-seconds": o.RoundSeconds = Dbl(); break;
                case "--min-round-steps": o.MinRoundSteps = Int(); break;
                case "--infer-runs": o.InferRuns = Int(); break;
                case "--infer-runs-256": o.InferRuns256 = Int(); break;
                case "--pretty": o.Pretty = true; break;
                case "--quick":
                    o.Quick = true;
                    o.WarmupSteps = 5; o.WarmupSeconds = 0.3; o.Rounds = 2; o.RoundSeconds = 0.2;
                    o.InferRuns = 100; o.InferRuns256 = 20;
                    break;
                default: throw new ArgumentException($"unknown option '{a}'.");
            }
        }
        if (o.Peer is not ("torchsharp" or "onnxruntime")) throw new ArgumentException("--peer must be torchsharp or onnxruntime.");
        if (o.Model is not ("mlp" or "cnn")) throw new ArgumentException("--model must be mlp or cnn.");
        if (o.Config is not ("eager" or "best")) throw new ArgumentException("--config must be eager or best.");
        if (o.Threads < 1) throw new ArgumentException("--threads must be ≥ 1.");
        if (o.Samples < 1024) throw new ArgumentException("--samples must be at least 1024 (four batches of 256 set BatchNorm statistics).");
        if (o.Rounds < 1 || o.InferRuns < 1 || o.InferRuns256 < 1) throw new ArgumentException("counts must be ≥ 1.");
        return o;
    }
}

/// <summary>What a peer measured: the four headline figures (null where the peer does not do that) and its details.</summary>
internal sealed class PeerResult
{
    public required string Framework { get; init; }
    public required string Config { get; init; }
    public double? Train64 { get; init; }
    public double? Train256 { get; init; }
    public double? Infer1Us { get; init; }
    public double? Infer256Us { get; init; }
    /// <summary>Writes the members of the "details" object.</summary>
    public required Action<Utf8JsonWriter> Details { get; init; }
}

internal static class Program
{
    /// <summary>
    /// glibc malloc tunables of the "best" TorchSharp configuration: keep freed blocks in the process instead of
    /// returning them to the OS and faulting them back every step (32 MiB is glibc's largest mmap threshold).
    /// </summary>
    private static readonly KeyValuePair<string, string>[] MallocTunables =
    [
        new("MALLOC_MMAP_THRESHOLD_", "33554432"),
        new("MALLOC_TRIM_THRESHOLD_", "17179869184"),
    ];

    public static int Main(string[] args)
    {
        PeerOptions o;
        try { o = PeerOptions.Parse(args); }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"Kiln.Peers: {e.Message}");
            Console.Error.WriteLine("usage: Kiln.Peers --peer torchsharp|onnxruntime --model mlp|cnn [--threads N] [--config eager|best] [--quick] [--pretty]");
            return 2;
        }

        // The malloc tunables are read once, when glibc's malloc starts: set them by starting again.
        if (o.Peer == "torchsharp" && o.Config == "best" && Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is null)
            return RunAgainWith(MallocTunables, args);

        var clock = Stopwatch.StartNew();
        (AlignedFloats x, int[] y) = BenchData.Synthetic(o.Samples, BenchData.InputSize, BenchData.Classes, seed: 42);
        PeerResult result = o.Peer == "torchsharp" ? TorchPeer.Run(x, y, o) : OnnxPeer.Run(x, y, o);

        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = o.Pretty, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("framework", result.Framework);
            w.WriteString("model", o.ModelDescription);
            w.WriteString("model_key", o.Model);
            w.WriteNumber("threads", o.Threads);
            w.WriteString("config", result.Config);
            w.WriteString("data", $"synthetic N(0,1) standardised, {y.Length} samples, uniform labels");
            w.WriteNumber("input_address_mod_64", x.AddressMod64);
            Figure(w, "train_b64_samples_per_s", result.Train64, 1);
            Figure(w, "train_b256_samples_per_s", result.Train256, 1);
            Figure(w, "infer_b1_median_us", result.Infer1Us, 2);
            Figure(w, "infer_b256_median_us", result.Infer256Us, 2);
            w.WriteStartObject("details");
            result.Details(w);
            w.WriteBoolean("quick", o.Quick);
            w.WriteStartObject("malloc_env");
            foreach ((string name, _) in MallocTunables)
            {
                string? v = Environment.GetEnvironmentVariable(name);
                if (v is null) w.WriteNull(name); else w.WriteString(name, v);
            }
            w.WriteEndObject();
            w.WriteNumber("wall_s", Math.Round(clock.Elapsed.TotalSeconds, 1));
            w.WriteEndObject();
            w.WriteStartObject("machine");
            w.WriteString("cpu", CpuModel());
            w.WriteNumber("logical_cpus", Environment.ProcessorCount);
            w.WriteString("runtime", RuntimeInformation.FrameworkDescription);
            w.WriteString("os", RuntimeInformation.OSDescription);
            w.WriteBoolean("server_gc", System.Runtime.GCSettings.IsServerGC);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
        return 0;
    }

    private static void Figure(Utf8JsonWriter w, string name, double? value, int digits)
    {
        if (value is double v) w.WriteNumber(name, Math.Round(v, digits));
        else w.WriteNull(name);
    }

    /// <summary>Runs this program again with <paramref name="env"/> added; its stdout and stderr are ours.</summary>
    private static int RunAgainWith(KeyValuePair<string, string>[] env, string[] args)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path to start again");
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        // Started as `dotnet Kiln.Peers.dll`: the host needs the assembly again; started as the apphost: it does not.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (string a in args) start.ArgumentList.Add(a);
        foreach ((string name, string value) in env) start.Environment[name] = value;
        using Process child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
        child.WaitForExit();
        return child.ExitCode;
    }
}
