// Plan: 6 → dense0(8) → layernorm0 → tanh0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 8); // output of layernorm0
private readonly K::Arena _mean1 = new(MaxBatch * 1); // layernorm0 mean per sample and group
private readonly K::Arena _invStd1 = new(MaxBatch * 1); // layernorm0 1/sqrt(var + ε) per sample and group
// ---- InitializeParameters
K::ParameterInit.Constant(Layernorm0Gamma, 1f);
K::ParameterInit.Constant(Layernorm0Beta, 0f);
// ---- views
// ---- training forward
/// <summary>layernorm0: y = γ·(x − μ)/sqrt(σ² + ε) + β with μ, σ² over all 8 values of each sample; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Layernorm0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::GroupNorm.Forward<TIsa>(_y0.Slice(0, _batch * 8), Layernorm0Gamma, Layernorm0Beta, _y1.Slice(0, _batch * 8),
        _mean1.Slice(0, _batch * 1), _invStd1.Slice(0, _batch * 1), 1, 8, 1, 1E-05f, s0, s1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // layernorm0
    Execute(Stages.Layernorm0Forward, (long)_batch * 64);
}

// ---- backward
/// <summary>layernorm0: dL/dx and dγ, dβ (summed over every sample, so one thread does the whole batch), then the γ/β update.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Layernorm0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (part != 0) return;
    Layernorm0GammaGradient.Clear();
    Layernorm0BetaGradient.Clear();
    K::GroupNorm.Backward<TIsa>(_y0.Slice(0, _batch * 8), _g1.Slice(0, _batch * 8), Layernorm0Gamma, _mean1.Slice(0, _batch * 1), _invStd1.Slice(0, _batch * 1),
        _g0.Slice(0, _batch * 8), Layernorm0GammaGradient, Layernorm0BetaGradient, 1, 8, 1, 0, _batch);
    if (_applyUpdate)
    {
        StepFor(2).Apply<TIsa>(Layernorm0Gamma, Layernorm0GammaGradient, default, default);
        StepFor(3).Apply<TIsa>(Layernorm0Beta, Layernorm0BetaGradient, default, default);
    }
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // layernorm0 (dL/dy in _g1)
    Execute(Stages.Layernorm0Backward, 0);
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
    // layernorm0 (eval: the same per-sample statistics as in training)
    Execute(Stages.Layernorm0Forward, (long)_batch * 64);
}

