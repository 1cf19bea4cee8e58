using System;
using System.IO;
using Kiln.Data;
using Kiln.Training;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Models.Tests;

/// <summary>Training real data with the generated code, the runtime's data pipeline and the Trainer.</summary>
public sealed class EndToEndTests
{
    private readonly ITestOutputHelper _output;

    public EndToEndTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Digits_model_reaches_95_percent_test_accuracy()
    {
        DataSplit split = EmbeddedData.DigitsSplit(0.8, seed: 1);
        var standardizer = new Standardizer().Fit(split.Train);
        Dataset train = standardizer.Transform(split.Train), test = standardizer.Transform(split.Test);
        var model = new DigitsNet();
        RunSummary run = Trainer.Fit(model, train, test, new TrainerOptions { Epochs = 30, BatchSize = 32, Seed = 3 });
        EvaluationResult result = model.Evaluate(test.Features, test.Labels, test.Count);
        _output.WriteLine($"digits: test accuracy {result.Accuracy:P2}, loss {result.Loss:F4}, {run.SamplesPerSecond:F0} samples/s");
        Assert.True(result.Accuracy >= 0.95, $"test accuracy {result.Accuracy:P2} < 95%");
    }

    /// <summary>The benchmark model on Fashion-MNIST: ≥ 88% test accuracy after 3 epochs at batch 256 (lr 2e-3). CI installs dataset-fashion-mnist.</summary>
    [Fact]
    public void Benchmark_model_reaches_88_percent_on_Fashion_MNIST_in_3_epochs()
    {
        (Dataset train, Dataset test) = StandardisedFashionMnist();
        var model = new BenchmarkMlp();
        RunSummary run = Trainer.Fit(model, train, test, new TrainerOptions { Epochs = 3, BatchSize = 256, Seed = 1, LearningRate = 2e-3f });
        EvaluationResult result = model.Evaluate(test.Features, test.Labels, test.Count);
        _output.WriteLine($"fashion-mnist: test accuracy {result.Accuracy:P2}, loss {result.Loss:F4}, {run.SamplesPerSecond:F0} samples/s on {model.Isa}");
        Assert.True(result.Accuracy >= 0.88, $"test accuracy {result.Accuracy:P2} < 88%");
    }

    /// <summary>Fashion-MNIST standardised per pixel with training-split statistics (the test fails, rather than skips, without the data).</summary>
    private static (Dataset Train, Dataset Test) StandardisedFashionMnist()
    {
        Assert.True(Idx.TryFindFiles(Idx.DefaultFashionMnistDirectory, out _),
            $"Fashion-MNIST not found in {Idx.DefaultFashionMnistDirectory}: install the Debian package dataset-fashion-mnist (.ci/run does).");
        DataSplit split = Idx.LoadFashionMnist();
        var standardizer = new Standardizer().Fit(split.Train);
        return (standardizer.Transform(split.Train), standardizer.Transform(split.Test));
    }
}
