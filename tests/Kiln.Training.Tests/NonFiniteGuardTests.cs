using System;
using System.IO;
using System.Linq;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Runtime.Tests;

namespace Kiln.Training.Tests;

/// <summary>Item 1 of docs/reliability.md: one NaN feature must never reach the weights or a checkpoint.</summary>
public class NonFiniteGuardTests
{
    private static bool AllFinite(IKilnModel model) =>
        model.Tensors.All(t => model.TensorData(t).ToArray().All(float.IsFinite));

    [Fact]
    public void TrainStep_rejects_a_batch_with_a_nan_feature_and_leaves_the_weights_untouched()
    {
        DataSplit data = StandardDigits.Split;
        var model = new GuardedMlp();
        var x = data.Train.Features.AsSpan(0, 32 * 64).ToArray();
        x[5 * 64 + 17] = float.NaN;
        float[] before = model.TensorData(model.Tensors[0]).ToArray();
        var e = Assert.ThrowsAny<ArgumentException>(() => model.TrainStep(x, data.Train.Labels.AsSpan(0, 32), 32));
        Assert.Contains("row 5", e.Message);
        Assert.Contains("feature 17", e.Message);
        Assert.Equal(before, model.TensorData(model.Tensors[0]).ToArray());
        Assert.Equal(0, model.Step);
        x[5 * 64 + 17] = float.PositiveInfinity;
        Assert.ThrowsAny<ArgumentException>(() => model.ComputeGradients(x, data.Train.Labels.AsSpan(0, 32), 32));
    }

    [Fact]
    public void Fit_stops_on_a_nan_feature_naming_the_sample_and_writes_no_checkpoint()
    {
        DataSplit data = StandardDigits.Split;
        float[] features = (float[])data.Train.Features.Clone();
        features[700 * 64 + 3] = float.NaN;
        var train = new Dataset(features, data.Train.Labels, 64, 10, name: "digits-with-nan");
        var model = new GuardedMlp();
        using var dir = new TempDirectory();
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Fit(model, train, data.Test,
            new TrainerOptions { Epochs = 2, BatchSize = 64, RunDirectory = dir.Path }));
        Assert.Contains("digits-with-nan", e.Message);
        Assert.Contains("sample 700", e.Message);
        Assert.Contains("feature 3", e.Message);
        Assert.True(AllFinite(model), "the weights must stay finite");
        Assert.False(File.Exists(dir.File("last.safetensors")) && !LoadsFinite(dir.File("last.safetensors")));
        Assert.False(File.Exists(dir.File("best.safetensors")) && !LoadsFinite(dir.File("best.safetensors")));
    }

    [Fact]
    public void Fit_rejects_a_validation_set_with_an_infinite_feature_before_training()
    {
        DataSplit data = StandardDigits.Split;
        float[] features = (float[])data.Test.Features.Clone();
        features[10 * 64 + 60] = float.NegativeInfinity;
        var validation = new Dataset(features, data.Test.Labels, 64, 10, name: "bad-validation");
        var model = new GuardedMlp();
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Fit(model, data.Train, validation, new TrainerOptions { Epochs = 1, BatchSize = 64 }));
        Assert.Contains("bad-validation", e.Message);
        Assert.Contains("sample 10", e.Message);
        Assert.Equal(0, model.Step);
    }

    private static bool LoadsFinite(string path) =>
        Checkpoint.Read(path).Tensors.All(t => t.ToFloatArray().All(float.IsFinite));

    [Fact]
    public void Checkpoint_save_refuses_non_finite_parameters_and_keeps_the_old_file()
    {
        var model = new GuardedMlp();
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        Checkpoint.Save(model, path);
        byte[] good = File.ReadAllBytes(path);
        TensorInfo w = model.Tensors[0];
        model.TensorData(w)[7] = float.NaN;
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Save(model, path));
        Assert.Equal(w.Name, e.TensorName);
        Assert.Contains("element 7", e.Message);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
