using System;
using System.Numerics.Tensors;

namespace Kiln.Kernels;

/// <summary>Whole-tensor reductions for penalties and gradient clipping (System.Numerics.Tensors primitives).</summary>
public static class Reductions
{
    /// <summary>Σ x².</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x) => TensorPrimitives.SumOfSquares(x);

    /// <summary>Σ |x|.</summary>
    public static double SumOfAbsolute(ReadOnlySpan<float> x) => TensorPrimitives.SumOfMagnitudes(x);

    /// <summary>g += 2·l2·w + l1·sign(w): the gradient of l2·ΣW² + l1·Σ|W| (for ComputeGradients; TrainStep adds it inside the update).</summary>
    public static void AddPenaltyGradient(ReadOnlySpan<float> w, Span<float> g, float l2, float l1)
    {
        Checks.Length(g.Length, w.Length, nameof(g));
        for (int i = 0; i < w.Length; i++)
            g[i] += 2f * l2 * w[i] + l1 * MathF.Sign(w[i]);
    }
}
