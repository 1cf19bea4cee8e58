// Plan: 32 → conv0(4@1×1 → 4×4×4) → multiplier0 → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 64); // output of multiplier0 (4×4×4, channels-last)
// ---- InitializeParameters
K::ParameterInit.Constant(Multiplier0Gamma, 1f);
// ---- views
// ---- training forward
/// <summary>multiplier0: y = s·x (multiplier0.scale); samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Multiplier0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Elementwise.Scale<TIsa>(_y0.Slice(r0 * 64, (r1 - r0) * 64), Multiplier0Gamma[0], _y1.Slice(r0 * 64, (r1 - r0) * 64));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // multiplier0: y = s·x
    Execute(Stages.Multiplier0Forward, (long)_batch * 64);
}

// ---- backward
/// <summary>multiplier0: the scalar's gradient, dL/dx in place on _g1, and the scalar's update (whole batch on one thread: the gradient sums every element).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Multiplier0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (part != 0) return;
    Multiplier0GammaGradient[0] = K::Fixup.Dot<TIsa>(_g1.Slice(0, _batch * 64), _y0.Slice(0, _batch * 64)); // dL/ds = Σ dL/dy·x
    K::Elementwise.Scale<TIsa>(_g1.Slice(0, _batch * 64), Multiplier0Gamma[0], _g1.Slice(0, _batch * 64)); // dL/dx = s·dL/dy
    if (_applyUpdate) StepFor(2).Apply<TIsa>(Multiplier0Gamma, Multiplier0GammaGradient, default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // multiplier0 (in place on _g1)
    Execute(Stages.Multiplier0Backward, 0);
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
    // multiplier0 (eval): the training forward's stage (nothing in it depends on the mode)
    Execute(Stages.Multiplier0Forward, (long)_batch * 64);
}

