// Plan: 32 → conv0(2@1×1 → 2×4×4) → [residual0 → conv1(4@2×2 stride 2 → 4×2×2) → residual0: + projection shortcut residual0.projection (1×1 stride 2, 2→4 channels)] → dense0(3) → SoftmaxCrossEntropy;
// Sgd
// ---- fields
private float _gate3 = 1f; // residual0: stochastic-depth gate of the last training step (1 = branch kept)
private readonly K::Arena _skip3 = new(MaxBatch * 16); // residual0: dL/dy kept for the shortcut while the branch runs backward
private readonly K::Arena _col3 = new(MaxBatch * 8); // residual0.projection im2col (1×1, stride 2): 4 pixels × 2, kept for dW
private readonly K::Arena _shortcut3 = new(MaxBatch * 16); // output of residual0.projection, P(x) of the block input
private readonly K::Arena _y3 = new(MaxBatch * 16); // output of residual0 (4×2×2, channels-last)
private static readonly K::ConvGeometry s_geometry3 = new(2, 4, 4, 1, 1, 2, 2, 0, 0, 1, 1); // residual0.projection
// ---- InitializeParameters
// residual0.projection [1×1×2×4]: He normal, std = sqrt(2/2) (fan-in = kernel_h·kernel_w·in_channels)
K::ParameterInit.Normal(Residual0Weight, 1d, ref rng);
// ---- views
/// <summary>residual0's stochastic-depth gate in the last training step: 1 when the branch was kept, 0 when the block was skipped.</summary>
public float Residual0Gate => _gate3;
// ---- training forward
/// <summary>residual0.projection: im2col and [rows = samples·4 pixels×2]·[2×4], chunk by chunk; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0ProjectionForward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    // 8192 sample(s) per chunk: the GEMM reads the patches while they are still in cache.
    for (int c0 = s0; c0 < s1; c0 += 8192)
    {
        int c1 = global::System.Math.Min(c0 + 8192, s1);
        K::Im2Col.Forward<TIsa>(_y0.Slice(0, _batch * 32), _col3.Slice(0, _batch * 8), in s_geometry3, channelsFirst: false, c0, c1);
        K::Gemm.Forward<TIsa, K::NoEpilogue>(_col3.Slice(c0 * 8, (c1 - c0) * 8), Residual0Weight, _shortcut3.Slice(c0 * 16, (c1 - c0) * 16), (c1 - c0) * 4, 2, 4, new K::NoEpilogue());
    }
}

/// <summary>residual0: y = _shortcut3 (projection shortcut) + g·_y2 (branch), training: the gate of this mini-batch; element ranges split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int e0, int e1) = K::Partition.Range(_batch * 16, part, parts, 16);
    if (e0 < e1) K::Residual.Add<TIsa>(_shortcut3.Slice(0, _batch * 16), _y2.Slice(0, _batch * 16), _gate3, _y3.Slice(0, _batch * 16), e0, e1);
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // residual0 starts: its input _y0 is the shortcut
    // residual0: projection shortcut P(x) of the block input _y0
    // residual0.projection: 1×1 stride 2 convolution as im2col + GEMM
    Execute(Stages.Residual0ProjectionForward, (long)_batch * 64);
    // residual0: y = P(x) + gate·branch
    Execute(Stages.Residual0Forward, (long)_batch * 32);
}

// ---- backward
/// <summary>residual0.projection: dL/d(patches) = dL/dy·Wᵀ (weights before this step's update), then col2im sums them into dL/dx, chunk by chunk; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0ProjectionBackwardInput<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int s0, int s1) = K::Partition.Range(_batch, part, parts, 1);
    if (s0 >= s1) return;
    for (int c0 = s0; c0 < s1; c0 += 8192)
    {
        int c1 = global::System.Math.Min(c0 + 8192, s1);
        K::Gemm.BackwardInput<TIsa>(_skip3.Slice(c0 * 16, (c1 - c0) * 16), Residual0Weight, _dcol.Slice(c0 * 8, (c1 - c0) * 8), (c1 - c0) * 4, 2, 4);
        K::Im2Col.Backward<TIsa>(_dcol.Slice(0, _batch * 8), _g1.Slice(0, _batch * 32), in s_geometry3, channelsFirst: false, c0, c1);
    }
}

/// <summary>residual0.projection: dW = patchesᵀ·dL/dy in blocks of 256 rows, then the optimiser update of the thread's weight rows; weight rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0ProjectionBackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(2, part, parts, 4);
    int rows = _batch * 4;
    global::System.ReadOnlySpan<float> x = _col3.Slice(0, _batch * 8);
    global::System.ReadOnlySpan<float> dy = _skip3.Slice(0, _batch * 16);
    if (k0 < k1)
    {
        var sink = new K::NoPanelSink();
        for (int b0 = 0; b0 < rows; b0 += 256)
        {
            int count = global::System.Math.Min(256, rows - b0);
            global::System.Span<float> target = b0 == 0 ? Residual0WeightGradient : _dwScratch.Slice(0, 8);
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x.Slice(b0 * 2, count * 2), dy.Slice(b0 * 4, count * 4), target, count, 2, 4, k0, k1, ref sink);
            if (b0 > 0) Accumulate(_dwScratch.Slice(k0 * 4, (k1 - k0) * 4), Residual0WeightGradient.Slice(k0 * 4, (k1 - k0) * 4));
        }
        if (_applyUpdate) StepFor(4).Apply<TIsa>(Residual0Weight.Slice(k0 * 4, (k1 - k0) * 4), Residual0WeightGradient.Slice(k0 * 4, (k1 - k0) * 4), default, default);
    }
}

/// <summary>residual0: dL/dx = the branch's dL/dx + Pᵀ·dL/dy of the projection shortcut; element ranges split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0Shortcut<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int e0, int e1) = K::Partition.Range(_batch * 32, part, parts, 16);
    if (e0 < e1) K::Residual.Add<TIsa>(_g1.Slice(0, _batch * 32), _g0.Slice(0, _batch * 32), 1f, _g0.Slice(0, _batch * 32), e0, e1);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // residual0: dL/d(shortcut) = dL/dy, dL/d(branch) = gate·dL/dy (dL/dy in _g1)
    _g1.Slice(0, _batch * 16).CopyTo(_skip3.Span);
    // residual0 starts: the projection shortcut's backward from the kept dL/dy (_skip3)
    // residual0.projection (dL/dy in _skip3)
    Execute(Stages.Residual0ProjectionBackwardInput, (long)_batch * 64);
    Execute(Stages.Residual0ProjectionBackwardWeights, (long)_batch * 64);
    Execute(Stages.Residual0Shortcut, (long)_batch * 32);
}

// ---- inference
/// <summary>residual0: y = _shortcut3 (projection shortcut) + g·_y2 (branch), test: every block is used, the branch scaled by its survival probability 1; element ranges split across
/// threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Residual0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int e0, int e1) = K::Partition.Range(_batch * 16, part, parts, 16);
    if (e0 < e1) K::Residual.Add<TIsa>(_shortcut3.Slice(0, _batch * 16), _y2.Slice(0, _batch * 16), 1f, _y3.Slice(0, _batch * 16), e0, e1);
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
    // residual0: projection shortcut P(x) (the training forward's stage; nothing in it depends on the mode)
    Execute(Stages.Residual0ProjectionForward, (long)_batch * 64);
    // residual0 (eval)
    Execute(Stages.Residual0Inference, (long)_batch * 32);
}

