// Plan: 100 → conv0(6@1×1 → 6×5×5) → tanh0 → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y0 = new(MaxBatch * 150); // output of conv0 (6×5×5, channels-last)
private static readonly K::ConvGeometry s_geometry0 = new(4, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1); // conv0
// ---- InitializeParameters
// conv0.weight [1×1×4×6]: Glorot uniform, ±sqrt(6/(4+6)) (fan-in = kernel_h·kernel_w·in_channels) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Uniform(Conv0Weight, 0.7745966692414834d, ref rng);
K::ParameterInit.Constant(Conv0Bias, 0f);
// ---- views
// ---- training forward
/// <summary>conv0: [rows = samples·25 pixels×4]·[4×6] + b, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch * 25, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_x.Slice(r0 * 4, (r1 - r0) * 4), Conv0Weight, _y0.Slice(r0 * 6, (r1 - r0) * 6), r1 - r0, 4, 6, new K::BiasEpilogue(Conv0Bias));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // conv0: 1×1 convolution as im2col + GEMM
    Execute(Stages.Conv0Forward, (long)_batch * 1200);
}

// ---- backward
/// <summary>conv0: dW = patchesᵀ·dL/dy in blocks of 256 rows, then the optimiser update of the thread's weight rows; weight rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(4, part, parts, 4);
    int rows = _batch * 25;
    global::System.ReadOnlySpan<float> x = _x.Slice(0, _batch * 100);
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 150);
    if (k0 < k1)
    {
        var sink = new K::NoPanelSink();
        for (int b0 = 0; b0 < rows; b0 += 256)
        {
            int count = global::System.Math.Min(256, rows - b0);
            global::System.Span<float> target = b0 == 0 ? Conv0WeightGradient : _dwScratch.Slice(0, 24);
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x.Slice(b0 * 4, count * 4), dy.Slice(b0 * 6, count * 6), target, count, 4, 6, k0, k1, ref sink);
            if (b0 > 0) Accumulate(_dwScratch.Slice(k0 * 6, (k1 - k0) * 6), Conv0WeightGradient.Slice(k0 * 6, (k1 - k0) * 6));
        }
        if (_applyUpdate) StepFor(0).Apply<TIsa>(Conv0Weight.Slice(k0 * 6, (k1 - k0) * 6), Conv0WeightGradient.Slice(k0 * 6, (k1 - k0) * 6), default, default);
    }
    (int c0, int c1) = K::Partition.Range(6, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Conv0BiasGradient, rows, 6, c0, c1);
    if (_applyUpdate) StepFor(1).Apply<TIsa>(Conv0Bias.Slice(c0, c1 - c0), Conv0BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // conv0 (dL/dy in _g1)
    Execute(Stages.Conv0BackwardWeights, (long)_batch * 1200);
}

// ---- inference
/// <summary>conv0 (eval), tanh0 fused; rows split across threads, or columns for small batches (each core then streams half of W).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch * 25 < 16)
    {
        (int c0, int c1) = K::Partition.Range(6, part, parts, 16);
        if (c0 < c1) K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_x.Slice(0, _batch * 100), Conv0Weight, _y1.Slice(0, _batch * 150), _batch * 25, 4, 6, c0, c1,
            new K::BiasActivationEpilogue<K::Tanh>(Conv0Bias, new K::Tanh()));
        return;
    }
    (int r0, int r1) = K::Partition.Range(_batch * 25, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_x.Slice(r0 * 4, (r1 - r0) * 4), Conv0Weight, _y1.Slice(r0 * 6, (r1 - r0) * 6), r1 - r0, 4, 6,
        new K::BiasActivationEpilogue<K::Tanh>(Conv0Bias, new K::Tanh()));
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
    // conv0, tanh0 fused
    Execute(Stages.Conv0Inference, (long)_batch * 2400);
}

