// Plan: 72 → conv0(2@1×1 → 2×6×6) → maxpool0(2×5×5) → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 50); // output of maxpool0 (2×5×5, channels-last)
private readonly int[] _argmax1 = new int[MaxBatch * 50]; // maxpool0: index of each window's maximum
private static readonly K::PoolGeometry s_geometry1 = new(2, 6, 6, 2, 2, 1, 1, 0, 0); // maxpool0
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>maxpool0: maximum of each 2×2 window (stride 1) per channel, argmax kept for backward; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Maxpool0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::Pooling.MaxForward<TIsa>(_y0.Slice(0, _batch * 72), _y1.Slice(0, _batch * 50), new global::System.Span<int>(_argmax1, 0, _batch * 50), in s_geometry1, s0, s1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // maxpool0
    Execute(Stages.Maxpool0Forward, (long)_batch * 200);
}

// ---- backward
/// <summary>maxpool0: dL/dx gets each window's dL/dy at its argmax (zero elsewhere); samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Maxpool0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::Pooling.MaxBackward<TIsa>(_g1.Slice(0, _batch * 50), new global::System.ReadOnlySpan<int>(_argmax1, 0, _batch * 50), _g0.Slice(0, _batch * 72), in s_geometry1, s0, s1);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // maxpool0 (dL/dy in _g1)
    Execute(Stages.Maxpool0Backward, (long)_batch * 200);
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
    // maxpool0 (eval)
    Execute(Stages.Maxpool0Forward, (long)_batch * 200);
}

