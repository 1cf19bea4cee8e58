using System;
using System.Collections.Generic;

namespace Kiln.Tests.Shared;

/// <summary>
/// A model that forwards every <see cref="IKilnModel"/> member to <see cref="Inner"/>. Test doubles derive from it and
/// override only what they change (record the batches, script losses, corrupt a gradient), so a new interface member
/// is added here once. Linked into the test projects that need it.
/// </summary>
internal abstract class DelegatingModel(IKilnModel inner) : IKilnModel
{
    protected IKilnModel Inner { get; } = inner;

    public virtual string ModelName => Inner.ModelName;
    public int InputSize => Inner.InputSize;
    public int OutputSize => Inner.OutputSize;
    public int MaxBatch => Inner.MaxBatch;
    public LossKind Loss => Inner.Loss;
    public IsaPath Isa { get => Inner.Isa; set => Inner.Isa = value; }
    public float LearningRate { get => Inner.LearningRate; set => Inner.LearningRate = value; }
    public long Step => Inner.Step;
    public void RestoreStep(long step) => Inner.RestoreStep(step);
    public float BaseLearningRate => Inner.BaseLearningRate;
    public Kiln.Schedules.LearningRateSchedule CreateSchedule() => Inner.CreateSchedule();
    public void SetLearningRateScale(string layer, float scale) => Inner.SetLearningRateScale(layer, scale);
    public float GetLearningRateScale(string layer) => Inner.GetLearningRateScale(layer);
    public int OptimizerStateCount => Inner.OptimizerStateCount;
    public Span<float> TensorState(TensorInfo tensor, int slot) => Inner.TensorState(tensor, slot);
    public float GradientNorm => Inner.GradientNorm;
    public IReadOnlyList<TensorInfo> Tensors => Inner.Tensors;
    public Span<float> TensorData(TensorInfo tensor) => Inner.TensorData(tensor);
    public InputNormalization InputNormalization => Inner.InputNormalization;
    public void FitInputNormalization(ReadOnlySpan<float> inputs, int count) => Inner.FitInputNormalization(inputs, count);
    public virtual float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch) => Inner.TrainStep(inputs, labels, batch);
    public virtual float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => Inner.TrainStep(inputs, targets, batch);
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch) => Inner.ComputeGradients(inputs, labels, batch);
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => Inner.ComputeGradients(inputs, targets, batch);
    public virtual Span<float> TensorGradient(TensorInfo tensor) => Inner.TensorGradient(tensor);
    public IReadOnlyList<LayerInfo> Layers => Inner.Layers;
    public ReadOnlySpan<float> LayerOutput(string layer) => Inner.LayerOutput(layer);
    public void ResetNoise(ulong seed) => Inner.ResetNoise(seed);
    public void GetNoiseState(Span<ulong> state) => Inner.GetNoiseState(state);
    public void SetNoiseState(ReadOnlySpan<ulong> state) => Inner.SetNoiseState(state);
    public void InitializeParameters() => Inner.InitializeParameters();
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch) => Inner.Predict(inputs, outputs, batch);
    public virtual EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count) => Inner.Evaluate(inputs, labels, count);
    public EvaluationResult EvaluateTargets(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count) => Inner.EvaluateTargets(inputs, targets, count);
}
