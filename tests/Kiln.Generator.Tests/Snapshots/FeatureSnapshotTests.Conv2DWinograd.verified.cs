// Plan: 288 → conv0(16@3×3 pad 1 → 16×6×6) → tanh0 → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _padded0 = new(16384); // conv0 zero-bordered input copies (8×8×8) for training and inference
private readonly K::Arena _winogradForward0 = new(2048); // conv0 Winograd weights U = G·g·Gᵀ for the training forward, redone every step
private readonly K::Arena _patches0 = new(18144); // conv0 patches of 7 sample(s), rebuilt for dW (each thread its weight rows' columns)
private readonly K::Arena _y0 = new(MaxBatch * 576); // output of conv0 (16×6×6, channels-last)
private static readonly K::ConvGeometry s_geometry0 = new(8, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1); // conv0
// ---- InitializeParameters
// conv0.weight [3×3×8×16]: Glorot uniform, ±sqrt(6/(72+144)) (fan-in = kernel_h·kernel_w·in_channels) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Uniform(Conv0Weight, 0.16666666666666666d, ref rng);
K::ParameterInit.Constant(Conv0Bias, 0f);
// ---- views
// ---- training forward
/// <summary>conv0: this step's Winograd weights U = G·g·Gᵀ (weights before this step's update); input channels split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0WinogradWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int c0, int c1) = K::Partition.Range(8, part, parts, 1);
    if (c0 < c1) K::WinogradConv.TransformWeightChannels(Conv0Weight, _winogradForward0.Slice(0, 2048), in s_geometry0, 16, c0, c1);
}

/// <summary>conv0: Winograd F(2×2, 3×3) over the zero-bordered input, + b; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // One sample at a time: its tiles read the zero-bordered copy while it is still in cache.
    for (int s = s0; s < s1; s++)
    {
        K::DirectConv.Pad(_x.Slice(0, _batch * 288), _padded0.Slice(0, _batch * 512), in s_geometry0, s, s + 1);
        K::WinogradConv.Forward<TIsa, K::BiasEpilogue>(_padded0.Slice(0, _batch * 512), _winogradForward0.Slice(0, 2048), _y0.Slice(0, _batch * 576), in s_geometry0, 16, s * 9, (s + 1) * 9,
            new K::BiasEpilogue(Conv0Bias));
    }
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // conv0: 3×3 pad 1 convolution by Winograd F(2×2, 3×3): 16 multiplies per 2×2 output tile and channel pair against 36 for im2col + GEMM
    Execute(Stages.Conv0WinogradWeights, 21504);
    Execute(Stages.Conv0Forward, (long)_batch * 36864);
}

// ---- backward
/// <summary>conv0: dW = patchesᵀ·dL/dy over patches rebuilt 7 sample(s) at a time, then the optimiser update of the thread's weight rows; weight rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(72, part, parts, 4);
    int rows = _batch * 36;
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 576);
    if (k0 < k1)
    {
        var sink = new K::NoPanelSink();
        // Patches rebuilt 7 sample(s) (252 rows) at a time, only this thread's columns k0..k1 (the Winograd forward kept none).
        global::System.Span<float> patches = _patches0.Slice(k0 * 252, (k1 - k0) * 252);
        for (int q0 = 0; q0 < _batch; q0 += 7)
        {
            int q1 = global::System.Math.Min(q0 + 7, _batch), count = (q1 - q0) * 36;
            K::Im2Col.ForwardColumns(_x.Slice(0, _batch * 288), patches, in s_geometry0, q0, q1, k0, k1);
            global::System.Span<float> target = q0 == 0 ? Conv0WeightGradient.Slice(k0 * 16, (k1 - k0) * 16) : _dwScratch.Slice(k0 * 16, (k1 - k0) * 16);
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(patches, dy.Slice(q0 * 576, count * 16), target, count, k1 - k0, 16, 0, k1 - k0, ref sink);
            if (q0 > 0) Accumulate(_dwScratch.Slice(k0 * 16, (k1 - k0) * 16), Conv0WeightGradient.Slice(k0 * 16, (k1 - k0) * 16));
        }
        if (_applyUpdate) StepFor(0).Apply<TIsa>(Conv0Weight.Slice(k0 * 16, (k1 - k0) * 16), Conv0WeightGradient.Slice(k0 * 16, (k1 - k0) * 16), default, default);
    }
    (int c0, int c1) = K::Partition.Range(16, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Conv0BiasGradient, rows, 16, c0, c1);
    if (_applyUpdate) StepFor(1).Apply<TIsa>(Conv0Bias.Slice(c0, c1 - c0), Conv0BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // conv0 (dL/dy in _g1)
    Execute(Stages.Conv0BackwardWeights, (long)_batch * 82944);
}

// ---- inference
/// <summary>conv0: copies each sample into a zero-bordered 8×8×8 image in _padded0 (small-batch inference reads its patches there, no im2col); samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Pad<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::DirectConv.Pad(_x.Slice(0, _batch * 288), _padded0.Slice(0, _batch * 512), in s_geometry0, s0, s1);
}

/// <summary>conv0 (eval), tanh0 fused: for small batches Winograd F(2×2, 3×3) over the zero-bordered input, 2×2 output tiles split across threads; otherwise samples split, Winograd sample by
/// sample.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        // 2×2 output tiles split across threads.
        (int p0, int p1) = _split0.Range(_batch * 9, part, parts);
        if (p0 >= p1) return;
        K::WinogradConv.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_padded0.Slice(0, _batch * 512), _winograd.Slice(0, 2048), _y1.Slice(0, _batch * 576), in s_geometry0, 16, p0, p1,
            new K::BiasActivationEpilogue<K::Tanh>(Conv0Bias, new K::Tanh()));
        _split0.Finish(part);
        return;
    }
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // One sample at a time: its tiles read the zero-bordered copy while it is still in cache.
    for (int s = s0; s < s1; s++)
    {
        K::DirectConv.Pad(_x.Slice(0, _batch * 288), _padded0.Slice(0, _batch * 512), in s_geometry0, s, s + 1);
        K::WinogradConv.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_padded0.Slice(0, _batch * 512), _winograd.Slice(0, 2048), _y1.Slice(0, _batch * 576), in s_geometry0, 16, s * 9, (s + 1) * 9,
            new K::BiasActivationEpilogue<K::Tanh>(Conv0Bias, new K::Tanh()));
    }
}

// conv0 at small batches: its units split across threads in proportion to each thread's measured speed.
private readonly K::AdaptiveSplit _split0 = new(K::WorkerPool.Current.Parallelism);

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
    // conv0, tanh0 fused
    if (_batch < 16) Execute(Stages.Conv0Pad, 0);
    Execute(Stages.Conv0Inference, (long)_batch * 36864);
    if (_batch < 16) _split0.Learn(); // next call's split follows this call's thread speeds
}

/// <summary>
/// Transforms the weights of each Winograd convolution for small-batch inference: U = G·g·Gᵀ.
/// </summary>
private void PrepareInferenceWeights()
{
    K::WinogradConv.TransformWeights(Conv0Weight, _winograd.Slice(0, 2048), in s_geometry0, 16); // conv0
    _inferenceWeightsStale = false;
}

