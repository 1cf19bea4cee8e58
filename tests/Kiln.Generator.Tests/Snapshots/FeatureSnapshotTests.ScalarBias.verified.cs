// Plan: 6 → dense0(8) → scalarbias0 → tanh0 → dense1(3) → SoftmaxCrossEntropy; Sgd
// ---- fields
private readonly K::Arena _y1 = new(MaxBatch * 8); // output of scalarbias0
// ---- InitializeParameters
K::ParameterInit.Constant(Scalarbias0Bias, 0f);
// ---- views
// ---- training forward
/// <summary>scalarbias0: y = x + b (scalarbias0.bias); samples split across threads.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Scalarbias0Forward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    (int r0, int r1) = K::Partition.Range(_batch, part, parts, 8);
    if (r0 >= r1) return;
    K::Fixup.AddScalar<TIsa>(_y0.Slice(r0 * 8, (r1 - r0) * 8), Scalarbias0Bias[0], _y1.Slice(r0 * 8, (r1 - r0) * 8));
}

/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void ForwardTraining()
{
    // scalarbias0: y = x + b
    Execute(Stages.Scalarbias0Forward, (long)_batch * 8);
}

// ---- backward
/// <summary>scalarbias0: the scalar's gradient, dL/dx in place on _g1, and the scalar's update (whole batch on one thread: the gradient sums every element).</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Scalarbias0Backward<TIsa>(int part, int parts) where TIsa : struct, K::ISimdPath
{
    if (part != 0) return;
    Scalarbias0BiasGradient[0] = K::Fixup.Sum<TIsa>(_g1.Slice(0, _batch * 8)); // dL/db = Σ dL/dy; dL/dx = dL/dy
    if (_applyUpdate) StepFor(2).Apply<TIsa>(Scalarbias0Bias, Scalarbias0BiasGradient, default, default);
}

/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>
[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
private void Backward()
{
    // scalarbias0 (in place on _g1)
    Execute(Stages.Scalarbias0Backward, 0);
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
    // scalarbias0 (eval): the training forward's stage (nothing in it depends on the mode)
    Execute(Stages.Scalarbias0Forward, (long)_batch * 8);
}

