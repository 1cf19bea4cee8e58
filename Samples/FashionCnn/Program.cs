using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using Kiln;
using Kiln.Augmentation;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Doctor;
using Kiln.Interop;
using Kiln.Ensembles;
using Kiln.Samples.FashionMnist;
using Kiln.Schedules;
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
    /// <summary>The factor a decaying schedule ends at: the learning rate decays to 0 over the run.</summary>
    private const double FinalFactor = 0;
    /// <summary>The --schedule values.</summary>
    private static readonly string[] Schedules = ["constant", "cosine", "linear"];
    /// <summary>
    /// The schedule without --schedule, on 28×28 images and on the digits. Linear decay on Fashion-MNIST: in the 5-epoch
    /// benchmark runs (README) it beat the constant rate in accuracy and test loss for every shuffle seed and
    /// initialisation measured. The digits (30 epochs, no measurement with a schedule) keep the constant rate.
    /// </summary>
    private const string FashionSchedule = "linear", DigitsSchedule = "constant";

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
        var snapshotEnsemble = new Option<string[]>("--snapshot-ensemble")
        {
            Description = "Checkpoint ensemble (docs/techniques.md#regularisation): save the model after the listed epochs of this run and, after training, report each " +
                          "snapshot's test accuracy and that of their mean probabilities. Repeat the flag for several ensembles of one run " +
                          "(--snapshot-ensemble 3,4,5 --snapshot-ensemble 4,5). Snapshots go to DIR/snapshots with --run-dir, else to a temporary directory.",
            HelpName = "E1,E2,...",
            Arity = ArgumentArity.OneOrMore,
        };
        snapshotEnsemble.Validators.Add(r =>
        {
            foreach (string list in r.GetValueOrDefault<string[]>() ?? [])
                if (ParseEpochs(list) is null) r.AddError($"--snapshot-ensemble '{list}': give positive epoch numbers separated by commas, e.g. 3,4,5.");
        });
        var tta = new Option<string[]>("--tta")
        {
            Description = "After training, also report test accuracy with test-time augmentation (docs/techniques.md#augmentation) of the final model, each " +
                          "snapshot and each snapshot ensemble; repeat for several. 'flip' (the default when no value is given): the image " +
                          "and its mirror; 'shiftN': the image and its four (±N, ±N)-pixel corner shifts; 'flip-shiftN': those five, each also " +
                          "mirrored ('shift' and 'flip-shift' mean N = 2).",
            HelpName = "flip|shiftN|flip-shiftN",
            Arity = ArgumentArity.ZeroOrMore,
        };
        tta.Validators.Add(r =>
        {
            foreach (string mode in r.GetValueOrDefault<string[]>() ?? [])
                if (TtaMode.Parse(mode) is not { Shift: < 8 }) r.AddError($"--tta '{mode}': use flip, shiftN or flip-shiftN with N from 1 to 7.");
        });
        var augment = new Option<string?>("--augment")
        {
            Description = "Training-time augmentation (docs/techniques.md#augmentation), seeded by --seed: 'flip' mirrors each training image with probability ½.",
            HelpName = "flip",
        };
        augment.AcceptOnlyFromAmong("flip");
        var init = new Option<string>("--init")
        {
            Description = "Weight initialisation of the 28×28 model: 'torch' (FashionCnnTorchInit: PyTorch's default U(±1/sqrt(fan_in)) weights, " +
                          "biases 0) or 'auto' (FashionCnn, Init.Auto: He normal before ReLU). The digits model is unaffected. Default: torch " +
                          "(with a decaying rate it reached 91% on every seed measured, Init.Auto on none; see the sample's README).",
            HelpName = "torch|auto",
            DefaultValueFactory = _ => "torch",
        };
        init.AcceptOnlyFromAmong("auto", "torch");
        var schedule = new Option<string?>("--schedule")
        {
            Description = "Learning-rate schedule, consulted before every step: 'constant' keeps the base rate (--lr) throughout; 'cosine' " +
                          "decays it from the base rate to 0 along a half cosine and 'linear' along a straight line, both over exactly the run's " +
                          $"epochs (Kiln.Schedules.CosineDecay / LinearDecay). Default: {FashionSchedule} on 28×28 images (measured ahead of constant on " +
                          $"Fashion-MNIST for every seed; see the sample's README), {DigitsSchedule} on the digits.",
            HelpName = string.Join('|', Schedules),
        };
        schedule.AcceptOnlyFromAmong(Schedules);
        var warmupSteps = new Option<int>("--warmup-steps")
        {
            Description = "Linear warm-up in front of --schedule (Kiln.Schedules.Warmup): step k (0-based) of the first N runs at (k+1)/N of the " +
                          "schedule's rate; the schedule's own clock is not shifted. Default: 0 (none).",
            HelpName = "N",
        };
        warmupSteps.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--warmup-steps must not be negative."); });

        var exportOnnx = new Option<FileInfo?>("--export-onnx")
        {
            Description = "After training, write the model's inference graph (its input normalisation, BatchNorm folded, softmax output) " +
                          "as ONNX to FILE, for ONNX Runtime and other ONNX tools (docs/interop.md).",
            HelpName = "FILE",
        };

        var root = new RootCommand(
            "Trains Kiln's FashionCnn (Conv 16@5×5 → BN → ReLU → MaxPool 2 → Conv 32@5×5 → BN → ReLU → MaxPool 2 → Dense 128 → ReLU → " +
            "Dropout 0.3 → Dense 10, Adam) on Fashion-MNIST, or DigitsCnn on the embedded 8×8 digits, and reports test accuracy and " +
            "training throughput. Inputs are standardised per channel with statistics of the training split only.")
        {
            data, epochs, batch, lr, schedule, warmupSteps, seed, isa, metricsOut, runDir, doctor, snapshotEnsemble, tta, augment, init, plain, exportOnnx,
        };
        root.SetAction(parse => Run(parse.GetValue(data), parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(lr), parse.GetValue(seed),
            parse.GetValue(isa), parse.GetValue(metricsOut), parse.GetValue(plain), parse.GetValue(runDir), parse.GetValue(doctor),
            new Extras(
                (parse.GetValue(snapshotEnsemble) ?? []).Select(list => ParseEpochs(list)!).ToArray(),
                parse.GetResult(tta) is null ? [] : parse.GetValue(tta) is { Length: > 0 } modes ? modes.Select(m => TtaMode.Parse(m)!).Distinct().ToArray() : [TtaMode.Parse("flip")!],
                parse.GetValue(augment),
                parse.GetValue(init) == "torch",
                parse.GetValue(schedule),
                parse.GetValue(warmupSteps),
                parse.GetValue(exportOnnx))));
        return root.Parse(args).Invoke();
    }

    /// <summary>The checkpoint-ensemble, test-time and training augmentation flags, --init torch, --schedule (null: the data's default), --warmup-steps and --export-onnx.</summary>
    private sealed record Extras(IReadOnlyList<int[]> SnapshotEnsembles, IReadOnlyList<TtaMode> Tta, string? Augment, bool TorchInit = false, string? Schedule = null,
        int WarmupSteps = 0, FileInfo? ExportOnnx = null);

    /// <summary>
    /// The trainer's schedule for --schedule and --warmup-steps: null for constant without warm-up (the models declare no
    /// schedule, so the trainer's default is the constant base rate), else a decay to <see cref="FinalFactor"/> over
    /// <paramref name="epochs"/> epochs (epochs × batches per epoch steps with the trainer's per-step clock), behind a
    /// linear warm-up when <paramref name="warmupSteps"/> is positive.
    /// </summary>
    private static LearningRateSchedule? CreateSchedule(string name, int epochs, int warmupSteps)
    {
        LearningRateSchedule? decay = name switch
        {
            "cosine" => new CosineDecay(steps: 0, epochs, FinalFactor),
            "linear" => new LinearDecay(steps: 0, epochs, FinalFactor),
            _ => null,
        };
        return warmupSteps > 0 ? new Warmup(warmupSteps, decay ?? new ConstantSchedule()) : decay;
    }

    /// <summary>"3,4,5" → [3, 4, 5] (sorted, distinct); null when an entry is not a positive integer.</summary>
    private static int[]? ParseEpochs(string list)
    {
        var epochs = new SortedSet<int>();
        foreach (string part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int e) || e < 1) return null;
            epochs.Add(e);
        }
        return epochs.Count == 0 ? null : epochs.ToArray();
    }

    private static int Run(string? dataArgument, int? epochArgument, int batch, float? lrArgument, ulong seed, string? isaName, FileInfo? metricsOut, bool plain,
        DirectoryInfo? runDirectory, bool doctor, Extras extras)
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
        Func<IKilnModel>? createModel = train.FeatureCount switch
        {
            784 when extras.TorchInit => () => new FashionCnnTorchInit(),
            784 => () => new FashionCnn(),
            64 => () => new DigitsCnn(),
            _ => null,
        };
        IKilnModel? model = createModel?.Invoke();
        if (model is null)
        {
            Console.Error.WriteLine($"error: {name} has {train.FeatureCount} pixels per sample; the sample's models take 28×28 or 8×8 images.");
            return 1;
        }
        // The models declare Normalize = PerChannel: one mean and standard deviation per channel, fitted here on the
        // training split only (docs/techniques.md#preprocessing) and applied by the model to every batch it sees, test batches included.
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
        int[] snapshotEpochs = extras.SnapshotEnsembles.SelectMany(e => e).Distinct().Order().ToArray();
        if (snapshotEpochs.Length > 0 && snapshotEpochs[^1] > epochCount)
        {
            Console.Error.WriteLine($"error: --snapshot-ensemble names epoch {snapshotEpochs[^1]}, but the run has {epochCount} epochs.");
            return 1;
        }
        int side = (int)Math.Round(Math.Sqrt(train.FeatureCount));
        ImageShape shape = train.Shape ?? new ImageShape(1, side, side);
        // Without --run-dir the snapshots live in a temporary directory that is deleted after the evaluation.
        string? temporarySnapshots = snapshotEpochs.Length > 0 && runDirectory is null
            ? Path.Combine(Path.GetTempPath(), "kiln-fashioncnn-snapshots-" + Guid.NewGuid().ToString("N")) : null;
        CheckpointSnapshots? snapshots = snapshotEpochs.Length > 0
            ? new CheckpointSnapshots(temporarySnapshots ?? Path.Combine(runDirectory!.FullName, "snapshots"), snapshotEpochs, model.ModelName) : null;
        float learningRate = lrArgument ?? (float)(1e-3 * Math.Sqrt(batch / 64.0));
        string scheduleName = extras.Schedule ?? (train.FeatureCount == 784 ? FashionSchedule : DigitsSchedule);
        LearningRateSchedule? schedule = CreateSchedule(scheduleName, epochCount, extras.WarmupSteps);
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = !cts.IsCancellationRequested; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
        var options = new TrainerOptions
        {
            Epochs = epochCount, BatchSize = batch, Seed = seed, LearningRate = learningRate, ValidateEveryEpoch = true, CancellationToken = cts.Token,
            Schedule = schedule, ScheduleStepping = ScheduleStepping.PerStep,
            RunDirectory = runDirectory?.FullName, TrainAccuracySamples = runDirectory is null ? 0 : 5000,
        };
        DoctorObserver? monitors = doctor ? new DoctorObserver(test) : null;
        if (monitors is not null) options = options with { ReportFindings = () => monitors.Findings };
        var observers = new List<ITrainingObserver>();
        if (monitors is not null) observers.Add(monitors);
        if (snapshots is not null) observers.Add(snapshots);
        if (EpochClock.FromEnvironment(train, batch) is { } clock) observers.Add(clock);
        options = options with { Observers = observers };
        if (extras.Augment == "flip") options = options with { Augmentation = new HorizontalFlip(shape), AugmentationSeed = seed };
        Console.WriteLine($"Model: {model.ModelName}, ISA {model.Isa}, {epochCount} epochs, batch {batch}, lr {learningRate.ToString("G3", CultureInfo.InvariantCulture)}, " +
                          $"schedule {scheduleName}{(schedule is null ? "" : $" ({schedule}, per step)")}, shuffle seed {seed}" +
                          (extras.Augment is null ? "" : $", training augmentation {extras.Augment}"));

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

        // After training: snapshots alone and averaged, and test-time augmentation (the plain accuracy above is unchanged).
        Scored? final = null;
        IReadOnlyList<(int Epoch, Scored Score)> alone = [];
        IReadOnlyList<(int[] Epochs, Scored Score)> averaged = [];
        if (exitCode == 0 && (snapshots is not null || extras.Tta.Count > 0))
        {
            var loaded = new Dictionary<int, IKilnModel>();
            foreach (Snapshot s in snapshots?.Saved ?? [])
            {
                IKilnModel m = createModel!();
                Checkpoint.Load(m, s.Path);
                m.Isa = model.Isa;
                loaded[s.Epoch] = m;
            }
            (final, alone, averaged) = TestTimeEvaluation.Evaluate(model, loaded, extras.SnapshotEnsembles, test, shape, extras.Tta);
            TestTimeEvaluation.Print(final, alone, averaged, extras.Tta);
        }
        if (temporarySnapshots is not null)
        {
            try { Directory.Delete(temporarySnapshots, recursive: true); }
            catch (IOException) { }
        }

        if (exitCode == 0 && extras.ExportOnnx is not null)
        {
            // The graph Predict runs, with a dynamic batch: input "input" [batch, C·H·W] (NCHW rows, raw pixels: the model's own
            // per-channel normalisation is in the graph), output "output" [batch, 10] probabilities.
            string? dir = Path.GetDirectoryName(extras.ExportOnnx.FullName);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            OnnxExport.Save(model, extras.ExportOnnx.FullName);
            Console.WriteLine($"ONNX model written to {extras.ExportOnnx.FullName} ({new FileInfo(extras.ExportOnnx.FullName).Length:N0} bytes; input 'input' [batch, {model.InputSize}], output 'output' [batch, {model.OutputSize}] probabilities)");
        }

        if (metricsOut is not null)
        {
            // The MLP sample's keys, unchanged (learning_rate is the base rate; history holds each epoch's last-step rate),
            // plus this sample's schedule and extra figures.
            var json = (JsonObject)JsonSerializer.SerializeToNode(SampleMetrics.From(summary, name, learningRate, usage), SampleJsonContext.Default.SampleMetrics)!;
            json["schedule"] = scheduleName;
            json["warmup_steps"] = extras.WarmupSteps;
            if (final is not null) TestTimeEvaluation.AddTo(json, extras.Augment, final, alone, averaged, extras.Tta);
            string? dir = Path.GetDirectoryName(metricsOut.FullName);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            File.WriteAllText(metricsOut.FullName, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine);
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
