// Plan: 32 → conv0(4@1×1 → 4×4×4) → groupnorm0 → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 64); // output of groupnorm0 (4×4×4, channels-last)
private readonly K::Arena _mean1 = new(MaxBatch * 2); // groupnorm0 mean per sample and group
private readonly K::Arena _invStd1 = new(MaxBatch * 2); // groupnorm0 1/sqrt(var + ε) per sample and group
// ---- InitializeParameters
K::ParameterInit.Constant(Groupnorm0Gamma, 1f);
K::ParameterInit.Constant(Groupnorm0Beta, 0f);
// ---- views
// ---- training forward
/// <summary>groupnorm0: y = γ·(x − μ)/sqrt(σ² + ε) + β with μ, σ² per sample over each group of 2 channels × 16 pixels; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Groupnorm0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::GroupNorm.Forward<TIsa>(_y0.Slice(0, _batch * 64), Groupnorm0Gamma, Groupnorm0Beta, _y1.Slice(0, _batch * 64),
        _mean1.Slice(0, _batch * 2), _invStd1.Slice(0, _batch * 2), 16, 4, 2, 1E-05f, s0, s1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // groupnorm0
    Execute(Stages.Groupnorm0Forward, (long)_batch * 512);
}

// ---- backward
/// <summary>groupnorm0: dL/dx and dγ, dβ (summed over every sample, so one thread does the whole batch), then the γ/β update.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Groupnorm0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (part != 0) return;
    Groupnorm0GammaGradient.Clear();
    Groupnorm0BetaGradient.Clear();
    K::GroupNorm.Backward<TIsa>(_y0.Slice(0, _batch * 64), _g1.Slice(0, _batch * 64), Groupnorm0Gamma, _mean1.Slice(0, _batch * 2), _invStd1.Slice(0, _batch * 2),
        _g0.Slice(0, _batch * 64), Groupnorm0GammaGradient, Groupnorm0BetaGradient, 16, 4, 2, 0, _batch);
    if (_applyUpdate)
    {
        StepFor(2).Apply<TIsa>(Groupnorm0Gamma, Groupnorm0GammaGradient, default, default);
        StepFor(3).Apply<TIsa>(Groupnorm0Beta, Groupnorm0BetaGradient, default, default);
    }
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // groupnorm0 (dL/dy in _g1)
    Execute(Stages.Groupnorm0Backward, 0);
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
    // groupnorm0 (eval: the same per-sample statistics as in training)
    Execute(Stages.Groupnorm0Forward, (long)_batch * 512);
}

