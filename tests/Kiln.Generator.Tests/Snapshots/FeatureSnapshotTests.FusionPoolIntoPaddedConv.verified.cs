// Plan: 512 → conv0(4@3×3 pad 1 → 4×8×8) → relu0 → maxpool0(4×4×4) → conv1(4@3×3 pad 1 → 4×4×4) → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _col0 = new(MaxBatch * 4608); // conv0 im2col patches: 64 pixels × 72, kept for dW
private readonly K::Arena _padded0 = new(12000); // conv0 zero-bordered input copies (10×10×8) for small-batch inference
private readonly K::Arena _y0 = new(MaxBatch * 256); // output of conv0 (4×8×8, channels-last)
private readonly K::Arena _padded3 = new(4608); // conv1 zero-bordered input copies (6×6×4) for training and inference
private readonly K::Arena _dwSamples3 = new(MaxBatch * 148); // conv1 dW of each sample (36 taps + dL/db × 4), summed in sample order (no im2col patches)
private readonly K::Arena _y3 = new(MaxBatch * 64); // output of conv1 (4×4×4, channels-last)
private static readonly K::ConvGeometry s_geometry0 = new(8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1); // conv0
private static readonly K::ConvGeometry s_geometry3 = new(4, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1); // conv1
// ---- InitializeParameters
// conv0.weight [3×3×8×4]: He normal, std = sqrt(2/72) (fan-in = kernel_h·kernel_w·in_channels) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Normal(Conv0Weight, 0.16666666666666666d, ref rng);
K::ParameterInit.Constant(Conv0Bias, 0f);
// conv1.weight [3×3×4×4]: Glorot uniform, ±sqrt(6/(36+36)) (fan-in = kernel_h·kernel_w·in_channels) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Uniform(Conv1Weight, 0.28867513459481287d, ref rng);
K::ParameterInit.Constant(Conv1Bias, 0f);
// ---- views
// ---- training forward
/// <summary>conv0: im2col and [rows = samples·64 pixels×72]·[72×4] + b, chunk by chunk; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // 14 sample(s) per chunk: the GEMM reads the patches while they are still in cache.
    for (int c0 = s0; c0 < s1; c0 += 14)
    {
        int c1 = global::System.Math.Min(c0 + 14, s1);
        K::Im2Col.Forward<TIsa>(_x.Slice(0, _batch * 512), _col0.Slice(0, _batch * 4608), in s_geometry0, channelsFirst: false, c0, c1);
        K::Gemm.Forward<TIsa, K::BiasEpilogue>(_col0.Slice(c0 * 4608, (c1 - c0) * 4608), Conv0Weight, _y0.Slice(c0 * 256, (c1 - c0) * 256), (c1 - c0) * 64, 72, 4, new K::BiasEpilogue(Conv0Bias));
    }
}

/// <summary>conv1: zero-bordered copies in _padded3 (kept for dW), then each tile of output pixels accumulates all 36 taps in registers + b (no im2col), chunk by chunk; samples split across
/// threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv1Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // 1024 sample(s) per chunk: padded, convolved while they are in cache.
    for (int c0 = s0; c0 < s1; c0 += 1024)
    {
        int c1 = global::System.Math.Min(c0 + 1024, s1);
        K::DirectConv.Pad(_y2.Slice(0, _batch * 64), _padded3.Slice(0, _batch * 144), in s_geometry3, c0, c1);
        K::ShallowConv.Forward<TIsa, K::BiasEpilogue>(_padded3.Slice(0, _batch * 144), Conv1Weight, _y3.Slice(0, _batch * 64), in s_geometry3, 4, c0 * 16, c1 * 16, new K::BiasEpilogue(Conv1Bias));
    }
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // conv0: 3×3 pad 1 convolution as im2col + GEMM
    Execute(Stages.Conv0Forward, (long)_batch * 36864);
    // conv1: 3×3 pad 1 convolution with every tap in registers (no im2col)
    Execute(Stages.Conv1Forward, (long)_batch * 4608);
}

// ---- backward
/// <summary>conv1: dL/d(patches) = dL/dy·Wᵀ (weights before this step's update), then col2im sums them into dL/dx, chunk by chunk; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv1BackwardInput<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    for (int c0 = s0; c0 < s1; c0 += 113)
    {
        int c1 = global::System.Math.Min(c0 + 113, s1);
        K::Gemm.BackwardInput<TIsa>(_g1.Slice(c0 * 64, (c1 - c0) * 64), Conv1Weight, _dcol.Slice(c0 * 576, (c1 - c0) * 576), (c1 - c0) * 16, 36, 4);
        K::Im2Col.Backward<TIsa>(_dcol.Slice(0, _batch * 576), _g0.Slice(0, _batch * 64), in s_geometry3, channelsFirst: false, c0, c1);
    }
}

/// <summary>conv1: each sample's dW = Σ over its 16 pixels of taps ⊗ dL/dy, all 36 taps × 4 filters summed in registers from the zero-bordered input (no patch matrix), and dL/db from the same loads
/// of dL/dy, into its slot of _dwSamples3; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv1BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::ShallowConvTraining.BackwardWeights<TIsa>(_padded3.Slice(0, _batch * 144), _g1.Slice(0, _batch * 64), _dwSamples3.Slice(0, _batch * 148), in s_geometry3, 4, bias: true, s0, s1);
}

/// <summary>conv1: dW and dL/db = the samples' slots added in sample order (the same sum for any thread count), then the optimiser update; weight rows and bias columns split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv1WeightSums<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(36, part, parts, 4);
    if (k0 < k1)
    {
        K::ShallowConvTraining.SumSamples<TIsa>(_dwSamples3.Slice(0, _batch * 148), Conv1WeightGradient.Slice(k0 * 4, (k1 - k0) * 4), _batch, 148, k0 * 4, k1 * 4);
        if (_applyUpdate) StepFor(2).Apply<TIsa>(Conv1Weight.Slice(k0 * 4, (k1 - k0) * 4), Conv1WeightGradient.Slice(k0 * 4, (k1 - k0) * 4), default, default);
    }
    (int c0, int c1) = K::Partition.Range(4, part, parts, 16);
    if (c0 >= c1) return;
    K::ShallowConvTraining.SumSamples<TIsa>(_dwSamples3.Slice(0, _batch * 148), Conv1BiasGradient.Slice(c0, c1 - c0), _batch, 148, 144 + c0, 144 + c1);
    if (_applyUpdate) StepFor(3).Apply<TIsa>(Conv1Bias.Slice(c0, c1 - c0), Conv1BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>conv0: dW = patchesᵀ·dL/dy in blocks of 256 rows, then the optimiser update of the thread's weight rows; weight rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(72, part, parts, 4);
    int rows = _batch * 64;
    global::System.ReadOnlySpan<float> x = _col0.Slice(0, _batch * 4608);
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 256);
    if (k0 < k1)
    {
        var sink = new K::NoPanelSink();
        for (int b0 = 0; b0 < rows; b0 += 256)
        {
            int count = global::System.Math.Min(256, rows - b0);
            global::System.Span<float> target = b0 == 0 ? Conv0WeightGradient : _dwScratch.Slice(0, 288);
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x.Slice(b0 * 72, count * 72), dy.Slice(b0 * 4, count * 4), target, count, 72, 4, k0, k1, ref sink);
            if (b0 > 0) Accumulate(_dwScratch.Slice(k0 * 4, (k1 - k0) * 4), Conv0WeightGradient.Slice(k0 * 4, (k1 - k0) * 4));
        }
        if (_applyUpdate) StepFor(0).Apply<TIsa>(Conv0Weight.Slice(k0 * 4, (k1 - k0) * 4), Conv0WeightGradient.Slice(k0 * 4, (k1 - k0) * 4), default, default);
    }
    (int c0, int c1) = K::Partition.Range(4, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Conv0BiasGradient, rows, 4, c0, c1);
    if (_applyUpdate) StepFor(1).Apply<TIsa>(Conv0Bias.Slice(c0, c1 - c0), Conv0BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // conv1 (dL/dy in _g1)
    Execute(Stages.Conv1BackwardInput, (long)_batch * 4608);
    Execute(Stages.Conv1BackwardWeights, (long)_batch * 4608);
    Execute(Stages.Conv1WeightSums, (long)_batch * 148);
    // conv0 (dL/dy in _g1)
    Execute(Stages.Conv0BackwardWeights, (long)_batch * 36864);
}

// ---- inference
/// <summary>conv0: copies each sample into a zero-bordered 10×10×8 image in _padded0 (small-batch inference reads its patches there, no im2col); samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Pad<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    K::DirectConv.Pad(_x.Slice(0, _batch * 512), _padded0.Slice(0, _batch * 800), in s_geometry0, s0, s1);
}

/// <summary>conv0 (eval), relu0 fused, then maxpool0 on what each thread computed: for small batches an implicit GEMM over the zero-bordered input (no im2col); otherwise samples split, im2col and
/// GEMM chunk by chunk.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        // maxpool0's output pixels split across threads; each thread convolves the pixels its windows read, then pools them.
        (int p0, int p1) = _split0.Range(_batch * 16, part, parts);
        if (p0 >= p1) return;
        global::System.Span<(int Start, int End)> segments = stackalloc (int, int)[K::Pooling.MaxInputSegments(in s_geometry2)];
        int count = K::Pooling.InputSegments(in s_geometry2, p0, p1, segments);
        for (int i = 0; i < count; i++) K::DirectConv.Forward<TIsa, K::BiasActivationEpilogue<K::Relu>>(_padded0.Slice(0, _batch * 800), Conv0Weight, _y1.Slice(0, _batch * 256), in s_geometry0, 4,
            segments[i].Start, segments[i].End, new K::BiasActivationEpilogue<K::Relu>(Conv0Bias, new K::Relu()));
        // Straight into conv1's zero-bordered input (its border stays 0: nothing else writes it), so conv1 needs no copy.
        K::Pooling.MaxForwardPixels<TIsa>(_y1.Slice(0, _batch * 256), _padded3.Slice(0, _batch * 144), in s_geometry2, p0, p1, border: 1);
        _split0.Finish(part);
        return;
    }
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // 14 sample(s) per chunk: the GEMM reads the patches while they are still in cache.
    for (int c0 = s0; c0 < s1; c0 += 14)
    {
        int c1 = global::System.Math.Min(c0 + 14, s1);
        K::Im2Col.Forward<TIsa>(_x.Slice(0, _batch * 512), _col0.Slice(0, _batch * 4608), in s_geometry0, channelsFirst: false, c0, c1);
        K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Relu>>(_col0.Slice(c0 * 4608, (c1 - c0) * 4608), Conv0Weight, _y1.Slice(c0 * 256, (c1 - c0) * 256), (c1 - c0) * 64, 72, 4,
            new K::BiasActivationEpilogue<K::Relu>(Conv0Bias, new K::Relu()));
    }
    K::Pooling.MaxForward<TIsa>(_y1.Slice(0, _batch * 256), _y2.Slice(0, _batch * 64), default, in s_geometry2, s0, s1); // maxpool0 (no argmax at inference)
}

/// <summary>conv1 (eval): each tile of output pixels accumulates all 36 taps in registers, reading the zero-bordered input (no im2col); small batches split output pixels across threads, larger ones
/// samples.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv1Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        // Output pixels split across threads.
        (int r0, int r1) = _split3.Range(_batch * 16, part, parts);
        if (r0 >= r1) return;
        K::ShallowConv.Forward<TIsa, K::BiasEpilogue>(_padded3.Slice(0, _batch * 144), Conv1Weight, _y3.Slice(0, _batch * 64), in s_geometry3, 4, r0, r1, new K::BiasEpilogue(Conv1Bias));
        _split3.Finish(part);
        return;
    }
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // 1024 sample(s) per chunk: padded, convolved while they are in cache.
    for (int c0 = s0; c0 < s1; c0 += 1024)
    {
        int c1 = global::System.Math.Min(c0 + 1024, s1);
        K::DirectConv.Pad(_y2.Slice(0, _batch * 64), _padded3.Slice(0, _batch * 144), in s_geometry3, c0, c1);
        K::ShallowConv.Forward<TIsa, K::BiasEpilogue>(_padded3.Slice(0, _batch * 144), Conv1Weight, _y3.Slice(0, _batch * 64), in s_geometry3, 4, c0 * 16, c1 * 16, new K::BiasEpilogue(Conv1Bias));
    }
}

// conv0 at small batches: its units split across threads in proportion to each thread's measured speed.
private readonly K::AdaptiveSplit _split0 = new(K::WorkerPool.Current.Parallelism);
// conv1 at small batches: its units split across threads in proportion to each thread's measured speed.
private readonly K::AdaptiveSplit _split3 = new(K::WorkerPool.Current.Parallelism);

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
    // conv0, relu0 fused
    if (_batch < 16) Execute(Stages.Conv0Pad, 0);
    // maxpool0 (eval) runs in Conv0Inference
    Execute(Stages.Conv0Inference, (long)_batch * 37120);
    if (_batch < 16) _split0.Learn(); // next call's split follows this call's thread speeds
    // conv1
    // conv1: below 16 samples the fused pool before it has written its zero-bordered input
    Execute(Stages.Conv1Inference, (long)_batch * 9216);
    if (_batch < 16) _split3.Learn(); // next call's split follows this call's thread speeds
}

