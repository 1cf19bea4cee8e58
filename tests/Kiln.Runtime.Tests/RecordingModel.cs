using System;
using System.Collections.Generic;
using Kiln.Tests.Shared;

namespace Kiln.Runtime.Tests;

/// <summary>
/// Wraps <see cref="FakeModel"/> and records what the trainer hands it: the first input value of every step, which
/// TrainStep overload ran and the soft targets it got. It can also script evaluation losses and accuracies (to drive
/// early stopping exactly) and poison its weights with NaN at a chosen step.
/// </summary>
internal sealed class RecordingModel(FakeModel inner) : DelegatingModel(inner)
{
    public new FakeModel Inner => (FakeModel)base.Inner;

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

    public override float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        if (Record)
        {
            FirstInputs.Add(inputs[0]);
            SoftTargetSteps.Add(false);
            Labels.Add(labels.Slice(0, batch).ToArray());
        }
        float loss = Inner.TrainStep(inputs, labels, batch);
        if (PoisonAfterStep > 0 && Inner.Step == PoisonAfterStep) Inner.TensorData(Inner.Tensors[0]).Fill(float.NaN);
        return loss;
    }

    /// <summary>Soft targets: recorded, then a plain SGD step on their argmax labels (so training still moves).</summary>
    public override float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch)
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
        return Inner.TrainStep(inputs, labels, batch);
    }

    public override EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count)
    {
        if (ScriptedEvaluations is { Count: > 0 } script)
        {
            (double loss, double accuracy) = script.Dequeue();
            return new EvaluationResult(loss, accuracy, count);
        }
        return Inner.Evaluate(inputs, labels, count);
    }
}
