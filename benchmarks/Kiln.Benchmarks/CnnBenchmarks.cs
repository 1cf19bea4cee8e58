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
public class CnnBenchmarks : ModelBenchmark
{
    protected override int Samples => 2048;
    protected override int WarmupBatch => 64;
    protected override IKilnModel CreateModel() => new BenchCnn();

    [Benchmark, Arguments(64), BenchmarkCategory("Train")]
    public float TrainStep(int batch) => Train(batch);

    [Benchmark, Arguments(1), Arguments(64), BenchmarkCategory("Predict")]
    public float Predict(int batch) => Infer(batch);
}
