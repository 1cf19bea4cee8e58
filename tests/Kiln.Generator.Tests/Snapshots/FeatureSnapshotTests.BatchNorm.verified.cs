// Plan: 6 → dense0(8) → tanh0 → bn0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y2 = new(MaxBatch * 8); // output of bn0
private readonly K::Arena _mean2 = new(8); // bn0 batch mean
private readonly K::Arena _invStd2 = new(8); // bn0 1/sqrt(var + ε)
// ---- InitializeParameters
K::ParameterInit.Constant(Bn0Gamma, 1f);
K::ParameterInit.Constant(Bn0Beta, 0f);
K::ParameterInit.Constant(Bn0RunningMean, 0f);
K::ParameterInit.Constant(Bn0RunningVariance, 1f);
// ---- views
// ---- training forward
/// <summary>bn0: batch statistics and the fused activation/dropout, columns split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Bn0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
    if (c0 >= c1) return;
    // A learning-rate scale of 0 freezes the layer: its running statistics stop too (transfer learning).
    bool updateRunning = _updateRunningStatistics && _learningRateScales[2] != 0f;
    K::BatchNorm.ForwardTrain<TIsa, K::Identity>(_y1.Slice(0, _batch * 8), Bn0Gamma, Bn0Beta, Bn0RunningMean, Bn0RunningVariance,
        _mean2.Span, _invStd2.Span, default, _y2.Slice(0, _batch * 8), _batch, 8, c0, c1, 1E-05f, 0.1f, updateRunning, new K::Identity());
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // bn0
    Execute(Stages.Bn0Forward, (long)_batch * 96);
}

// ---- backward
/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // bn0 (in place on _g1)
    // (BatchNorm backward with the γ/β update runs in dense1's backward stage, on the columns each thread computed)
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
    K::BatchNorm.ForwardEval<TIsa, K::Identity>(_y1.Slice(0, _batch * 8), Bn0Gamma, Bn0Beta, Bn0RunningMean, Bn0RunningVariance, _y2.Slice(0, _batch * 8), _batch, 8, 1E-05f, 1f, new K::Identity());
}

