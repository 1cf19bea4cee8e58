using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Kiln;
using Kiln.Data;
using Kiln.Doctor;
using Kiln.Samples.FashionMnist;
using Kiln.Training;
using Spectre.Console;

namespace Kiln.Samples.FashionCnn;

/// <summary>
/// Trains the benchmark CNN on Fashion-MNIST (or a small CNN on the embedded digits). Same flags, output
/// and metrics JSON as Samples/FashionMnist, whose reporter, metrics and CPU meter it compiles in.
/// </summary>
public static class Program
{
    private const int FashionEpochs = 5;
    private const int DigitsEpochs = 30;
    private const int DefaultBatch = 64;

    public static int Main(string[] args)
    {
        var data = new Option<string?>("--data")
        {
            Description = $"Directory with MNIST-layout IDX files, or 'digits' for the embedded 8×8 digits. Default: {Idx.DefaultFashionMnistDirectory} " +
                          "when its files exist (Debian package dataset-fashion-mnist), otherwise the embedded digits.",
            HelpName = "DIR|digits",
        };
        var epochs = new Option<int?>("--epochs") { Description = $"Epochs. Default: {FashionEpochs} on 28×28 images, {DigitsEpochs} on the digits.", HelpName = "N" };
        epochs.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is <= 0) r.AddError("--epochs must be positive."); });
        var batch = new Option<int>("--batch") { Description = $"Mini-batch size, 1 to 256. Default: {DefaultBatch} (the benchmark setting).", HelpName = "N", DefaultValueFactory = _ => DefaultBatch };
        batch.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 256) r.AddError("--batch must be between 1 and 256 (the models' MaxBatch)."); });
        var lr = new Option<float?>("--lr") { Description = "Adam learning rate. Default: 1e-3·sqrt(batch/64).", HelpName = "RATE" };
        lr.Validators.Add(r => { if (r.GetValueOrDefault<float?>() is { } v && !(v > 0 && float.IsFinite(v))) r.AddError("--lr must be a positive number."); });
        var seed = new Option<ulong>("--seed") { Description = "Seed of the per-epoch shuffles (weights and dropout use the model's Seed = 42). Default: 0.", HelpName = "N" };
        var isa = new Option<string?>("--isa") { Description = $"Force a kernel path: avx512, avx2 or portable. Default: {KilnIsa.EnvironmentVariable}, else the best available.", HelpName = "PATH" };
        isa.AcceptOnlyFromAmong("avx512", "avx2", "portable");
        var metricsOut = new Option<FileInfo?>("--metrics-out") { Description = "Write the run's metrics as JSON to FILE (the MLP sample's format).", HelpName = "FILE" };
        var plain = new Option<bool>("--plain") { Description = "One line per epoch instead of progress bars (automatic when output is redirected)." };
        var runDir = new Option<DirectoryInfo?>("--run-dir") { Description = "Write the run directory (metrics CSV/JSON, checkpoints, report.html) to DIR; see docs/training.md.", HelpName = "DIR" };
        var doctor = new Option<bool>("--doctor") { Description = "Watch the run with the training doctor's monitors (docs/doctor.md) and print their findings (also in report.html)." };

        var root = new RootCommand(
            "Trains Kiln's FashionCnn (Conv 16@5×5 → BN → ReLU → MaxPool 2 → Conv 32@5×5 → BN → ReLU → MaxPool 2 → Dense 128 → ReLU → " +
            "Dropout 0.3 → Dense 10, Adam) on Fashion-MNIST, or DigitsCnn on the embedded 8×8 digits, and reports test accuracy and " +
            "training throughput. Inputs are standardised per channel with statistics of the training split only.")
        {
            data, epochs, batch, lr, seed, isa, metricsOut, runDir, doctor, plain,
        };
        root.SetAction(parse => Run(parse.GetValue(data), parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(lr), parse.GetValue(seed),
            parse.GetValue(isa), parse.GetValue(metricsOut), parse.GetValue(plain), parse.GetValue(runDir), parse.GetValue(doctor)));
        return root.Parse(args).Invoke();
    }

    private static int Run(string? dataArgument, int? epochArgument, int batch, float? lrArgument, ulong seed, string? isaName, FileInfo? metricsOut, bool plain,
        DirectoryInfo? runDirectory, bool doctor)
    {
        string name, reason;
        DataSplit split;
        try
        {
            (name, split, reason) = LoadData(dataArgument);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        Dataset train = split.Train, test = split.Test;
        Console.WriteLine($"Data: {name} ({train.Count} train, {test.Count} test, {train.FeatureCount} pixels) — {reason}");
        IKilnModel? model = train.FeatureCount switch { 784 => new FashionCnn(), 64 => new DigitsCnn(), _ => null };
        if (model is null)
        {
            Console.Error.WriteLine($"error: {name} has {train.FeatureCount} pixels per sample; the sample's models take 28×28 or 8×8 images.");
            return 1;
        }
        // The models declare Normalize = PerChannel: one mean and standard deviation per channel, fitted here on the
        // training split only (CATALOGUE §2) and applied by the model to every batch it sees, test batches included.
        model.FitInputNormalization(train.Features, train.Count);
        if (isaName is not null)
        {
            try { model.Isa = KilnIsa.Validate(KilnIsa.Parse(isaName)); }
            catch (PlatformNotSupportedException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        }

        int epochCount = epochArgument ?? (train.FeatureCount == 784 ? FashionEpochs : DigitsEpochs);
        float learningRate = lrArgument ?? (float)(1e-3 * Math.Sqrt(batch / 64.0));
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = !cts.IsCancellationRequested; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
        var options = new TrainerOptions
        {
            Epochs = epochCount, BatchSize = batch, Seed = seed, LearningRate = learningRate, ValidateEveryEpoch = true, CancellationToken = cts.Token,
            RunDirectory = runDirectory?.FullName, TrainAccuracySamples = runDirectory is null ? 0 : 5000,
        };
        DoctorObserver? monitors = doctor ? new DoctorObserver(test) : null;
        if (monitors is not null) options = options with { Observers = [monitors], ReportFindings = () => monitors.Findings };
        Console.WriteLine($"Model: {model.ModelName}, ISA {model.Isa}, {epochCount} epochs, batch {batch}, lr {learningRate.ToString("G3", CultureInfo.InvariantCulture)}, shuffle seed {seed}");

        bool interactive = !plain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var cpu = CpuMeter.Start();
        RunSummary summary;
        int exitCode = 0;
        try
        {
            summary = interactive ? ConsoleReporter.RunWithProgressBars(model, train, test, options) : ConsoleReporter.RunWithLines(model, train, test, options);
        }
        catch (TrainingCancelledException e)
        {
            Console.Error.WriteLine("Cancelled; summary of the completed epochs follows.");
            summary = e.Partial;
            exitCode = 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        CpuUsage usage = cpu.Stop();
        ConsoleReporter.PrintSummary(summary, name);
        if (monitors is not null) Console.WriteLine("Doctor during training:" + Environment.NewLine + Finding.Format(monitors.Findings));
        if (runDirectory is not null) Console.WriteLine($"Run directory: {runDirectory.FullName} (open report.html)");
        if (summary.StopReason == StopReason.Diverged)
        {
            Console.Error.WriteLine($"error: the loss became non-finite; lower the learning rate (was {learningRate.ToString("G3", CultureInfo.InvariantCulture)}).");
            exitCode = 1;
        }
        if (metricsOut is not null)
        {
            SampleMetrics.From(summary, name, learningRate, usage).Write(metricsOut.FullName);
            Console.WriteLine($"Metrics written to {metricsOut.FullName}");
        }
        return exitCode;
    }

    private static (string Name, DataSplit Split, string Reason) LoadData(string? data)
    {
        if (data is null)
            return Idx.TryFindFiles(Idx.DefaultFashionMnistDirectory, out _)
                ? ("fashion-mnist", Idx.LoadFashionMnist(), $"found in {Idx.DefaultFashionMnistDirectory}; no --data given.")
                : ("digits", EmbeddedData.DigitsSplit(), $"no --data given and no Fashion-MNIST in {Idx.DefaultFashionMnistDirectory}, so the 8×8 digits embedded in Kiln.Runtime (80/20 split, seed 0).");
        if (string.Equals(data, "digits", StringComparison.OrdinalIgnoreCase))
            return ("digits", EmbeddedData.DigitsSplit(), "--data digits: the set embedded in Kiln.Runtime (80/20 split, seed 0).");
        string full = Path.GetFullPath(data);
        string name = full.Contains("fashion", StringComparison.OrdinalIgnoreCase) ? "fashion-mnist" : Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
        return (name, Idx.LoadDirectory(full, Idx.PixelScale, name), $"from --data {full}.");
    }
}
