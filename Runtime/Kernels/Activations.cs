// IActivation has one overload per vector width (the public contract). The formulas are one line each; a longer one is
// written once over the path's vector operations (IPathOps) and each width's overload calls it. Scalar and vector
// overloads must stay the same formula so the ISA paths keep agreeing to float rounding.
using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>An element-wise activation f with its derivative, for every vector width.</summary>
public interface IActivation
{
    /// <summary>f(u).</summary>
    float Forward(float u);
    /// <summary>f(u) for each lane.</summary>
    Vector128<float> Forward(Vector128<float> u);
    /// <summary>f(u) for each lane.</summary>
    Vector256<float> Forward(Vector256<float> u);
    /// <summary>f(u) for each lane.</summary>
    Vector512<float> Forward(Vector512<float> u);
    /// <summary>f'(u), given u and a = f(u).</summary>
    float Derivative(float u, float a);
    /// <summary>f'(u) for each lane, given u and a = f(u).</summary>
    Vector128<float> Derivative(Vector128<float> u, Vector128<float> a);
    /// <summary>f'(u) for each lane, given u and a = f(u).</summary>
    Vector256<float> Derivative(Vector256<float> u, Vector256<float> a);
    /// <summary>f'(u) for each lane, given u and a = f(u).</summary>
    Vector512<float> Derivative(Vector512<float> u, Vector512<float> a);
}

/// <summary>f(u) = u.</summary>
public readonly struct Identity : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => u;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => 1f;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => u;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => Vector128<float>.One;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => u;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => Vector256<float>.One;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => u;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => Vector512<float>.One;
}

/// <summary>f(u) = max(0, u).</summary>
public readonly struct Relu : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => MathF.Max(u, 0f);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => u > 0f ? 1f : 0f;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => Vector128.MaxNative(u, Vector128<float>.Zero);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => Vector128.GreaterThan(u, Vector128<float>.Zero) & Vector128<float>.One;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => Vector256.MaxNative(u, Vector256<float>.Zero);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => Vector256.GreaterThan(u, Vector256<float>.Zero) & Vector256<float>.One;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => Vector512.MaxNative(u, Vector512<float>.Zero);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => Vector512.GreaterThan(u, Vector512<float>.Zero) & Vector512<float>.One;
}

/// <summary>f(u) = u for u &gt; 0, αu otherwise.</summary>
public readonly struct LeakyRelu : IActivation
{
    /// <summary>Leaky ReLU with slope <paramref name="alpha"/> for negative inputs.</summary>
    public LeakyRelu(float alpha) => Alpha = alpha;

    /// <summary>Slope for negative inputs.</summary>
    public float Alpha { get; }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => u > 0f ? u : Alpha * u;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => u > 0f ? 1f : Alpha;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => Vector128.ConditionalSelect(Vector128.GreaterThan(u, Vector128<float>.Zero), u, u * Vector128.Create(Alpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => Vector128.ConditionalSelect(Vector128.GreaterThan(u, Vector128<float>.Zero), Vector128<float>.One, Vector128.Create(Alpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<float>.Zero), u, u * Vector256.Create(Alpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<float>.Zero), Vector256<float>.One, Vector256.Create(Alpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<float>.Zero), u, u * Vector512.Create(Alpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<float>.Zero), Vector512<float>.One, Vector512.Create(Alpha));
}

/// <summary>f(u) = u for u &gt; 0, α(eᵘ − 1) otherwise; f' = 1 or f + α.</summary>
public readonly struct Elu : IActivation
{
    /// <summary>ELU whose output tends to −<paramref name="alpha"/> for large negative inputs.</summary>
    public Elu(float alpha) => Alpha = alpha;

    /// <summary>α: the limit of −f(u) as u → −∞.</summary>
    public float Alpha { get; }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => u > 0f ? u : Alpha * VectorMath.Expm1(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => u > 0f ? 1f : a + Alpha;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => Vector128.ConditionalSelect(Vector128.GreaterThan(u, Vector128<float>.Zero), u, Vector128.Create(Alpha) * VectorMath.Expm1(Vector128.MinNative(u, Vector128<float>.Zero)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => Vector128.ConditionalSelect(Vector128.GreaterThan(u, Vector128<float>.Zero), Vector128<float>.One, a + Vector128.Create(Alpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<float>.Zero), u, Vector256.Create(Alpha) * VectorMath.Expm1(Vector256.MinNative(u, Vector256<float>.Zero)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<float>.Zero), Vector256<float>.One, a + Vector256.Create(Alpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<float>.Zero), u, Vector512.Create(Alpha) * VectorMath.Expm1(Vector512.MinNative(u, Vector512<float>.Zero)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<float>.Zero), Vector512<float>.One, a + Vector512.Create(Alpha));
}

/// <summary>f(u) = λu for u &gt; 0, λα(eᵘ − 1) otherwise (α = 1.6732632423543772, λ = 1.0507009873554805).</summary>
public readonly struct Selu : IActivation
{
    /// <summary>SELU's α.</summary>
    public const float Alpha = 1.6732632423543772f;
    /// <summary>SELU's λ.</summary>
    public const float Lambda = 1.0507009873554805f;
    private const float LambdaAlpha = (float)(1.6732632423543772 * 1.0507009873554805);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => u > 0f ? Lambda * u : LambdaAlpha * VectorMath.Expm1(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => u > 0f ? Lambda : a + LambdaAlpha;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => Vector128.ConditionalSelect(Vector128.GreaterThan(u, Vector128<float>.Zero), Vector128.Create(Lambda) * u, Vector128.Create(LambdaAlpha) * VectorMath.Expm1(Vector128.MinNative(u, Vector128<float>.Zero)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => Vector128.ConditionalSelect(Vector128.GreaterThan(u, Vector128<float>.Zero), Vector128.Create(Lambda), a + Vector128.Create(LambdaAlpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<float>.Zero), Vector256.Create(Lambda) * u, Vector256.Create(LambdaAlpha) * VectorMath.Expm1(Vector256.MinNative(u, Vector256<float>.Zero)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => Vector256.ConditionalSelect(Vector256.GreaterThan(u, Vector256<float>.Zero), Vector256.Create(Lambda), a + Vector256.Create(LambdaAlpha));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<float>.Zero), Vector512.Create(Lambda) * u, Vector512.Create(LambdaAlpha) * VectorMath.Expm1(Vector512.MinNative(u, Vector512<float>.Zero)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => Vector512.ConditionalSelect(Vector512.GreaterThan(u, Vector512<float>.Zero), Vector512.Create(Lambda), a + Vector512.Create(LambdaAlpha));
}

/// <summary>f(u) = u·σ(βu); f' = s·(1 + βu·(1 − s)) with s = σ(βu).</summary>
public readonly struct Swish : IActivation
{
    /// <summary>Swish u·σ(<paramref name="beta"/>·u).</summary>
    public Swish(float beta) => Beta = beta;

    /// <summary>β in u·σ(βu).</summary>
    public float Beta { get; }

    // s·(1 + βu(1 − s)): recomputing s = σ(βu) is cheaper and more accurate than a/u.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float SwishDerivative(float u)
    {
        // βu is clamped: where σ has saturated, βu·(1 − s) would otherwise be ∞·0 for huge inputs.
        float bu = Math.Clamp(Beta * u, -SwishClamp, SwishClamp);
        float s = VectorMath.Sigmoid(bu);
        return s * (1f + bu * (1f - s));
    }

    // The same for every vector width.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TV SwishDerivative<TO, TV>(TV u) where TO : struct, IPathOps<TV> where TV : struct
    {
        TV bu = TO.Clamp(TO.Mul(TO.Splat(Beta), u), TO.Splat(-SwishClamp), TO.Splat(SwishClamp));
        TV s = VectorMath.Sigmoid<TO, TV>(bu);
        return TO.Mul(s, TO.Add(TO.One, TO.Mul(bu, TO.Sub(TO.One, s))));
    }

    // |βu| beyond this: σ(βu) is 0 or 1 in float and the derivative is 0 or 1.
    private const float SwishClamp = 200f;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => u * VectorMath.Sigmoid(Beta * u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => SwishDerivative(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => u * VectorMath.Sigmoid(Vector128.Create(Beta) * u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => SwishDerivative<Ops128, Vector128<float>>(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => u * VectorMath.Sigmoid(Vector256.Create(Beta) * u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => SwishDerivative<Ops256, Vector256<float>>(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => u * VectorMath.Sigmoid(Vector512.Create(Beta) * u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => SwishDerivative<Ops512, Vector512<float>>(u);
}

/// <summary>Exact GELU f(u) = u·Φ(u); f' = Φ(u) + u·φ(u).</summary>
public readonly struct Gelu : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => u * VectorMath.NormCdf(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => VectorMath.NormCdf(u) + u * VectorMath.NormPdf(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => u * VectorMath.NormCdf(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => VectorMath.NormCdf(u) + u * VectorMath.NormPdf(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => u * VectorMath.NormCdf(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => VectorMath.NormCdf(u) + u * VectorMath.NormPdf(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => u * VectorMath.NormCdf(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => VectorMath.NormCdf(u) + u * VectorMath.NormPdf(u);
}

/// <summary>f(u) = 1/(1 + e^−u); f' = a(1 − a).</summary>
public readonly struct Sigmoid : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => VectorMath.Sigmoid(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => a * (1f - a);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => VectorMath.Sigmoid(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => a * (Vector128<float>.One - a);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => VectorMath.Sigmoid(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => a * (Vector256<float>.One - a);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => VectorMath.Sigmoid(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => a * (Vector512<float>.One - a);
}

/// <summary>f(u) = tanh u; f' = 1 − a².</summary>
public readonly struct Tanh : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float u) => VectorMath.Tanh(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float u, float a) => 1f - a * a;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Forward(Vector128<float> u) => VectorMath.Tanh(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Derivative(Vector128<float> u, Vector128<float> a) => Vector128<float>.One - a * a;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> u) => VectorMath.Tanh(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> u, Vector256<float> a) => Vector256<float>.One - a * a;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Forward(Vector512<float> u) => VectorMath.Tanh(u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Derivative(Vector512<float> u, Vector512<float> a) => Vector512<float>.One - a * a;
}
