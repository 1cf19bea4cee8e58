using System;
using System.IO;
using System.Linq;
using Kiln;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Training;
using Kiln.Transfer;

namespace Kiln.Tuning.Tests;

/// <summary>Loading a pre-trained body from another model class, re-initialising the head, freezing and scaling layers.</summary>
public sealed class TransferTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-transfer-" + Guid.NewGuid().ToString("N"));
    private readonly string _checkpoint;
    private readonly SourceNet _source = new();

    public TransferTests()
    {
        Directory.CreateDirectory(_dir);
        (Dataset train, _) = ModelTrialTests.Digits.Value;
        Trainer.Fit(_source, train, null, new TrainerOptions { Epochs = 1, BatchSize = 64 });
        _checkpoint = Path.Combine(_dir, "source.safetensors");
        Checkpoint.Save(_source, _checkpoint);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static float[] Values(IKilnModel model, string tensor) => model.TensorData(model.Tensors.Single(t => t.Name == tensor)).ToArray();

    /// <summary>Digits 0–4 relabelled for the 5-class target.</summary>
    private static Dataset FirstFiveClasses()
    {
        (Dataset train, _) = ModelTrialTests.Digits.Value;
        return ClassSubsets.Select(train, [0, 1, 2, 3, 4], "digits 0-4");
    }

    [Fact]
    public void The_body_comes_from_the_source_and_the_head_from_the_target_seed()
    {
        var target = new TargetNet();
        PretrainedLoad load = TransferLearning.LoadPretrained(target, _checkpoint);
        Assert.Equal(["features.weight", "features.bias", "hidden.weight", "hidden.bias"], load.Loaded);
        Assert.Equal(["head.weight", "head.bias"], load.Reinitialized);
        foreach (string name in load.Loaded) Assert.Equal(Values(_source, name), Values(target, name));
        var fresh = new TargetNet();
        Assert.Equal(Values(fresh, "head.weight"), Values(target, "head.weight"));
        Assert.Contains(load.Matching.Skipped, s => s.Name == "source_head.weight");
        Assert.Equal(0, target.Step);
    }

    [Fact]
    public void A_head_that_matches_by_name_and_shape_is_still_reinitialised_when_asked()
    {
        var twin = new TwinHeadNet();
        PretrainedLoad load = TransferLearning.LoadPretrained(twin, _checkpoint, reinitialize: ["source_head"]);
        Assert.DoesNotContain("source_head.weight", load.Loaded);
        Assert.Equal(Values(new TwinHeadNet(), "source_head.weight"), Values(twin, "source_head.weight"));
        Assert.NotEqual(Values(_source, "source_head.weight"), Values(twin, "source_head.weight"));
        Assert.Equal(Values(_source, "hidden.weight"), Values(twin, "hidden.weight"));

        // Without the list, the matching head is loaded too.
        var loadsAll = new TwinHeadNet();
        TransferLearning.LoadPretrained(loadsAll, _checkpoint);
        Assert.Equal(Values(_source, "source_head.weight"), Values(loadsAll, "source_head.weight"));
    }

    [Fact]
    public void Frozen_layers_stay_bit_identical_through_training()
    {
        var target = new TargetNet();
        TransferLearning.LoadPretrained(target, _checkpoint);
        Assert.Equal(["features", "hidden"], TransferLearning.FreezeAllExcept(target, "head"));
        float[] features = Values(target, "features.weight"), hidden = Values(target, "hidden.bias"), head = Values(target, "head.weight");
        Trainer.Fit(target, FirstFiveClasses(), null, new TrainerOptions { Epochs = 2, BatchSize = 32 });
        Assert.Equal(features, Values(target, "features.weight"));
        Assert.Equal(hidden, Values(target, "hidden.bias"));
        Assert.NotEqual(head, Values(target, "head.weight"));
    }

    [Fact]
    public void Scaled_body_learning_rates_move_the_body_less()
    {
        float[] Moved(float bodyScale)
        {
            var target = new TargetNet();
            TransferLearning.LoadPretrained(target, _checkpoint);
            TransferLearning.ScaleLearningRates(target, body: bodyScale, head: 1f, "head");
            Assert.Equal(bodyScale, target.GetLearningRateScale("features"));
            Assert.Equal(1f, target.GetLearningRateScale("head"));
            float[] before = Values(target, "features.weight");
            // Plain SGD-like comparison: one step on the same batch.
            Dataset data = FirstFiveClasses();
            target.LearningRate = 1e-2f;
            target.TrainStep(data.Features.AsSpan(0, 32 * 64), data.Labels.AsSpan(0, 32), 32);
            return Values(target, "features.weight").Zip(before, (a, b) => a - b).ToArray();
        }
        float[] full = Moved(1f), tenth = Moved(0.1f);
        // Adam's first step moves each weight by about lr × scale × sign(g): a tenth of the scale, a tenth of the move.
        double ratio = tenth.Sum(d => Math.Abs((double)d)) / full.Sum(d => Math.Abs((double)d));
        Assert.InRange(ratio, 0.09, 0.11);
    }

    [Fact]
    public void Class_subsets_relabel_and_take_a_few_per_class()
    {
        (Dataset train, _) = ModelTrialTests.Digits.Value;
        Dataset upper = ClassSubsets.Select(train, [5, 6, 7, 8, 9]);
        Assert.Equal(5, upper.ClassCount);
        Assert.Equal(train.Labels.Count(l => l >= 5), upper.Count);
        int firstUpper = Array.FindIndex(train.Labels, l => l >= 5);
        Assert.Equal(train.Labels[firstUpper] - 5, upper.Labels[0]);
        Assert.Equal(train.Row(firstUpper).ToArray(), upper.Row(0).ToArray());

        Dataset few = ClassSubsets.TakePerClass(upper, 7, seed: 3);
        Assert.Equal(35, few.Count);
        Assert.All(few.ClassCounts(), c => Assert.Equal(7, c));
        Assert.Equal(few.Labels, ClassSubsets.TakePerClass(upper, 7, seed: 3).Labels);
        Assert.Throws<ArgumentException>(() => ClassSubsets.Select(train, [1, 1]));
    }

    [Fact]
    public void Unknown_layers_are_named_in_the_error()
    {
        var target = new TargetNet();
        ArgumentException e = Assert.Throws<ArgumentException>(() => TransferLearning.FreezeAllExcept(target, "classifier"));
        Assert.Contains("classifier", e.Message);
        Assert.Contains("features, hidden, head", e.Message);
        Assert.Throws<ArgumentException>(() => TransferLearning.LoadPretrained(target, _checkpoint, reinitialize: ["nope"]));
        TransferLearning.FreezeAllExcept(target, "head");
        TransferLearning.UnfreezeAll(target);
        Assert.All(TransferLearning.TrainableLayers(target), l => Assert.Equal(1f, target.GetLearningRateScale(l)));
    }
}
