// Plan: 6 → dense0(8) → bn0+relu0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y0 = new(MaxBatch * 8); // output of dense0
// ---- InitializeParameters
// dense0.weight [6×8]: He normal, std = sqrt(2/6) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Normal(Dense0Weight, 0.5773502691896257d, ref rng);
K::ParameterInit.Constant(Dense0Bias, 0f);
// ---- views
// ---- training forward
/// <summary>dense0 → bn0 → relu0: x·W + b, then the batch statistics and the fused activation/dropout of the same columns; output columns split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    // A batch of 1 takes the GEMV kernels, whose column strips depend on the range: one part then computes every column.
    (int c0, int c1) = _batch > 1 ? K::Partition.Range(8, part, parts, K::Gemm.BackwardInputColumnAlign) : part == 0 ? (0, 8) : (0, 0);
    if (c0 >= c1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_x.Slice(0, _batch * 6), Dense0Weight, _y0.Slice(0, _batch * 8), _batch, 6, 8, c0, c1, new K::BiasEpilogue(Dense0Bias));
    // bn0 → relu0
    // A learning-rate scale of 0 freezes the layer: its running statistics stop too (transfer learning).
    bool updateRunning = _updateRunningStatistics && _learningRateScales[2] != 0f;
    K::BatchNorm.ForwardTrain<TIsa, K::Relu>(_y0.Slice(0, _batch * 8), Bn0Gamma, Bn0Beta, Bn0RunningMean, Bn0RunningVariance,
        _mean1.Span, _invStd1.Span, default, _y1.Slice(0, _batch * 8), _batch, 8, c0, c1, 1E-05f, 0.1f, updateRunning, new K::Relu());
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // dense0
    Execute(Stages.Dense0Forward, (long)_batch * 192);
}

// ---- backward
/// <summary>dense0: dW = xᵀ·dL/dy, each panel of rows updated by the optimiser as soon as it is complete; weight rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(6, part, parts, 4);
    global::System.ReadOnlySpan<float> x = _x.Slice(0, _batch * 6);
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 8);
    if (k0 < k1)
    {
        if (_applyUpdate)
        {
            var sink = new K::UpdatePanelSink<TIsa>(Dense0Weight, Dense0WeightGradient, default, default, 8, StepFor(0));
            K::Gemm.BackwardWeights<TIsa, K::UpdatePanelSink<TIsa>>(x, dy, Dense0WeightGradient, _batch, 6, 8, k0, k1, ref sink);
        }
        else
        {
            var sink = new K::NoPanelSink();
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x, dy, Dense0WeightGradient, _batch, 6, 8, k0, k1, ref sink);
        }
    }
    (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Dense0BiasGradient, _batch, 8, c0, c1);
    if (_applyUpdate) StepFor(1).Apply<TIsa>(Dense0Bias.Slice(c0, c1 - c0), Dense0BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // dense0 (dL/dy in _g1)
    Execute(Stages.Dense0BackwardWeights, (long)_batch * 96);
}

// ---- inference
/// <summary>dense0 (eval) with BatchNorm folded in, relu0 fused; rows split across threads, or columns for small batches (each core then streams half of W).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
        if (c0 < c1) K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Relu>>(_x.Slice(0, _batch * 6), _folded.Slice(0, 48), _y1.Slice(0, _batch * 8), _batch, 6, 8, c0, c1,
            new K::BiasActivationEpilogue<K::Relu>(_folded.Slice(48, 8), new K::Relu()));
        return;
    }
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Relu>>(_x.Slice(r0 * 6, (r1 - r0) * 6), _folded.Slice(0, 48), _y1.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 6, 8,
        new K::BiasActivationEpilogue<K::Relu>(_folded.Slice(48, 8), new K::Relu()));
}

/// <summary>Eval-mode forward over _batch rows of _x.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
protected override void ForwardInference()
{
    if (_inferenceWeightsStale) PrepareInferenceWeights();
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
    // dense0 with BatchNorm folded in, relu0 fused
    Execute(Stages.Dense0Inference, global::System.Math.Max((long)_batch * 96, 384L)); // at least the time to stream W
}

/// <summary>
/// Folds each BatchNorm's running statistics into the Dense or Conv2D before it: W' = W·γ/σ, b' = (b − μ)·γ/σ + β.
/// </summary>
private void PrepareInferenceWeights()
{
    K::BatchNorm.Fold(Dense0Weight, Dense0Bias, Bn0Gamma, Bn0Beta, Bn0RunningMean, Bn0RunningVariance, 1E-05f,
        _folded.Slice(0, 48), _folded.Slice(48, 8), 6, 8);
    _inferenceWeightsStale = false;
}

