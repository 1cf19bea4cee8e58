using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using Kiln;
using Kiln.Data;
using Kiln.Samples.FashionMnist;
using Kiln.Training;

namespace Kiln.Samples.ResidualDigits;

/// <summary>Trains ResidualDigitsNet on the 8×8 digits embedded in Kiln.Runtime and reports test accuracy.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var epochs = new Option<int>("--epochs") { Description = "Epochs (default 30).", HelpName = "N", DefaultValueFactory = _ => 30 };
        epochs.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--epochs must be positive."); });
        var batch = new Option<int>("--batch") { Description = "Mini-batch size, 2 to 128 (default 32).", HelpName = "N", DefaultValueFactory = _ => 32 };
        batch.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 2 or > 128) r.AddError("--batch must be between 2 and 128."); });
        var seed = new Option<ulong>("--seed") { Description = "Shuffle seed (default 0).", HelpName = "N" };
        var metricsOut = new Option<FileInfo?>("--metrics-out") { Description = "Write the run's metrics as JSON to FILE (the MLP sample's format).", HelpName = "FILE" };
        var root = new RootCommand("Trains a residual CNN with BatchNorm2D and stochastic depth on the embedded 8×8 digits.") { epochs, batch, seed, metricsOut };
        root.SetAction(parse => Run(parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(seed), parse.GetValue(metricsOut)));
        return root.Parse(args).Invoke();
    }

    private static int Run(int epochs, int batch, ulong seed, FileInfo? metricsOut)
    {
        DataSplit split = EmbeddedData.DigitsSplit(0.8, seed: 0);
        Standardizer standardizer = new Standardizer().Fit(split.Train); // training split only (docs/techniques.md#preprocessing)
        Dataset train = standardizer.Transform(split.Train), test = standardizer.Transform(split.Test);
        var model = new ResidualDigitsNet();
        Console.WriteLine($"Data: digits ({train.Count} train, {test.Count} test); model {model.ModelName} ({ResidualDigitsNet.ParameterCount:N0} parameters), ISA {model.Isa}");
        foreach (LayerInfo layer in model.Layers)
            if (layer.Kind == "residual") Console.WriteLine($"  {layer.Name}: output {string.Join("×", layer.OutputShape)}, survival 0.8");
        var options = new TrainerOptions { Epochs = epochs, BatchSize = batch, Seed = seed, LearningRate = model.BaseLearningRate, ValidateEveryEpoch = true };
        var cpu = CpuMeter.Start();
        RunSummary summary = ConsoleReporter.RunWithLines(model, train, test, options);
        CpuUsage usage = cpu.Stop();
        ConsoleReporter.PrintSummary(summary, "digits");
        if (metricsOut is not null)
        {
            SampleMetrics.From(summary, "digits", model.BaseLearningRate, usage).Write(metricsOut.FullName);
            Console.WriteLine($"Metrics written to {metricsOut.FullName}");
        }
        return summary.StopReason == StopReason.Diverged ? 1 : 0;
    }
}
