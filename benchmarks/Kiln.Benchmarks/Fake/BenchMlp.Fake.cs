#if KILN_FAKE_MODEL
using System;
using System.Collections.Generic;

namespace Kiln.Benchmarks;

// HARNESS STAND-IN, compiled only with -p:KilnFakeModel=true (and then without the generator):
// the members Kiln.Generator will emit for BenchMlp, with trivial bodies that read their inputs and
// write valid outputs. It lets the benchmark plumbing (BenchmarkDotNet config, --quick-json,
// compare.sh) be run before the generator exists. Its timings measure nothing about Kiln.
public partial class BenchMlp : IKilnModel
{
    private readonly float[] _dummy = new float[10];
    private IsaPath _isa = KilnIsa.Default;

    public string ModelName => nameof(BenchMlp);
    public int InputSize => 784;
    public int OutputSize => 10;
    public int MaxBatch => 256;
    public LossKind Loss => LossKind.SoftmaxCrossEntropy;
    public IsaPath Isa { get => _isa; set => _isa = KilnIsa.Validate(value); }
    public float LearningRate { get; set; } = 1e-3f;
    public long Step { get; private set; }
    public IReadOnlyList<TensorInfo> Tensors => Array.Empty<TensorInfo>();
    public Span<float> TensorData(TensorInfo tensor) => Span<float>.Empty;

    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        float s = 0;
        for (int i = 0; i < batch * 784; i += 97) s += inputs[i];
        Step++;
        return 2.3f + 1e-9f * s + 1e-9f * labels[0];
    }

    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch) => throw new NotSupportedException("harness stand-in");

    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch)
    {
        for (int r = 0; r < batch; r++)
            for (int j = 0; j < 10; j++)
                outputs[r * 10 + j] = 0.1f + 0f * inputs[r * 784 + j];
    }

    public EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count) => new(2.3, 0.1, count);
}
#endif
