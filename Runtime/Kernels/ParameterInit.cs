using System;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

/// <summary>Parameter initialisers drawing from <see cref="KilnRandom"/> (reproducible from a seed).</summary>
public static partial class ParameterInit
{
    /// <summary>Sets every element of <paramref name="w"/> to <paramref name="value"/>.</summary>
    public static void Constant(Span<float> w, float value) => w.Fill(value);

    /// <summary>N(0, std²), Box–Muller in double from rng.</summary>
    /// <remarks>Each pair of uniforms gives two normals (cos and sin branches), used in order.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normal(Span<float> w, double std, ref KilnRandom rng)
    {
        if (!(std >= 0)) throw new ArgumentOutOfRangeException(nameof(std), std, "The standard deviation must be non-negative.");
        int i = 0;
        for (; i < w.Length; i += 2)
        {
            // 1 − u ∈ (0, 1], so the logarithm is finite.
            double radius = std * Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble()));
            double angle = 2.0 * Math.PI * rng.NextDouble();
            (double sin, double cos) = Math.SinCos(angle);
            w[i] = (float)(radius * cos);
            if (i + 1 < w.Length) w[i + 1] = (float)(radius * sin);
        }
    }

    /// <summary>U(−bound, bound).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Uniform(Span<float> w, double bound, ref KilnRandom rng)
    {
        if (!(bound >= 0)) throw new ArgumentOutOfRangeException(nameof(bound), bound, "The bound must be non-negative.");
        for (int i = 0; i < w.Length; i++) w[i] = (float)((2.0 * rng.NextDouble() - 1.0) * bound);
    }
}
