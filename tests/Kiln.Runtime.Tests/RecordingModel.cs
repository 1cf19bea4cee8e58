using System;
using System.Collections.Generic;
using Kiln.Schedules;

namespace Kiln.Runtime.Tests;

/// <summary>
/// Wraps <see cref="FakeModel"/> and records what the trainer hands it: the first input value of every step, which
/// TrainStep overload ran and the soft targets it got. It can also script evaluation losses and accuracies (to drive
/// early stopping exactly) and poison its weights with NaN at a chosen step.
/// </summary>
internal sealed class RecordingModel(FakeModel inner) : IKilnModel
{
    public FakeModel Inner => inner;

    /// <summary>Record per step (off by default so allocation tests can use the wrapper).</summary>
    public bool Record { get; set; }
    public List<float> FirstInputs { get; } = [];
    public List<bool> SoftTargetSteps { get; } = [];
    public List<float[]> SoftTargets { get; } = [];
    public List<int[]> Labels { get; } = [];

    /// <summary>Evaluate returns these (loss, accuracy) pairs in turn when set; otherwise the real evaluation.</summary>
    public Queue<(double Loss, double Accuracy)>? ScriptedEvaluations { get; set; }

    /// <summary>After this 1-based step's update, write NaN into the weights (the step itself still returns a finite loss); 0 never.</summary>
    public long PoisonAfterStep { get; set; }

    public string ModelName => inner.ModelName;
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
    public Span<float> TensorGradient(TensorInfo tensor) => inner.TensorGradient(tensor);
    public ReadOnlySpan<float> LayerOutput(string layer) => inner.LayerOutput(layer);
    public void ResetNoise(ulong seed) => inner.ResetNoise(seed);
    public void GetNoiseState(Span<ulong> state) => inner.GetNoiseState(state);
    public void SetNoiseState(ReadOnlySpan<ulong> state) => inner.SetNoiseState(state);
    public void InitializeParameters() => inner.InitializeParameters();
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch) => inner.Predict(inputs, outputs, batch);
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch) => inner.ComputeGradients(inputs, labels, batch);
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => inner.ComputeGradients(inputs, targets, batch);
    public EvaluationResult EvaluateTargets(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count) => inner.EvaluateTargets(inputs, targets, count);

    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        if (Record)
        {
            FirstInputs.Add(inputs[0]);
            SoftTargetSteps.Add(false);
            Labels.Add(labels.Slice(0, batch).ToArray());
        }
        float loss = inner.TrainStep(inputs, labels, batch);
        if (PoisonAfterStep > 0 && inner.Step == PoisonAfterStep) inner.TensorData(inner.Tensors[0]).Fill(float.NaN);
        return loss;
    }

    /// <summary>Soft targets: recorded, then a plain SGD step on their argmax labels (so training still moves).</summary>
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch)
    {
        if (targets.Length != batch * OutputSize) throw new ArgumentException($"Expected {batch * OutputSize} targets, got {targets.Length}.");
        if (Record)
        {
            FirstInputs.Add(inputs[0]);
            SoftTargetSteps.Add(true);
            SoftTargets.Add(targets.ToArray());
        }
        Span<int> labels = stackalloc int[batch];
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> row = targets.Slice(r * OutputSize, OutputSize);
            int arg = 0;
            for (int j = 1; j < row.Length; j++) if (row[j] > row[arg]) arg = j;
            labels[r] = arg;
        }
        return inner.TrainStep(inputs, labels, batch);
    }

    public EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count)
    {
        if (ScriptedEvaluations is { Count: > 0 } script)
        {
            (double loss, double accuracy) = script.Dequeue();
            return new EvaluationResult(loss, accuracy, count);
        }
        return inner.Evaluate(inputs, labels, count);
    }
}
