// Plan: 6 → dense0(8) → tanh0 → leakyrelu0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y2 = new(MaxBatch * 8); // output of leakyrelu0
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>leakyrelu0: element-wise, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Leakyrelu0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Elementwise.ActivationForward<TIsa, K::LeakyRelu>(_y1.Slice(r0 * 8, (r1 - r0) * 8), default, _y2.Slice(r0 * 8, (r1 - r0) * 8), new K::LeakyRelu(0.2f));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // leakyrelu0
    Execute(Stages.Leakyrelu0Forward, (long)_batch * 80);
}

// ---- backward
/// <summary>leakyrelu0: activation backward, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Leakyrelu0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Elementwise.ActivationBackward<TIsa, K::LeakyRelu>(_y1.Slice(r0 * 8, (r1 - r0) * 8), _g1.Slice(r0 * 8, (r1 - r0) * 8), default, _g1.Slice(r0 * 8, (r1 - r0) * 8), new K::LeakyRelu(0.2f));
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // leakyrelu0 (in place on _g1)
    Execute(Stages.Leakyrelu0Backward, (long)_batch * 80);
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
    // leakyrelu0 (eval)
    K::Elementwise.ActivationForward<TIsa, K::LeakyRelu>(_y1.Slice(0, _batch * 8), default, _y2.Slice(0, _batch * 8), new K::LeakyRelu(0.2f));
}

