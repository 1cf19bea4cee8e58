// Plan: 32 → conv0(4@3×3 pad 1 → 4×4×4) → tanh0 → bn0 → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y2 = new(MaxBatch * 64); // output of bn0 (4×4×4, channels-last)
private readonly K::Arena _mean2 = new(4); // bn0 batch mean
private readonly K::Arena _invStd2 = new(4); // bn0 1/sqrt(var + ε)
private readonly double[] _bnPartial2 = new double[16]; // bn0 per-channel sums of each block of 256 rows (Σd and Σd² forward, Σg and Σg·x̂ backward)
// ---- InitializeParameters
K::ParameterInit.Constant(Bn0Gamma, 1f);
K::ParameterInit.Constant(Bn0Beta, 0f);
K::ParameterInit.Constant(Bn0RunningMean, 0f);
K::ParameterInit.Constant(Bn0RunningVariance, 1f);
// ---- views
// ---- training forward
/// <summary>bn0: per-channel Σd and Σd² (d = z − the block's first row) of the thread's blocks of 256 rows, one pass (their slots of _bnPartial2).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Bn0Statistics<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    int blocks = K::BatchNorm.BlockCount(_batch * 16, 256);
    (int b0, int b1) = K::Partition.Range(blocks, part, parts, 1);
    if (b0 >= b1) return;
    K::BatchNorm.BlockMoments<TIsa>(_y1.Slice(0, _batch * 64), _bnPartial2, _batch * 16, 4, 256, b0, b1);
}

/// <summary>bn0: normalisation with the fused activation/dropout of the thread's samples.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Bn0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::BatchNorm.NormalizeRows<TIsa, K::Identity>(_y1.Slice(s0 * 64, (s1 - s0) * 64), Bn0Gamma, Bn0Beta, _mean2.Span, _invStd2.Span,
        default, _y2.Slice(s0 * 64, (s1 - s0) * 64), (s1 - s0) * 16, 4, new K::Identity());
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // bn0 (per channel over samples·16 pixels)
    Execute(Stages.Bn0Statistics, (long)_batch * 256);
    // A learning-rate scale of 0 freezes the layer: its running statistics stop too (transfer learning).
    K::BatchNorm.CombineMoments(_y1.Slice(0, _batch * 64), _bnPartial2, _mean2.Span, _invStd2.Span, Bn0RunningMean, Bn0RunningVariance,
        _batch * 16, 4, 256, 1E-05f, 0.1f, _updateRunningStatistics && _learningRateScales[2] != 0f);
    Execute(Stages.Bn0Forward, (long)_batch * 256);
}

// ---- backward
/// <summary>bn0: dropout, activation and the thread's blocks' parts of dβ = Σg and dγ = Σg·x̂ (g kept in _g1).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Bn0BackwardSums<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    int blocks = K::BatchNorm.BlockCount(_batch * 16, 256);
    (int b0, int b1) = K::Partition.Range(blocks, part, parts, 1);
    if (b0 >= b1) return;
    K::BatchNorm.BlockBackwardSums<TIsa, K::Identity>(_y1.Slice(0, _batch * 64), _g1.Slice(0, _batch * 64), default, Bn0Gamma, Bn0Beta,
        _mean2.Span, _invStd2.Span, _g1.Slice(0, _batch * 64), _bnPartial2, _batch * 16, 4, 256, b0, b1, new K::Identity());
}

/// <summary>bn0: dL/dz of the thread's samples from the whole batch's dγ and dβ.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Bn0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::BatchNorm.BackwardRows<TIsa>(_y1.Slice(s0 * 64, (s1 - s0) * 64), Bn0Gamma, _mean2.Span, _invStd2.Span, Bn0GammaGradient, Bn0BetaGradient,
        _g1.Slice(s0 * 64, (s1 - s0) * 64), (s1 - s0) * 16, 4, _batch * 16);
}

/// <summary>bn0: the γ/β update (after every thread has read γ for dL/dz).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Bn0Update<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (part != 0) return;
    StepFor(2).Apply<TIsa>(Bn0Gamma, Bn0GammaGradient, default, default);
    StepFor(3).Apply<TIsa>(Bn0Beta, Bn0BetaGradient, default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // bn0 (in place on _g1)
    Execute(Stages.Bn0BackwardSums, (long)_batch * 256);
    K::BatchNorm.CombineBackwardSums(_bnPartial2, Bn0GammaGradient, Bn0BetaGradient, 4, K::BatchNorm.BlockCount(_batch * 16, 256));
    Execute(Stages.Bn0Backward, (long)_batch * 256);
    if (_applyUpdate) Execute(Stages.Bn0Update, 0);
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
    // bn0 (eval)
    K::BatchNorm.ForwardEval<TIsa, K::Identity>(_y1.Slice(0, _batch * 64), Bn0Gamma, Bn0Beta, Bn0RunningMean, Bn0RunningVariance, _y2.Slice(0, _batch * 64), _batch * 16, 4, 1E-05f, 1f,
        new K::Identity());
}

