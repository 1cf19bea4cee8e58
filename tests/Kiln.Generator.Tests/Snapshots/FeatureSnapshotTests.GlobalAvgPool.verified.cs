// Plan: 32 → conv0(4@1×1 → 4×4×4) → globalavgpool0(4) → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 4); // output of globalavgpool0
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>globalavgpool0: mean of each channel over 16 pixels; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Globalavgpool0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::Pooling.GlobalAvgForward<TIsa>(_y0.Slice(0, _batch * 64), _y1.Slice(0, _batch * 4), 4, 16, s0, s1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // globalavgpool0
    Execute(Stages.Globalavgpool0Forward, (long)_batch * 64);
}

// ---- backward
/// <summary>globalavgpool0: dL/dx = dL/dy / 16 on every pixel; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Globalavgpool0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::Pooling.GlobalAvgBackward<TIsa>(_g1.Slice(0, _batch * 4), _g0.Slice(0, _batch * 64), 4, 16, s0, s1);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // globalavgpool0 (dL/dy in _g1)
    Execute(Stages.Globalavgpool0Backward, (long)_batch * 64);
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
    // globalavgpool0 (eval)
    Execute(Stages.Globalavgpool0Forward, (long)_batch * 64);
}

