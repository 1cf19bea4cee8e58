using System;
using System.Collections.Generic;

namespace Kiln.Benchmarks;

/// <summary>One layer's share of a model's work, per sample.</summary>
/// <param name="Name">The layer's name (<see cref="LayerInfo.Name"/>).</param>
/// <param name="Kind">Its kind (<see cref="LayerInfo.Kind"/>).</param>
/// <param name="ForwardMacs">Multiply-adds of its forward product per sample (0 for layers without one); a convolution
/// counts as the direct convolution would, whatever algorithm runs it.</param>
/// <param name="ProductFloats">Floats of its product's weight and bias (what a batch-1 forward must read).</param>
/// <param name="OutputFloats">Floats of its output per sample.</param>
/// <param name="WinogradMacs">Multiply-adds of its forward product (and of its input gradient) as the runtime runs
/// them: Winograd F(2×2, r×r) for an eligible convolution (<see cref="ModelWork.WinogradEligible"/>), else
/// <paramref name="ForwardMacs"/>.</param>
internal sealed record LayerWork(string Name, string Kind, long ForwardMacs, long ProductFloats, long OutputFloats, long WinogradMacs);

/// <summary>
/// What a model asks of the machine, counted from its layer and tensor lists (<see cref="IKilnModel.Layers"/>,
/// <see cref="IKilnModel.Tensors"/>) rather than written down per model: the arithmetic of training and inference
/// and the bytes the memory-bound parts must move. docs/perf/limits.md sets these against the measured limits
/// (<c>--limits</c>). FLOPs follow the efficiency figures' rule (benchmarks/README.md, "Efficiency";
/// <see cref="TrainingFlops"/>): only the products, 2 FLOP per multiply-add; forward, weight gradient and input
/// gradient per product layer, except the first, whose input gradient is not computed.
/// </summary>
internal sealed record ModelWork(string Model, int InputFloats, IReadOnlyList<LayerWork> Layers, long ParameterFloats)
{
    /// <summary>Bytes per float.</summary>
    private const int Float = sizeof(float);

    /// <summary>FLOP of one training sample (products only).</summary>
    public long TrainingFlopPerSample => Training(l => l.ForwardMacs);

    /// <summary>
    /// FLOP of one training sample's products as the runtime runs them: an eligible convolution's forward and input
    /// gradient by Winograd F(2×2, r×r) (elementwise products of transformed tiles; the transforms' adds are not
    /// counted), its weight gradient and every other product as counted in <see cref="TrainingFlopPerSample"/>.
    /// </summary>
    public long TrainingFlopExecutedPerSample => Training(l => l.WinogradMacs);

    /// <summary>FLOP of one inference sample (the forward products).</summary>
    public long InferenceFlopPerSample => Inference(l => l.ForwardMacs);

    /// <summary>FLOP of one inference sample's products as the runtime runs them (Winograd where eligible).</summary>
    public long InferenceFlopExecutedPerSample => Inference(l => l.WinogradMacs);

    /// <summary>
    /// 2 FLOP per multiply-add of every product layer's forward and input gradient (<paramref name="pass"/>'s count)
    /// and weight gradient (always direct), without the first product layer's input gradient.
    /// </summary>
    private long Training(Func<LayerWork, long> pass)
    {
        long total = 0;
        bool first = true;
        foreach (LayerWork l in Layers)
        {
            if (l.ForwardMacs == 0) continue;
            total += 2 * (pass(l) + l.ForwardMacs + (first ? 0 : pass(l)));
            first = false;
        }
        return total;
    }

    private long Inference(Func<LayerWork, long> pass)
    {
        long total = 0;
        foreach (LayerWork l in Layers) total += 2 * pass(l);
        return total;
    }

    /// <summary>Bytes of the products' weights and biases: what one batch-1 forward reads at least once.</summary>
    public long ProductWeightBytes
    {
        get
        {
            long total = 0;
            foreach (LayerWork l in Layers) total += l.ProductFloats;
            return total * Float;
        }
    }

    /// <summary>
    /// Bytes Adam moves per step whatever the batch: it reads weight, gradient and both moments of every trainable
    /// float and writes weight and both moments back (7 floats each).
    /// </summary>
    public long AdamBytesPerStep => 7 * Float * ParameterFloats;

    /// <summary>Bytes of one pass over the input and every layer's output, per sample.</summary>
    public long ActivationBytesPerSample
    {
        get
        {
            long total = InputFloats;
            foreach (LayerWork l in Layers) total += l.OutputFloats;
            return total * Float;
        }
    }

    /// <summary>
    /// Counts <paramref name="model"/>'s layers. Dense weights are [in, out]; convolution weights [kh, kw, in, out]
    /// with the output [out, H, W] (the shapes the generator reports). Throws <see cref="NotSupportedException"/> for a
    /// layer with a weight tensor whose product this does not know how to count, and <see cref="ArgumentException"/>
    /// when a layer's weight does not fit its neighbours' shapes, naming the layer either way.
    /// </summary>
    public static ModelWork Of(string name, IKilnModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Of(name, model.InputSize, model.Layers, model.Tensors);
    }

    /// <inheritdoc cref="Of(string, IKilnModel)"/>
    public static ModelWork Of(string name, int inputFloats, IReadOnlyList<LayerInfo> layers, IReadOnlyList<TensorInfo> tensors)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(tensors);
        var work = new List<LayerWork>(layers.Count);
        long parameters = 0;
        foreach (TensorInfo t in tensors) if (t.Trainable) parameters += t.Length;
        long inWidth = inputFloats;
        foreach (LayerInfo layer in layers)
        {
            TensorInfo? weight = null;
            long bias = 0;
            foreach (TensorInfo t in tensors)
            {
                if (t.Layer != layer.Name) continue;
                if (t.Role == TensorRole.Weight) weight = t;
                else if (t.Role == TensorRole.Bias) bias = t.Length;
            }
            long outFloats = Product(layer.OutputShape);
            long macs = 0, fast = -1;
            if (weight is not null)
            {
                int[] w = weight.Shape;
                switch (layer.Kind)
                {
                    case "dense":
                        if (w.Length != 2 || w[0] != inWidth || w[1] != outFloats)
                            throw new ArgumentException($"{name}: layer '{layer.Name}' (dense) has weight [{string.Join(", ", w)}] but input width {inWidth} and output width {outFloats}.");
                        macs = (long)w[0] * w[1];
                        break;
                    case "conv2d":
                        if (w.Length != 4 || layer.OutputShape.Length != 3 || w[3] != layer.OutputShape[0] || inWidth % w[2] != 0)
                            throw new ArgumentException($"{name}: layer '{layer.Name}' (conv2d) has weight [{string.Join(", ", w)}] (kh, kw, in, out) but output [{string.Join(", ", layer.OutputShape)}] and input of {inWidth} floats.");
                        macs = outFloats * w[0] * w[1] * w[2];
                        if (WinogradEligible(w, inWidth / w[2], layer.OutputShape))
                        {
                            int m = 2, tile = m + w[0] - 1;
                            long tiles = (long)((layer.OutputShape[1] + m - 1) / m) * ((layer.OutputShape[2] + m - 1) / m);
                            fast = tiles * tile * tile * w[2] * w[3];
                        }
                        break;
                    default:
                        throw new NotSupportedException($"{name}: layer '{layer.Name}' ({layer.Kind}) has a weight tensor, but only dense and conv2d products are counted.");
                }
            }
            work.Add(new LayerWork(layer.Name, layer.Kind, macs, weight is null ? 0 : weight.Length + bias, outFloats, fast < 0 ? macs : fast));
            inWidth = outFloats;
        }
        return new ModelWork(name, inputFloats, work, parameters);
    }

    /// <summary>
    /// Whether the runtime trains and infers a convolution by Winograd F(2×2, r×r): a square 3×3 or 5×5 kernel,
    /// stride 1, at least 8 input channels and 16 filters (docs/perf/winograd-training.md). The layer list has no
    /// stride, dilation or DropConnect: stride 1 is read from the sizes (a square input of side s gives an output side
    /// of at least s − r + 1 only at stride 1); dilation 1 and no DropConnect are assumed, as in the benchmark models.
    /// </summary>
    internal static bool WinogradEligible(int[] weight, long inputPixels, int[] outputShape)
    {
        int r = weight[0];
        if (r != weight[1] || (r != 3 && r != 5) || weight[2] < 8 || weight[3] < 16) return false;
        long side = (long)Math.Round(Math.Sqrt(inputPixels));
        return side * side == inputPixels && outputShape[1] >= side - r + 1 && outputShape[2] >= side - r + 1;
    }

    private static long Product(int[] shape)
    {
        long p = 1;
        foreach (int d in shape) p *= d;
        return p;
    }
}
