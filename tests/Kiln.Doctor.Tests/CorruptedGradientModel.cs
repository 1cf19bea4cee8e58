using System;
using System.Collections.Generic;

namespace Kiln.Doctor.Tests;

/// <summary>
/// A generated model behind a wrapper whose TensorGradient of one tensor is wrong (scaled), as a buggy custom layer
/// would report it: the forward pass and loss are the real ones, so finite differences disagree with the gradient.
/// </summary>
internal sealed class CorruptedGradientModel(IKilnModel inner, string corruptTensor, float factor) : IKilnModel
{
    private float[] _corrupted = [];

    public string ModelName => inner.ModelName + "(corrupted)";
    public int InputSize => inner.InputSize;
    public int OutputSize => inner.OutputSize;
    public int MaxBatch => inner.MaxBatch;
    public LossKind Loss => inner.Loss;
    public IsaPath Isa { get => inner.Isa; set => inner.Isa = value; }
    public float LearningRate { get => inner.LearningRate; set => inner.LearningRate = value; }
    public long Step => inner.Step;
    public void RestoreStep(long step) => inner.RestoreStep(step);
    public float BaseLearningRate => inner.BaseLearningRate;
    public Kiln.Schedules.LearningRateSchedule CreateSchedule() => inner.CreateSchedule();
    public void SetLearningRateScale(string layer, float scale) => inner.SetLearningRateScale(layer, scale);
    public float GetLearningRateScale(string layer) => inner.GetLearningRateScale(layer);
    public int OptimizerStateCount => inner.OptimizerStateCount;
    public Span<float> TensorState(TensorInfo tensor, int slot) => inner.TensorState(tensor, slot);
    public float GradientNorm => inner.GradientNorm;
    public IReadOnlyList<TensorInfo> Tensors => inner.Tensors;
    public Span<float> TensorData(TensorInfo tensor) => inner.TensorData(tensor);
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch) => inner.TrainStep(inputs, labels, batch);
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => inner.TrainStep(inputs, targets, batch);
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch) => inner.ComputeGradients(inputs, labels, batch);
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => inner.ComputeGradients(inputs, targets, batch);

    public Span<float> TensorGradient(TensorInfo tensor)
    {
        Span<float> g = inner.TensorGradient(tensor);
        if (tensor.Name != corruptTensor) return g;
        _corrupted = g.ToArray();
        for (int i = 0; i < _corrupted.Length; i++) _corrupted[i] *= factor;
        return _corrupted;
    }

    public IReadOnlyList<LayerInfo> Layers => inner.Layers;
    public ReadOnlySpan<float> LayerOutput(string layer) => inner.LayerOutput(layer);
    public void ResetNoise(ulong seed) => inner.ResetNoise(seed);
    public void GetNoiseState(Span<ulong> state) => inner.GetNoiseState(state);
    public void SetNoiseState(ReadOnlySpan<ulong> state) => inner.SetNoiseState(state);
    public void InitializeParameters() => inner.InitializeParameters();
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch) => inner.Predict(inputs, outputs, batch);
    public EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count) => inner.Evaluate(inputs, labels, count);
    public EvaluationResult EvaluateTargets(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count) => inner.EvaluateTargets(inputs, targets, count);
}
