// Plan: 6 → dense0(8) → relu0 → [residual0 → dense1(8) → relu1 → dense2(8) → multiplier0 → residual0: + shortcut] → [residual1 → dense3(8) → residual1: + shortcut] → dense4(3) → SoftmaxCrossEntropy;
// Sgd
// ---- fields
private readonly K::Arena _y3 = new(MaxBatch * 8); // output of dense1
private readonly K::Arena _y5 = new(MaxBatch * 8); // output of dense2
private readonly K::Arena _y9 = new(MaxBatch * 8); // output of dense3
// ---- InitializeParameters
// dense1.weight [8×8]: He normal, std = sqrt(2/8) (Init.Auto, chosen by the activation that follows), × 0.707107 = L^(-1/(2m-2)) ([Fixup])
K::ParameterInit.Normal(Dense1Weight, 0.3535533905932738d, ref rng);
K::ParameterInit.Constant(Dense1Bias, 0f);
// dense2.weight [8×8]: zeros (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Constant(Dense2Weight, 0f);
K::ParameterInit.Constant(Dense2Bias, 0f);
// dense3.weight [8×8]: zeros (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Constant(Dense3Weight, 0f);
K::ParameterInit.Constant(Dense3Bias, 0f);
// ---- views
// ---- training forward
/// <summary>dense1: [rows×8]·[8×8] + b, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense1Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y1.Slice(r0 * 8, (r1 - r0) * 8), Dense1Weight, _y3.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 8, 8, new K::BiasEpilogue(Dense1Bias));
}

/// <summary>dense2: [rows×8]·[8×8] + b, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense2Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y4.Slice(r0 * 8, (r1 - r0) * 8), Dense2Weight, _y5.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 8, 8, new K::BiasEpilogue(Dense2Bias));
}

/// <summary>dense3: [rows×8]·[8×8] + b, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense3Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y7.Slice(r0 * 8, (r1 - r0) * 8), Dense3Weight, _y9.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 8, 8, new K::BiasEpilogue(Dense3Bias));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // dense1
    Execute(Stages.Dense1Forward, (long)_batch * 128);
    // dense2
    Execute(Stages.Dense2Forward, (long)_batch * 128);
    // dense3
    Execute(Stages.Dense3Forward, (long)_batch * 128);
}

// ---- backward
/// <summary>dense3: dL/dx = dL/dy·Wᵀ (weights before this step's update), then dW = xᵀ·dL/dy with each panel of rows updated by the optimiser as soon as it is complete; weight rows (= columns of
/// dL/dx) split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense3Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(8, part, parts, K::Gemm.BackwardInputColumnAlign);
    global::System.ReadOnlySpan<float> x = _y7.Slice(0, _batch * 8);
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 8);
    if (k0 < k1)
    {
        K::Gemm.BackwardInput<TIsa>(dy, Dense3Weight, _g0.Slice(0, _batch * 8), _batch, 8, 8, k0, k1);
        if (_applyUpdate)
        {
            var sink = new K::UpdatePanelSink<TIsa>(Dense3Weight, Dense3WeightGradient, default, default, 8, StepFor(7));
            K::Gemm.BackwardWeights<TIsa, K::UpdatePanelSink<TIsa>>(x, dy, Dense3WeightGradient, _batch, 8, 8, k0, k1, ref sink);
        }
        else
        {
            var sink = new K::NoPanelSink();
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x, dy, Dense3WeightGradient, _batch, 8, 8, k0, k1, ref sink);
        }
    }
    (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Dense3BiasGradient, _batch, 8, c0, c1);
    if (_applyUpdate) StepFor(8).Apply<TIsa>(Dense3Bias.Slice(c0, c1 - c0), Dense3BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>dense2: dL/dx = dL/dy·Wᵀ (weights before this step's update), then dW = xᵀ·dL/dy with each panel of rows updated by the optimiser as soon as it is complete; weight rows (= columns of
/// dL/dx) split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense2Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(8, part, parts, K::Gemm.BackwardInputColumnAlign);
    global::System.ReadOnlySpan<float> x = _y4.Slice(0, _batch * 8);
    global::System.ReadOnlySpan<float> dy = _g0.Slice(0, _batch * 8);
    if (k0 < k1)
    {
        K::Gemm.BackwardInput<TIsa>(dy, Dense2Weight, _g1.Slice(0, _batch * 8), _batch, 8, 8, k0, k1);
        if (_applyUpdate)
        {
            var sink = new K::UpdatePanelSink<TIsa>(Dense2Weight, Dense2WeightGradient, default, default, 8, StepFor(4));
            K::Gemm.BackwardWeights<TIsa, K::UpdatePanelSink<TIsa>>(x, dy, Dense2WeightGradient, _batch, 8, 8, k0, k1, ref sink);
        }
        else
        {
            var sink = new K::NoPanelSink();
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x, dy, Dense2WeightGradient, _batch, 8, 8, k0, k1, ref sink);
        }
    }
    (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Dense2BiasGradient, _batch, 8, c0, c1);
    if (_applyUpdate) StepFor(5).Apply<TIsa>(Dense2Bias.Slice(c0, c1 - c0), Dense2BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>dense1: dL/dx = dL/dy·Wᵀ (weights before this step's update), then dW = xᵀ·dL/dy with each panel of rows updated by the optimiser as soon as it is complete; weight rows (= columns of
/// dL/dx) split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense1Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(8, part, parts, K::Gemm.BackwardInputColumnAlign);
    global::System.ReadOnlySpan<float> x = _y1.Slice(0, _batch * 8);
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 8);
    if (k0 < k1)
    {
        K::Gemm.BackwardInput<TIsa>(dy, Dense1Weight, _g0.Slice(0, _batch * 8), _batch, 8, 8, k0, k1);
        if (_applyUpdate)
        {
            var sink = new K::UpdatePanelSink<TIsa>(Dense1Weight, Dense1WeightGradient, default, default, 8, StepFor(2));
            K::Gemm.BackwardWeights<TIsa, K::UpdatePanelSink<TIsa>>(x, dy, Dense1WeightGradient, _batch, 8, 8, k0, k1, ref sink);
        }
        else
        {
            var sink = new K::NoPanelSink();
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x, dy, Dense1WeightGradient, _batch, 8, 8, k0, k1, ref sink);
        }
    }
    (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Dense1BiasGradient, _batch, 8, c0, c1);
    if (_applyUpdate) StepFor(3).Apply<TIsa>(Dense1Bias.Slice(c0, c1 - c0), Dense1BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // dense3 (dL/dy in _g1)
    Execute(Stages.Dense3Backward, (long)_batch * 256);
    // dense2 (dL/dy in _g0)
    Execute(Stages.Dense2Backward, (long)_batch * 256);
    // dense1 (dL/dy in _g1)
    Execute(Stages.Dense1Backward, (long)_batch * 256);
}

// ---- inference
/// <summary>dense1 (eval), relu1 fused; rows split across threads, or columns for small batches (each core then streams half of W).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense1Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
        if (c0 < c1) K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Relu>>(_y1.Slice(0, _batch * 8), Dense1Weight, _y4.Slice(0, _batch * 8), _batch, 8, 8, c0, c1,
            new K::BiasActivationEpilogue<K::Relu>(Dense1Bias, new K::Relu()));
        return;
    }
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Relu>>(_y1.Slice(r0 * 8, (r1 - r0) * 8), Dense1Weight, _y4.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 8, 8,
        new K::BiasActivationEpilogue<K::Relu>(Dense1Bias, new K::Relu()));
}

/// <summary>dense2 (eval); rows split across threads, or columns for small batches (each core then streams half of W).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense2Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
        if (c0 < c1) K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y4.Slice(0, _batch * 8), Dense2Weight, _y5.Slice(0, _batch * 8), _batch, 8, 8, c0, c1, new K::BiasEpilogue(Dense2Bias));
        return;
    }
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y4.Slice(r0 * 8, (r1 - r0) * 8), Dense2Weight, _y5.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 8, 8, new K::BiasEpilogue(Dense2Bias));
}

/// <summary>dense3 (eval); rows split across threads, or columns for small batches (each core then streams half of W).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense3Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
        if (c0 < c1) K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y7.Slice(0, _batch * 8), Dense3Weight, _y9.Slice(0, _batch * 8), _batch, 8, 8, c0, c1, new K::BiasEpilogue(Dense3Bias));
        return;
    }
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y7.Slice(r0 * 8, (r1 - r0) * 8), Dense3Weight, _y9.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 8, 8, new K::BiasEpilogue(Dense3Bias));
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
    // dense1, relu1 fused
    Execute(Stages.Dense1Inference, global::System.Math.Max((long)_batch * 128, 512L)); // at least the time to stream W
    // dense2
    Execute(Stages.Dense2Inference, global::System.Math.Max((long)_batch * 128, 512L)); // at least the time to stream W
    // dense3
    Execute(Stages.Dense3Inference, global::System.Math.Max((long)_batch * 128, 512L)); // at least the time to stream W
}

