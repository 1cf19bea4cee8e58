using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Interop;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Kiln.Interop.Tests;

internal static class TestSupport
{
    /// <summary>Deterministic inputs in [−2, 2) (a few features offset, so input normalisation has something to do).</summary>
    public static float[] Inputs(int count, int features, ulong seed)
    {
        var random = new KilnRandom(seed);
        var x = new float[count * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(4 * random.NextDouble() - 2) + (i % features % 3 == 0 ? 3f : 0f);
        return x;
    }

    /// <summary>Fits the model's input normalisation (when it has one) and takes a few training steps, so weights and running statistics are not the initial ones.</summary>
    public static void Train(IKilnModel model, int steps)
    {
        int batch = Math.Min(model.MaxBatch, 8);
        if (model.InputNormalization is InputNormalization.PerFeature or InputNormalization.PerChannel)
            model.FitInputNormalization(Inputs(64, model.InputSize, 99), 64);
        for (int step = 0; step < steps; step++)
        {
            float[] x = Inputs(batch, model.InputSize, 1000 + (ulong)step);
            if (model.Loss == LossKind.MeanSquaredError)
            {
                float[] targets = Inputs(batch, model.OutputSize, 2000 + (ulong)step);
                model.TrainStep(x, targets, batch);
            }
            else
            {
                int classes = model.Loss == LossKind.BinaryCrossEntropy ? 2 : model.OutputSize;
                int[] labels = Enumerable.Range(0, batch).Select(i => (i * 7 + step) % classes).ToArray();
                model.TrainStep(x, labels, batch);
            }
        }
    }

    /// <summary>
    /// Exports the model, runs batch 1 and batch N (N = min(MaxBatch, 7)) in ONNX Runtime and returns the largest
    /// |ONNX Runtime − Predict|; <paramref name="scale"/> is max(1, max |Predict|).
    /// </summary>
    public static double CompareWithOnnxRuntime(IKilnModel model, OnnxExportOptions options, out double scale)
    {
        byte[] onnx = OnnxExport.ToBytes(model, options);
        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(onnx, sessionOptions);
        double worst = 0;
        scale = 1;
        foreach (int batch in new[] { 1, Math.Min(model.MaxBatch, 7) })
        {
            float[] x = Inputs(batch, model.InputSize, 77 + (ulong)batch);
            var expected = new float[batch * model.OutputSize];
            model.Predict(x, expected, batch);
            float[] actual = RunOnnx(session, model, options, x, batch);
            if (actual.Length != expected.Length) throw new InvalidOperationException($"ONNX Runtime returned {actual.Length} values, Predict {expected.Length}.");
            for (int i = 0; i < expected.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(actual[i] - (double)expected[i]));
                scale = Math.Max(scale, Math.Abs(expected[i]));
            }
        }
        return worst;
    }

    public static float[] RunOnnx(InferenceSession session, IKilnModel model, OnnxExportOptions options, float[] x, int batch)
    {
        int[] dims = options.InputLayout == OnnxInputLayout.Nchw
            ? [batch, .. model.Architecture!.InputShape.Count == 3 ? model.Architecture.InputShape : [1, .. model.Architecture.InputShape]]
            : [batch, model.InputSize];
        var input = new DenseTensor<float>(x, dims);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run([NamedOnnxValue.CreateFromTensor(options.InputName, input)]);
        DisposableNamedOnnxValue result = results.Single();
        if (result.Name != options.OutputName) throw new InvalidOperationException($"Output named {result.Name}, expected {options.OutputName}.");
        return result.AsEnumerable<float>().ToArray();
    }
}

/// <summary>A model seen through another architecture description (for the exporter's error paths); everything else is the model's.</summary>
internal sealed class ArchitectureOverride(IKilnModel inner, ModelArchitecture? architecture) : IKilnModel
{
    public ModelArchitecture? Architecture => architecture;
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
    public Span<float> TensorGradient(TensorInfo tensor) => inner.TensorGradient(tensor);
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
