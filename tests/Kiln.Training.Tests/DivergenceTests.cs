using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Runtime.Tests;

namespace Kiln.Training.Tests;

/// <summary>Item 2 of docs/reliability.md: a run whose loss explodes (but stays finite) stops and restores the last good state.</summary>
public class DivergenceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static bool AllFinite(IKilnModel model) =>
        model.Tensors.All(t => model.TensorData(t).ToArray().All(float.IsFinite));

    public static TheoryData<string> Diverging() => new() { "sgd", "adam", "batchnorm" };

    private static IKilnModel Create(string name) => name switch
    {
        "sgd" => new Sgd1000Mlp(),
        "adam" => new Adam1000Mlp(),
        _ => new BatchNorm1000Mlp(),
    };

    [Theory, MemberData(nameof(Diverging))]
    public void A_learning_rate_of_1000_ends_with_a_divergence_stop_and_finite_restored_weights(string name)
    {
        IKilnModel model = Create(name);
        using var dir = new TempDirectory();
        RunSummary run = Trainer.Fit(model, StandardDigits.Split.Train, StandardDigits.Split.Test,
            new TrainerOptions { Epochs = 5, BatchSize = 64, RunDirectory = dir.Path, RecordSteps = true });
        output.WriteLine($"{name}: {run.StoppedBy}: {run.StopMessage}; restored {run.RestoredState}");
        Assert.Equal(StopReason.Diverged, run.StopReason);
        Assert.NotNull(run.RestoredState);
        Assert.NotNull(run.StopMessage);
        Assert.True(AllFinite(model), "restored weights must be finite");
        // The restored state is as good as the start: its validation loss is near chance, not in the hundreds.
        double loss = Trainer.Evaluate(model, StandardDigits.Split.Test).Loss;
        Assert.True(loss < 5, $"validation loss after restore {loss}");
        // The run directory says so too, and its last checkpoint is the restored, finite state.
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(dir.File("summary.json")));
        Assert.Equal("Diverged", summary.RootElement.GetProperty("stop_reason").GetString());
        Assert.False(string.IsNullOrEmpty(summary.RootElement.GetProperty("restored_state").GetString()));
        Assert.All(Checkpoint.Read(dir.File("last.safetensors")).Tensors, t => Assert.All(t.ToFloatArray(), v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public void A_normal_run_is_not_called_diverged()
    {
        var model = new GuardedMlp();
        RunSummary run = Trainer.Fit(model, StandardDigits.Split.Train, StandardDigits.Split.Test, new TrainerOptions { Epochs = 8, BatchSize = 32 });
        Assert.Equal(StopReason.Completed, run.StopReason);
        Assert.Null(run.RestoredState);
        Assert.True(run.FinalValidationAccuracy > 0.9, $"accuracy {run.FinalValidationAccuracy}");
    }
}
