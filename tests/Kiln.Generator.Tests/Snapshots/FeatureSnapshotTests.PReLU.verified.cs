// Plan: 6 → dense0(8) → tanh0 → prelu0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y2 = new(MaxBatch * 8); // output of prelu0
// ---- InitializeParameters
K::ParameterInit.Constant(Prelu0Alpha, 0.1f);
// ---- views
// ---- training forward
/// <summary>prelu0: element-wise, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Prelu0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::PRelu.Forward<TIsa>(_y1.Slice(r0 * 8, (r1 - r0) * 8), Prelu0Alpha, default, _y2.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 8);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // prelu0
    Execute(Stages.Prelu0Forward, (long)_batch * 80);
}

// ---- backward
/// <summary>prelu0: PReLU backward and α update (whole batch on one thread: dα sums over rows).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Prelu0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (part != 0) return;
    K::PRelu.Backward<TIsa>(_y1.Slice(0, _batch * 8), Prelu0Alpha, _g1.Slice(0, _batch * 8), default, _g1.Slice(0, _batch * 8), Prelu0AlphaGradient, _batch, 8);
    if (_applyUpdate) StepFor(2).Apply<TIsa>(Prelu0Alpha, Prelu0AlphaGradient, default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // prelu0 (in place on _g1)
    Execute(Stages.Prelu0Backward, 0);
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
    // prelu0 (eval)
    K::PRelu.Forward<TIsa>(_y1.Slice(0, _batch * 8), Prelu0Alpha, default, _y2.Slice(0, _batch * 8), _batch, 8);
}

