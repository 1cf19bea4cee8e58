// Plan: 512 → conv0(4@3×3 pad 1 → 4×8×8) → relu0 → maxpool0(4×4×4) → dense0(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _col0 = new(MaxBatch * 4608); // conv0 im2col patches: 64 pixels × 72, kept for dW
private readonly K::Arena _padded0 = new(12000); // conv0 zero-bordered input copies (10×10×8) for small-batch inference
private readonly K::Arena _y0 = new(MaxBatch * 256); // output of conv0 (4×8×8, channels-last)
private readonly K::Arena _y3 = new(MaxBatch * 3); // output of dense0
private static readonly K::ConvGeometry s_geometry0 = new(8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1); // conv0
// ---- InitializeParameters
// conv0.weight [3×3×8×4]: He normal, std = sqrt(2/72) (fan-in = kernel_h·kernel_w·in_channels) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Normal(Conv0Weight, 0.16666666666666666d, ref rng);
K::ParameterInit.Constant(Conv0Bias, 0f);
// dense0.weight [64×3]: Glorot uniform, ±sqrt(6/(64+3)) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Uniform(Dense0Weight, 0.2992528008322899d, ref rng);
K::ParameterInit.Constant(Dense0Bias, 0f);
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

/// <summary>dense0: [rows×64]·[64×3] + b, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y2.Slice(r0 * 64, (r1 - r0) * 64), Dense0Weight, _y3.Slice(r0 * 3, (r1 - r0) * 3), r1 - r0, 64, 3, new K::BiasEpilogue(Dense0Bias));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // conv0: 3×3 pad 1 convolution as im2col + GEMM
    Execute(Stages.Conv0Forward, (long)_batch * 36864);
    // dense0
    Execute(Stages.Dense0Forward, (long)_batch * 384);
}

// ---- backward
/// <summary>dense0: dL/dx = dL/dy·Wᵀ (weights before this step's update), then dW = xᵀ·dL/dy with each panel of rows updated by the optimiser as soon as it is complete; weight rows (= columns of
/// dL/dx) split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(64, part, parts, K::Gemm.BackwardInputColumnAlign);
    global::System.ReadOnlySpan<float> x = _y2.Slice(0, _batch * 64);
    global::System.ReadOnlySpan<float> dy = _g0.Slice(0, _batch * 3);
    if (k0 < k1)
    {
        K::Gemm.BackwardInput<TIsa>(dy, Dense0Weight, _g1.Slice(0, _batch * 64), _batch, 64, 3, k0, k1);
        if (_applyUpdate)
        {
            var sink = new K::UpdatePanelSink<TIsa>(Dense0Weight, Dense0WeightGradient, default, default, 3, StepFor(2));
            K::Gemm.BackwardWeights<TIsa, K::UpdatePanelSink<TIsa>>(x, dy, Dense0WeightGradient, _batch, 64, 3, k0, k1, ref sink);
        }
        else
        {
            var sink = new K::NoPanelSink();
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x, dy, Dense0WeightGradient, _batch, 64, 3, k0, k1, ref sink);
        }
    }
    (int c0, int c1) = K::Partition.Range(3, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Dense0BiasGradient, _batch, 3, c0, c1);
    if (_applyUpdate) StepFor(3).Apply<TIsa>(Dense0Bias.Slice(c0, c1 - c0), Dense0BiasGradient.Slice(c0, c1 - c0), default, default);
}

/// <summary>conv0: dW = patchesᵀ·dL/dy in blocks of 256 rows, then the optimiser update of the thread's weight rows; weight rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Conv0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(72, part, parts, 4);
    int rows = _batch * 64;
    global::System.ReadOnlySpan<float> x = _col0.Slice(0, _batch * 4608);
    global::System.ReadOnlySpan<float> dy = _g0.Slice(0, _batch * 256);
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
    // dense0 (dL/dy in _g0)
    Execute(Stages.Dense0Backward, (long)_batch * 768);
    // conv0 (dL/dy in _g0)
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
        (int p0, int p1) = _split0.Range(_batch * 16, part, parts, granule: 4);
        if (p0 >= p1) return;
        global::System.Span<(int Start, int End)> segments = stackalloc (int, int)[K::Pooling.MaxInputSegments(in s_geometry2)];
        int count = K::Pooling.InputSegments(in s_geometry2, p0, p1, segments);
        for (int i = 0; i < count; i++) K::DirectConv.Forward<TIsa, K::BiasActivationEpilogue<K::Relu>>(_padded0.Slice(0, _batch * 800), Conv0Weight, _y1.Slice(0, _batch * 256), in s_geometry0, 4,
            segments[i].Start, segments[i].End, new K::BiasActivationEpilogue<K::Relu>(Conv0Bias, new K::Relu()));
        K::Pooling.MaxForwardPixels<TIsa>(_y1.Slice(0, _batch * 256), _y2.Slice(0, _batch * 64), in s_geometry2, p0, p1);
        // dense0's inputs split the same way: one partial product per pool row this thread pooled, by that row's rows of W (dense0's stage adds them).
        K::Gemm.PartialForward<TIsa>(_y2.Slice(0, _batch * 64), Dense0Weight, _splitPartial3.Span, _batch, 64, 3, 16, p0 / 4, p1 / 4, 16);
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

/// <summary>dense0 (eval); rows split across threads, or for small batches the sum of the partial products Conv0Inference's threads left (on the calling thread).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        // Conv0Inference left one partial product per pool row of each sample; the rows of a sample add up to its x·W.
        K::Gemm.SumParts<TIsa, K::BiasEpilogue>(_splitPartial3.Span, 4, 16, _y3.Slice(0, _batch * 3), _batch, 3, new K::BiasEpilogue(Dense0Bias));
        return;
    }
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_y2.Slice(r0 * 64, (r1 - r0) * 64), Dense0Weight, _y3.Slice(r0 * 3, (r1 - r0) * 3), r1 - r0, 64, 3, new K::BiasEpilogue(Dense0Bias));
}

// conv0 at small batches: its units split across threads in proportion to each thread's measured speed.
private readonly K::AdaptiveSplit _split0 = new(K::WorkerPool.Current.Parallelism);

// dense0 at small batches: one partial product x·W per pool row of each sample, computed in Conv0Inference, added by Dense0Inference.
private readonly K::Arena _splitPartial3 = new(960);

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
    // dense0
    Execute(Stages.Dense0Inference, _batch < 16 ? 0 : global::System.Math.Max((long)_batch * 384, 1536L)); // small batches: the sum of the parts, on this thread
}

