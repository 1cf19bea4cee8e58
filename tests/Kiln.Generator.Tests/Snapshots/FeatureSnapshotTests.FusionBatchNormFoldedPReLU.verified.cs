// Plan: 6 → dense0(8) → bn0+prelu0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly global::Kiln.Kernels.Arena _y0 = new(MaxBatch * 8); // output of dense0
// ---- InitializeParameters
// dense0.weight [6×8]: He normal, std = sqrt(2/6) (Init.Auto, chosen by the activation that follows)
global::Kiln.Kernels.ParameterInit.Normal(Dense0Weight, 0.5773502691896257d, ref rng);
global::Kiln.Kernels.ParameterInit.Constant(Dense0Bias, 0f);
// ---- views
// ---- training forward
/// <summary>dense0: [rows×6]·[6×8] + b, rows split across threads.</summary>
private void Dense0Forward<TIsa>(int part, int parts) where TIsa : struct, global::Kiln.Kernels.ISimdPath
{
    (int r0, int r1) = global::Kiln.Kernels.Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    global::Kiln.Kernels.Gemm.Forward<TIsa, global::Kiln.Kernels.BiasEpilogue>(_x.Slice(r0 * 6, (r1 - r0) * 6), Dense0Weight, _y0.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 6, 8, new global::Kiln.Kernels.BiasEpilogue(Dense0Bias));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
private void ForwardTraining()
{
    // dense0
    Execute(Stages.Dense0Forward, (long)_batch * 96);
}

// ---- backward
/// <summary>dense0: dW = xᵀ·dL/dy, each panel of rows updated by the optimiser as soon as it is complete; weight rows split across threads.</summary>
private void Dense0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, global::Kiln.Kernels.ISimdPath
{
    (int k0, int k1) = global::Kiln.Kernels.Partition.Range(6, part, parts, 4);
    global::System.ReadOnlySpan<float> x = _x.Slice(0, _batch * 6);
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 8);
    if (k0 < k1)
    {
        if (_applyUpdate)
        {
            var sink = new global::Kiln.Kernels.UpdatePanelSink<TIsa>(Dense0Weight, Dense0WeightGradient, default, default, 8, StepFor(0));
            global::Kiln.Kernels.Gemm.BackwardWeights<TIsa, global::Kiln.Kernels.UpdatePanelSink<TIsa>>(x, dy, Dense0WeightGradient, _batch, 6, 8, k0, k1, ref sink);
        }
        else
        {
            var sink = new global::Kiln.Kernels.NoPanelSink();
            global::Kiln.Kernels.Gemm.BackwardWeights<TIsa, global::Kiln.Kernels.NoPanelSink>(x, dy, Dense0WeightGradient, _batch, 6, 8, k0, k1, ref sink);
        }
    }
    (int c0, int c1) = global::Kiln.Kernels.Partition.Range(8, part, parts, 16);
    if (c0 >= c1) return;
    global::Kiln.Kernels.Gemm.ColumnSums<TIsa>(dy, Dense0BiasGradient, _batch, 8, c0, c1);
    if (_applyUpdate) StepFor(1).Apply<TIsa>(Dense0Bias.Slice(c0, c1 - c0), Dense0BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
private void Backward()
{
    // dense0 (dL/dy in _g1)
    Execute(Stages.Dense0BackwardWeights, (long)_batch * 96);
}

// ---- inference
/// <summary>dense0 (eval) with BatchNorm folded in; rows split across threads, or columns for small batches (each core then streams half of W).</summary>
private void Dense0Inference<TIsa>(int part, int parts) where TIsa : struct, global::Kiln.Kernels.ISimdPath
{
    if (_batch < 16)
    {
        (int c0, int c1) = global::Kiln.Kernels.Partition.Range(8, part, parts, 16);
        if (c0 < c1) global::Kiln.Kernels.Gemm.Forward<TIsa, global::Kiln.Kernels.BiasEpilogue>(_x.Slice(0, _batch * 6), _folded.Slice(0, 48), _u1.Slice(0, _batch * 8), _batch, 6, 8, c0, c1, new global::Kiln.Kernels.BiasEpilogue(_folded.Slice(48, 8)));
        return;
    }
    (int r0, int r1) = global::Kiln.Kernels.Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    global::Kiln.Kernels.Gemm.Forward<TIsa, global::Kiln.Kernels.BiasEpilogue>(_x.Slice(r0 * 6, (r1 - r0) * 6), _folded.Slice(0, 48), _u1.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 6, 8, new global::Kiln.Kernels.BiasEpilogue(_folded.Slice(48, 8)));
}

/// <summary>Eval-mode forward over _batch rows of _x.</summary>
private void ForwardInference()
{
    if (_inferenceWeightsStale) PrepareInferenceWeights();
    switch (_isa)
    {
        case global::Kiln.IsaPath.Avx512: ForwardInference<global::Kiln.Kernels.Avx512Path>(); break;
        case global::Kiln.IsaPath.Avx2: ForwardInference<global::Kiln.Kernels.Avx2Path>(); break;
        default: ForwardInference<global::Kiln.Kernels.PortablePath>(); break;
    }
}

private void ForwardInference<TIsa>() where TIsa : struct, global::Kiln.Kernels.ISimdPath
{
    // dense0 with BatchNorm folded in
    Execute(Stages.Dense0Inference, global::System.Math.Max((long)_batch * 96, 384L)); // at least the time to stream W
    global::Kiln.Kernels.PRelu.Forward<TIsa>(_u1.Slice(0, _batch * 8), Prelu0Alpha, default, _y1.Slice(0, _batch * 8), _batch, 8);
}

/// <summary>
/// Folds each BatchNorm's running statistics into the Dense or Conv2D before it: W' = W·γ/σ, b' = (b − μ)·γ/σ + β.
/// </summary>
private void PrepareInferenceWeights()
{
    global::Kiln.Kernels.BatchNorm.Fold(Dense0Weight, Dense0Bias, Bn0Gamma, Bn0Beta, Bn0RunningMean, Bn0RunningVariance, 1E-05f,
        _folded.Slice(0, 48), _folded.Slice(48, 8), 6, 8);
    _inferenceWeightsStale = false;
}

