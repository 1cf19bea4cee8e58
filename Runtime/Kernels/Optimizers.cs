using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>Told when a panel of weight-gradient rows is complete, so the optimiser can update those rows while hot.</summary>
public interface IPanelSink
{
    /// <summary>Called once rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rowCount"/>) of the weight gradient are final.</summary>
    void PanelDone(int rowStart, int rowCount);
}

/// <summary>Ignores panels (gradient only, or the update runs later).</summary>
public readonly struct NoPanelSink : IPanelSink
{
    /// <inheritdoc/>
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

    /// <summary>A sink updating <paramref name="w"/> from <paramref name="g"/> (state <paramref name="s1"/>, <paramref name="s2"/>; rows of <paramref name="rowWidth"/> floats) with <paramref name="step"/>.</summary>
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

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PanelDone(int rowStart, int rowCount)
    {
        int start = rowStart * _rowWidth, length = rowCount * _rowWidth;
        _step.Apply<TIsa>(_w.Slice(start, length), _g.Slice(start, length),
            _s1.IsEmpty ? default : _s1.Slice(start, length),
            _s2.IsEmpty ? default : _s2.Slice(start, length));
    }
}

/// <summary>Which update rule an <see cref="OptimizerStep"/> applies (docs/techniques.md#optimisers).</summary>
public enum OptimizerKind
{
    /// <summary>w −= α·g.</summary>
    Sgd,
    /// <summary>v = ρv + g; w −= α·v.</summary>
    Momentum,
    /// <summary>v = ρv − α·g; w += v (the same trajectory as Momentum while α is constant).</summary>
    MomentumVelocity,
    /// <summary>Change-of-variables Nesterov: v' = ρv − α·g(w̃); w̃ += −ρv + (1 + ρ)v'.</summary>
    Nesterov,
    /// <summary>s += g²; w −= α·g/(sqrt(s) + ε).</summary>
    AdaGrad,
    /// <summary>s = d·s + (1 − d)·g²; w −= α·g/(sqrt(s) + ε), d = Beta1.</summary>
    RMSProp,
    /// <summary>Bias-corrected Adam.</summary>
    Adam,
    /// <summary>Adam with decoupled weight decay (the decay itself comes from ForTensor).</summary>
    AdamW,
}

/// <summary>
/// One step's optimiser constants plus, per tensor, its learning-rate scale and penalties, and the
/// gradient transform (global-norm clipping scale, clipping by value). <see cref="Apply{TIsa}"/>
/// makes one pass over a parameter range: g' = clamp(scale·g, ±clip) + 2·L2·w + L1·sign(w); the rule's
/// state update and step with α' = α·lrScale; then decoupled decay w −= α'·decay·w_old.
/// </summary>
public readonly struct OptimizerStep
{
    // Adam's bias corrections 1/(1 − βᵗ), computed once per step in double (βᵗ underflows harmlessly).
    private readonly float _c1, _c2;

    /// <summary>The constants of step <paramref name="t"/> (1-based) of the <paramref name="kind"/> rule; throws <see cref="ArgumentOutOfRangeException"/> for a negative or non-finite learning rate or β outside [0, 1).</summary>
    public OptimizerStep(OptimizerKind kind, float learningRate, float beta1, float beta2, float epsilon, long t)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimiser kind.");
        if (!(learningRate >= 0f) || !float.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a finite number ≥ 0.");
        if (kind is OptimizerKind.Adam or OptimizerKind.AdamW)
        {
            if (t < 1) throw new ArgumentOutOfRangeException(nameof(t), t, "Adam's step counter starts at 1 (bias correction divides by 1 − βᵗ).");
            if (!(beta2 >= 0f && beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Adam's beta2 must be in [0, 1).");
            _c1 = (float)(1.0 / (1.0 - Math.Pow(beta1, t)));
            _c2 = (float)(1.0 / (1.0 - Math.Pow(beta2, t)));
        }
        if (kind is not OptimizerKind.Sgd and not OptimizerKind.AdaGrad && !(beta1 >= 0f && beta1 < 1f))
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "ρ, the decay rate and β1 must be in [0, 1).");
        Kind = kind;
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        T = t;
        LearningRateScale = 1f;
        GradientScale = 1f;
    }

    /// <summary>The update rule.</summary>
    public OptimizerKind Kind { get; }
    /// <summary>The base learning rate α of this step (before <see cref="LearningRateScale"/>).</summary>
    public float LearningRate { get; }
    /// <summary>Momentum/Nesterov's ρ, RMSProp's decay, Adam's β1.</summary>
    public float Beta1 { get; }
    /// <summary>Adam's β2.</summary>
    public float Beta2 { get; }
    /// <summary>ε of AdaGrad, RMSProp and Adam (keeps the division finite).</summary>
    public float Epsilon { get; }
    /// <summary>The 1-based step number (Adam's t).</summary>
    public long T { get; }
    /// <summary>Per-tensor multiplier of the learning rate.</summary>
    public float LearningRateScale { get; private init; }
    /// <summary>Coefficient of ΣW² in the loss: adds 2·L2·w to the gradient.</summary>
    public float L2 { get; private init; }
    /// <summary>Coefficient of Σ|W| in the loss: adds L1·sign(w) to the gradient.</summary>
    public float L1 { get; private init; }
    /// <summary>Decoupled decay: w −= α·scale·Decay·w after the step.</summary>
    public float Decay { get; private init; }
    /// <summary>Multiplies the raw gradient (global-norm clipping).</summary>
    public float GradientScale { get; private init; }
    /// <summary>Clamps the scaled raw gradient to ±ClipValue; 0 = no clamping.</summary>
    public float ClipValue { get; private init; }

    /// <summary>This step for one tensor: its learning-rate multiplier and penalties.</summary>
    public OptimizerStep ForTensor(float learningRateScale, float l2, float l1, float decay) =>
        this with { LearningRateScale = learningRateScale, L2 = l2, L1 = l1, Decay = decay };

    /// <summary>This step with the raw gradient multiplied by <paramref name="gradientScale"/> and clamped to ±<paramref name="clipValue"/> (0: no clamp).</summary>
    public OptimizerStep WithGradientTransform(float gradientScale, float clipValue) =>
        this with { GradientScale = gradientScale, ClipValue = clipValue };

    /// <summary>Updates w (and the state s1, s2 the rule keeps) from g, in one pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply<TIsa>(Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2) where TIsa : struct, ISimdPath
    {
        int n = w.Length;
        Checks.Length(g.Length, n, nameof(g));
        int states = Kind switch
        {
            OptimizerKind.Sgd => 0,
            OptimizerKind.Adam or OptimizerKind.AdamW => 2,
            _ => 1,
        };
        if (states >= 1) Checks.Length(s1.Length, n, nameof(s1));
        if (states >= 2) Checks.Length(s2.Length, n, nameof(s2));
        if (n == 0 || (LearningRateScale == 0f)) return; // a frozen tensor keeps its weights and state
        ref float pw = ref MemoryMarshal.GetReference(w);
        ref float pg = ref MemoryMarshal.GetReference(g);
        ref float p1 = ref states >= 1 ? ref MemoryMarshal.GetReference(s1) : ref pw;
        ref float p2 = ref states >= 2 ? ref MemoryMarshal.GetReference(s2) : ref pw;
        switch (Kind)
        {
            case OptimizerKind.Sgd: Run<TIsa, SgdRule>(ref pw, ref pg, ref p1, ref p2, n); break;
            case OptimizerKind.Momentum: Run<TIsa, MomentumRule>(ref pw, ref pg, ref p1, ref p2, n); break;
            case OptimizerKind.MomentumVelocity: Run<TIsa, VelocityRule>(ref pw, ref pg, ref p1, ref p2, n); break;
            case OptimizerKind.Nesterov: Run<TIsa, NesterovRule>(ref pw, ref pg, ref p1, ref p2, n); break;
            case OptimizerKind.AdaGrad: Run<TIsa, AdaGradRule>(ref pw, ref pg, ref p1, ref p2, n); break;
            case OptimizerKind.RMSProp: Run<TIsa, RmsPropRule>(ref pw, ref pg, ref p1, ref p2, n); break;
            default: Run<TIsa, AdamRule>(ref pw, ref pg, ref p1, ref p2, n); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run<TIsa, TRule>(ref float w, ref float g, ref float s1, ref float s2, int n)
        where TIsa : struct, ISimdPath where TRule : struct, IUpdateRule
    {
        var k = new Constants(this);
        int i;
        var run = new UpdateRun<TRule> { K = k, W = ref w, G = ref g, S1 = ref s1, S2 = ref s2, Start = 0, N = n };
        i = VectorPath.Run<TIsa, UpdateRun<TRule>>(ref run);
        Run<OpsScalar, float, TRule>(in k, ref w, ref g, ref s1, ref s2, i, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run<TO, TV, TRule>(in Constants k, ref float w, ref float g, ref float s1, ref float s2, int start, int n)
        where TO : struct, IVectorOps<TV> where TV : struct where TRule : struct, IUpdateRule
    {
        int width = TO.Count, i = start;
        TV scale = TO.Splat(k.GradientScale), clip = TO.Splat(k.ClipValue), negClip = TO.Splat(-k.ClipValue);
        TV twoL2 = TO.Splat(2f * k.L2), l1 = TO.Splat(k.L1), negL1 = TO.Splat(-k.L1), decay = TO.Splat(-k.Alpha * k.Decay);
        bool clipping = k.ClipValue > 0f, hasL2 = k.L2 != 0f, hasL1 = k.L1 != 0f, hasDecay = k.Decay != 0f;
        for (; i + width <= n; i += width)
        {
            TV wv = TO.Load(ref w, i);
            TV gv = TO.Mul(TO.Load(ref g, i), scale);
            if (clipping) gv = TO.IfPositive(TO.Sub(gv, clip), clip, TO.IfPositive(TO.Sub(negClip, gv), negClip, gv));
            if (hasL2) gv = TO.Fma(twoL2, wv, gv);
            if (hasL1) gv = TO.Add(gv, TO.IfPositive(wv, l1, TO.IfPositive(TO.Sub(TO.Zero, wv), negL1, TO.Zero)));
            TV next = TRule.Step<TO, TV>(in k, wv, gv, ref s1, ref s2, i);
            if (hasDecay) next = TO.Fma(decay, wv, next);
            TO.Store(next, ref w, i);
        }
        return i;
    }

    /// <summary>The per-call constants the rules read, with α' = α·lrScale folded in.</summary>
    private readonly struct Constants
    {
        public Constants(in OptimizerStep step)
        {
            Alpha = step.LearningRate * step.LearningRateScale;
            Beta1 = step.Beta1; Beta2 = step.Beta2; Epsilon = step.Epsilon;
            C1 = step._c1; C2 = step._c2;
            L2 = step.L2; L1 = step.L1; Decay = step.Decay;
            GradientScale = step.GradientScale; ClipValue = step.ClipValue;
        }
        public readonly float Alpha, Beta1, Beta2, Epsilon, C1, C2, L2, L1, Decay, GradientScale, ClipValue;
    }

    /// <summary>One update rule: returns the new weight from w and the transformed gradient, updating its state at i.</summary>
    private interface IUpdateRule
    {
        static abstract TV Step<TO, TV>(in Constants k, TV w, TV g, ref float s1, ref float s2, int i) where TO : struct, IVectorOps<TV> where TV : struct;
    }

    private readonly struct SgdRule : IUpdateRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Step<TO, TV>(in Constants k, TV w, TV g, ref float s1, ref float s2, int i) where TO : struct, IVectorOps<TV> where TV : struct
            => TO.Fma(TO.Splat(-k.Alpha), g, w);
    }

    private readonly struct MomentumRule : IUpdateRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Step<TO, TV>(in Constants k, TV w, TV g, ref float s1, ref float s2, int i) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV v = TO.Fma(TO.Splat(k.Beta1), TO.Load(ref s1, i), g);
            TO.Store(v, ref s1, i);
            return TO.Fma(TO.Splat(-k.Alpha), v, w);
        }
    }

    private readonly struct VelocityRule : IUpdateRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Step<TO, TV>(in Constants k, TV w, TV g, ref float s1, ref float s2, int i) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV v = TO.Fma(TO.Splat(-k.Alpha), g, TO.Mul(TO.Splat(k.Beta1), TO.Load(ref s1, i)));
            TO.Store(v, ref s1, i);
            return TO.Add(w, v);
        }
    }

    private readonly struct NesterovRule : IUpdateRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Step<TO, TV>(in Constants k, TV w, TV g, ref float s1, ref float s2, int i) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV old = TO.Load(ref s1, i);
            TV v = TO.Fma(TO.Splat(-k.Alpha), g, TO.Mul(TO.Splat(k.Beta1), old));
            TO.Store(v, ref s1, i);
            // w̃ += −ρ·v_old + (1 + ρ)·v
            return TO.Fma(TO.Splat(1f + k.Beta1), v, TO.Fma(TO.Splat(-k.Beta1), old, w));
        }
    }

    private readonly struct AdaGradRule : IUpdateRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Step<TO, TV>(in Constants k, TV w, TV g, ref float s1, ref float s2, int i) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV s = TO.Fma(g, g, TO.Load(ref s1, i));
            TO.Store(s, ref s1, i);
            return TO.Sub(w, TO.Div(TO.Mul(TO.Splat(k.Alpha), g), TO.Add(TO.Sqrt(s), TO.Splat(k.Epsilon))));
        }
    }

    private readonly struct RmsPropRule : IUpdateRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Step<TO, TV>(in Constants k, TV w, TV g, ref float s1, ref float s2, int i) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV s = TO.Fma(TO.Splat(1f - k.Beta1), TO.Mul(g, g), TO.Mul(TO.Splat(k.Beta1), TO.Load(ref s1, i)));
            TO.Store(s, ref s1, i);
            return TO.Sub(w, TO.Div(TO.Mul(TO.Splat(k.Alpha), g), TO.Add(TO.Sqrt(s), TO.Splat(k.Epsilon))));
        }
    }

    private readonly struct AdamRule : IUpdateRule
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Step<TO, TV>(in Constants k, TV w, TV g, ref float s1, ref float s2, int i) where TO : struct, IVectorOps<TV> where TV : struct
        {
            TV m = TO.Fma(TO.Splat(1f - k.Beta1), g, TO.Mul(TO.Splat(k.Beta1), TO.Load(ref s1, i)));
            TV v = TO.Fma(TO.Splat(1f - k.Beta2), TO.Mul(g, g), TO.Mul(TO.Splat(k.Beta2), TO.Load(ref s2, i)));
            TO.Store(m, ref s1, i);
            TO.Store(v, ref s2, i);
            TV mHat = TO.Mul(m, TO.Splat(k.C1));
            TV denominator = TO.Add(TO.Sqrt(TO.Mul(v, TO.Splat(k.C2))), TO.Splat(k.Epsilon));
            return TO.Sub(w, TO.Div(TO.Mul(TO.Splat(k.Alpha), mHat), denominator));
        }
    }

    /// <summary>The update's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct UpdateRun<TRule> : IVectorKernel where TRule : struct, IUpdateRule
    {
        public Constants K;
        public ref float W;
        public ref float G;
        public ref float S1;
        public ref float S2;
        public int Start;
        public int N;

        int IVectorKernel.Run<TO, TV>() => Run<TO, TV, TRule>(in K, ref W, ref G, ref S1, ref S2, Start, N);
    }
}
