// Plan: 6 → dense0(8) → tanh0 → dense1(3) → softmax0 → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y3 = new(MaxBatch * 3); // output of softmax0
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>softmax0: element-wise, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Softmax0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Elementwise.SoftmaxForward(_y2.Slice(r0 * 3, (r1 - r0) * 3), _y3.Slice(r0 * 3, (r1 - r0) * 3), r1 - r0, 3);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // softmax0
    Execute(Stages.Softmax0Forward, (long)_batch * 30);
}

// ---- backward
/// <summary>softmax0: activation backward, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Softmax0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Elementwise.SoftmaxBackward(_y3.Slice(r0 * 3, (r1 - r0) * 3), _g0.Slice(r0 * 3, (r1 - r0) * 3), _g0.Slice(r0 * 3, (r1 - r0) * 3), r1 - r0, 3);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // softmax0 (in place on _g0)
    Execute(Stages.Softmax0Backward, (long)_batch * 30);
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
    // softmax0 (eval)
    K::Elementwise.SoftmaxForward(_y2.Slice(0, _batch * 3), _y3.Slice(0, _batch * 3), _batch, 3);
}

