// Plan: 72 → conv0(4@3×3 pad 1 → 4×6×6) → tanh0 → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _padded0 = new(4096); // conv0 zero-bordered input copies (8×8×2) for training and inference
private readonly K::Arena _dwSamples0 = new(MaxBatch * 76); // conv0 dW of each sample (18 taps + dL/db × 4), summed in sample order (no im2col patches)
private readonly K::Arena _y0 = new(MaxBatch * 144); // output of conv0 (4×6×6, channels-last)
private static readonly K::ConvGeometry s_geometry0 = new(2, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1); // conv0
// ---- InitializeParameters
// conv0.weight [3×3×2×4]: Glorot uniform, ±sqrt(6/(18+36)) (fan-in = kernel_h·kernel_w·in_channels) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Uniform(Conv0Weight, 0.3333333333333333d, ref rng);
K::ParameterInit.Constant(Conv0Bias, 0f);
// ---- views
// ---- training forward
/// <summary>conv0: zero-bordered copies in _padded0 (kept for dW), then each tile of output pixels accumulates all 18 taps in registers + b (no im2col), chunk by chunk; samples split across
/// threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // 455 sample(s) per chunk: padded, convolved while they are in cache.
    for (int c0 = s0; c0 < s1; c0 += 455)
    {
        int c1 = global::System.Math.Min(c0 + 455, s1);
        K::DirectConv.Pad(_x.Slice(0, _batch * 72), _padded0.Slice(0, _batch * 128), in s_geometry0, c0, c1);
        K::ShallowConv.Forward<TIsa, K::BiasEpilogue>(_padded0.Slice(0, _batch * 128), Conv0Weight, _y0.Slice(0, _batch * 144), in s_geometry0, 4, c0 * 36, c1 * 36, new K::BiasEpilogue(Conv0Bias));
    }
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // conv0: 3×3 pad 1 convolution with every tap in registers (no im2col)
    Execute(Stages.Conv0Forward, (long)_batch * 5184);
}

// ---- backward
/// <summary>conv0: each sample's dW = Σ over its 36 pixels of taps ⊗ dL/dy, all 18 taps × 4 filters summed in registers from the zero-bordered input (no patch matrix), and dL/db from the same loads
/// of dL/dy, into its slot of _dwSamples0; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::ShallowConvTraining.BackwardWeights<TIsa>(_padded0.Slice(0, _batch * 128), _g1.Slice(0, _batch * 144), _dwSamples0.Slice(0, _batch * 76), in s_geometry0, 4, bias: true, s0, s1);
}

/// <summary>conv0: dW and dL/db = the samples' slots added in sample order (the same sum for any thread count), then the optimiser update; weight rows and bias columns split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0WeightSums<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(18, part, parts, 4);
    if (k0 < k1)
    {
        K::ShallowConvTraining.SumSamples<TIsa>(_dwSamples0.Slice(0, _batch * 76), Conv0WeightGradient.Slice(k0 * 4, (k1 - k0) * 4), _batch, 76, k0 * 4, k1 * 4);
        if (_applyUpdate) StepFor(0).Apply<TIsa>(Conv0Weight.Slice(k0 * 4, (k1 - k0) * 4), Conv0WeightGradient.Slice(k0 * 4, (k1 - k0) * 4), default, default);
    }
    (int c0, int c1) = K::Partition.Range(4, part, parts, 16);
    if (c0 >= c1) return;
    K::ShallowConvTraining.SumSamples<TIsa>(_dwSamples0.Slice(0, _batch * 76), Conv0BiasGradient.Slice(c0, c1 - c0), _batch, 76, 72 + c0, 72 + c1);
    if (_applyUpdate) StepFor(1).Apply<TIsa>(Conv0Bias.Slice(c0, c1 - c0), Conv0BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // conv0 (dL/dy in _g1)
    Execute(Stages.Conv0BackwardWeights, (long)_batch * 5184);
    Execute(Stages.Conv0WeightSums, (long)_batch * 76);
}

// ---- inference
/// <summary>conv0: copies each sample into a zero-bordered 8×8×2 image in _padded0 (small-batch inference reads its patches there, no im2col); samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Pad<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::DirectConv.Pad(_x.Slice(0, _batch * 72), _padded0.Slice(0, _batch * 128), in s_geometry0, s0, s1);
}

/// <summary>conv0 (eval), tanh0 fused: each tile of output pixels accumulates all 18 taps in registers, reading the zero-bordered input (no im2col); small batches split output pixels across threads,
/// larger ones samples.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        // Output pixels split across threads.
        (int r0, int r1) = _split0.Range(_batch * 36, part, parts);
        if (r0 >= r1) return;
        K::ShallowConv.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_padded0.Slice(0, _batch * 128), Conv0Weight, _y1.Slice(0, _batch * 144), in s_geometry0, 4, r0, r1,
            new K::BiasActivationEpilogue<K::Tanh>(Conv0Bias, new K::Tanh()));
        _split0.Finish(part);
        return;
    }
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // 455 sample(s) per chunk: padded, convolved while they are in cache.
    for (int c0 = s0; c0 < s1; c0 += 455)
    {
        int c1 = global::System.Math.Min(c0 + 455, s1);
        K::DirectConv.Pad(_x.Slice(0, _batch * 72), _padded0.Slice(0, _batch * 128), in s_geometry0, c0, c1);
        K::ShallowConv.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_padded0.Slice(0, _batch * 128), Conv0Weight, _y1.Slice(0, _batch * 144), in s_geometry0, 4, c0 * 36, c1 * 36,
            new K::BiasActivationEpilogue<K::Tanh>(Conv0Bias, new K::Tanh()));
    }
}

// conv0 at small batches: its units split across threads in proportion to each thread's measured speed.
private readonly K::AdaptiveSplit _split0 = new(K::WorkerPool.Current.Parallelism);

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
    if (_batch < 16) Execute(Stages.Conv0Pad, 0);
    Execute(Stages.Conv0Inference, (long)_batch * 10368);
    if (_batch < 16) _split0.Learn(); // next call's split follows this call's thread speeds
}

