using System;
using System.Collections.Generic;

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
    private readonly float[] _logits; // MaxBatch × out scratch
    private readonly TensorInfo[] _tensors;

    public FakeModel(int inputSize, int outputSize, int maxBatch = 256, float learningRate = 0.1f, ulong seed = 1)
    {
        InputSize = inputSize;
        OutputSize = outputSize;
        MaxBatch = maxBatch;
        LearningRate = learningRate;
        _w = new float[inputSize * outputSize];
        _b = new float[outputSize];
        _logits = new float[maxBatch * outputSize];
        var rng = new KilnRandom(seed);
        for (int i = 0; i < _w.Length; i++) _w[i] = (rng.NextFloat() - 0.5f) * 0.02f;
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
    public IReadOnlyList<TensorInfo> Tensors => _tensors;

    /// <summary>Batch size of every TrainStep call, in order (for the trainer tests; grows only when enabled).</summary>
    public List<int>? BatchLog { get; set; }
    /// <summary>TrainStep returns NaN from this step on (1-based); 0 never.</summary>
    public long NaNFromStep { get; set; }
    public int EvaluateCalls { get; private set; }

    public Span<float> TensorData(TensorInfo tensor) => tensor.Role == TensorRole.Weight ? _w : _b;

    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        if (batch < 1 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch));
        if (inputs.Length < batch * InputSize || labels.Length < batch) throw new ArgumentException("Buffers too small.");
        BatchLog?.Add(batch);
        Step++;
        float loss = Forward(inputs, labels, batch);
        if (NaNFromStep > 0 && Step >= NaNFromStep) return float.NaN;

        // _logits now holds softmax − onehot; SGD on the mean gradient.
        int d = InputSize, k = OutputSize;
        float scale = LearningRate / batch;
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> x = inputs.Slice(r * d, d);
            Span<float> g = _logits.AsSpan(r * k, k);
            for (int i = 0; i < d; i++)
            {
                float xi = x[i] * scale;
                if (xi == 0) continue;
                Span<float> wRow = _w.AsSpan(i * k, k);
                for (int j = 0; j < k; j++) wRow[j] -= xi * g[j];
            }
            for (int j = 0; j < k; j++) _b[j] -= scale * g[j];
        }
        return loss;
    }

    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) =>
        throw new NotSupportedException("The fake model trains on class labels only.");

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
