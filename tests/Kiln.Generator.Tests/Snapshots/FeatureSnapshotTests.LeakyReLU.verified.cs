// Plan: 6 → dense0(8) → tanh0 → leakyrelu0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly global::Kiln.Kernels.Arena _y2 = new(MaxBatch * 8); // output of leakyrelu0
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>leakyrelu0: element-wise, rows split across threads.</summary>
private void Leakyrelu0Forward<TIsa>(int part, int parts) where TIsa : struct, global::Kiln.Kernels.ISimdPath
{
    (int r0, int r1) = global::Kiln.Kernels.Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    global::Kiln.Kernels.Elementwise.ActivationForward<TIsa, global::Kiln.Kernels.LeakyRelu>(_y1.Slice(r0 * 8, (r1 - r0) * 8), default, _y2.Slice(r0 * 8, (r1 - r0) * 8), new global::Kiln.Kernels.LeakyRelu(0.2f));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
private void ForwardTraining()
{
    // leakyrelu0
    Execute(Stages.Leakyrelu0Forward, (long)_batch * 80);
}

// ---- backward
/// <summary>leakyrelu0: activation backward, rows split across threads.</summary>
private void Leakyrelu0Backward<TIsa>(int part, int parts) where TIsa : struct, global::Kiln.Kernels.ISimdPath
{
    (int r0, int r1) = global::Kiln.Kernels.Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    global::Kiln.Kernels.Elementwise.ActivationBackward<TIsa, global::Kiln.Kernels.LeakyRelu>(_y1.Slice(r0 * 8, (r1 - r0) * 8), _g1.Slice(r0 * 8, (r1 - r0) * 8), default, _g1.Slice(r0 * 8, (r1 - r0) * 8), new global::Kiln.Kernels.LeakyRelu(0.2f));
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
private void Backward()
{
    // leakyrelu0 (in place on _g1)
    Execute(Stages.Leakyrelu0Backward, (long)_batch * 80);
}

// ---- inference
/// <summary>Eval-mode forward over _batch rows of _x.</summary>
private void ForwardInference()
{
    switch (_isa)
    {
        case global::Kiln.IsaPath.Avx512: ForwardInference<global::Kiln.Kernels.Avx512Path>(); break;
        case global::Kiln.IsaPath.Avx2: ForwardInference<global::Kiln.Kernels.Avx2Path>(); break;
        default: ForwardInference<global::Kiln.Kernels.PortablePath>(); break;
    }
}

private void ForwardInference<TIsa>() where TIsa : struct, global::Kiln.Kernels.ISimdPath
{
    // leakyrelu0 (eval)
    global::Kiln.Kernels.Elementwise.ActivationForward<TIsa, global::Kiln.Kernels.LeakyRelu>(_y1.Slice(0, _batch * 8), default, _y2.Slice(0, _batch * 8), new global::Kiln.Kernels.LeakyRelu(0.2f));
}

