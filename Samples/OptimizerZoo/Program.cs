using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Kiln;
using Kiln.Data;
using Kiln.Training;

namespace Kiln.Samples.OptimizerZoo;

/// <summary>
/// Trains one small network on the embedded digits with six mini-batch optimisers and with full-batch L-BFGS,
/// writes the loss curves as an SVG and prints a table of final losses and test accuracies.
/// </summary>
public static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static void Out(FormattableString line) => Console.WriteLine(line.ToString(Inv));

    /// <summary>Settings from the command line.</summary>
    internal sealed record Settings(int Steps, int Batch, int LbfgsIterations, ulong Seed, int Smooth, string Out);

    /// <summary>A finished run: what the figure and the table need.</summary>
    internal sealed record Run(string Name, string Rule, double LearningRate, IReadOnlyList<(double X, double Y)> Curve,
        int Updates, double Passes, double TrainLoss, double TestAccuracy, double Seconds, string Color);

    public static int Main(string[] args)
    {
        Settings? settings;
        try
        {
            settings = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (settings is null) { Console.WriteLine(Usage); return 0; }

        DataSplit raw = EmbeddedData.DigitsSplit();
        var standardizer = new Standardizer().Fit(raw.Train);
        Dataset train = standardizer.Transform(raw.Train), test = standardizer.Transform(raw.Test);
        Out($"digits: {train.Count} training and {test.Count} test samples, standardised with training statistics");
        Out($"network 64 → Dense 64 → ReLU → Dense 10 → softmax CE ({ParameterCount(new ZooSgd())} parameters), seed 7 for every model");
        Out($"mini-batch optimisers: {settings.Steps} steps of batch {settings.Batch} (identical batches, shuffle seed {settings.Seed}); L-BFGS: up to {settings.LbfgsIterations} full-batch iterations");

        var miniBatch = new (string Name, string Rule, Func<IKilnModel> Create)[]
        {
            ("SGD", "x −= αg", () => new ZooSgd()),
            ("Momentum", "ρ = 0.9", () => new ZooMomentum()),
            ("Nesterov", "ρ = 0.9", () => new ZooNesterov()),
            ("AdaGrad", "ε = 1e-7", () => new ZooAdaGrad()),
            ("RMSProp", "d = 0.99", () => new ZooRmsProp()),
            ("Adam", "β = 0.9, 0.999", () => new ZooAdam()),
        };

        IKilnModel reference = miniBatch[0].Create();
        var runs = new List<Run>();
        for (int i = 0; i < miniBatch.Length; i++)
        {
            IKilnModel model = miniBatch[i].Create();
            if (!SameParameters(reference, model))
                throw new InvalidOperationException($"{model.ModelName} does not start from the same weights as {reference.ModelName}.");
            runs.Add(TrainMiniBatch(miniBatch[i].Name, miniBatch[i].Rule, model, train, test, settings, SvgChart.Palette[i]));
        }

        var lbfgsModel = new ZooLbfgs();
        if (!SameParameters(reference, lbfgsModel))
            throw new InvalidOperationException("ZooLbfgs does not start from the same weights as the others.");
        (Run lbfgs, LbfgsResult lbfgsResult) = TrainLbfgs(lbfgsModel, train, test, settings, SvgChart.Palette[6]);
        runs.Add(lbfgs);

        WriteFigure(settings, runs, lbfgs, lbfgsResult, train.Count);
        PrintTable(runs, lbfgsResult);
        Out($"figure: {Path.GetFullPath(settings.Out)}");
        return 0;
    }

    private static Run TrainMiniBatch(string name, string rule, IKilnModel model, Dataset train, Dataset test, Settings s, string color)
    {
        var batcher = new Batcher(train, s.Batch, s.Seed);
        var losses = new double[s.Steps];
        int epoch = 0;
        batcher.BeginEpoch(epoch);
        var clock = Stopwatch.StartNew();
        for (int step = 0; step < s.Steps; step++)
        {
            if (!batcher.NextBatch())
            {
                batcher.BeginEpoch(++epoch);
                batcher.NextBatch();
            }
            losses[step] = model.TrainStep(batcher.Inputs, batcher.Labels, batcher.Current);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        // The mini-batch loss is noisy: plot a trailing moving average (CATALOGUE §9).
        var curve = new List<(double, double)>(s.Steps);
        double sum = 0;
        for (int i = 0; i < losses.Length; i++)
        {
            sum += losses[i];
            if (i >= s.Smooth) sum -= losses[i - s.Smooth];
            curve.Add((i + 1, sum / Math.Min(i + 1, s.Smooth)));
        }
        EvaluationResult trainEval = model.Evaluate(train.Features, train.Labels, train.Count);
        EvaluationResult testEval = model.Evaluate(test.Features, test.Labels, test.Count);
        return new Run(name, rule, model.LearningRate, curve, s.Steps, (double)s.Steps * s.Batch / train.Count, trainEval.Loss, testEval.Accuracy, seconds, color);
    }

    private static (Run, LbfgsResult) TrainLbfgs(IKilnModel model, Dataset train, Dataset test, Settings s, string color)
    {
        var clock = Stopwatch.StartNew();
        LbfgsResult result = Lbfgs.Minimize(model, train, new LbfgsOptions { History = 10, MaxIterations = s.LbfgsIterations, GradientTolerance = 1e-6 });
        double seconds = clock.Elapsed.TotalSeconds;
        var curve = new List<(double, double)>(result.LossHistory.Count);
        for (int i = 0; i < result.LossHistory.Count; i++) curve.Add((i, result.LossHistory[i]));
        EvaluationResult trainEval = model.Evaluate(train.Features, train.Labels, train.Count);
        EvaluationResult testEval = model.Evaluate(test.Features, test.Labels, test.Count);
        return (new Run("L-BFGS", "m = 10, strong Wolfe", double.NaN, curve, result.Iterations, result.Evaluations, trainEval.Loss, testEval.Accuracy, seconds, color), result);
    }

    private static void WriteFigure(Settings s, List<Run> runs, Run lbfgs, LbfgsResult result, int trainCount)
    {
        var miniSeries = new List<ChartSeries>();
        foreach (Run r in runs)
            if (!ReferenceEquals(r, lbfgs))
                miniSeries.Add(new ChartSeries(string.Create(Inv, $"{r.Name} (α = {r.LearningRate:G3})"), r.Curve, r.Color, Dashed: r.Name == "Nesterov"));
        var panels = new[]
        {
            new ChartPanel(string.Create(Inv, $"Mini-batch optimisers, batch {s.Batch}"), "step",
                string.Create(Inv, $"training loss, mean of last {s.Smooth} batches"), miniSeries),
            new ChartPanel(string.Create(Inv, $"L-BFGS, full batch ({trainCount} samples)"), "iteration", "full-batch training loss",
                [new ChartSeries(string.Create(Inv, $"L-BFGS (m = 10, {result.Evaluations} passes)"), lbfgs.Curve, lbfgs.Color)]),
        };
        SvgChart.Write(s.Out, "Optimiser zoo: 64-64-10 ReLU network on the 8×8 digits", panels,
            "same architecture and initial weights for every optimiser; identical mini-batches; softmax cross-entropy");
    }

    private static void PrintTable(List<Run> runs, LbfgsResult lbfgs)
    {
        Console.WriteLine();
        Out($"{"optimiser",-10} {"settings",-20} {"lr",8} {"updates",8} {"passes",7} {"train loss",11} {"test acc",9} {"seconds",8}");
        foreach (Run r in runs)
        {
            string lr = double.IsNaN(r.LearningRate) ? "-" : r.LearningRate.ToString("G3", Inv);
            Out($"{r.Name,-10} {r.Rule,-20} {lr,8} {r.Updates,8} {r.Passes,7:F1} {r.TrainLoss,11:G5} {r.TestAccuracy * 100,8:F2}% {r.Seconds,8:F2}");
        }
        Out(
            $"updates: optimiser steps (L-BFGS: iterations); passes: forward-backward passes over the training set; train loss: eval-mode loss over the whole training set after training.");
        Out($"L-BFGS stopped on {lbfgs.StopReason} with gradient norm {lbfgs.GradientNorm:G3}.");
    }

    private static bool SameParameters(IKilnModel a, IKilnModel b)
    {
        if (a.Tensors.Count != b.Tensors.Count) return false;
        for (int t = 0; t < a.Tensors.Count; t++)
        {
            if (!a.Tensors[t].Trainable) continue;
            if (!a.TensorData(a.Tensors[t]).SequenceEqual(b.TensorData(b.Tensors[t]))) return false;
        }
        return true;
    }

    private static int ParameterCount(IKilnModel model)
    {
        int n = 0;
        foreach (TensorInfo t in model.Tensors) if (t.Trainable) n += t.Length;
        return n;
    }

    private const string Usage =
        "usage: OptimizerZoo [--steps N] [--out FILE.svg] [--batch N] [--lbfgs-iterations N] [--seed N] [--smooth N]\n" +
        "  --steps             mini-batch steps per optimiser (default 2000)\n" +
        "  --out               SVG to write (default docs/images/optimizer-zoo.svg in the repository)\n" +
        "  --batch             mini-batch size, 1..256 (default 32)\n" +
        "  --lbfgs-iterations  most full-batch L-BFGS iterations (default 150)\n" +
        "  --seed              shuffle seed of the mini-batches (default 0)\n" +
        "  --smooth            moving-average window of the plotted mini-batch loss (default 20)";

    /// <summary>Parses the flags; null for --help.</summary>
    internal static Settings? Parse(string[] args)
    {
        int steps = 2000, batch = 32, lbfgs = 150, smooth = 20;
        ulong seed = 0;
        string? output = null;
        for (int i = 0; i < args.Length; i++)
        {
            string flag = args[i];
            if (flag is "-h" or "--help") return null;
            if (i + 1 >= args.Length) throw new ArgumentException($"{flag} needs a value.");
            string value = args[++i];
            switch (flag)
            {
                case "--steps": steps = Positive(flag, value); break;
                case "--batch": batch = Positive(flag, value); break;
                case "--lbfgs-iterations": lbfgs = Positive(flag, value); break;
                case "--smooth": smooth = Positive(flag, value); break;
                case "--seed":
                    if (!ulong.TryParse(value, NumberStyles.None, Inv, out seed)) throw new ArgumentException($"--seed needs a non-negative integer (got '{value}').");
                    break;
                case "--out": output = value; break;
                default: throw new ArgumentException($"Unknown option '{flag}'.");
            }
        }
        if (batch > 256) throw new ArgumentException($"--batch must be at most 256, the models' MaxBatch (got {batch}).");
        output ??= DefaultOutput();
        return new Settings(steps, batch, lbfgs, seed, smooth, output);

        static int Positive(string flag, string value) =>
            int.TryParse(value, NumberStyles.None, Inv, out int n) && n > 0 ? n : throw new ArgumentException($"{flag} needs a positive integer (got '{value}').");
    }

    /// <summary>docs/images/optimizer-zoo.svg under the repository root (found from the working directory), else in the working directory.</summary>
    private static string DefaultOutput()
    {
        for (DirectoryInfo? d = new(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Dsl.sln")))
                return Path.Combine(d.FullName, "docs", "images", "optimizer-zoo.svg");
        return "optimizer-zoo.svg";
    }
}
