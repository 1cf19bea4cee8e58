using System;
using System.Collections.Generic;
using System.Globalization;
using Kiln.Generator.Spec;

namespace Kiln.Analyzers;

/// <summary>
/// Questions the spec rules ask about a layer list. The rules decide from layer kinds and the model's structure
/// (what is linear, what normalises, which weighted layer a value flows through, residual blocks, shapes), never
/// from names; every query that reads a kind-specific field of <see cref="LayerSpec"/> lives here.
/// </summary>
public static class SpecQueries
{
    /// <summary>ReLU and its relatives: He initialisation keeps their variance (docs/techniques.md#initialisation).</summary>
    public static bool IsReLUFamily(ActivationKind kind) => kind is ActivationKind.ReLU or ActivationKind.LeakyReLU
        or ActivationKind.PReLU or ActivationKind.ELU or ActivationKind.GELU or ActivationKind.Swish;

    /// <summary>Sigmoid and tanh: bounded, saturating.</summary>
    public static bool IsSaturating(ActivationKind kind) => kind is ActivationKind.Sigmoid or ActivationKind.Tanh;

    /// <summary>An activation layer other than Identity (PReLU included).</summary>
    public static bool IsActivation(LayerSpec layer) => layer.Kind == LayerKind.Activation && layer.Activation != ActivationKind.Identity;

    /// <summary>A non-linearity of its own: an activation layer or Maxout (the maximum of k linear pieces).</summary>
    public static bool IsNonLinearity(LayerSpec layer) => IsActivation(layer) || layer.Kind == LayerKind.Maxout;

    /// <summary>A layer with learned weights and an <c>Init</c>: Dense or Conv2D.</summary>
    public static bool IsWeighted(LayerSpec layer) => layer.Kind is LayerKind.Dense or LayerKind.Conv2D;

    /// <summary>A normalisation layer: BatchNorm or one of the per-sample ones (LayerNorm, InstanceNorm, GroupNorm).</summary>
    public static bool IsNormalization(LayerSpec layer) => layer.Kind == LayerKind.BatchNorm || layer.IsSampleNorm;

    /// <summary>Max, average, global average and fractional max pooling.</summary>
    public static bool IsPooling(LayerSpec layer) => layer.IsSpatial && layer.Kind != LayerKind.Conv2D;

    /// <summary>
    /// Layers that change neither values nor their scale in a way that matters to the linear-algebra rules: they are
    /// linear maps (Dropout at its expectation, Flatten, average pooling) and keep a per-channel constant constant.
    /// </summary>
    public static bool IsLinearPassThrough(LayerSpec layer) => layer.Kind is LayerKind.Dropout or LayerKind.Flatten
        or LayerKind.AvgPool or LayerKind.GlobalAvgPool;

    /// <summary>The outputs of a weighted layer: a Dense layer's units, a Conv2D's filters (0 for other kinds).</summary>
    public static int Outputs(LayerSpec layer) => layer.Kind switch { LayerKind.Dense => layer.Units, LayerKind.Conv2D => layer.Filters, _ => 0 };

    /// <summary>The number of linear pieces of a Maxout layer.</summary>
    public static int Pieces(LayerSpec layer) => layer.Kind == LayerKind.Maxout ? layer.Pieces : 0;

    /// <summary>What a weighted layer is, for messages: "Dense layer" or "convolution".</summary>
    public static string Describe(LayerSpec layer) => layer.Kind == LayerKind.Conv2D ? "convolution" : layer.Kind + " layer";

    /// <summary>True when a Dense or Conv2D layer comes after layer <paramref name="index"/> (the layer is hidden).</summary>
    public static bool HasWeightedAfter(ModelSpec spec, int index)
    {
        for (int i = index + 1; i < spec.Layers.Count; i++)
            if (IsWeighted(spec.Layers[i])) return true;
        return false;
    }

    /// <summary>Index of the last Dense or Conv2D layer (the output layer), or −1.</summary>
    public static int LastWeighted(ModelSpec spec)
    {
        for (int i = spec.Layers.Count - 1; i >= 0; i--)
            if (IsWeighted(spec.Layers[i])) return i;
        return -1;
    }

    /// <summary>Number of Dense and Conv2D layers.</summary>
    public static int WeightedCount(ModelSpec spec)
    {
        int count = 0;
        foreach (LayerSpec layer in spec.Layers)
            if (IsWeighted(layer)) count++;
        return count;
    }

    /// <summary>
    /// The activation that follows the weighted layer at <paramref name="index"/> — the planner's rule for Init.Auto: it
    /// looks past BatchNorm, the per-sample normalisations, Dropout, Flatten and residual markers and stops at the next
    /// weighted layer, pooling or Maxout; −1 when there is none.
    /// </summary>
    public static int NextActivation(ModelSpec spec, int index)
    {
        for (int i = index + 1; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (IsActivation(layer)) return i;
            if (IsWeighted(layer) || layer.IsSpatial || layer.Kind == LayerKind.Maxout) break;
        }
        return -1;
    }

    // ------------------------------------------------------------------ residual blocks

    /// <summary>
    /// The residual block around each layer: for every index, the index of the [Residual] that opens the branch the
    /// layer belongs to, or −1 (the markers themselves belong to no branch).
    /// </summary>
    public static int[] BranchOpeners(ModelSpec spec)
    {
        var owner = new int[spec.Layers.Count];
        int open = -1;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerKind kind = spec.Layers[i].Kind;
            if (kind == LayerKind.Residual) { owner[i] = -1; open = i; continue; }
            if (kind == LayerKind.EndResidual) { owner[i] = -1; open = -1; continue; }
            owner[i] = open;
        }
        return owner;
    }

    /// <summary>
    /// True when the weighted layer at <paramref name="index"/> is the last weighted layer of a residual branch: its
    /// output is added to the shortcut, so the block starts as the identity when it starts at zero.
    /// </summary>
    public static bool EndsResidualBranch(ModelSpec spec, int index)
    {
        int[] owner = BranchOpeners(spec);
        if (index < 0 || index >= owner.Length || owner[index] < 0 || !IsWeighted(spec.Layers[index])) return false;
        for (int i = index + 1; i < spec.Layers.Count; i++)
        {
            if (spec.Layers[i].Kind == LayerKind.EndResidual) return true;
            if (IsWeighted(spec.Layers[i])) return false;
        }
        return false;
    }

    /// <summary>True when the model has at least one residual block.</summary>
    public static bool HasResidual(ModelSpec spec)
    {
        foreach (LayerSpec layer in spec.Layers)
            if (layer.Kind == LayerKind.Residual) return true;
        return false;
    }

    // ------------------------------------------------------------------ shapes

    /// <summary>
    /// The shape of the activations entering each layer, as the parser tracks it: (C, H, W) while they are spatial, else
    /// the flat width. <see cref="Known"/> is false after a layer whose output could not be computed (its spec error is
    /// the generator's).
    /// </summary>
    public readonly struct Shape
    {
        public Shape(bool spatial, int channels, int height, int width, int flat)
        {
            Spatial = spatial;
            Channels = channels;
            Height = height;
            Width = width;
            Flat = flat;
        }

        public bool Spatial { get; }
        public int Channels { get; }
        public int Height { get; }
        public int Width { get; }
        /// <summary>The number of values per sample (C·H·W while spatial).</summary>
        public int Flat { get; }
        public bool Known => Flat > 0 && (!Spatial || (Channels > 0 && Height > 0 && Width > 0));

        public override string ToString() => Spatial ? $"{Channels}×{Height}×{Width}" : Flat.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The input shape of every layer (index i: what layer i reads), and the model's output shape last: the shapes the
    /// parser computed while reading the layers (<see cref="ParsedModel.Shapes"/>), so the rules see exactly what the
    /// generator sees. Unknown from the first layer that reported a spec error on.
    /// </summary>
    public static Shape[] InputShapes(ParsedModel parsed)
    {
        int count = parsed.Spec?.Layers.Count ?? 0;
        var shapes = new Shape[count + 1];
        for (int i = 0; i <= count && i < parsed.Shapes.Count; i++)
            if (parsed.Shapes[i] is { } shape)
                shapes[i] = new Shape(shape.Spatial, shape.Channels, shape.Height, shape.Width, shape.Flat);
        return shapes;
    }

    /// <summary>A window's span along one axis: dilation·(kernel − 1) + 1.</summary>
    public static long Span(LayerSpec layer, int kernel) => (long)Math.Max(layer.Dilation, 1) * (kernel - 1) + 1;

    /// <summary>(extent + 2·padding − span)/stride + 1, or 0 when it does not exist (a spec error).</summary>
    private static int Extent(int extent, int kernel, LayerSpec layer)
    {
        if (extent <= 0 || kernel <= 0 || layer.Stride <= 0) return 0;
        long room = extent + 2L * layer.Padding - Span(layer, kernel);
        return room < 0 || room % layer.Stride != 0 || room / layer.Stride >= int.MaxValue ? 0 : (int)(room / layer.Stride + 1);
    }

    /// <summary>
    /// How many of the <paramref name="extent"/> input rows (or columns) a window of <paramref name="kernel"/> taps
    /// (dilated, strided, padded as <paramref name="layer"/> says) ever reads.
    /// </summary>
    public static int RowsRead(LayerSpec layer, int extent, int kernel)
    {
        if (!Walkable(layer, extent, kernel)) return extent; // unknown, or too large to walk: counted as read
        var read = new bool[extent];
        int count = 0;
        foreach (long at in Taps(layer, extent, kernel))
            if (at >= 0 && at < extent && !read[at]) { read[at] = true; count++; }
        return count;
    }

    /// <summary>True when the windows along an axis exist and are few enough to walk one by one (real models always are).</summary>
    private static bool Walkable(LayerSpec layer, int extent, int kernel)
    {
        int outputs = Extent(extent, kernel, layer);
        return outputs > 0 && extent <= MaxWalk && (long)outputs * kernel <= MaxWalk;
    }

    /// <summary>Largest extent, and number of taps, that the window walks visit (a guard for specs with absurd values).</summary>
    private const int MaxWalk = 1 << 20;

    /// <summary>The input position of every tap of every output position along one axis (outside [0, extent): padding).</summary>
    private static IEnumerable<long> Taps(LayerSpec layer, int extent, int kernel)
    {
        int outputs = Extent(extent, kernel, layer), dilation = Math.Max(layer.Dilation, 1);
        for (int o = 0; o < outputs; o++)
            for (int k = 0; k < kernel; k++)
                yield return (long)o * layer.Stride + (long)k * dilation - layer.Padding;
    }

    /// <summary>
    /// The share of the values a windowed layer reads that are zero padding rather than input (0 when it reads none):
    /// over every output position and tap of both axes.
    /// </summary>
    public static double PaddingShare(LayerSpec layer, Shape input)
    {
        double inside = InsideShare(layer, input.Height, layer.KernelH) * InsideShare(layer, input.Width, layer.KernelW);
        return 1 - inside;
    }

    /// <summary>Along one axis: taps that land inside the input, over all taps of all output positions.</summary>
    private static double InsideShare(LayerSpec layer, int extent, int kernel)
    {
        if (!Walkable(layer, extent, kernel)) return 1;
        long inside = 0, all = 0;
        foreach (long at in Taps(layer, extent, kernel))
        {
            all++;
            if (at >= 0 && at < extent) inside++;
        }
        return all == 0 ? 1 : (double)inside / all;
    }

    /// <summary>Fan-in of a weighted layer: a Dense layer's input width, KH·KW·C_in for a convolution (0 when unknown).</summary>
    public static int FanIn(LayerSpec layer, Shape input) => layer.Kind switch
    {
        LayerKind.Dense => input.Known ? input.Flat : 0,
        LayerKind.Conv2D => input.Known ? layer.KernelH * layer.KernelW * input.Channels : 0,
        _ => 0,
    };

    // ------------------------------------------------------------------ formatting

    /// <summary>The attribute name of an activation, as the user writes it.</summary>
    public static string Name(ActivationKind kind) => kind.ToString();

    /// <summary>Shortest round-trip text of a number, invariant culture.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A share as a whole percentage ("56%"), invariant culture.</summary>
    public static string Percent(double share) => Math.Round(share * 100).ToString(CultureInfo.InvariantCulture) + "%";

    /// <summary>Three significant digits, invariant culture.</summary>
    public static string Short(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>The gain of an orthogonal initialisation: InitScale, else the planner's default (√2 before the ReLU family, 1 otherwise).</summary>
    public static double OrthogonalGain(LayerSpec layer, bool reluFamily) =>
        double.IsNaN(layer.InitScale) ? (reluFamily ? Math.Sqrt(2.0) : 1.0) : layer.InitScale;

    /// <summary>An orthogonal gain within 10% of the one that keeps the variance (√2 before the ReLU family, 1 otherwise).</summary>
    public static bool HasRightOrthogonalGain(LayerSpec layer, bool reluFamily)
    {
        double right = reluFamily ? Math.Sqrt(2.0) : 1.0;
        return Math.Abs(OrthogonalGain(layer, reluFamily) - right) <= 0.1 * right;
    }
}
