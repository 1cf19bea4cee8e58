using System;
using System.Collections.Generic;
using System.CommandLine;
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
        Option<int> Count(string name, int fallback, string description)
        {
            var option = new Option<int>(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => fallback };
            option.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError($"{name} must be positive."); });
            return option;
        }
        Option<int> steps = Count("--steps", 2000, "Mini-batch steps per optimiser.");
        Option<int> batch = Count("--batch", 32, "Mini-batch size, 1..256 (the models' MaxBatch).");
        batch.Validators.Add(r => { if (r.GetValueOrDefault<int>() > 256) r.AddError("--batch must be at most 256, the models' MaxBatch."); });
        Option<int> lbfgs = Count("--lbfgs-iterations", 150, "Most full-batch L-BFGS iterations.");
        Option<int> smooth = Count("--smooth", 20, "Moving-average window of the plotted mini-batch loss.");
        var seed = new Option<ulong>("--seed") { Description = "Shuffle seed of the mini-batches.", HelpName = "N", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "SVG to write (default docs/images/optimizer-zoo.svg in the repository).", HelpName = "FILE.svg" };
        var root = new RootCommand("Every optimiser (docs/techniques.md#optimisers) on the same digits network, identical batches; draws the comparison figure.")
        {
            steps, output, batch, lbfgs, seed, smooth,
        };
        root.SetAction(parse => Execute(new Settings(parse.GetValue(steps), parse.GetValue(batch), parse.GetValue(lbfgs), parse.GetValue(seed),
            parse.GetValue(smooth), parse.GetValue(output) ?? DefaultOutput())));
        return root.Parse(args).Invoke();
    }

    private static int Execute(Settings settings)
    {
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
        // The mini-batch loss is noisy: plot a trailing moving average (docs/techniques.md#hyper-parameters).
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

    /// <summary>docs/images/optimizer-zoo.svg under the repository root (found from the working directory), else in the working directory.</summary>
    private static string DefaultOutput()
    {
        for (DirectoryInfo? d = new(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Dsl.sln")))
                return Path.Combine(d.FullName, "docs", "images", "optimizer-zoo.svg");
        return "optimizer-zoo.svg";
    }
}
