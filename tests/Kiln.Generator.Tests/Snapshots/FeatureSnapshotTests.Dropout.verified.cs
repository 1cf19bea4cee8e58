// Plan: 6 → dense0(8) → relu0+dropout0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 8); // output of relu0 → dropout0
private readonly K::Arena _mask1 = new(MaxBatch * 8); // dropout0: 0 or the keep scale
private ulong _mask1Key; // dropout0: this mini-batch's mask key (element i of _mask1 is a pure function of the key and i)
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>relu0 → dropout0: element-wise, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Relu0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Dropout.Draw<TIsa>(_mask1.Slice(r0 * 8, (r1 - r0) * 8), r0 * 8, 0.7f, 1.4285715f, _mask1Key);
    K::Elementwise.ActivationForward<TIsa, K::Relu>(_y0.Slice(r0 * 8, (r1 - r0) * 8), _mask1.Slice(r0 * 8, (r1 - r0) * 8), _y1.Slice(r0 * 8, (r1 - r0) * 8), new K::Relu());
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // relu0 → dropout0
    _mask1Key = _noise.NextUInt64(); // dropout0: the stage that applies the mask draws its part of it from this key
    Execute(Stages.Relu0Forward, (long)_batch * 128);
}

// ---- backward
/// <summary>relu0 → dropout0: activation and dropout backward, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Relu0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Elementwise.ActivationBackward<TIsa, K::Relu>(_y0.Slice(r0 * 8, (r1 - r0) * 8), _g1.Slice(r0 * 8, (r1 - r0) * 8), _mask1.Slice(r0 * 8, (r1 - r0) * 8), _g1.Slice(r0 * 8, (r1 - r0) * 8),
        new K::Relu());
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // relu0 → dropout0 (in place on _g1)
    Execute(Stages.Relu0Backward, (long)_batch * 80);
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
}

