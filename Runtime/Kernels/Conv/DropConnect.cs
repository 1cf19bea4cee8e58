using System;

namespace Kiln.Kernels;

/// <summary>
/// DropConnect (Wan et al. 2013): a dropout mask on the weights rather than the activations. The
/// forward uses masked = w ∘ mask, and since ∂L/∂w = ∂L/∂masked ∘ mask the weight gradient is masked
/// the same way. Masks come from <see cref="Dropout.Draw{TIsa}"/> (0 or 1/keep). [start, end) lets
/// workers split a weight tensor.
/// </summary>
public static class DropConnect
{
    /// <summary>masked[i] = w[i]·mask[i] for i in [start, end).</summary>
    public static void Apply<TIsa>(ReadOnlySpan<float> w, ReadOnlySpan<float> mask, Span<float> masked, int start, int end)
        where TIsa : struct, ISimdPath
    {
        Checks.Range(start, end, w.Length, nameof(start), nameof(end));
        Checks.Length(mask.Length, end, nameof(mask));
        Checks.Length(masked.Length, end, nameof(masked));
        Elementwise.Multiply<TIsa>(w[start..end], mask[start..end], masked[start..end]);
    }

    /// <summary>dw[i] ·= mask[i] for i in [start, end).</summary>
    public static void MaskGradient<TIsa>(Span<float> dw, ReadOnlySpan<float> mask, int start, int end)
        where TIsa : struct, ISimdPath
    {
        Checks.Range(start, end, dw.Length, nameof(start), nameof(end));
        Checks.Length(mask.Length, end, nameof(mask));
        Span<float> range = dw[start..end];
        Elementwise.Multiply<TIsa>(range, mask[start..end], range);
    }
}
