using System;
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
public class MlpBenchmarks : ModelBenchmark
{
    protected override int Samples => 4096;
    protected override int WarmupBatch => 256;
    protected override IKilnModel CreateModel() => new BenchMlp();

    [Benchmark, Arguments(64), Arguments(256), BenchmarkCategory("Train")]
    public float TrainStep(int batch) => Train(batch);

    [Benchmark, Arguments(1), Arguments(256), BenchmarkCategory("Predict")]
    public float Predict(int batch) => Infer(batch);
}
