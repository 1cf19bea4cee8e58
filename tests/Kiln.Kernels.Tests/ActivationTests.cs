using System;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Tests;

/// <summary>Activations: forward against a double reference, derivatives against central finite differences of it.</summary>
public sealed class ActivationTests
{
    // Lengths around every vector width (and the scalar tail after it).
    private static readonly int[] Lengths = { 1, 10, 17, 33, 129 };

    // Forward: float kernels against the double reference (inputs are exact floats).
    private const double ForwardAtol = 2e-6, ForwardRtol = 2e-6;
    // Derivative: against a finite difference (truncation ~1e-9) of the double forward.
    private const double DerivAtol = 1e-5, DerivRtol = 2e-5;

    public static TheoryData<IsaPath, string> Cases => Reference.PathsAndActivations();

    [Theory, MemberData(nameof(Cases))]
    public void ForwardMatchesReference(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(ForwardCore), new[] { Isa.Marker(path), a.Type }, a);
    }

    private void ForwardCore<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(11);
        foreach (int n in Lengths)
            foreach (bool masked in new[] { false, true })
            {
                float[] u = Data.Uniform(rnd, n, -8, 8);
                float[]? mask = masked ? Data.Mask(rnd, n, 0.7, 1.25f) : null;
                float[] y = new float[n];
                Elementwise.ActivationForward<TIsa, TAct>(u, mask, y, act);
                for (int i = 0; i < n; i++)
                {
                    double expected = a.Forward(u[i]) * (mask?[i] ?? 1);
                    Near.Check(y[i], expected, ForwardAtol, ForwardRtol, $"{a.Name} n={n} masked={masked} u={u[i]:R}");
                }
            }
    }

    [Theory, MemberData(nameof(Cases))]
    public void DerivativeMatchesFiniteDifferences(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(DerivativeCore), new[] { Isa.Marker(path), a.Type }, a);
    }

    private void DerivativeCore<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(12);
        foreach (int n in Lengths)
            foreach (bool masked in new[] { false, true })
            {
                float[] u = Data.Uniform(rnd, n, -8, 8);
                // Keep away from the kink at 0 of the piecewise activations (the finite difference would straddle it).
                for (int i = 0; i < n; i++) if (Math.Abs(u[i]) < 1e-3f) u[i] = 0.5f;
                float[] dy = Data.Uniform(rnd, n, -2, 2);
                float[]? mask = masked ? Data.Mask(rnd, n, 0.7, 1.25f) : null;
                float[] du = new float[n];
                Elementwise.ActivationBackward<TIsa, TAct>(u, dy, mask, du, act);
                for (int i = 0; i < n; i++)
                {
                    double expected = dy[i] * (mask?[i] ?? 1) * Reference.Derivative(a.Forward, u[i]);
                    Near.Check(du[i], expected, DerivAtol, DerivRtol, $"{a.Name}' n={n} masked={masked} u={u[i]:R}");
                }
                // du may alias dy.
                float[] inPlace = (float[])dy.Clone();
                Elementwise.ActivationBackward<TIsa, TAct>(u, inPlace, mask, inPlace, act);
                Assert.Equal(du, inPlace);
            }
    }

    [Theory, MemberData(nameof(Cases))]
    public void LargeInputsStayFinite(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(LargeCore), new[] { Isa.Marker(path), a.Type }, a);
    }

    private void LargeCore<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        float[] big = { 30f, -30f, 88f, -88f, 89f, -89f, 100f, -100f, 1e4f, -1e4f, 1e30f, -1e30f, 3e38f, -3e38f, 0f, -0f, 1e-30f, -1e-30f,
            20f, -20f, 45f, -45f, 9f, -9f, 13f, -13f, 1e-7f, -1e-7f, 0.6249f, -0.6251f, 0.5f, -0.5f };
        float[] y = new float[big.Length], d = new float[big.Length];
        Elementwise.ActivationForward<TIsa, TAct>(big, default, y, act);
        Elementwise.ActivationBackward<TIsa, TAct>(big, Data.Filled(big.Length, 1f), default, d, act);
        for (int i = 0; i < big.Length; i++)
        {
            Assert.True(float.IsFinite(y[i]), $"{a.Name}({big[i]:R}) = {y[i]}");
            Assert.True(float.IsFinite(d[i]), $"{a.Name}'({big[i]:R}) = {d[i]}");
            double expected = a.Forward(big[i]);
            if (double.IsFinite(expected)) Near.Check(y[i], expected, ForwardAtol, ForwardRtol, $"{a.Name}({big[i]:R})");
        }
    }

    /// <summary>The scalar overloads and each vector width agree to float rounding.</summary>
    [Theory, MemberData(nameof(ActivationNames))]
    public void ScalarAndVectorWidthsAgree(string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(WidthsCore), new[] { a.Type }, a);
    }

    public static TheoryData<string> ActivationNames()
    {
        var d = new TheoryData<string>();
        foreach (Reference.Activation a in Reference.Activations) d.Add(a.Name);
        return d;
    }

    private void WidthsCore<TAct>(Reference.Activation a) where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(13);
        float[] u = Data.Uniform(rnd, 16 * 64, -12, 12);
        for (int i = 0; i < u.Length; i += 16)
        {
            var v512 = Vector512.Create(u.AsSpan(i, 16));
            Vector512<float> f512 = act.Forward(v512), d512 = act.Derivative(v512, f512);
            for (int l = 0; l < 16; l++)
            {
                float s = act.Forward(u[i + l]), ds = act.Derivative(u[i + l], s);
                Vector128<float> v128 = Vector128.Create(u[i + l]);
                Vector256<float> v256 = Vector256.Create(u[i + l]);
                // 4e-7 relative ≈ 3–4 ulp; 1e-7 absolute around zero crossings.
                Near.Check(f512[l], s, 1e-7, 4e-7, $"{a.Name} 512 vs scalar at {u[i + l]:R}");
                Near.Check(act.Forward(v256)[0], s, 1e-7, 4e-7, $"{a.Name} 256 vs scalar at {u[i + l]:R}");
                Near.Check(act.Forward(v128)[0], s, 1e-7, 4e-7, $"{a.Name} 128 vs scalar at {u[i + l]:R}");
                // Derivatives written from a (tanh: 1 − a², sigmoid: a(1 − a)) turn an ulp of a into ~2.5e-7 absolute.
                Near.Check(d512[l], ds, 2.5e-7, 4e-7, $"{a.Name}' 512 vs scalar at {u[i + l]:R}");
                Near.Check(act.Derivative(v256, act.Forward(v256))[0], ds, 2.5e-7, 4e-7, $"{a.Name}' 256 vs scalar at {u[i + l]:R}");
                Near.Check(act.Derivative(v128, act.Forward(v128))[0], ds, 2.5e-7, 4e-7, $"{a.Name}' 128 vs scalar at {u[i + l]:R}");
            }
        }
    }

    [Fact]
    public void ReferenceErfcIsAccurate()
    {
        // Sanity of the test's own reference (tabulated values).
        Near.Check(Reference.Erfc(1), 1 - 0.8427007929497149, 0, 1e-12, "erfc(1)");
        Near.Check(Reference.Erfc(0.5), 0.4795001221869535, 0, 1e-12, "erfc(0.5)");
        Near.Check(Reference.Erfc(3), 2.209049699858544e-05, 0, 1e-11, "erfc(3)");
        Near.Check(Reference.Erfc(5), 1.5374597944280349e-12, 0, 1e-11, "erfc(5)");
        Near.Check(Reference.Erfc(-2), 1.9953222650189528, 0, 1e-12, "erfc(-2)");
    }

    [Fact]
    public void SeluUsesTheStandardConstants()
    {
        Assert.Equal(1.6732632423543772f, Selu.Alpha);
        Assert.Equal(1.0507009873554805f, Selu.Lambda);
        Near.Check(new Selu().Forward(-1f), Reference.SeluLambda * Reference.SeluAlpha * (Math.Exp(-1) - 1), 0, 1e-6, "selu(-1)");
    }
}
