using System;
using Kiln.Kernels;

namespace Kiln.Data;

/// <summary>
/// Mini-batch iterator over a <see cref="Dataset"/> with preallocated buffers: filling a batch copies rows
/// into <see cref="Inputs"/>/<see cref="Labels"/> and allocates nothing.
/// </summary>
/// <remarks>
/// The order of epoch e is a Fisher–Yates shuffle of the identity with a <see cref="KilnRandom"/> seeded
/// from (seed, e), so it depends only on those two numbers: reproducible across runs and platforms, and a
/// resumed run at epoch e sees the same order. The last batch of an epoch holds the remaining
/// Count mod BatchSize samples, unless <c>dropLast</c> is set or it is smaller than <c>minLastBatch</c>.
/// A batch of at least <see cref="ParallelGatherBytes"/> bytes is copied by the threads of <see cref="WorkerPool.Current"/>
/// (the pool the model's kernels run on), each copying a contiguous range of its rows; the copy is exact, so the batch
/// is the same bytes whatever the thread count.
/// </remarks>
public sealed class Batcher
{
    private readonly Dataset _data;
    private readonly ulong _seed;
    private readonly int[] _order;
    private readonly float[] _inputs;
    private readonly int[] _labels;
    private readonly GatherStage _gather;
    private int _position;

    /// <summary>Batches of at least this many bytes of features are gathered on the worker pool's threads; smaller ones on the caller.</summary>
    internal const int ParallelGatherBytes = 64 * 1024;

    /// <param name="data">Samples to iterate.</param>
    /// <param name="batchSize">Largest batch (&gt; 0).</param>
    /// <param name="seed">Shuffle seed.</param>
    /// <param name="shuffle">False iterates in data set order every epoch.</param>
    /// <param name="dropLast">Skip the final partial batch of every epoch.</param>
    /// <param name="minLastBatch">
    /// Skip a final partial batch smaller than this (default 1: keep it). Trainer passes 2 by default because a
    /// one-sample batch has no batch variance, which training-mode BatchNorm divides by.
    /// </param>
    public Batcher(Dataset data, int batchSize, ulong seed = 0, bool shuffle = true, bool dropLast = false, int minLastBatch = 1)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minLastBatch);
        _data = data;
        _seed = seed;
        Shuffle = shuffle;
        DropLast = dropLast;
        BatchSize = batchSize;
        _order = Dataset.Identity(data.Count);
        _inputs = new float[batchSize * data.FeatureCount];
        _labels = new int[batchSize];
        _gather = new GatherStage(this);
        MinLastBatch = dropLast ? batchSize : Math.Min(minLastBatch, batchSize);
        int rest = data.Count % batchSize;
        BatchesPerEpoch = data.Count / batchSize + (rest > 0 && rest >= MinLastBatch ? 1 : 0);
        SamplesPerEpoch = data.Count - (rest > 0 && rest < MinLastBatch ? rest : 0);
        Epoch = -1;
    }

    /// <summary>Samples per batch (the last batch of an epoch may be smaller unless <see cref="DropLast"/> is set).</summary>
    public int BatchSize { get; }
    /// <summary>Whether the sample order is reshuffled every epoch.</summary>
    public bool Shuffle { get; }
    /// <summary>Whether a final batch smaller than <see cref="BatchSize"/> is skipped.</summary>
    public bool DropLast { get; }
    /// <summary>Smallest final partial batch that is kept (BatchSize when <see cref="DropLast"/>).</summary>
    public int MinLastBatch { get; }
    /// <summary>Batches per epoch, counting the partial last one unless it is skipped.</summary>
    public int BatchesPerEpoch { get; }
    /// <summary>Samples per epoch: Count less a skipped final partial batch.</summary>
    public int SamplesPerEpoch { get; }
    /// <summary>The current epoch (−1 before the first <see cref="BeginEpoch"/>).</summary>
    public int Epoch { get; private set; }
    /// <summary>Samples in the current batch.</summary>
    public int Current { get; private set; }
    /// <summary>0-based index of the current batch within the epoch (−1 before the first <see cref="NextBatch"/>).</summary>
    public int BatchIndex { get; private set; } = -1;

    /// <summary>Features of the current batch, row-major, <see cref="Current"/> rows.</summary>
    public ReadOnlySpan<float> Inputs => _inputs.AsSpan(0, Current * _data.FeatureCount);
    /// <summary>Labels of the current batch.</summary>
    public ReadOnlySpan<int> Labels => _labels.AsSpan(0, Current);
    /// <summary>Data set indices of the current batch's samples.</summary>
    public ReadOnlySpan<int> Indices => _order.AsSpan(_position - Current, Current);
    /// <summary>This epoch's sample order.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>Starts epoch <paramref name="epoch"/>: computes its order and rewinds.</summary>
    public void BeginEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Epoch = epoch;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (Shuffle)
        {
            // Mix the epoch into the seed (golden-ratio step, as SplitMix does) so each epoch has its own stream.
            var rng = new KilnRandom(_seed + 0x9E3779B97F4A7C15UL * (ulong)(epoch + 1));
            Dataset.Shuffle(_order, ref rng);
        }
        _position = 0;
        Current = 0;
        BatchIndex = -1;
    }

    /// <summary>Fills the buffers with the next batch; false when the epoch is exhausted.</summary>
    public bool NextBatch()
    {
        if (Epoch < 0) throw new InvalidOperationException("Call BeginEpoch before NextBatch.");
        int remaining = _order.Length - _position;
        int n = Math.Min(BatchSize, remaining);
        if (n == 0 || n < MinLastBatch)
        {
            Current = 0;
            return false;
        }

        Current = n;
        WorkerPool pool = WorkerPool.Current;
        if (pool.Parallelism > 1 && (long)n * _data.FeatureCount * sizeof(float) >= ParallelGatherBytes) pool.Run(_gather, 0);
        else CopyRows(0, n);
        _position += n;
        BatchIndex++;
        return true;
    }

    /// <summary>Copies rows [<paramref name="start"/>, <paramref name="end"/>) of the batch that begins at _position in the order.</summary>
    private void CopyRows(int start, int end)
    {
        int f = _data.FeatureCount;
        float[] src = _data.Features;
        int[] labels = _data.Labels;
        for (int i = start; i < end; i++)
        {
            int s = _order[_position + i];
            Array.Copy(src, (long)s * f, _inputs, (long)i * f, f);
            _labels[i] = labels[s];
        }
    }

    /// <summary>The pool stage that fills a batch: part k of p copies rows [k·n/p, (k+1)·n/p) of the <see cref="Current"/> rows.</summary>
    private sealed class GatherStage(Batcher batcher) : IParallelStages
    {
        public void RunStage(int stage, int part, int parts)
        {
            int n = batcher.Current;
            batcher.CopyRows((int)((long)n * part / parts), (int)((long)n * (part + 1) / parts));
        }
    }
}
