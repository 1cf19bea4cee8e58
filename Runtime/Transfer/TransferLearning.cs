using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Checkpoints;

namespace Kiln.Transfer;

/// <summary>What <see cref="TransferLearning.LoadPretrained"/> did.</summary>
/// <param name="Loaded">Model tensors copied from the checkpoint (matching name and shape).</param>
/// <param name="Reinitialized">Model tensors left at (or put back to) the model's own seeded initialisation.</param>
/// <param name="Matching">The full report of <see cref="Checkpoint.LoadMatching"/> (skipped file tensors with reasons).</param>
public sealed record PretrainedLoad(IReadOnlyList<string> Loaded, IReadOnlyList<string> Reinitialized, TransferReport Matching);

/// <summary>
/// Transfer learning (docs/techniques.md#transfer-learning): start a model from another model's checkpoint — typically a different class with the same
/// body and another head — then either freeze the body and train a new head (little data, similar task) or fine-tune
/// everything with a smaller learning rate on the body.
/// </summary>
/// <example>
/// <code>
/// var target = new SmallDataClassifier();                      // same body layer names and shapes, another head
/// TransferLearning.LoadPretrained(target, "pretrained.safetensors", reinitialize: ["head"]);
/// TransferLearning.FreezeAllExcept(target, "head");             // linear classifier on the pre-trained features
/// // or: TransferLearning.ScaleLearningRates(target, body: 0.1f, head: 1f, "head");
/// </code>
/// </example>
public static class TransferLearning
{
    /// <summary>The layers that have trainable tensors, in the model's tensor order.</summary>
    public static IReadOnlyList<string> TrainableLayers(IKilnModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = new List<string>();
        foreach (TensorInfo t in model.Tensors)
            if (t.Trainable && !layers.Contains(t.Layer)) layers.Add(t.Layer);
        return layers;
    }

    /// <summary>
    /// Re-initialises <paramref name="model"/> from its seed, loads every checkpoint tensor whose name and shape match
    /// (<see cref="Checkpoint.LoadMatching"/>: the checkpoint may come from another model class), then puts the tensors of
    /// <paramref name="reinitialize"/> back to their fresh initialisation — so a head that happens to match the source's by
    /// name and shape is still trained from scratch. Optimiser state, the step counter and the learning rate start fresh.
    /// </summary>
    /// <param name="model">The model to start (its current parameters are discarded).</param>
    /// <param name="checkpointPath">A Kiln checkpoint of the pre-trained model.</param>
    /// <param name="reinitialize">Layers that must not be loaded (the new head).</param>
    public static PretrainedLoad LoadPretrained(IKilnModel model, string checkpointPath, IReadOnlyCollection<string>? reinitialize = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        reinitialize ??= [];
        RequireLayers(model, reinitialize, nameof(reinitialize));

        model.InitializeParameters();
        var fresh = new List<(TensorInfo Tensor, float[] Values)>();
        foreach (TensorInfo t in model.Tensors)
            if (reinitialize.Contains(t.Layer)) fresh.Add((t, model.TensorData(t).ToArray()));

        TransferReport report = Checkpoint.LoadMatching(model, checkpointPath);
        foreach ((TensorInfo t, float[] values) in fresh) values.CopyTo(model.TensorData(t));

        var restored = new HashSet<string>(fresh.Select(f => f.Tensor.Name));
        var loaded = report.Loaded.Where(n => !restored.Contains(n)).ToArray();
        var reinitialized = model.Tensors.Select(t => t.Name).Where(n => !loaded.Contains(n)).ToArray();
        return new PretrainedLoad(loaded, reinitialized, report);
    }

    /// <summary>
    /// Freezes every trainable layer except <paramref name="trainable"/> (learning-rate scale 0; the listed layers get scale 1)
    /// and returns the frozen layers. A frozen layer's parameters stay bit-identical through training. BatchNorm running
    /// statistics are state, not parameters: whether scale 0 also stops their update depends on the model generator
    /// (later Kiln versions freeze them too); keep BatchNorm out of frozen bodies, or check them, on older versions.
    /// </summary>
    public static IReadOnlyList<string> FreezeAllExcept(IKilnModel model, params string[] trainable)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainable);
        RequireLayers(model, trainable, nameof(trainable));
        var frozen = new List<string>();
        foreach (string layer in TrainableLayers(model))
        {
            bool train = trainable.Contains(layer);
            model.SetLearningRateScale(layer, train ? 1f : 0f);
            if (!train) frozen.Add(layer);
        }
        return frozen;
    }

    /// <summary>
    /// Fine-tuning with per-layer learning-rate multipliers: <paramref name="body"/> on every trainable layer not in
    /// <paramref name="headLayers"/>, <paramref name="head"/> on those (for example 0.1 and 1: the pre-trained body moves slowly).
    /// </summary>
    public static void ScaleLearningRates(IKilnModel model, float body, float head, params string[] headLayers)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(headLayers);
        RequireLayers(model, headLayers, nameof(headLayers));
        foreach (string layer in TrainableLayers(model))
            model.SetLearningRateScale(layer, headLayers.Contains(layer) ? head : body);
    }

    /// <summary>Scale 1 on every trainable layer.</summary>
    public static void UnfreezeAll(IKilnModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (string layer in TrainableLayers(model)) model.SetLearningRateScale(layer, 1f);
    }

    private static void RequireLayers(IKilnModel model, IEnumerable<string> layers, string paramName)
    {
        IReadOnlyList<string> known = TrainableLayers(model);
        foreach (string layer in layers)
            if (!known.Contains(layer))
                throw new ArgumentException($"{model.ModelName} has no trainable layer '{layer}' (its trainable layers: {string.Join(", ", known)}).", paramName);
    }
}
