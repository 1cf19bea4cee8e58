using System;
using System.Collections.Generic;
using Kiln.Schedules;

namespace Kiln.Runtime.Tests;

/// <summary>
/// A hand-written IKilnModel for testing the runtime without the generator: multinomial logistic
/// regression (softmax of x·W + b) trained by plain SGD. TrainStep allocates nothing, so the trainer's
/// own allocation behaviour can be measured through it.
/// </summary>
internal sealed class FakeModel : IKilnModel
{
    private readonly float[] _w;      // [in, out], input-major like generated Dense weights
    private readonly float[] _b;
    private readonly float[] _dw, _db;
    private readonly float[] _logits; // MaxBatch × out scratch: logits, then softmax − onehot
    private readonly ulong _seed;
    private readonly TensorInfo[] _tensors;

    public FakeModel(int inputSize, int outputSize, int maxBatch = 256, float learningRate = 0.1f, ulong seed = 1)
    {
        InputSize = inputSize;
        OutputSize = outputSize;
        MaxBatch = maxBatch;
        LearningRate = learningRate;
        BaseLearningRate = learningRate;
        _w = new float[inputSize * outputSize];
        _b = new float[outputSize];
        _dw = new float[_w.Length];
        _db = new float[_b.Length];
        _logits = new float[maxBatch * outputSize];
        _seed = seed;
        InitializeParameters();
        _tensors =
        [
            new TensorInfo("dense0.weight", "dense0", TensorRole.Weight, [inputSize, outputSize], 0, _w.Length, true),
            new TensorInfo("dense0.bias", "dense0", TensorRole.Bias, [outputSize], _w.Length, _b.Length, true),
        ];
    }

    public string ModelName => "FakeModel";
    public int InputSize { get; }
    public int OutputSize { get; }
    public int MaxBatch { get; }
    public LossKind Loss => LossKind.SoftmaxCrossEntropy;
    public IsaPath Isa { get; set; } = IsaPath.Portable;
    public float LearningRate { get; set; }
    public long Step { get; private set; }
    public float BaseLearningRate { get; }
    public IReadOnlyList<TensorInfo> Tensors => _tensors;
    public int OptimizerStateCount => 0;
    public float GradientNorm => float.NaN;

    /// <summary>Multiplier of the single layer's learning rate ("dense0").</summary>
    private float _layerScale = 1f;

    /// <summary>What <see cref="CreateSchedule"/> returns; null gives a constant schedule (as a model without schedule attributes).</summary>
    public Func<LearningRateSchedule>? ScheduleFactory { get; set; }

    /// <summary>The LearningRate seen by every TrainStep call, in order (grows only when enabled).</summary>
    public List<float>? LearningRateLog { get; set; }

    public LearningRateSchedule CreateSchedule() => ScheduleFactory?.Invoke() ?? new ConstantSchedule();

    public void RestoreStep(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Step = step;
    }

    public void SetLearningRateScale(string layer, float scale)
    {
        CheckLayer(layer);
        if (!(scale >= 0 && float.IsFinite(scale))) throw new ArgumentOutOfRangeException(nameof(scale));
        _layerScale = scale;
    }

    public float GetLearningRateScale(string layer)
    {
        CheckLayer(layer);
        return _layerScale;
    }

    public Span<float> TensorState(TensorInfo tensor, int slot) =>
        throw new ArgumentOutOfRangeException(nameof(slot), slot, "The fake model trains with plain SGD and keeps no optimiser state.");

    private static void CheckLayer(string layer)
    {
        if (layer != "dense0") throw new ArgumentException($"The fake model has no layer '{layer}'.", nameof(layer));
    }

    /// <summary>Batch size of every TrainStep call, in order (for the trainer tests; grows only when enabled).</summary>
    public List<int>? BatchLog { get; set; }
    /// <summary>TrainStep returns NaN from this step on (1-based); 0 never.</summary>
    public long NaNFromStep { get; set; }
    public int EvaluateCalls { get; private set; }

    public Span<float> TensorData(TensorInfo tensor) => tensor.Role == TensorRole.Weight ? _w : _b;

    public Span<float> TensorGradient(TensorInfo tensor) => tensor.Role == TensorRole.Weight ? _dw : _db;

    public ReadOnlySpan<float> LayerOutput(string layer) => throw new NotSupportedException("The fake model keeps no layer outputs.");

    public void ResetNoise(ulong seed) { }   // no dropout
    public void GetNoiseState(Span<ulong> state) => state.Slice(0, 4).Fill(1);
    public void SetNoiseState(ReadOnlySpan<ulong> state) { }

    public void InitializeParameters()
    {
        var rng = new KilnRandom(_seed);
        for (int i = 0; i < _w.Length; i++) _w[i] = (rng.NextFloat() - 0.5f) * 0.02f;
        Array.Clear(_b);
        Step = 0;
    }

    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        BatchLog?.Add(batch);
        LearningRateLog?.Add(LearningRate);
        float loss = ComputeGradients(inputs, labels, batch);
        Step++;
        if (NaNFromStep > 0 && Step >= NaNFromStep) return float.NaN;
        float rate = LearningRate * _layerScale;
        for (int i = 0; i < _w.Length; i++) _w[i] -= rate * _dw[i];
        for (int j = 0; j < _b.Length; j++) _b[j] -= rate * _db[j];
        return loss;
    }

    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) =>
        throw new NotSupportedException("The fake model trains on class labels only.");

    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        if (batch < 1 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch));
        if (inputs.Length < batch * InputSize || labels.Length < batch) throw new ArgumentException("Buffers too small.");
        float loss = Forward(inputs, labels, batch);

        // _logits now holds softmax − onehot; the gradient of the mean loss is its x-weighted mean.
        int d = InputSize, k = OutputSize;
        float scale = 1f / batch;
        Array.Clear(_dw);
        Array.Clear(_db);
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> x = inputs.Slice(r * d, d);
            Span<float> g = _logits.AsSpan(r * k, k);
            for (int i = 0; i < d; i++)
            {
                float xi = x[i] * scale;
                if (xi == 0) continue;
                Span<float> dwRow = _dw.AsSpan(i * k, k);
                for (int j = 0; j < k; j++) dwRow[j] += xi * g[j];
            }
            for (int j = 0; j < k; j++) _db[j] += scale * g[j];
        }
        return loss;
    }

    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) =>
        throw new NotSupportedException("The fake model trains on class labels only.");

    public EvaluationResult EvaluateTargets(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count) =>
        throw new NotSupportedException("The fake model evaluates class labels only.");

    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch)
    {
        for (int r = 0; r < batch; r++)
        {
            Span<float> z = outputs.Slice(r * OutputSize, OutputSize);
            Logits(inputs.Slice(r * InputSize, InputSize), z);
            Softmax(z);
        }
    }

    public EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count)
    {
        EvaluationResult r = EvaluateCore(inputs, labels, count);
        EvaluateCalls++;
        return r;
    }

    private EvaluationResult EvaluateCore(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count)
    {
        double loss = 0;
        int correct = 0;
        Span<float> z = stackalloc float[OutputSize];
        for (int r = 0; r < count; r++)
        {
            Logits(inputs.Slice(r * InputSize, InputSize), z);
            Softmax(z);
            int arg = 0;
            for (int j = 1; j < z.Length; j++) if (z[j] > z[arg]) arg = j;
            if (arg == labels[r]) correct++;
            loss -= Math.Log(Math.Max(z[labels[r]], 1e-30f));
        }
        return new EvaluationResult(loss / count, (double)correct / count, count);
    }

    /// <summary>Writes softmax − onehot into _logits and returns the mean cross-entropy.</summary>
    private float Forward(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        double loss = 0;
        for (int r = 0; r < batch; r++)
        {
            Span<float> z = _logits.AsSpan(r * OutputSize, OutputSize);
            Logits(inputs.Slice(r * InputSize, InputSize), z);
            Softmax(z);
            loss -= Math.Log(Math.Max(z[labels[r]], 1e-30f));
            z[labels[r]] -= 1f;
        }
        return (float)(loss / batch);
    }

    private void Logits(ReadOnlySpan<float> x, Span<float> z)
    {
        _b.CopyTo(z);
        for (int i = 0; i < x.Length; i++)
        {
            float xi = x[i];
            if (xi == 0) continue;
            ReadOnlySpan<float> wRow = _w.AsSpan(i * OutputSize, OutputSize);
            for (int j = 0; j < z.Length; j++) z[j] += xi * wRow[j];
        }
    }

    private static void Softmax(Span<float> z)
    {
        float max = float.NegativeInfinity;
        foreach (float v in z) max = MathF.Max(max, v);
        float sum = 0;
        for (int j = 0; j < z.Length; j++) sum += z[j] = MathF.Exp(z[j] - max);
        for (int j = 0; j < z.Length; j++) z[j] /= sum;
    }
}
