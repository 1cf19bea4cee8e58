// Plan: 6 → dense0(8) → [residual0 → dense1(8) → tanh0 → residual0: + shortcut] → dense2(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private float _gate4 = 1f; // residual0: stochastic-depth gate of the last training step (1 = branch kept)
private readonly K::Arena _skip4 = new(MaxBatch * 8); // residual0: dL/dy kept for the shortcut while the branch runs backward
private readonly K::Arena _y4 = new(MaxBatch * 8); // output of residual0
// ---- InitializeParameters
// ---- views
/// <summary>residual0's stochastic-depth gate in the last training step: 1 when the branch was kept, 0 when the block was skipped.</summary>
public float Residual0Gate => _gate4;
// ---- training forward
/// <summary>residual0: y = _y0 (shortcut) + g·_y3 (branch), training: the gate of this mini-batch; element ranges split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int e0, int e1) = K::Partition.Range(_batch * 8, part, parts, 16);
    if (e0 < e1) K::Residual.Add<TIsa>(_y0.Slice(0, _batch * 8), _y3.Slice(0, _batch * 8), _gate4, _y4.Slice(0, _batch * 8), e0, e1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // residual0 starts: its input _y0 is the shortcut
    // residual0: y = shortcut + gate·branch
    _gate4 = _noise.NextDouble() < 0.8d ? 1f : 0f; // stochastic depth: keep the branch with p = 0.8, once per mini-batch
    Execute(Stages.Residual0Forward, (long)_batch * 16);
}

// ---- backward
/// <summary>residual0: the branch's dL/dy = gate·dL/dy in place; element ranges split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int e0, int e1) = K::Partition.Range(_batch * 8, part, parts, 16);
    if (e0 < e1) K::Residual.ScaleGradient<TIsa>(_g1.Slice(0, _batch * 8), _gate4, _g1.Slice(0, _batch * 8), e0, e1);
}

/// <summary>residual0: dL/dx = the branch's dL/dx + the shortcut's dL/dy; element ranges split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0Shortcut<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int e0, int e1) = K::Partition.Range(_batch * 8, part, parts, 16);
    if (e0 < e1) K::Residual.Add<TIsa>(_skip4.Slice(0, _batch * 8), _g0.Slice(0, _batch * 8), 1f, _g0.Slice(0, _batch * 8), e0, e1);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // residual0: dL/d(shortcut) = dL/dy, dL/d(branch) = gate·dL/dy (dL/dy in _g1)
    _g1.Slice(0, _batch * 8).CopyTo(_skip4.Span);
    Execute(Stages.Residual0Backward, (long)_batch * 8);
    // residual0 starts: add the shortcut's gradient (dL/dx in _g0)
    Execute(Stages.Residual0Shortcut, (long)_batch * 8);
}

// ---- inference
/// <summary>residual0: y = _y0 (shortcut) + g·_y3 (branch), test: every block is used, the branch scaled by its survival probability 0.8; element ranges split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int e0, int e1) = K::Partition.Range(_batch * 8, part, parts, 16);
    if (e0 < e1) K::Residual.Add<TIsa>(_y0.Slice(0, _batch * 8), _y3.Slice(0, _batch * 8), 0.8f, _y4.Slice(0, _batch * 8), e0, e1);
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
    // residual0 (eval)
    Execute(Stages.Residual0Inference, (long)_batch * 16);
}

