using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Kiln;

namespace Kiln.Benchmarks;

/// <summary>
/// The fused training step and eval-mode prediction of <see cref="BenchMlp"/>, per ISA path.
/// One operation is one call: a whole optimiser step over <c>batch</c> samples, or one Predict of
/// <c>batch</c> samples (the Samples/s column divides the batch by the mean time). Both must
/// allocate nothing (Allocated column: "-", i.e. 0 B).
/// </summary>
/// <remarks>
/// Job: <see cref="BenchConfig"/> (one launch, 3 warm-up and 10 measured iterations of ~250 ms),
/// about 3-4 s per case, 12 cases. Data are synthetic standardised inputs with uniform labels in a
/// 64-byte-aligned buffer, cycled through in contiguous batches so that each call sees fresh memory
/// as in an epoch.
/// </remarks>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class MlpBenchmarks
{
    private const int Samples = 4096;
    private BenchMlp _model = null!;
    private AlignedFloats _inputs = null!;
    private int[] _labels = null!;
    private AlignedFloats _outputs = null!;
    private int _cursor;

    /// <summary>ISA paths this CPU can run, best first.</summary>
    public static IEnumerable<IsaPath> SupportedPaths()
    {
        foreach (IsaPath path in new[] { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable })
            if (KilnIsa.IsSupported(path))
                yield return path;
    }

    [ParamsSource(nameof(SupportedPaths))]
    public IsaPath Isa { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_inputs, _labels) = BenchData.Synthetic(Samples, BenchData.InputSize, BenchData.Classes, seed: 42);
        _outputs = new AlignedFloats(256 * BenchData.Classes);
        _model = new BenchMlp { Isa = Isa };
        // A few steps so BatchNorm running statistics and Adam moments are not at their initial values.
        for (int i = 0; i < 8; i++)
            _model.TrainStep(_inputs.Slice(i * 256 * BenchData.InputSize, 256 * BenchData.InputSize), _labels.AsSpan(i * 256, 256), 256);
        _cursor = 0;
    }

    [Benchmark, Arguments(64), Arguments(256), BenchmarkCategory("Train")]
    public float TrainStep(int batch)
    {
        int start = NextBatchStart(batch);
        return _model.TrainStep(_inputs.Slice(start * BenchData.InputSize, batch * BenchData.InputSize), _labels.AsSpan(start, batch), batch);
    }

    [Benchmark, Arguments(1), Arguments(256), BenchmarkCategory("Predict")]
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
