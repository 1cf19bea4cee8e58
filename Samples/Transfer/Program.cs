using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Kiln;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Interop;
using Kiln.Training;
using Kiln.Transfer;
using Spectre.Console;

namespace Kiln.Samples.Transfer;

/// <summary>
/// Transfer learning (docs/techniques.md#transfer-learning): pre-train on Fashion-MNIST classes 0–4, then learn classes 5–9 from a few images per
/// class three ways — a new head on frozen pre-trained features, fine-tuning with a smaller learning rate on the body, and
/// from scratch — and compare their test accuracy. The pre-trained checkpoint belongs to another model class with another
/// head; the shared body is loaded by tensor name and shape.
/// </summary>
public static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly int[] SourceClasses = [0, 1, 2, 3, 4];
    private static readonly int[] TargetClasses = [5, 6, 7, 8, 9];

    private sealed record Settings(string Data, int PerClass, int Draws, int PretrainEpochs, int FinetuneEpochs, ulong Seed, bool FromPyTorch = false);

    /// <summary>The digits body pre-trained in PyTorch (tests/Kiln.Interop.Tests/Fixtures/make_fixtures.py), copied next to the sample.</summary>
    private static string PyTorchFixture => Path.Combine(AppContext.BaseDirectory, "pytorch", "digits_pretrain.safetensors");

    /// <summary>One way of starting and training the target model.</summary>
    private sealed record Method(string Name, string Trains, float LearningRate, Action<IKilnModel, string> Prepare);

    public static int Main(string[] args)
    {
        Option<int> Count(string name, int fallback, string description)
        {
            var option = new Option<int>(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => fallback };
            option.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError($"{name} must be positive."); });
            return option;
        }
        var data = new Option<string>("--data")
        {
            Description = "fashion (falls back to digits when Fashion-MNIST is not installed) or digits.", DefaultValueFactory = _ => "fashion",
        };
        data.AcceptOnlyFromAmong("fashion", "digits");
        Option<int> perClass = Count("--per-class", 50, "Target images per class."), draws = Count("--draws", 3, "Random draws of those images, results averaged.");
        Option<int> pretrainEpochs = Count("--pretrain-epochs", 4, "Epochs on the source classes.");
        Option<int> finetuneEpochs = Count("--finetune-epochs", 40, "Epochs on the few target images.");
        var seed = new Option<ulong>("--seed") { Description = "Seed of the draws and shuffles.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var fromPyTorch = new Option<bool>("--from-pytorch")
        {
            Description = "Start from weights pre-trained in PyTorch (nn.Sequential on digits 0–4, the committed fixture) instead of pre-training with " +
                          "Kiln; loaded with TorchWeights (docs/interop.md). Uses the 8×8 digits.",
        };
        var root = new RootCommand("Transfer learning (docs/techniques.md#transfer-learning): pre-train on Fashion-MNIST classes 0–4, then learn classes 5–9 from a few " +
                                   "images each, comparing frozen features, fine-tuning and training from scratch.")
        {
            data, perClass, draws, pretrainEpochs, finetuneEpochs, seed, fromPyTorch,
        };
        root.SetAction(parse => Run(new Settings(parse.GetValue(data)!, parse.GetValue(perClass), parse.GetValue(draws), parse.GetValue(pretrainEpochs),
            parse.GetValue(finetuneEpochs), parse.GetValue(seed), parse.GetValue(fromPyTorch))));
        return root.Parse(args).Invoke();
    }

    private static int Run(Settings settings)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;
        var clock = Stopwatch.StartNew();

        // Data: Fashion-MNIST from Debian's dataset-fashion-mnist, else the embedded digits.
        DataSplit split;
        Func<IKilnModel> createSource, createTarget;
        string classNames;
        bool fashion = settings.Data == "fashion" && !settings.FromPyTorch && Idx.TryFindFiles(Idx.DefaultFashionMnistDirectory, out _);
        if (settings.FromPyTorch && settings.Data == "fashion")
            AnsiConsole.MarkupLine("[yellow]--from-pytorch: the PyTorch-trained body is for the 8×8 digits, so the digits are used.[/]");
        else if (settings.Data == "fashion" && !fashion)
            AnsiConsole.MarkupLineInterpolated(
                $"[yellow]Fashion-MNIST is not installed in {Idx.DefaultFashionMnistDirectory} (apt-get install dataset-fashion-mnist); falling back to the embedded 8×8 digits (source digits 0–4, target digits 5–9).[/]");
        if (fashion)
        {
            split = Idx.LoadFashionMnist();
            createSource = () => new FashionPretrainNet();
            createTarget = () => new FashionTransferNet();
            classNames = "source: T-shirt, trouser, pullover, dress, coat; target: sandal, shirt, sneaker, bag, ankle boot";
        }
        else
        {
            split = EmbeddedData.DigitsSplit(0.8, seed: 0);
            createSource = () => new DigitsPretrainNet();
            createTarget = () => new DigitsTransferNet();
            classNames = "source: digits 0–4; target: digits 5–9";
        }

        // The body was trained on standardised source images, so everything goes through the source's standardiser.
        Dataset sourceTrainRaw = ClassSubsets.Select(split.Train, SourceClasses, "source train");
        var standardizer = new Standardizer().Fit(sourceTrainRaw);
        Dataset sourceTrain = standardizer.Transform(sourceTrainRaw);
        Dataset sourceTest = standardizer.Transform(ClassSubsets.Select(split.Test, SourceClasses, "source test"));
        Dataset targetPool = standardizer.Transform(ClassSubsets.Select(split.Train, TargetClasses, "target train"));
        Dataset targetTest = standardizer.Transform(ClassSubsets.Select(split.Test, TargetClasses, "target test"));
        AnsiConsole.MarkupLineInterpolated($"[bold]Transfer learning[/] on {(fashion ? "Fashion-MNIST" : "the 8×8 digits")}: {classNames}");
        Line($"pre-training on {sourceTrain.Count} source images; learning the target from {settings.PerClass} images per class ({settings.PerClass * 5} in all), tested on {targetTest.Count} target images; {settings.Draws} random draws of the few images");

        // 1. Pre-train the source model (or take PyTorch's) and save it.
        IKilnModel source = createSource();
        string dir = Path.Combine(Path.GetTempPath(), "kiln-transfer-" + Environment.ProcessId.ToString(Inv));
        Directory.CreateDirectory(dir);
        string checkpoint = Path.Combine(dir, "pretrained.safetensors");
        if (settings.FromPyTorch)
        {
            // PyTorch's nn.Sequential(Linear(64, 64), ReLU(), Linear(64, 32), ReLU(), Linear(32, 5)) mirrors DigitsPretrainNet layer for layer,
            // so the inferred map applies (features ← "0", hidden ← "2", pretrain_head ← "4"); Linear [out, in] becomes Kiln's [in, out].
            // It was trained on all digits 0–4 standardised with their own statistics, close to this split's standardiser.
            TorchLoadReport loaded = TorchWeights.Load(source, PyTorchFixture);
            Line($"loaded PyTorch weights from {PyTorchFixture}: {string.Join(", ", loaded.Loaded.Select(l => $"{l.Kiln} ← {l.Torch}"))}");
            Line($"PyTorch-trained {source.ModelName}: source test accuracy {source.Evaluate(sourceTest.Features, sourceTest.Labels, sourceTest.Count).Accuracy * 100:F2}% (PyTorch saw these images in training)");
        }
        else
        {
            RunSummary pretrain = Trainer.Fit(source, sourceTrain, sourceTest, new TrainerOptions { Epochs = settings.PretrainEpochs, BatchSize = 128, Seed = settings.Seed });
            Line($"pre-trained {source.ModelName}: {settings.PretrainEpochs} epochs, source test accuracy {pretrain.FinalValidationAccuracy * 100:F2}% ({pretrain.TotalSeconds:F1} s)");
        }
        Checkpoint.Save(source, checkpoint);
        Line($"saved to {checkpoint}");

        PretrainedLoad report = TransferLearning.LoadPretrained(createTarget(), checkpoint, reinitialize: ["head"]);
        Line($"loading it into another class: loaded {string.Join(", ", report.Loaded)}; fresh {string.Join(", ", report.Reinitialized)}; skipped {string.Join(", ", report.Matching.Skipped.Where(s => !s.Name.Contains("optimizer_state", StringComparison.Ordinal)).Select(s => s.Name))} (and the optimiser state)");

        // 2. Three ways to learn the target from few images (plus fine-tuning at the full rate for reference).
        var methods = new[]
        {
            // A linear classifier on the frozen body has few parameters and a convex problem: it takes a larger rate.
            new Method("frozen body, new head", "head", 1e-2f, (m, ckpt) =>
            {
                TransferLearning.LoadPretrained(m, ckpt, reinitialize: ["head"]);
                TransferLearning.FreezeAllExcept(m, "head");
            }),
            // "Different data, little data: try classifiers at different stages": keep only the first layer frozen.
            new Method("frozen first layer", "hidden, head", 1e-3f, (m, ckpt) =>
            {
                TransferLearning.LoadPretrained(m, ckpt, reinitialize: ["head"]);
                TransferLearning.FreezeAllExcept(m, "hidden", "head");
            }),
            new Method("fine-tune, body lr × 0.1", "all (body × 0.1)", 1e-3f, (m, ckpt) =>
            {
                TransferLearning.LoadPretrained(m, ckpt, reinitialize: ["head"]);
                TransferLearning.ScaleLearningRates(m, body: 0.1f, head: 1f, "head");
            }),
            new Method("fine-tune, body lr × 1", "all", 1e-3f, (m, ckpt) => TransferLearning.LoadPretrained(m, ckpt, reinitialize: ["head"])),
            new Method("from scratch", "all", 1e-3f, (_, _) => { }),
        };

        var accuracy = methods.ToDictionary(m => m.Name, _ => new List<double>());
        var trainAccuracy = methods.ToDictionary(m => m.Name, _ => new List<double>());
        var seconds = methods.ToDictionary(m => m.Name, _ => 0.0);
        bool frozenBodyUnchanged = true;
        for (int draw = 0; draw < settings.Draws; draw++)
        {
            Dataset few = ClassSubsets.TakePerClass(targetPool, settings.PerClass, settings.Seed + (ulong)draw);
            foreach (Method method in methods)
            {
                IKilnModel model = createTarget();
                method.Prepare(model, checkpoint);
                float[][] body = model.Tensors.Where(t => t.Layer != "head").Select(t => model.TensorData(t).ToArray()).ToArray();
                var options = new TrainerOptions { Epochs = settings.FinetuneEpochs, BatchSize = Math.Min(25, few.Count), Seed = settings.Seed + (ulong)draw, LearningRate = method.LearningRate };
                RunSummary run = Trainer.Fit(model, few, null, options);
                seconds[method.Name] += run.TotalSeconds;
                accuracy[method.Name].Add(model.Evaluate(targetTest.Features, targetTest.Labels, targetTest.Count).Accuracy);
                trainAccuracy[method.Name].Add(model.Evaluate(few.Features, few.Labels, few.Count).Accuracy);
                // Every layer with learning-rate scale 0 must come out exactly as it went in.
                TensorInfo[] bodyTensors = model.Tensors.Where(t => t.Layer != "head").ToArray();
                for (int t = 0; t < bodyTensors.Length; t++)
                    if (model.GetLearningRateScale(bodyTensors[t].Layer) == 0)
                        frozenBodyUnchanged &= body[t].AsSpan().SequenceEqual(model.TensorData(bodyTensors[t]));
            }
        }

        var table = new Table().Border(TableBorder.Rounded)
            .Title($"{settings.PerClass} images per target class, {settings.FinetuneEpochs} epochs, {settings.Draws} draws");
        table.AddColumn("method");
        table.AddColumn("trains");
        table.AddColumn(new TableColumn("lr").RightAligned());
        foreach (string c in new[] { "test acc (mean)", "min", "max", "train acc", "seconds" }) table.AddColumn(new TableColumn(c).RightAligned());
        foreach (Method m in methods.OrderByDescending(m => accuracy[m.Name].Average()))
        {
            List<double> a = accuracy[m.Name];
            table.AddRow(new Text(m.Name), new Text(m.Trains), new Text(m.LearningRate.ToString("G3", Inv)), new Text(P(a.Average())), new Text(P(a.Min())), new Text(P(a.Max())),
                new Text(P(trainAccuracy[m.Name].Average())), new Text(seconds[m.Name].ToString("F2", Inv)));
        }
        AnsiConsole.Write(table);
        Line($"frozen layers bit-identical after training: {(frozenBodyUnchanged ? "yes" : "NO")}");
        Line($"total {clock.Elapsed.TotalSeconds:F1} s");
        Directory.Delete(dir, recursive: true);
        return frozenBodyUnchanged ? 0 : 1;
    }

    private static string P(double v) => (v * 100).ToString("F2", Inv) + "%";

    private static void Line(FormattableString text) => AnsiConsole.WriteLine(text.ToString(Inv));
}
