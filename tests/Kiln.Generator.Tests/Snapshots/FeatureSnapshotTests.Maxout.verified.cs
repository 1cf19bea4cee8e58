// Plan: 6 → dense0(24) → maxout0(3 pieces) → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 8); // output of maxout0
private readonly byte[] _piece1 = new byte[MaxBatch * 8]; // maxout0: the winning piece of each unit
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>maxout0: the maximum of each unit's 3 pieces, the winner kept for backward; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Maxout0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Maxout.Forward<TIsa>(_y0.Slice(r0 * 24, (r1 - r0) * 24), _y1.Slice(r0 * 8, (r1 - r0) * 8), new global::System.Span<byte>(_piece1, r0 * 8, (r1 - r0) * 8), r1 - r0, 8, 3);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // maxout0
    Execute(Stages.Maxout0Forward, (long)_batch * 48);
}

// ---- backward
/// <summary>maxout0: dL/dy goes to each unit's winning piece, zero to the others; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Maxout0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Maxout.Backward<TIsa>(_g1.Slice(r0 * 8, (r1 - r0) * 8), new global::System.ReadOnlySpan<byte>(_piece1, r0 * 8, (r1 - r0) * 8), _g0.Slice(r0 * 24, (r1 - r0) * 24), r1 - r0, 8, 3);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // maxout0 (dL/dy in _g1)
    Execute(Stages.Maxout0Backward, (long)_batch * 48);
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
    // maxout0 (eval)
    Execute(Stages.Maxout0Forward, (long)_batch * 48);
}

