using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Kiln;

namespace Kiln.Benchmarks;

/// <summary>
/// What the per-model benchmark classes share: synthetic standardised inputs with uniform labels in a 64-byte-aligned
/// buffer, cycled through in contiguous batches (each call sees fresh memory, as in an epoch), a model on the chosen ISA
/// path warmed by a few steps, and the timed calls. Subclasses choose the model and the batch sizes.
/// </summary>
public abstract class ModelBenchmark
{
    private IKilnModel _model = null!;
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

    /// <summary>Samples in the cycled data buffer.</summary>
    protected abstract int Samples { get; }

    /// <summary>The batch of the warm-up steps (8 of them) that move BatchNorm statistics and Adam moments off their initial values.</summary>
    protected abstract int WarmupBatch { get; }

    protected abstract IKilnModel CreateModel();

    [GlobalSetup]
    public void Setup()
    {
        (_inputs, _labels) = BenchData.Synthetic(Samples, BenchData.InputSize, BenchData.Classes, seed: 42);
        _outputs = new AlignedFloats(256 * BenchData.Classes);
        _model = CreateModel();
        _model.Isa = Isa;
        for (int i = 0; i < 8; i++)
        {
            int start = NextBatchStart(WarmupBatch);
            _model.TrainStep(_inputs.Slice(start * BenchData.InputSize, WarmupBatch * BenchData.InputSize), _labels.AsSpan(start, WarmupBatch), WarmupBatch);
        }
        _cursor = 0;
    }

    /// <summary>One fused optimiser step over the next <paramref name="batch"/> samples.</summary>
    protected float Train(int batch)
    {
        int start = NextBatchStart(batch);
        return _model.TrainStep(_inputs.Slice(start * BenchData.InputSize, batch * BenchData.InputSize), _labels.AsSpan(start, batch), batch);
    }

    /// <summary>One eval-mode Predict of the next <paramref name="batch"/> samples.</summary>
    protected float Infer(int batch)
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
