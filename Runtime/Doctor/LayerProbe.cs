using System;
using System.Collections.Generic;
using Kiln.Kernels;

namespace Kiln.Doctor;

/// <summary>A ReLU, sigmoid or tanh layer the doctor watches, and the dropout layer fused after it (if any).</summary>
internal sealed record WatchedActivation(string Layer, string Kind, int Width, string? DropoutAfter);

/// <summary>
/// Measurements shared by the doctor's one-off checks and its monitors. None of them allocates: they read the
/// model's spans (LayerOutput, TensorGradient, TensorData) and return numbers.
/// </summary>
internal static class LayerProbe
{
    /// <summary>The ReLU, sigmoid and tanh layers of a model, with the dropout that follows each (allocates; call once).</summary>
    public static WatchedActivation[] Activations(IKilnModel model)
    {
        var list = new List<WatchedActivation>();
        IReadOnlyList<LayerInfo> layers = model.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            string kind = layers[i].Kind;
            if (kind is not ("relu" or "sigmoid" or "tanh")) continue;
            string? dropout = i + 1 < layers.Count && layers[i + 1].Kind == "dropout" ? layers[i + 1].Name : null;
            list.Add(new WatchedActivation(layers[i].Name, kind, Width(layers[i].OutputShape), dropout));
        }
        return [.. list];
    }

    public static int Width(int[] shape)
    {
        int w = 1;
        foreach (int d in shape) w *= d;
        return w;
    }

    /// <summary>
    /// The generated code fuses BatchNorm, activation and dropout into one pass whose output is the activation times
    /// the dropout mask; then LayerOutput of the activation already contains the mask. Detected from the numbers: a
    /// fused output is exactly 0 wherever the mask is 0 (a sigmoid output never is).
    /// </summary>
    private static bool MaskIsApplied(ReadOnlySpan<float> output, ReadOnlySpan<float> mask)
    {
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] == 0 && output[i] != 0) return false;
        return true;
    }

    /// <summary>
    /// Fraction of units whose output is 0 for every sample of the last forward pass; positions dropped by a dropout
    /// mask are ignored (a unit dropped everywhere counts as alive: nothing is known about it).
    /// </summary>
    public static double DeadFraction(IKilnModel model, WatchedActivation layer)
    {
        ReadOnlySpan<float> y = model.LayerOutput(layer.Layer);
        ReadOnlySpan<float> mask = layer.DropoutAfter is null ? default : model.LayerOutput(layer.DropoutAfter);
        int width = layer.Width, rows = y.Length / width;
        if (rows == 0) return 0;
        int dead = 0;
        for (int j = 0; j < width; j++)
        {
            bool active = false, seen = false;
            for (int r = 0; r < rows && !active; r++)
            {
                int i = r * width + j;
                if (!mask.IsEmpty && mask[i] == 0) continue;
                seen = true;
                active = y[i] != 0;
            }
            if (seen && !active) dead++;
        }
        return (double)dead / width;
    }

    /// <summary>
    /// Fraction of the layer's inputs with |x| ≥ <paramref name="input"/>, read from its outputs: a sigmoid output
    /// y is saturated when y ≤ σ(−a) or y ≥ σ(a), a tanh output when |y| ≥ tanh a. Dropped positions are ignored
    /// and a fused mask's keep scale is divided out.
    /// </summary>
    public static double SaturatedFraction(IKilnModel model, WatchedActivation layer, double input)
    {
        ReadOnlySpan<float> y = model.LayerOutput(layer.Layer);
        ReadOnlySpan<float> mask = layer.DropoutAfter is null ? default : model.LayerOutput(layer.DropoutAfter);
        bool divide = !mask.IsEmpty && MaskIsApplied(y, mask);
        bool sigmoid = layer.Kind == "sigmoid";
        double low = 1 / (1 + Math.Exp(input)), high = 1 / (1 + Math.Exp(-input)), tanh = Math.Tanh(input);
        int saturated = 0, counted = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double v = y[i];
            if (!mask.IsEmpty)
            {
                if (mask[i] == 0) continue;
                if (divide) v /= mask[i];
            }
            counted++;
            if (sigmoid ? v <= low || v >= high : Math.Abs(v) >= tanh) saturated++;
        }
        return counted == 0 ? 0 : (double)saturated / counted;
    }

    /// <summary>The first and last Dense weight tensors (by forward order), or null when the model has fewer than two.</summary>
    public static (TensorInfo First, TensorInfo Last)? FirstAndLastWeights(IKilnModel model)
    {
        TensorInfo? first = null, last = null;
        foreach (TensorInfo t in model.Tensors)
        {
            if (!t.Trainable || t.Role != TensorRole.Weight) continue;
            first ??= t;
            last = t;
        }
        return first is not null && last is not null && !ReferenceEquals(first, last) ? (first, last) : null;
    }

    /// <summary>Root mean square of a span (‖x‖/√n): a per-element gradient size that does not grow with the layer's size.</summary>
    public static double Rms(ReadOnlySpan<float> x) => x.Length == 0 ? 0 : Math.Sqrt(Reductions.SumOfSquares(x) / x.Length);

    /// <summary>True when every value is finite (a sum of squares is finite only then, barring overflow, which also means trouble).</summary>
    public static bool AllFinite(ReadOnlySpan<float> x) => double.IsFinite(Reductions.SumOfSquares(x));

    /// <summary>The first trainable tensor of <paramref name="model"/> holding a non-finite parameter (or gradient when <paramref name="gradients"/>).</summary>
    public static TensorInfo? FirstNonFinite(IKilnModel model, bool gradients)
    {
        // An index loop: foreach over the IReadOnlyList would allocate an enumerator on every sampled step.
        IReadOnlyList<TensorInfo> tensors = model.Tensors;
        for (int i = 0; i < tensors.Count; i++)
        {
            TensorInfo t = tensors[i];
            if (!t.Trainable) continue;
            if (!AllFinite(gradients ? model.TensorGradient(t) : model.TensorData(t))) return t;
        }
        return null;
    }

    /// <summary>The layers whose output has a kink at 0 (ReLU, LeakyReLU, PReLU), for the gradient check (allocates; call once).</summary>
    public static string[] KinkedLayers(IKilnModel model)
    {
        var names = new List<string>();
        foreach (LayerInfo layer in model.Layers)
            if (layer.Kind is "relu" or "leakyrelu" or "prelu") names.Add(layer.Name);
        return [.. names];
    }

    /// <summary>
    /// A fingerprint of which side of the kink every unit of <paramref name="layers"/> is on in the last forward pass:
    /// two passes with different fingerprints crossed a kink, where a finite difference is not a derivative.
    /// </summary>
    public static ulong SignPattern(IKilnModel model, string[] layers)
    {
        ulong hash = 14695981039346656037UL;
        foreach (string name in layers)
        {
            ReadOnlySpan<float> y = model.LayerOutput(name);
            for (int i = 0; i < y.Length; i++)
                if (y[i] > 0) hash = (hash ^ (ulong)i) * 1099511628211UL;
            hash = (hash ^ 0xFFUL) * 1099511628211UL;
        }
        return hash;
    }

    /// <summary>Name of the model's output layer (the last of <see cref="IKilnModel.Layers"/>), or null when the model lists none.</summary>
    public static string? OutputLayer(IKilnModel model) => model.Layers.Count > 0 ? model.Layers[^1].Name : null;
}
