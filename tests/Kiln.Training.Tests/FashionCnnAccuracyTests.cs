using Kiln.Data;
using Kiln.Samples.FashionCnn;
using Kiln.Schedules;
using Kiln.Training;
using Xunit;
using Xunit.Abstractions;

namespace Kiln.Training.Tests;

/// <summary>Issue 3's accuracy target, trained in full with the sample's own model.</summary>
public sealed class FashionCnnAccuracyTests
{
    private readonly ITestOutputHelper _output;

    public FashionCnnAccuracyTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// The benchmark CNN reaches ≥ 91% Fashion-MNIST test accuracy in 5 epochs at batch 64 with Adam from 1e-3, with the
    /// sample's default recipe: its FashionCnnTorchInit (PyTorch's default initialisation), the rate decayed linearly to
    /// 0 per step over the 5 epochs, per-channel input standardisation fitted on the training split, shuffle seed 0. About
    /// 40 s on two cores; the sample printed 91.48% for this seed (91.37–91.75% over seeds 0–4, Samples/FashionCnn/README.md).
    /// </summary>
    [Fact]
    public void Benchmark_CNN_reaches_91_percent_on_Fashion_MNIST_in_5_epochs()
    {
        Assert.True(Idx.TryFindFiles(Idx.DefaultFashionMnistDirectory, out _),
            $"Fashion-MNIST not found in {Idx.DefaultFashionMnistDirectory}: install the Debian package dataset-fashion-mnist (.ci/run does).");
        DataSplit split = Idx.LoadFashionMnist();
        var model = new FashionCnnTorchInit();
        model.FitInputNormalization(split.Train.Features, split.Train.Count);
        RunSummary run = Trainer.Fit(model, split.Train, split.Test, new TrainerOptions
        {
            Epochs = 5, BatchSize = 64, Seed = 0, LearningRate = 1e-3f,
            Schedule = new LinearDecay(steps: 0, epochs: 5, minFactor: 0), ScheduleStepping = ScheduleStepping.PerStep,
        });
        EvaluationResult result = model.Evaluate(split.Test.Features, split.Test.Labels, split.Test.Count);
        _output.WriteLine($"fashion-mnist CNN, 5 epochs: test accuracy {result.Accuracy:P2}, loss {result.Loss:F4}, {run.SamplesPerSecond:F0} samples/s on {model.Isa}");
        Assert.True(result.Accuracy >= 0.91, $"test accuracy {result.Accuracy:P2} < 91%");
    }
}
