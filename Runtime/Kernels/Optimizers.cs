using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>Told when a panel of weight-gradient rows is complete, so the optimiser can update those rows while hot.</summary>
public interface IPanelSink
{
    void PanelDone(int rowStart, int rowCount);
}

/// <summary>Ignores panels (gradient only, or the update runs later).</summary>
public readonly struct NoPanelSink : IPanelSink
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PanelDone(int rowStart, int rowCount) { }
}

/// <summary>
/// Applies <see cref="OptimizerStep.Apply{TIsa}"/> to the weight rows of each finished gradient panel:
/// rows [rowStart, rowStart + rowCount) of w, g, s1, s2, each row <c>rowWidth</c> floats. s1 and s2 may
/// be empty when the optimiser keeps no such state.
/// </summary>
public ref struct UpdatePanelSink<TIsa> : IPanelSink where TIsa : struct, ISimdPath
{
    private readonly Span<float> _w;
    private readonly ReadOnlySpan<float> _g;
    private readonly Span<float> _s1;
    private readonly Span<float> _s2;
    private readonly int _rowWidth;
    private readonly OptimizerStep _step;

    public UpdatePanelSink(Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2, int rowWidth, in OptimizerStep step)
    {
        Checks.NonNegative(rowWidth, nameof(rowWidth));
        Checks.Length(g.Length, w.Length, nameof(g));
        Checks.Optional(s1.Length, w.Length, nameof(s1));
        Checks.Optional(s2.Length, w.Length, nameof(s2));
        _w = w;
        _g = g;
        _s1 = s1;
        _s2 = s2;
        _rowWidth = rowWidth;
        _step = step;
    }

    public void PanelDone(int rowStart, int rowCount)
    {
        int start = rowStart * _rowWidth, length = rowCount * _rowWidth;
        _step.Apply<TIsa>(_w.Slice(start, length), _g.Slice(start, length),
            _s1.IsEmpty ? default : _s1.Slice(start, length),
            _s2.IsEmpty ? default : _s2.Slice(start, length));
    }
}

/// <summary>Which update rule an <see cref="OptimizerStep"/> applies.</summary>
public enum OptimizerKind { Sgd, Momentum, Adam }

/// <summary>
/// One step's optimiser constants (learning rate, decay factors, Adam's bias corrections for this t).
/// Apply updates a contiguous range of parameters with their gradient and state (s1, s2 as needed).
/// </summary>
public readonly struct OptimizerStep
{
    // Adam's bias corrections 1/(1 − βᵗ), computed once per step in double (βᵗ underflows harmlessly).
    private readonly float _c1, _c2;

    public OptimizerStep(OptimizerKind kind, float learningRate, float beta1, float beta2, float epsilon, long t)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimiser kind.");
        if (kind == OptimizerKind.Adam)
        {
            if (t < 1) throw new ArgumentOutOfRangeException(nameof(t), t, "Adam's step counter starts at 1 (bias correction divides by 1 − βᵗ).");
            if (!(beta1 >= 0f && beta1 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Adam's beta1 must be in [0, 1).");
            if (!(beta2 >= 0f && beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Adam's beta2 must be in [0, 1).");
            _c1 = (float)(1.0 / (1.0 - Math.Pow(beta1, t)));
            _c2 = (float)(1.0 / (1.0 - Math.Pow(beta2, t)));
        }
        Kind = kind;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        T = t;
    }

    public OptimizerKind Kind { get; }
    public float LearningRate { get; }
    /// <summary>Momentum's ρ, or Adam's β1.</summary>
    public float Beta1 { get; }
    /// <summary>Adam's β2.</summary>
    public float Beta2 { get; }
    public float Epsilon { get; }
    /// <summary>The 1-based step number (Adam's t).</summary>
    public long T { get; }

    /// <summary>SGD: w −= lr·g. Momentum: s1 = beta1·s1 + g; w −= lr·s1. Adam: s1 = b1·s1 + (1−b1)g; s2 = b2·s2 + (1−b2)g²; w −= lr·(s1/(1−b1ᵗ))/(sqrt(s2/(1−b2ᵗ)) + eps).</summary>
    public void Apply<TIsa>(Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2) where TIsa : struct, ISimdPath
    {
        int n = w.Length;
        Checks.Length(g.Length, n, nameof(g));
        switch (Kind)
        {
            case OptimizerKind.Sgd:
                Sgd<TIsa>(ref MemoryMarshal.GetReference(w), ref MemoryMarshal.GetReference(g), n, LearningRate);
                break;
            case OptimizerKind.Momentum:
                Checks.Length(s1.Length, n, nameof(s1));
                Momentum<TIsa>(ref MemoryMarshal.GetReference(w), ref MemoryMarshal.GetReference(g), ref MemoryMarshal.GetReference(s1), n, LearningRate, Beta1);
                break;
            default:
                Checks.Length(s1.Length, n, nameof(s1));
                Checks.Length(s2.Length, n, nameof(s2));
                Adam<TIsa>(ref MemoryMarshal.GetReference(w), ref MemoryMarshal.GetReference(g), ref MemoryMarshal.GetReference(s1),
                    ref MemoryMarshal.GetReference(s2), n, LearningRate, Beta1, Beta2, Epsilon, _c1, _c2);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sgd<TIsa>(ref float w, ref float g, int n, float lr) where TIsa : struct, ISimdPath
    {
        int i = 0;
        if (typeof(TIsa) == typeof(Avx512Path))
        {
            Vector512<float> vlr = Vector512.Create(-lr);
            for (; i + 16 <= n; i += 16)
                Vector512.FusedMultiplyAdd(vlr, Vector512.LoadUnsafe(ref g, (nuint)i), Vector512.LoadUnsafe(ref w, (nuint)i)).StoreUnsafe(ref w, (nuint)i);
        }
        else if (typeof(TIsa) == typeof(Avx2Path))
        {
            Vector256<float> vlr = Vector256.Create(-lr);
            for (; i + 8 <= n; i += 8)
                Vector256.FusedMultiplyAdd(vlr, Vector256.LoadUnsafe(ref g, (nuint)i), Vector256.LoadUnsafe(ref w, (nuint)i)).StoreUnsafe(ref w, (nuint)i);
        }
        else
        {
            Vector128<float> vlr = Vector128.Create(-lr);
            for (; i + 4 <= n; i += 4)
                Vector128.MultiplyAddEstimate(vlr, Vector128.LoadUnsafe(ref g, (nuint)i), Vector128.LoadUnsafe(ref w, (nuint)i)).StoreUnsafe(ref w, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref w, i) = float.MultiplyAddEstimate(-lr, Unsafe.Add(ref g, i), Unsafe.Add(ref w, i));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Momentum<TIsa>(ref float w, ref float g, ref float s, int n, float lr, float rho) where TIsa : struct, ISimdPath
    {
        int i = 0;
        if (typeof(TIsa) == typeof(Avx512Path))
        {
            Vector512<float> vlr = Vector512.Create(-lr), vrho = Vector512.Create(rho);
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> v = Vector512.FusedMultiplyAdd(vrho, Vector512.LoadUnsafe(ref s, (nuint)i), Vector512.LoadUnsafe(ref g, (nuint)i));
                v.StoreUnsafe(ref s, (nuint)i);
                Vector512.FusedMultiplyAdd(vlr, v, Vector512.LoadUnsafe(ref w, (nuint)i)).StoreUnsafe(ref w, (nuint)i);
            }
        }
        else if (typeof(TIsa) == typeof(Avx2Path))
        {
            Vector256<float> vlr = Vector256.Create(-lr), vrho = Vector256.Create(rho);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> v = Vector256.FusedMultiplyAdd(vrho, Vector256.LoadUnsafe(ref s, (nuint)i), Vector256.LoadUnsafe(ref g, (nuint)i));
                v.StoreUnsafe(ref s, (nuint)i);
                Vector256.FusedMultiplyAdd(vlr, v, Vector256.LoadUnsafe(ref w, (nuint)i)).StoreUnsafe(ref w, (nuint)i);
            }
        }
        else
        {
            Vector128<float> vlr = Vector128.Create(-lr), vrho = Vector128.Create(rho);
            for (; i + 4 <= n; i += 4)
            {
                Vector128<float> v = Vector128.MultiplyAddEstimate(vrho, Vector128.LoadUnsafe(ref s, (nuint)i), Vector128.LoadUnsafe(ref g, (nuint)i));
                v.StoreUnsafe(ref s, (nuint)i);
                Vector128.MultiplyAddEstimate(vlr, v, Vector128.LoadUnsafe(ref w, (nuint)i)).StoreUnsafe(ref w, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = float.MultiplyAddEstimate(rho, Unsafe.Add(ref s, i), Unsafe.Add(ref g, i));
            Unsafe.Add(ref s, i) = v;
            Unsafe.Add(ref w, i) = float.MultiplyAddEstimate(-lr, v, Unsafe.Add(ref w, i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Adam<TIsa>(ref float w, ref float g, ref float m, ref float v, int n, float lr, float b1, float b2, float eps, float c1, float c2)
        where TIsa : struct, ISimdPath
    {
        // m = b1·m + (1−b1)·g is written m + (1−b1)(g − m): one FMA, and exact when b1 = 0.
        float a1 = 1f - b1, a2 = 1f - b2;
        int i = 0;
        if (typeof(TIsa) == typeof(Avx512Path))
        {
            Vector512<float> va1 = Vector512.Create(a1), va2 = Vector512.Create(a2), vc1 = Vector512.Create(c1 * lr), vc2 = Vector512.Create(c2), veps = Vector512.Create(eps);
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> gi = Vector512.LoadUnsafe(ref g, (nuint)i);
                Vector512<float> mi = Vector512.LoadUnsafe(ref m, (nuint)i);
                Vector512<float> vi = Vector512.LoadUnsafe(ref v, (nuint)i);
                mi = Vector512.FusedMultiplyAdd(va1, gi - mi, mi);
                vi = Vector512.FusedMultiplyAdd(va2, gi * gi - vi, vi);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                Vector512<float> step = vc1 * mi / (Vector512.Sqrt(vi * vc2) + veps);
                (Vector512.LoadUnsafe(ref w, (nuint)i) - step).StoreUnsafe(ref w, (nuint)i);
            }
        }
        else if (typeof(TIsa) == typeof(Avx2Path))
        {
            Vector256<float> va1 = Vector256.Create(a1), va2 = Vector256.Create(a2), vc1 = Vector256.Create(c1 * lr), vc2 = Vector256.Create(c2), veps = Vector256.Create(eps);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> gi = Vector256.LoadUnsafe(ref g, (nuint)i);
                Vector256<float> mi = Vector256.LoadUnsafe(ref m, (nuint)i);
                Vector256<float> vi = Vector256.LoadUnsafe(ref v, (nuint)i);
                mi = Vector256.FusedMultiplyAdd(va1, gi - mi, mi);
                vi = Vector256.FusedMultiplyAdd(va2, gi * gi - vi, vi);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                Vector256<float> step = vc1 * mi / (Vector256.Sqrt(vi * vc2) + veps);
                (Vector256.LoadUnsafe(ref w, (nuint)i) - step).StoreUnsafe(ref w, (nuint)i);
            }
        }
        else
        {
            Vector128<float> va1 = Vector128.Create(a1), va2 = Vector128.Create(a2), vc1 = Vector128.Create(c1 * lr), vc2 = Vector128.Create(c2), veps = Vector128.Create(eps);
            for (; i + 4 <= n; i += 4)
            {
                Vector128<float> gi = Vector128.LoadUnsafe(ref g, (nuint)i);
                Vector128<float> mi = Vector128.LoadUnsafe(ref m, (nuint)i);
                Vector128<float> vi = Vector128.LoadUnsafe(ref v, (nuint)i);
                mi = Vector128.MultiplyAddEstimate(va1, gi - mi, mi);
                vi = Vector128.MultiplyAddEstimate(va2, gi * gi - vi, vi);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                Vector128<float> step = vc1 * mi / (Vector128.Sqrt(vi * vc2) + veps);
                (Vector128.LoadUnsafe(ref w, (nuint)i) - step).StoreUnsafe(ref w, (nuint)i);
            }
        }
        float lc1 = c1 * lr;
        for (; i < n; i++)
        {
            float gi = Unsafe.Add(ref g, i);
            float mi = float.MultiplyAddEstimate(a1, gi - Unsafe.Add(ref m, i), Unsafe.Add(ref m, i));
            float vi = float.MultiplyAddEstimate(a2, gi * gi - Unsafe.Add(ref v, i), Unsafe.Add(ref v, i));
            Unsafe.Add(ref m, i) = mi;
            Unsafe.Add(ref v, i) = vi;
            Unsafe.Add(ref w, i) -= lc1 * mi / (MathF.Sqrt(vi * c2) + eps);
        }
    }
}
