using System.Globalization;
using Kiln.Generator.Spec;

namespace Kiln.Analyzers;

/// <summary>Questions the spec rules ask about a layer list.</summary>
public static class SpecQueries
{
    /// <summary>ReLU and its relatives: He initialisation keeps their variance (docs/techniques.md#initialisation).</summary>
    public static bool IsReLUFamily(ActivationKind kind) => kind is ActivationKind.ReLU or ActivationKind.LeakyReLU
        or ActivationKind.PReLU or ActivationKind.ELU or ActivationKind.GELU or ActivationKind.Swish;

    /// <summary>Sigmoid and tanh: bounded, saturating.</summary>
    public static bool IsSaturating(ActivationKind kind) => kind is ActivationKind.Sigmoid or ActivationKind.Tanh;

    public static bool IsActivation(LayerSpec layer) => layer.Kind == LayerKind.Activation && layer.Activation != ActivationKind.Identity;

    /// <summary>True when a Dense layer comes after layer <paramref name="index"/> (the layer is hidden).</summary>
    public static bool HasDenseAfter(ModelSpec spec, int index)
    {
        for (int i = index + 1; i < spec.Layers.Count; i++)
            if (spec.Layers[i].Kind == LayerKind.Dense) return true;
        return false;
    }

    /// <summary>Index of the last Dense layer, or −1.</summary>
    public static int LastDense(ModelSpec spec)
    {
        for (int i = spec.Layers.Count - 1; i >= 0; i--)
            if (spec.Layers[i].Kind == LayerKind.Dense) return i;
        return -1;
    }

    /// <summary>Number of Dense layers.</summary>
    public static int DenseCount(ModelSpec spec)
    {
        int count = 0;
        foreach (LayerSpec layer in spec.Layers)
            if (layer.Kind == LayerKind.Dense) count++;
        return count;
    }

    /// <summary>
    /// The activation that follows the Dense at <paramref name="denseIndex"/>, looking past BatchNorm, Dropout
    /// and Flatten up to the next Dense (the planner's rule for Init.Auto); −1 when there is none.
    /// </summary>
    public static int NextActivation(ModelSpec spec, int denseIndex)
    {
        for (int i = denseIndex + 1; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind == LayerKind.Dense) break;
            if (IsActivation(layer)) return i;
        }
        return -1;
    }

    /// <summary>Input width of every layer (the model input, then the units of the last Dense before it).</summary>
    public static int[] InputWidths(ModelSpec spec)
    {
        var widths = new int[spec.Layers.Count];
        int width = spec.InputSize;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            widths[i] = width;
            if (spec.Layers[i].Kind == LayerKind.Dense && spec.Layers[i].Units > 0) width = spec.Layers[i].Units;
        }
        return widths;
    }

    /// <summary>The attribute name of an activation, as the user writes it.</summary>
    public static string Name(ActivationKind kind) => kind.ToString();

    /// <summary>Shortest round-trip text of a number, invariant culture.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Three significant digits, invariant culture.</summary>
    public static string Short(double value) => value.ToString("G3", CultureInfo.InvariantCulture);
}
