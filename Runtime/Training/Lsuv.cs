using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Kernels;

namespace Kiln.Training;

/// <summary>Settings of <see cref="Lsuv"/>.</summary>
public sealed record LsuvOptions
{
    /// <summary>A layer is done when the variance of its output is within this distance of 1 (default 0.1, as in the paper).</summary>
    public double Tolerance { get; init; } = 0.1;

    /// <summary>Rescalings tried per layer before moving on (default 10).</summary>
    public int MaxIterations { get; init; } = 10;

    /// <summary>Re-initialise every Dense/Conv2D weight orthogonally first (default true; the paper's pre-initialisation).</summary>
    public bool OrthogonalPreInit { get; init; } = true;

    /// <summary>Seed of the orthogonal pre-initialisation.</summary>
    public ulong Seed { get; init; } = 1;
}

/// <summary>What <see cref="Lsuv"/> did to one weighted layer.</summary>
/// <param name="Layer">The Dense or Conv2D layer.</param>
/// <param name="InitialVariance">Variance of the layer's output on the batch before the first rescaling.</param>
/// <param name="FinalVariance">Variance after the last rescaling.</param>
/// <param name="Iterations">Forward passes that rescaled the weight.</param>
/// <param name="Converged">Whether the final variance is within the tolerance of 1.</param>
public sealed record LsuvLayerResult(string Layer, double InitialVariance, double FinalVariance, int Iterations, bool Converged);

/// <summary>
/// Layer-sequential unit-variance initialisation (Mishkin &amp; Matas 2015, docs/techniques.md#initialisation): a
/// data-dependent initialisation run on one training batch before training.
/// </summary>
/// <remarks>
/// First every Dense/Conv2D weight is re-initialised orthogonally (gain 1; a convolution's weight as its
/// [KH·KW·Cin, filters] matrix). Then, layer by layer in forward order, a training-mode forward pass
/// (<see cref="IKilnModel.ComputeGradients(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/>; no update, running
/// statistics untouched) measures the variance of the layer's output (<see cref="IKilnModel.LayerOutput"/>, before
/// any BatchNorm or activation) over the batch, and the weight is divided by its square root, until the variance is
/// within <see cref="LsuvOptions.Tolerance"/> of 1 or <see cref="LsuvOptions.MaxIterations"/> is reached. Biases are
/// left as they are. The dropout stream is restored afterwards, so the training that follows draws the same masks as
/// without LSUV. A residual projection (a weight with no output of its own in <see cref="IKilnModel.Layers"/>) keeps
/// its initialisation.
/// </remarks>
public static class Lsuv
{
    /// <summary>
    /// Runs LSUV on min(MaxBatch, Count) rows of <paramref name="train"/> drawn without replacement with
    /// <see cref="LsuvOptions.Seed"/> (what <see cref="TrainerOptions.Lsuv"/> does before training).
    /// </summary>
    /// <returns>One entry per Dense/Conv2D layer, in forward order.</returns>
    public static IReadOnlyList<LsuvLayerResult> Initialize(IKilnModel model, Kiln.Data.Dataset train, LsuvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new LsuvOptions();
        int batch = Math.Min(model.MaxBatch, train.Count);
        // A partial Fisher–Yates shuffle picks the rows, so a class-sorted data set still gives a mixed batch.
        int[] order = new int[train.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var rng = new KilnRandom(options.Seed ^ 0x4C535556UL);
        for (int i = 0; i < batch; i++)
        {
            int j = i + rng.NextInt(order.Length - i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return Initialize(model, train.Subset(order.AsSpan(0, batch)).Features, batch, options);
    }

    /// <summary>Runs LSUV on <paramref name="batch"/> rows of <paramref name="inputs"/> (a training batch, 2..MaxBatch rows).</summary>
    /// <returns>One entry per Dense/Conv2D layer, in forward order.</returns>
    /// <exception cref="ArgumentException">The batch is too small or does not fit the inputs or the model.</exception>
    /// <exception cref="InvalidOperationException">A layer's output has zero or non-finite variance, so it cannot be rescaled.</exception>
    public static IReadOnlyList<LsuvLayerResult> Initialize(IKilnModel model, ReadOnlySpan<float> inputs, int batch, LsuvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new LsuvOptions();
        if (!(options.Tolerance > 0 && options.Tolerance < 1)) throw new ArgumentOutOfRangeException(nameof(options), options.Tolerance, "LsuvOptions.Tolerance must be in (0, 1).");
        if (options.MaxIterations < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxIterations, "LsuvOptions.MaxIterations must be at least 1.");
        if (batch < 2 || batch > model.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"LSUV needs a batch of 2..{model.MaxBatch} samples for {model.ModelName} (a variance over one sample is meaningless).");
        if ((long)batch * model.InputSize > inputs.Length)
            throw new ArgumentException($"{batch} samples of {model.InputSize} features need {(long)batch * model.InputSize} inputs; got {inputs.Length}.", nameof(inputs));

        List<(LayerInfo Layer, TensorInfo Weight)> weighted = WeightedLayers(model);
        if (options.OrthogonalPreInit)
        {
            var rng = new KilnRandom(options.Seed);
            foreach ((_, TensorInfo weight) in weighted)
            {
                int columns = weight.Shape[^1];
                ParameterInit.Orthogonal(model.TensorData(weight), weight.Length / columns, columns, 1.0, ref rng);
            }
        }

        Span<ulong> noise = stackalloc ulong[4];
        model.GetNoiseState(noise);
        // Forward passes only: the labels (or targets) are zeros; the loss and gradients are not used.
        int[] labels = model.Loss == LossKind.MeanSquaredError ? [] : new int[batch];
        float[] targets = model.Loss == LossKind.MeanSquaredError ? new float[batch * model.OutputSize] : [];
        ReadOnlySpan<float> x = inputs[..(batch * model.InputSize)];
        var results = new List<LsuvLayerResult>(weighted.Count);
        try
        {
            foreach ((LayerInfo layer, TensorInfo weight) in weighted)
            {
                double initial = double.NaN, variance = double.NaN;
                int iterations = 0;
                while (true)
                {
                    if (labels.Length > 0) model.ComputeGradients(x, labels, batch);
                    else model.ComputeGradients(x, targets, batch);
                    variance = Variance(model.LayerOutput(layer.Name));
                    if (iterations == 0) initial = variance;
                    if (!(variance > 0) || double.IsInfinity(variance))
                        throw new InvalidOperationException($"LSUV cannot rescale layer '{layer.Name}' of {model.ModelName}: its output variance on the batch is {variance} (all-zero weights, or dead inputs).");
                    if (Math.Abs(variance - 1) < options.Tolerance || iterations == options.MaxIterations) break;
                    Kiln.Kernels.Elementwise.Scale<PortablePath>(model.TensorData(weight), (float)(1 / Math.Sqrt(variance)), model.TensorData(weight));
                    iterations++;
                }
                results.Add(new LsuvLayerResult(layer.Name, initial, variance, iterations, Math.Abs(variance - 1) < options.Tolerance));
            }
        }
        finally
        {
            model.SetNoiseState(noise);
        }
        return results;
    }

    /// <summary>The Dense and Conv2D layers in forward order with their weight tensors.</summary>
    private static List<(LayerInfo, TensorInfo)> WeightedLayers(IKilnModel model)
    {
        var list = new List<(LayerInfo, TensorInfo)>();
        foreach (LayerInfo layer in model.Layers)
        {
            if (layer.Kind is not ("dense" or "conv2d")) continue;
            TensorInfo? weight = model.Tensors.FirstOrDefault(t => t.Layer == layer.Name && t.Role == TensorRole.Weight && t.Trainable);
            if (weight is not null) list.Add((layer, weight));
        }
        if (list.Count == 0) throw new ArgumentException($"{model.ModelName} has no Dense or Conv2D layer for LSUV to initialise.", nameof(model));
        return list;
    }

    /// <summary>Population variance of all values, in double.</summary>
    private static double Variance(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += v;
        double mean = sum / values.Length, squares = 0;
        foreach (float v in values) squares += (v - mean) * (v - mean);
        return squares / values.Length;
    }
}
