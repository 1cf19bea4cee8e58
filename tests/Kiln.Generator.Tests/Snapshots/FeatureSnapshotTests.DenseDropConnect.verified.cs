// Plan: 6 → dense0(8) → tanh0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y0 = new(MaxBatch * 8); // output of dense0
private readonly K::Arena _connectMask0 = new(48); // dense0 DropConnect: 0 or 1/keep per weight, one mask per mini-batch
private ulong _connectMask0Key; // dense0 DropConnect: this mini-batch's mask key (element i of _connectMask0 is a pure function of the key and i)
private readonly K::Arena _connectWeight0 = new(48); // dense0 weights ∘ mask, used by the training forward and dL/dx
// ---- InitializeParameters
// dense0.weight [6×8]: Glorot uniform, ±sqrt(6/(6+8)) (Init.Auto, chosen by the activation that follows)
K::ParameterInit.Uniform(Dense0Weight, 0.6546536707079771d, ref rng);
K::ParameterInit.Constant(Dense0Bias, 0f);
// ---- views
/// <summary>dense0's DropConnect mask of the last training step (0 or 1/keep per weight, laid out as the weight).</summary>
public global::System.ReadOnlySpan<float> Dense0DropConnectMask => _connectMask0.Slice(0, 48);
// ---- training forward
/// <summary>dense0: DropConnect, weights ∘ this mini-batch's mask; weight ranges split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0DropConnect<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int e0, int e1) = K::Partition.Range(48, part, parts, 16);
    if (e0 >= e1) return;
    K::Dropout.Draw<TIsa>(_connectMask0.Slice(e0, e1 - e0), e0, 0.75f, 1.3333334f, _connectMask0Key);
    K::DropConnect.Apply<TIsa>(Dense0Weight, _connectMask0.Slice(0, 48), _connectWeight0.Slice(0, 48), e0, e1);
}

/// <summary>dense0: [rows×6]·[6×8] + b, rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasEpilogue>(_x.Slice(r0 * 6, (r1 - r0) * 6), _connectWeight0.Slice(0, 48), _y0.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 6, 8, new K::BiasEpilogue(Dense0Bias));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // dense0
    _connectMask0Key = _noise.NextUInt64(); // dense0 DropConnect (keep each weight with p = 0.75): the stage that applies the mask draws its part of it from this key
    Execute(Stages.Dense0DropConnect, 384);
    Execute(Stages.Dense0Forward, (long)_batch * 96);
}

// ---- backward
/// <summary>dense0: dW = xᵀ·dL/dy in blocks of 256 rows, masked by DropConnect, then the optimiser update of the thread's weight rows; weight rows split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0BackwardWeights<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int k0, int k1) = K::Partition.Range(6, part, parts, 4);
    int rows = _batch;
    global::System.ReadOnlySpan<float> x = _x.Slice(0, _batch * 6);
    global::System.ReadOnlySpan<float> dy = _g1.Slice(0, _batch * 8);
    if (k0 < k1)
    {
        var sink = new K::NoPanelSink();
        for (int b0 = 0; b0 < rows; b0 += 256)
        {
            int count = global::System.Math.Min(256, rows - b0);
            global::System.Span<float> target = b0 == 0 ? Dense0WeightGradient : _dwScratch.Slice(0, 48);
            K::Gemm.BackwardWeights<TIsa, K::NoPanelSink>(x.Slice(b0 * 6, count * 6), dy.Slice(b0 * 8, count * 8), target, count, 6, 8, k0, k1, ref sink);
            if (b0 > 0) Accumulate(_dwScratch.Slice(k0 * 8, (k1 - k0) * 8), Dense0WeightGradient.Slice(k0 * 8, (k1 - k0) * 8));
        }
        K::DropConnect.MaskGradient<TIsa>(Dense0WeightGradient, _connectMask0.Slice(0, 48), k0 * 8, k1 * 8); // dropped weights get no gradient
        if (_applyUpdate) StepFor(0).Apply<TIsa>(Dense0Weight.Slice(k0 * 8, (k1 - k0) * 8), Dense0WeightGradient.Slice(k0 * 8, (k1 - k0) * 8), default, default);
    }
    (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
    if (c0 >= c1) return;
    K::Gemm.ColumnSums<TIsa>(dy, Dense0BiasGradient, rows, 8, c0, c1);
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
/// <summary>dense0 (eval), tanh0 fused; rows split across threads, or columns for small batches (each core then streams half of W).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Dense0Inference<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (_batch < 16)
    {
        (int c0, int c1) = K::Partition.Range(8, part, parts, 16);
        if (c0 < c1) K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_x.Slice(0, _batch * 6), Dense0Weight, _y1.Slice(0, _batch * 8), _batch, 6, 8, c0, c1,
            new K::BiasActivationEpilogue<K::Tanh>(Dense0Bias, new K::Tanh()));
        return;
    }
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Gemm.Forward<TIsa, K::BiasActivationEpilogue<K::Tanh>>(_x.Slice(r0 * 6, (r1 - r0) * 6), Dense0Weight, _y1.Slice(r0 * 8, (r1 - r0) * 8), r1 - r0, 6, 8,
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
    Execute(Stages.Dense0Inference, global::System.Math.Max((long)_batch * 96, 384L)); // at least the time to stream W
}

