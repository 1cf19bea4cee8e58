#if !KILN_FAKE_MODEL
using System;
using BenchmarkDotNet.Attributes;
using Kiln;

namespace Kiln.Benchmarks;

/// <summary>
/// The fused training step and eval-mode prediction of <see cref="BenchCnn"/>, per ISA path: one operation
/// is one call over <c>batch</c> samples. Both must allocate nothing. Same job and data as
/// <see cref="MlpBenchmarks"/> (784 = 1×28×28 synthetic standardised pixels).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class CnnBenchmarks
{
    private const int Samples = 2048;
    private BenchCnn _model = null!;
    private AlignedFloats _inputs = null!;
    private int[] _labels = null!;
    private AlignedFloats _outputs = null!;
    private int _cursor;

    [ParamsSource(typeof(MlpBenchmarks), nameof(MlpBenchmarks.SupportedPaths))]
    public IsaPath Isa { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_inputs, _labels) = BenchData.Synthetic(Samples, BenchData.InputSize, BenchData.Classes, seed: 42);
        _outputs = new AlignedFloats(256 * BenchData.Classes);
        _model = new BenchCnn { Isa = Isa };
        // A few steps so BatchNorm running statistics and Adam moments are not at their initial values.
        for (int i = 0; i < 4; i++)
            _model.TrainStep(_inputs.Slice(i * 64 * BenchData.InputSize, 64 * BenchData.InputSize), _labels.AsSpan(i * 64, 64), 64);
        _cursor = 0;
    }

    [Benchmark, Arguments(64), BenchmarkCategory("Train")]
    public float TrainStep(int batch)
    {
        int start = NextBatchStart(batch);
        return _model.TrainStep(_inputs.Slice(start * BenchData.InputSize, batch * BenchData.InputSize), _labels.AsSpan(start, batch), batch);
    }

    [Benchmark, Arguments(1), Arguments(64), BenchmarkCategory("Predict")]
    public float Predict(int batch)
    {
        int start = NextBatchStart(batch);
        _model.Predict(_inputs.Slice(start * BenchData.InputSize, batch * BenchData.InputSize), _outputs.Slice(0, batch * BenchData.Classes), batch);
        return _outputs.Span[0];
    }

    private int NextBatchStart(int batch)
    {
        int start = _cursor;
        if (start + batch > Samples) start = 0;
        _cursor = start + batch;
        return start;
    }
}
#endif
