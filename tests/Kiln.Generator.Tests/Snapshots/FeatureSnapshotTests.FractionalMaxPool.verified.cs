// Plan: 128 → conv0(2@1×1 → 2×8×8) → fractionalmaxpool0(2×5×5) → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 50); // output of fractionalmaxpool0 (2×5×5, channels-last)
private readonly int[] _argmax1 = new int[MaxBatch * 50]; // fractionalmaxpool0: index of each window's maximum
private readonly int[] _regionRows1 = new int[6]; // fractionalmaxpool0: region starts of this mini-batch (rows)
private readonly int[] _regionCols1 = new int[6]; // fractionalmaxpool0: region starts of this mini-batch (columns)
private static readonly int[] s_testRows1 = FractionalRegions(8, 5, 2); // 2 fixed layouts averaged at test
private static readonly int[] s_testCols1 = FractionalRegions(8, 5, 2);
// ---- InitializeParameters
// ---- views
/// <summary>fractionalmaxpool0's row region starts of the last training step (5 regions over 8 rows, then 8).</summary>
public global::System.ReadOnlySpan<int> Fractionalmaxpool0RowStarts => _regionRows1;
/// <summary>fractionalmaxpool0's column region starts of the last training step.</summary>
public global::System.ReadOnlySpan<int> Fractionalmaxpool0ColumnStarts => _regionCols1;
// ---- training forward
/// <summary>fractionalmaxpool0: maximum over this mini-batch's pseudo-random regions (8×8 → 5×5), argmax kept for backward; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Fractionalmaxpool0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::FractionalMaxPool.Forward<TIsa>(_y0.Slice(0, _batch * 128), _y1.Slice(0, _batch * 50), new global::System.Span<int>(_argmax1, 0, _batch * 50), _regionRows1, _regionCols1, 2, 8, 8, 5, 5, s0,
        s1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // fractionalmaxpool0
    K::FractionalMaxPool.Regions(8, 5, _noise.NextDouble(), _regionRows1); // fresh pseudo-random regions for this mini-batch
    K::FractionalMaxPool.Regions(8, 5, _noise.NextDouble(), _regionCols1);
    Execute(Stages.Fractionalmaxpool0Forward, (long)_batch * 256);
}

// ---- backward
/// <summary>fractionalmaxpool0: dL/dx gets each region's dL/dy at its argmax (zero elsewhere); samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Fractionalmaxpool0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::FractionalMaxPool.Backward<TIsa>(_g1.Slice(0, _batch * 50), new global::System.ReadOnlySpan<int>(_argmax1, 0, _batch * 50), _g0.Slice(0, _batch * 128), 2, 8, 8, 5, 5, s0, s1);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // fractionalmaxpool0 (dL/dy in _g1)
    Execute(Stages.Fractionalmaxpool0Backward, (long)_batch * 256);
}

// ---- inference
/// <summary>fractionalmaxpool0 (eval): the mean of the maxima over 2 fixed region layouts; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Fractionalmaxpool0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::FractionalMaxPool.ForwardAverage<TIsa>(_y0.Slice(0, _batch * 128), _y1.Slice(0, _batch * 50), s_testRows1, s_testCols1, 2,
        2, 8, 8, 5, 5, s0, s1);
}

/// <summary>Eval-mode forward over _batch rows of _x.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
protected override void ForwardInference()
{
    switch (_isa)
    {
        case global::Kiln.IsaPath.Avx512: ForwardInference<K::Avx512Path>(); break;
        case global::Kiln.IsaPath.Avx2: ForwardInference<K::Avx2Path>(); break;
        default: ForwardInference<K::PortablePath>(); break;
    }
}

[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardInference<TIsa>() where TIsa : struct, K::ISimdPath
{
    // fractionalmaxpool0 (eval)
    Execute(Stages.Fractionalmaxpool0Inference, (long)_batch * 512);
}

