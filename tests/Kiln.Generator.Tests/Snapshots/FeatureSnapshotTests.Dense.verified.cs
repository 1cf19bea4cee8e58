// Plan: 6 → dense0(4) → tanh0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y0 = new(MaxBatch * 4); // output of dense0
// ---- InitializeParameters
// dense0.weight [6×4]: Glorot uniform, ±sqrt(6/(6+4)) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Uniform(Dense0Weight, 0.7745966692414834d, ref rng);
K::ParameterInit.Constant(Dense0Bias, 0.1f);
// ---- views
// ---- training forward
/// <summary>dense0: [rows×6]·[6×4] + b, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_x.Slice(r0 * 6, (r1 - r0) * 6), Dense0Weight, _y0.Slice(r0 * 4, (r1 - r0) * 4), r1 - r0, 6, 4, new K::BiasEpilogue(Dense0Bias));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // dense0
    Execute(Stages.Dense0Forward, (long)_batch * 48);
}

// ---- backward
/// <summary>dense0: dW = xᵀ·dL/dy, each panel of rows updated by the optimiser as soon as it is complete; weight rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(6, part, parts, 4);
    global::System.ReadOnlySpan<float> x = _x.Slice(0, _batch * 6);
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 4);
    if (k0 < k1)
    {
        if (_applyUpdate)
        {
            var sink = new K::UpdatePanelSink<TIsa>(Dense0Weight, Dense0WeightGradient, default, default, 4, StepFor(0));
            K::Gemm.BackwardWeights<TIsa, K::UpdatePanelSink<TIsa>>(x, dy, Dense0WeightGradient, _batch, 6, 4, k0, k1, ref sink);
        }
        else
        {
            var sink = new K::NoPanelSink();
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x, dy, Dense0WeightGradient, _batch, 6, 4, k0, k1, ref sink);
        }
    }
    (int c0, int c1) = K::Partition.Range(4, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Dense0BiasGradient, _batch, 4, c0, c1);
    if (_applyUpdate) StepFor(1).Apply<TIsa>(Dense0Bias.Slice(c0, c1 - c0), Dense0BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // dense0 (dL/dy in _g1)
    Execute(Stages.Dense0BackwardWeights, (long)_batch * 48);
}

// ---- inference
/// <summary>dense0 (eval), tanh0 fused; rows split across threads, or columns for small batches (each core then streams half of W).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        (int c0, int c1) = K::Partition.Range(4, part, parts, 16);
        if (c0 < c1) K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_x.Slice(0, _batch * 6), Dense0Weight, _y1.Slice(0, _batch * 4), _batch, 6, 4, c0, c1,
            new K::BiasActivationEpilogue<K::Tanh>(Dense0Bias, new K::Tanh()));
        return;
    }
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_x.Slice(r0 * 6, (r1 - r0) * 6), Dense0Weight, _y1.Slice(r0 * 4, (r1 - r0) * 4), r1 - r0, 6, 4,
        new K::BiasActivationEpilogue<K::Tanh>(Dense0Bias, new K::Tanh()));
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
    // dense0, tanh0 fused
    Execute(Stages.Dense0Inference, global::System.Math.Max((long)_batch * 48, 192L)); // at least the time to stream W
}

