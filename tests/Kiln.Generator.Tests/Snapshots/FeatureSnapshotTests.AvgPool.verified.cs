// Plan: 72 → conv0(2@1×1 → 2×6×6) → avgpool0(2×6×6) → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 72); // output of avgpool0 (2×6×6, channels-last)
private static readonly K::PoolGeometry s_geometry1 = new(2, 6, 6, 3, 3, 1, 1, 1, 1); // avgpool0
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>avgpool0: mean of each 3×3 window (stride 1) per channel; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Avgpool0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::Pooling.AvgForward<TIsa>(_y0.Slice(0, _batch * 72), _y1.Slice(0, _batch * 72), in s_geometry1, s0, s1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // avgpool0
    Execute(Stages.Avgpool0Forward, (long)_batch * 648);
}

// ---- backward
/// <summary>avgpool0: dL/dx spreads each window's dL/dy evenly over its in-bounds cells; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Avgpool0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::Pooling.AvgBackward<TIsa>(_g1.Slice(0, _batch * 72), _g0.Slice(0, _batch * 72), in s_geometry1, s0, s1);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // avgpool0 (dL/dy in _g1)
    Execute(Stages.Avgpool0Backward, (long)_batch * 648);
}

// ---- inference
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
    // avgpool0 (eval)
    Execute(Stages.Avgpool0Forward, (long)_batch * 648);
}

