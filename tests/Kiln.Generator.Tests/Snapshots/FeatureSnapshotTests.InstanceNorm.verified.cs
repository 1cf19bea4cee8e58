// Plan: 32 → conv0(4@1×1 → 4×4×4) → instancenorm0 → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 64); // output of instancenorm0 (4×4×4, channels-last)
private readonly K::Arena _mean1 = new(MaxBatch * 4); // instancenorm0 mean per sample and group
private readonly K::Arena _invStd1 = new(MaxBatch * 4); // instancenorm0 1/sqrt(var + ε) per sample and group
// ---- InitializeParameters
K::ParameterInit.Constant(Instancenorm0Gamma, 1f);
K::ParameterInit.Constant(Instancenorm0Beta, 0f);
// ---- views
// ---- training forward
/// <summary>instancenorm0: y = γ·(x − μ)/sqrt(σ² + ε) + β with μ, σ² per sample and channel over 16 pixels; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Instancenorm0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::GroupNorm.Forward<TIsa>(_y0.Slice(0, _batch * 64), Instancenorm0Gamma, Instancenorm0Beta, _y1.Slice(0, _batch * 64),
        _mean1.Slice(0, _batch * 4), _invStd1.Slice(0, _batch * 4), 16, 4, 4, 1E-05f, s0, s1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // instancenorm0
    Execute(Stages.Instancenorm0Forward, (long)_batch * 512);
}

// ---- backward
/// <summary>instancenorm0: dL/dx and dγ, dβ (summed over every sample, so one thread does the whole batch), then the γ/β update.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Instancenorm0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (part != 0) return;
    Instancenorm0GammaGradient.Clear();
    Instancenorm0BetaGradient.Clear();
    K::GroupNorm.Backward<TIsa>(_y0.Slice(0, _batch * 64), _g1.Slice(0, _batch * 64), Instancenorm0Gamma, _mean1.Slice(0, _batch * 4), _invStd1.Slice(0, _batch * 4),
        _g0.Slice(0, _batch * 64), Instancenorm0GammaGradient, Instancenorm0BetaGradient, 16, 4, 4, 0, _batch);
    if (_applyUpdate)
    {
        StepFor(2).Apply<TIsa>(Instancenorm0Gamma, Instancenorm0GammaGradient, default, default);
        StepFor(3).Apply<TIsa>(Instancenorm0Beta, Instancenorm0BetaGradient, default, default);
    }
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // instancenorm0 (dL/dy in _g1)
    Execute(Stages.Instancenorm0Backward, 0);
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
    // instancenorm0 (eval: the same per-sample statistics as in training)
    Execute(Stages.Instancenorm0Forward, (long)_batch * 512);
}

