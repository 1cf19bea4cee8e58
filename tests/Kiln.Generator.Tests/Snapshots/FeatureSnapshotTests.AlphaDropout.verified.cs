// Plan: 6 → dense0(8) → selu0 → alphadropout0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y2 = new(MaxBatch * 8); // output of alphadropout0
private readonly K::Arena _mask2 = new(MaxBatch * 8); // alphadropout0: 0 (dropped) or a (kept)
private ulong _mask2Key; // alphadropout0: this mini-batch's mask key (element i of _mask2 is a pure function of the key and i)
// ---- InitializeParameters
// ---- views
// ---- training forward
/// <summary>alphadropout0: y = mask·(x − α′) + a·α′ + b (a kept unit gives a·x + b, a dropped one a·α′ + b); samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Alphadropout0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Dropout.Draw<TIsa>(_mask2.Slice(r0 * 8, (r1 - r0) * 8), r0 * 8, 0.9f, 0.9212845f, _mask2Key);
    K::AlphaDropout.Forward<TIsa>(_y1.Slice(r0 * 8, (r1 - r0) * 8), _mask2.Slice(r0 * 8, (r1 - r0) * 8), -1.7580993f, -1.4577388f, _y2.Slice(r0 * 8, (r1 - r0) * 8));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // alphadropout0: drop probability 0.1d, a = 0.9212845161497115d, b = 0.16197097005757022d
    _mask2Key = _noise.NextUInt64(); // alphadropout0: the stage that applies the mask draws its part of it from this key
    Execute(Stages.Alphadropout0Forward, (long)_batch * 64);
}

// ---- backward
/// <summary>alphadropout0: dL/dx = mask·dL/dy in place; samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Alphadropout0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Elementwise.Multiply<TIsa>(_g1.Slice(r0 * 8, (r1 - r0) * 8), _mask2.Slice(r0 * 8, (r1 - r0) * 8), _g1.Slice(r0 * 8, (r1 - r0) * 8));
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // alphadropout0 (in place on _g1)
    Execute(Stages.Alphadropout0Backward, (long)_batch * 8);
}

// ---- inference
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
    // alphadropout0 (eval): the identity
    _y1.Slice(0, _batch * 8).CopyTo(_y2.Slice(0, _batch * 8));
}

