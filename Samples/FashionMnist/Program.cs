using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Runtime.InteropServices;
using Kiln;
using Kiln.Augmentation;
using Kiln.Data;
using Kiln.Doctor;
using Kiln.Training;
using Spectre.Console;

namespace Kiln.Samples.FashionMnist;

/// <summary>Trains the benchmark MLP on Fashion-MNIST (or the embedded digits) and reports accuracy and throughput.</summary>
public static class Program
{
    private const int FashionEpochs = 5;
    private const int DigitsEpochs = 40;

    public static int Main(string[] args)
    {
        var data = new Option<string?>("--data")
        {
            Description = $"Directory with MNIST-layout IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-*), " +
                          $"or 'digits' for the embedded 8×8 digits set. Default: {Idx.DefaultFashionMnistDirectory} when its files exist " +
                          "(Debian package dataset-fashion-mnist), otherwise the embedded digits.",
            HelpName = "DIR|digits",
        };
        var epochs = new Option<int?>("--epochs")
        {
            Description = $"Epochs. Default: {FashionEpochs} for 784-pixel data (Fashion-MNIST), {DigitsEpochs} for the digits.",
            HelpName = "N",
        };
        epochs.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is <= 0) r.AddError("--epochs must be positive."); });
        var batch = new Option<int>("--batch")
        {
            Description = "Mini-batch size: 64 or 256 (the benchmark settings; anything from 1 to the model's MaxBatch of 256 works).",
            HelpName = "N",
            DefaultValueFactory = _ => 256,
        };
        batch.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 256) r.AddError("--batch must be between 1 and 256 (the models' MaxBatch)."); });
        var lr = new Option<float?>("--lr")
        {
            Description = "Adam learning rate. Default: 1e-3·sqrt(batch/64), i.e. 1e-3 at batch 64 and 2e-3 at batch 256.",
            HelpName = "RATE",
        };
        lr.Validators.Add(r => { if (r.GetValueOrDefault<float?>() is { } v && !(v > 0 && float.IsFinite(v))) r.AddError("--lr must be a positive number."); });
        var seed = new Option<ulong>("--seed")
        {
            Description = "Seed of the per-epoch shuffles (weights and dropout use the model's own Seed = 42). Default: 0.",
            HelpName = "N",
        };
        var isa = new Option<string?>("--isa")
        {
            Description = $"Force a kernel path: avx512, avx2 or portable. Default: the {KilnIsa.EnvironmentVariable} variable, else the best this CPU supports.",
            HelpName = "PATH",
        };
        isa.AcceptOnlyFromAmong("avx512", "avx2", "portable");
        var metricsOut = new Option<FileInfo?>("--metrics-out")
        {
            Description = "Write the run's metrics as JSON to FILE (dataset, epochs, batch, test_accuracy, test_loss, train_samples_per_second, seconds, isa, threads, per-epoch history).",
            HelpName = "FILE",
        };
        var runDir = new Option<DirectoryInfo?>("--run-dir")
        {
            Description = "Write the run directory to DIR: metrics.csv (a row per step), epochs.csv, metrics.jsonl, best/last.safetensors, " +
                          "summary.json and report.html (curves, update/weight ratios, layer-output histograms). See docs/training.md.",
            HelpName = "DIR",
        };
        var patience = new Option<int?>("--patience")
        {
            Description = "Early stopping: hold out 10% of the training split (stratified, --seed) as a validation set, stop after N epochs " +
                          "without a better validation accuracy, and restore the best epoch before the test split is evaluated once.",
            HelpName = "N",
        };
        patience.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is <= 0) r.AddError("--patience must be positive."); });
        var augment = new Option<bool>("--augment")
        {
            Description = "Augment every training batch on the fly (docs/techniques.md#augmentation): random horizontal flip and a random crop from the image " +
                          "padded by 2 pixels (1 for 8×8 digits), seeded by --seed.",
        };
        var doctor = new Option<bool>("--doctor")
        {
            Description = "Run the training doctor (docs/doctor.md): before training, the recipe checks of docs/techniques.md#hyper-parameters (initial loss vs ln C, gradient check, " +
                          "overfit a small sample, learning-rate range test) on a copy-free restore of the model; during training, its " +
                          "monitors. Findings are printed and, with --run-dir, shown in report.html.",
        };
        var ensemble = new Option<int>("--ensemble")
        {
            Description = "After the run, train N−1 more models of the same class (other shuffle seeds and dropout streams, same epochs) " +
                          "and report each member's and the ensemble's test accuracy (mean of probabilities, docs/techniques.md#regularisation).",
            HelpName = "N",
            DefaultValueFactory = _ => 1,
        };
        ensemble.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 16) r.AddError("--ensemble must be between 1 and 16."); });
        var plain = new Option<bool>("--plain")
        {
            Description = "One line per epoch instead of progress bars (automatic when output is redirected, as in CI).",
        };

        var root = new RootCommand(
            "Trains Kiln's FashionMlp (784-256-128-10, BatchNorm, ReLU, dropout, Adam) on Fashion-MNIST, or DigitsMlp on the " +
            "embedded 8×8 digits, and reports test accuracy and training throughput. Inputs are standardised with statistics " +
            "of the training split only; the test split is evaluated after every epoch (it is never used to choose anything).")
        {
            data, epochs, batch, lr, seed, isa, metricsOut, runDir, patience, augment, doctor, ensemble, plain,
        };
        // A synchronous action: System.CommandLine's own Ctrl+C handling (async actions only) ends the process
        // after a grace period, whereas this sample wants to stop between steps and still print what it has.
        root.SetAction(parse => WithCancellation(token => Run(new RunRequest(
            parse.GetValue(data), parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(lr), parse.GetValue(seed),
            parse.GetValue(isa), parse.GetValue(metricsOut), parse.GetValue(plain), parse.GetValue(runDir), parse.GetValue(patience), parse.GetValue(augment), parse.GetValue(doctor), parse.GetValue(ensemble)), token)));
        return root.Parse(args).Invoke();
    }

    /// <summary>First Ctrl+C or SIGTERM cancels training at the next step; a second Ctrl+C ends the process at once.</summary>
    private static int WithCancellation(Func<CancellationToken, int> run)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = !cts.IsCancellationRequested;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            cts.Cancel();
        });
        try
        {
            return run(cts.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private sealed record RunRequest(string? Data, int? Epochs, int Batch, float? LearningRate, ulong Seed, string? Isa, FileInfo? MetricsOut, bool Plain,
        DirectoryInfo? RunDirectory = null, int? Patience = null, bool Augment = false, bool Doctor = false, int Ensemble = 1);

    private static int Run(RunRequest request, CancellationToken token)
    {
        LoadedData loaded;
        try
        {
            loaded = LoadData(request.Data);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        Console.WriteLine($"Data: {loaded.Name} ({loaded.Split.Train.Count} train, {loaded.Split.Test.Count} test, {loaded.Split.Train.FeatureCount} features) — {loaded.Reason}");

        // With early stopping, a validation set held out of the training split chooses the epoch; the test split is
        // then evaluated once, so it never influences a choice. Without it, the test split is evaluated every epoch.
        Dataset train = loaded.Split.Train, test = loaded.Split.Test;
        Dataset? validation = null;
        if (request.Patience is not null)
        {
            DataSplit held = train.Split(0.9, request.Seed);
            train = held.Train;
            validation = held.Test.WithFeatures(held.Test.Features, "validation");
            Console.WriteLine($"Early stopping: {train.Count} training and {validation.Count} validation samples (10% held out, seed {request.Seed}), patience {request.Patience} epochs on validation accuracy.");
        }

        // Standardise with statistics of the training samples only (docs/techniques.md#preprocessing). In place: the loaded
        // arrays are this run's own, and Fashion-MNIST's 188 MB of training floats need not exist twice.
        Standardizer standardizer = new Standardizer().Fit(train);
        standardizer.TransformInPlace(train.Features);
        if (validation is not null) standardizer.TransformInPlace(validation.Features);
        standardizer.TransformInPlace(test.Features);

        Func<IKilnModel>? createModel = train.FeatureCount switch
        {
            784 => () => new FashionMlp(),
            64 => () => new DigitsMlp(),
            _ => null,
        };
        IKilnModel? model = createModel?.Invoke();
        if (model is null)
        {
            Console.Error.WriteLine($"error: {loaded.Name} has {train.FeatureCount} features per sample; the sample's models take 784 (28×28) or 64 (8×8).");
            return 1;
        }
        if (request.Isa is { } isaName)
        {
            try
            {
                model.Isa = KilnIsa.Validate(KilnIsa.Parse(isaName));
            }
            catch (PlatformNotSupportedException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        }

        // The doctor's checks before training restore the model bit for bit, so the run that follows is unchanged.
        IReadOnlyList<Finding> preTrainingFindings = [];
        DoctorObserver? doctorObserver = null;
        if (request.Doctor)
        {
            DoctorReport examination = TrainingDoctor.Examine(model, train, seed: request.Seed);
            preTrainingFindings = examination.Findings;
            Console.WriteLine($"Doctor before training: initial loss {examination.InitialLoss.Loss:F3} (ln C = {examination.InitialLoss.Expected:F3}); " +
                              $"suggested learning rate {examination.LearningRateRange.SuggestedLearningRate:G3}");
            Console.WriteLine(Finding.Format(preTrainingFindings));
            doctorObserver = new DoctorObserver(validation ?? test);
        }

        int epochCount = request.Epochs ?? (train.FeatureCount == 784 ? FashionEpochs : DigitsEpochs);
        float learningRate = request.LearningRate ?? DefaultLearningRate(request.Batch);
        var options = new TrainerOptions
        {
            Epochs = epochCount,
            BatchSize = request.Batch,
            Seed = request.Seed,
            LearningRate = learningRate,
            ValidateEveryEpoch = true,
            CancellationToken = token,
            RunDirectory = request.RunDirectory?.FullName,
            // The report compares train and validation accuracy per epoch; an eval pass over 5000 training samples is cheap.
            TrainAccuracySamples = request.RunDirectory is null ? 0 : 5000,
            EarlyStopping = request.Patience is int p ? new EarlyStopping { Metric = TrainingMetric.ValidationAccuracy, Patience = p } : null,
            Augmentation = request.Augment ? Augmentations(train) : null,
            AugmentationSeed = request.Seed,
            Observers = [.. doctorObserver is null ? Array.Empty<ITrainingObserver>() : [doctorObserver], .. EpochClock.FromEnvironment(train, request.Batch) is { } clock ? [clock] : Array.Empty<ITrainingObserver>()],
            ReportFindings = doctorObserver is null ? null : () => [.. preTrainingFindings, .. doctorObserver.Findings],
        };
        Console.WriteLine($"Model: {model.ModelName}, ISA {model.Isa}, {epochCount} epochs, batch {request.Batch}, lr {learningRate.ToString("G3", CultureInfo.InvariantCulture)}, shuffle seed {request.Seed}");

        bool interactive = !request.Plain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var cpu = CpuMeter.Start();
        RunSummary summary;
        int exitCode = 0;
        try
        {
            Dataset monitored = validation ?? test;
            summary = interactive ? ConsoleReporter.RunWithProgressBars(model, train, monitored, options) : ConsoleReporter.RunWithLines(model, train, monitored, options, validation is null ? "test" : "val");
        }
        catch (TrainingCancelledException e)
        {
            Console.Error.WriteLine("Cancelled; summary of the completed epochs follows.");
            summary = e.Partial;
            exitCode = 130;
        }
        CpuUsage usage = cpu.Stop();

        // With early stopping the model now holds the best epoch; the test split is evaluated once, here.
        EvaluationResult? testResult = validation is not null ? Trainer.Evaluate(model, test) : null;
        ConsoleReporter.PrintSummary(summary, loaded.Name, validation is null ? "test" : "val", testResult);
        if (doctorObserver is not null) Console.WriteLine("Doctor during training:" + Environment.NewLine + Finding.Format(doctorObserver.Findings));
        if (request.RunDirectory is { } dir) Console.WriteLine($"Run directory: {dir.FullName} (open report.html)");
        if (summary.StopReason == StopReason.Diverged)
        {
            Console.Error.WriteLine($"error: the loss became non-finite; lower the learning rate (was {learningRate.ToString("G3", CultureInfo.InvariantCulture)}).");
            exitCode = 1;
        }

        if (request.Ensemble > 1 && exitCode == 0)
            ReportEnsemble(model, createModel!, request.Ensemble, train, test, options, request.Seed);

        if (request.MetricsOut is { } file)
        {
            SampleMetrics metrics = SampleMetrics.From(summary, loaded.Name, learningRate, usage, testResult);
            metrics.Write(file.FullName);
            Console.WriteLine($"Metrics written to {file.FullName}");
        }
        return exitCode;
    }

    /// <summary>1e-3 at batch 64, 2e-3 at batch 256: square-root scaling with the batch size in between and beyond.</summary>
    internal static float DefaultLearningRate(int batch) => (float)(1e-3 * Math.Sqrt(batch / 64.0));

    /// <summary>
    /// Trains <paramref name="members"/> − 1 more models like <paramref name="first"/> (same class, initialisation and epochs;
    /// other shuffles and dropout masks) and prints each member's test accuracy next to the ensemble's.
    /// </summary>
    private static void ReportEnsemble(IKilnModel first, Func<IKilnModel> create, int members, Dataset train, Dataset test, TrainerOptions options, ulong seed)
    {
        var models = new List<IKilnModel> { first };
        var table = new Table().AddColumns("model", "test loss", "test accuracy");
        for (int k = 1; k < members; k++)
        {
            IKilnModel member = create();
            member.Isa = first.Isa;
            member.ResetNoise(seed + 1000UL * (ulong)k);
            Trainer.Fit(member, train, null, options with
            {
                Seed = seed + (ulong)k, RunDirectory = null, EarlyStopping = null, Observers = [], ReportFindings = null,
            });
            models.Add(member);
        }
        for (int k = 0; k < models.Count; k++)
        {
            EvaluationResult r = Trainer.Evaluate(models[k], test);
            table.AddRow($"member {k + 1} (shuffle seed {seed + (ulong)k})", r.Loss.ToString("F4", CultureInfo.InvariantCulture), $"{r.Accuracy:P2}");
        }
        EvaluationResult mean = new Kiln.Ensembles.Ensemble(models).Evaluate(test);
        table.AddRow($"ensemble of {models.Count} (mean probabilities)", mean.Loss.ToString("F4", CultureInfo.InvariantCulture), $"{mean.Accuracy:P2}");
        AnsiConsole.Write(table);
    }

    /// <summary>Flip and pad-and-crop (docs/techniques.md#augmentation) for the square grey images of both data sets.</summary>
    private static IBatchAugmentation Augmentations(Dataset train)
    {
        int side = (int)Math.Round(Math.Sqrt(train.FeatureCount));
        ImageShape shape = train.Shape ?? new ImageShape(1, side, side);
        return new Compose(new HorizontalFlip(shape), new RandomCrop(shape, padding: side >= 28 ? 2 : 1));
    }

    private sealed record LoadedData(string Name, DataSplit Split, string Reason);

    private static LoadedData LoadData(string? data)
    {
        if (data is null)
        {
            if (Idx.TryFindFiles(Idx.DefaultFashionMnistDirectory, out _))
                return new LoadedData("fashion-mnist", Idx.LoadFashionMnist(),
                    $"found in {Idx.DefaultFashionMnistDirectory} (Debian package dataset-fashion-mnist); no --data given.");
            return Digits($"no --data given and {Idx.DefaultFashionMnistDirectory} has no Fashion-MNIST IDX files " +
                          "(install the Debian package dataset-fashion-mnist), so using the set embedded in Kiln.Runtime.");
        }
        if (string.Equals(data, "digits", StringComparison.OrdinalIgnoreCase))
            return Digits("--data digits: the set embedded in Kiln.Runtime.");

        string full = Path.GetFullPath(data);
        bool isFashion = full.Contains("fashion", StringComparison.OrdinalIgnoreCase);
        string name = isFashion ? "fashion-mnist" : Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
        return new LoadedData(name, Idx.LoadDirectory(full, Idx.PixelScale, name), $"from --data {full}.");
    }

    private static LoadedData Digits(string reason) =>
        new("digits", EmbeddedData.DigitsSplit(), "UCI 8×8 digits, stratified 80/20 split with seed 0; " + reason);
}
