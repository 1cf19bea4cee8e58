using System;
using System.Collections.Generic;

namespace Kiln;

/// <summary>What the runtime (trainer, checkpoints, doctor) sees of every generated model.</summary>
public interface IKilnModel
{
    /// <summary>The model class name.</summary>
    string ModelName { get; }
    /// <summary>Features per sample.</summary>
    int InputSize { get; }
    /// <summary>Outputs per sample (classes for classifiers).</summary>
    int OutputSize { get; }
    /// <summary>Largest batch accepted.</summary>
    int MaxBatch { get; }
    /// <summary>The loss the model was declared with.</summary>
    LossKind Loss { get; }
    /// <summary>The ISA path the kernels run on; settable for tests and comparisons.</summary>
    IsaPath Isa { get; set; }
    /// <summary>Current learning rate (initialised from the optimiser attribute).</summary>
    float LearningRate { get; set; }
    /// <summary>Optimiser steps taken so far.</summary>
    long Step { get; }
    /// <summary>Sets the step counter (Adam's t) when resuming from a checkpoint.</summary>
    void RestoreStep(long step);
    /// <summary>The optimiser attribute's learning rate; schedules multiply it.</summary>
    float BaseLearningRate { get; }
    /// <summary>A new instance of the declared schedule (ConstantSchedule when none is declared).</summary>
    Kiln.Schedules.LearningRateSchedule CreateSchedule();
    /// <summary>Multiplies the learning rate of a layer's tensors (0 freezes the layer).</summary>
    void SetLearningRateScale(string layer, float scale);
    /// <summary>The learning-rate multiplier of a layer.</summary>
    float GetLearningRateScale(string layer);
    /// <summary>Optimiser state tensors kept per parameter.</summary>
    int OptimizerStateCount { get; }
    /// <summary>Optimiser state <paramref name="slot"/> of a trainable tensor (for checkpoints).</summary>
    Span<float> TensorState(TensorInfo tensor, int slot);
    /// <summary>Global gradient norm of the last step when clipping by norm, else NaN.</summary>
    float GradientNorm { get; }
    /// <summary>Every named tensor: trainable parameters and state buffers such as BatchNorm running statistics.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }
    /// <summary>Storage of a tensor from <see cref="Tensors"/>.</summary>
    Span<float> TensorData(TensorInfo tensor);

    /// <summary>One fused training step (forward, loss, backward, update) on integer class labels; returns the mean loss.</summary>
    float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch);
    /// <summary>One fused training step on float targets (soft labels, binary targets or regression values).</summary>
    float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch);
    /// <summary>Training-mode forward and backward without the update and without touching running statistics; returns the mean loss.</summary>
    float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch);
    /// <summary>Training-mode forward and backward on float targets, without the update.</summary>
    float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch);
    /// <summary>Gradient of a trainable tensor from the last TrainStep or ComputeGradients.</summary>
    Span<float> TensorGradient(TensorInfo tensor);
    /// <summary>The input normalisation declared on <c>[Model(Normalize = …)]</c>.</summary>
    InputNormalization InputNormalization => InputNormalization.Unspecified;
    /// <summary>
    /// Fits the declared input normalisation on <paramref name="count"/> training samples (never on validation or test
    /// data); its statistics are the tensors <c>input.mean</c> and <c>input.std</c>, saved in checkpoints.
    /// </summary>
    /// <exception cref="NotSupportedException">The model declares no per-feature or per-channel normalisation.</exception>
    void FitInputNormalization(ReadOnlySpan<float> inputs, int count) =>
        throw new NotSupportedException($"{ModelName} declares no input normalisation: add Normalize = InputNormalization.PerFeature (or PerChannel) to its [Model] attribute.");
    /// <summary>Every layer in forward order: name (as accepted by <see cref="LayerOutput"/>), kind and output shape per sample.</summary>
    IReadOnlyList<LayerInfo> Layers => [];
    /// <summary>The declared architecture (layer kinds and arguments), for exporters such as <c>Kiln.Interop.OnnxExport</c>; null for models generated before it existed.</summary>
    Kiln.Interop.ModelArchitecture? Architecture => null;
    /// <summary>A layer's output from the last forward pass (batch × width); a dropout layer gives its mask (0 or the keep scale).</summary>
    ReadOnlySpan<float> LayerOutput(string layer);
    /// <summary>Restarts the dropout random stream.</summary>
    void ResetNoise(ulong seed);
    /// <summary>The dropout stream's xoshiro256** state (four words), so a checkpoint can resume it exactly.</summary>
    void GetNoiseState(Span<ulong> state);
    /// <summary>Continues the dropout stream from a state saved by <see cref="GetNoiseState"/>.</summary>
    void SetNoiseState(ReadOnlySpan<ulong> state);
    /// <summary>Re-initialises parameters, running statistics and optimiser state from the model's seed.</summary>
    void InitializeParameters();
    /// <summary>Eval-mode forward (running statistics, no dropout): probabilities for softmax/sigmoid losses, raw outputs otherwise.</summary>
    void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch);
    /// <summary>Eval-mode mean loss and accuracy over <paramref name="count"/> samples, in chunks of MaxBatch.</summary>
    EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count);
    /// <summary>Eval-mode mean loss over samples with float targets (OutputSize per sample); accuracy is NaN.</summary>
    EvaluationResult EvaluateTargets(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count);
}

/// <summary>The loss a model was declared with.</summary>
public enum LossKind
{
    /// <summary>Softmax over the outputs with cross-entropy against an integer label ([SoftmaxCrossEntropy]).</summary>
    SoftmaxCrossEntropy,
    /// <summary>Multiclass SVM hinge loss on the raw scores ([MulticlassHinge]).</summary>
    MulticlassHinge,
    /// <summary>Per-output sigmoid with binary cross-entropy against 0/1 targets ([BinaryCrossEntropy]).</summary>
    BinaryCrossEntropy,
    /// <summary>Mean squared error against float targets ([MeanSquaredError]).</summary>
    MeanSquaredError,
}

/// <summary>Whether a tensor is trained or is state (running statistics).</summary>
public enum TensorRole
{
    /// <summary>A weight matrix or convolution kernel (trained).</summary>
    Weight,
    /// <summary>A bias vector (trained).</summary>
    Bias,
    /// <summary>A normalisation layer's scale γ (trained).</summary>
    Gamma,
    /// <summary>A normalisation layer's shift β (trained).</summary>
    Beta,
    /// <summary>PReLU's learned slopes α (trained).</summary>
    Alpha,
    /// <summary>BatchNorm's running mean (state, used at inference).</summary>
    RunningMean,
    /// <summary>BatchNorm's running variance (state, used at inference).</summary>
    RunningVariance,
    /// <summary>The input normalisation's per-feature mean (state, fitted on the training data).</summary>
    Mean,
    /// <summary>The input normalisation's per-feature standard deviation (state, fitted on the training data).</summary>
    StandardDeviation,
}

/// <summary>A named tensor of a model: layer, role, shape, and its place in the model's arenas.</summary>
/// <param name="Name">Checkpoint name, such as <c>dense0.weight</c>.</param>
/// <param name="Layer">Layer name, such as <c>dense0</c>.</param>
/// <param name="Role">What the tensor is.</param>
/// <param name="Shape">Shape; Dense weights are [in, out] (input-major).</param>
/// <param name="Offset">Offset in its arena.</param>
/// <param name="Length">Number of floats.</param>
/// <param name="Trainable">True for parameters (in the parameter arena), false for state buffers.</param>
public sealed record TensorInfo(string Name, string Layer, TensorRole Role, int[] Shape, int Offset, int Length, bool Trainable);

/// <summary>A layer of a model, in forward order.</summary>
/// <param name="Name">Layer name, such as <c>dense0</c> or <c>relu1</c>; <see cref="IKilnModel.LayerOutput"/> accepts it.</param>
/// <param name="Kind">
/// The attribute that declared it, in lower case without "Attribute": <c>dense</c>, <c>batchnorm</c>, <c>dropout</c>,
/// <c>flatten</c>, or the activation (<c>relu</c>, <c>sigmoid</c>, <c>tanh</c>, <c>leakyrelu</c>, <c>prelu</c>, <c>elu</c>,
/// <c>selu</c>, <c>swish</c>, <c>gelu</c>, <c>softmax</c>, <c>identity</c>); later layer kinds follow the same rule.
/// </param>
/// <param name="OutputShape">Output shape per sample ([width] for flat layers; [C, H, W] for spatial ones).</param>
public sealed record LayerInfo(string Name, string Kind, int[] OutputShape);

/// <summary>Mean loss and accuracy over a data set.</summary>
public readonly record struct EvaluationResult(double Loss, double Accuracy, int Count);
