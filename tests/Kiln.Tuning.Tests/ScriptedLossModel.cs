using System;
using System.Collections.Generic;
using Kiln;
using Kiln.Schedules;

namespace Kiln.Tuning.Tests;

/// <summary>A real model whose TrainStep reports scripted losses (step i reports <c>loss(i)</c>), for the early-abort paths.</summary>
internal sealed class ScriptedLossModel(IKilnModel inner, Func<long, float> loss) : IKilnModel
{
    private long _steps;

    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        inner.TrainStep(inputs, labels, batch);
        return loss(_steps++);
    }

    public string ModelName => "Scripted" + inner.ModelName;
    public int InputSize => inner.InputSize;
    public int OutputSize => inner.OutputSize;
    public int MaxBatch => inner.MaxBatch;
    public LossKind Loss => inner.Loss;
    public IsaPath Isa { get => inner.Isa; set => inner.Isa = value; }
    public float LearningRate { get => inner.LearningRate; set => inner.LearningRate = value; }
    public long Step => inner.Step;
    public void RestoreStep(long step) => inner.RestoreStep(step);
    public float BaseLearningRate => inner.BaseLearningRate;
    public LearningRateSchedule CreateSchedule() => inner.CreateSchedule();
    public void SetLearningRateScale(string layer, float scale) => inner.SetLearningRateScale(layer, scale);
    public float GetLearningRateScale(string layer) => inner.GetLearningRateScale(layer);
    public int OptimizerStateCount => inner.OptimizerStateCount;
    public Span<float> TensorState(TensorInfo tensor, int slot) => inner.TensorState(tensor, slot);
    public float GradientNorm => inner.GradientNorm;
    public IReadOnlyList<TensorInfo> Tensors => inner.Tensors;
    public Span<float> TensorData(TensorInfo tensor) => inner.TensorData(tensor);
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => inner.TrainStep(inputs, targets, batch);
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch) => inner.ComputeGradients(inputs, labels, batch);
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => inner.ComputeGradients(inputs, targets, batch);
    public Span<float> TensorGradient(TensorInfo tensor) => inner.TensorGradient(tensor);
    public ReadOnlySpan<float> LayerOutput(string layer) => inner.LayerOutput(layer);
    public void ResetNoise(ulong seed) => inner.ResetNoise(seed);
    public void GetNoiseState(Span<ulong> state) => inner.GetNoiseState(state);
    public void SetNoiseState(ReadOnlySpan<ulong> state) => inner.SetNoiseState(state);
    public void InitializeParameters() => inner.InitializeParameters();
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch) => inner.Predict(inputs, outputs, batch);
    public EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count) => inner.Evaluate(inputs, labels, count);
    public EvaluationResult EvaluateTargets(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count) => inner.EvaluateTargets(inputs, targets, count);
}
