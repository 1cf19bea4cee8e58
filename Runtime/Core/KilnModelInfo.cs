using System;
using System.Collections.Generic;

namespace Kiln;

/// <summary>
/// The fixed facts about one generated model that <see cref="KilnModel"/> needs: its name, sizes, loss, tensors and
/// layers, and the sizes of its arenas. The generator writes one per model class, as a static field.
/// </summary>
public sealed class KilnModelInfo
{
    /// <summary>Describes a model; the remaining facts are set with the init-only properties.</summary>
    /// <param name="name">The model class name (<see cref="IKilnModel.ModelName"/>).</param>
    /// <param name="inputSize">Features per sample.</param>
    /// <param name="outputSize">Outputs per sample.</param>
    /// <param name="maxBatch">The largest batch; buffers are sized for it.</param>
    /// <param name="loss">The declared loss.</param>
    /// <param name="tensors">Every named tensor, in arena order (trainable ones first within each arena).</param>
    /// <param name="layers">Every layer in forward order.</param>
    public KilnModelInfo(string name, int inputSize, int outputSize, int maxBatch, LossKind loss, TensorInfo[] tensors, LayerInfo[] layers)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(layers);
        Name = name;
        InputSize = inputSize;
        OutputSize = outputSize;
        MaxBatch = maxBatch;
        Loss = loss;
        TensorArray = tensors;
        Layers = layers;
    }

    /// <summary>The model class name.</summary>
    public string Name { get; }
    /// <summary>Features per sample.</summary>
    public int InputSize { get; }
    /// <summary>Outputs per sample.</summary>
    public int OutputSize { get; }
    /// <summary>The largest batch.</summary>
    public int MaxBatch { get; }
    /// <summary>The declared loss.</summary>
    public LossKind Loss { get; }
    /// <summary>Every named tensor: trainable parameters and state buffers.</summary>
    public IReadOnlyList<TensorInfo> Tensors => TensorArray;
    /// <summary>Every layer in forward order.</summary>
    public IReadOnlyList<LayerInfo> Layers { get; }

    /// <summary>The seed of <see cref="IKilnModel.InitializeParameters"/> (an int seed keeps its bits).</summary>
    public ulong Seed { get; init; }
    /// <summary>The optimiser attribute's learning rate.</summary>
    public float BaseLearningRate { get; init; }
    /// <summary>Optimiser state tensors per parameter (0, 1 or 2).</summary>
    public int OptimizerStateCount
    {
        get;
        init => field = value is >= 0 and <= 2 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A model keeps 0, 1 or 2 optimiser state tensors per parameter.");
    }
    /// <summary>Floats in the parameter arena (and in the gradient and each optimiser-state arena, which share its layout).</summary>
    public int ParameterFloats { get; init; }
    /// <summary>Floats in the state-buffer arena (running statistics, input statistics).</summary>
    public int BufferFloats { get; init; }
    /// <summary>The initial learning-rate multiplier of each trainable tensor, in tensor order; null for 1 everywhere.</summary>
    public float[]? LearningRateScales { get; init; }

    /// <summary>The tensors as the array the generated code declared (identity lookups use it).</summary>
    internal TensorInfo[] TensorArray { get; }
}
