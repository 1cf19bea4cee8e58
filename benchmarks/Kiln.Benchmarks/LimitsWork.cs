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
internal sealed record LayerWork(string Name, string Kind, long ForwardMacs, long ProductFloats, long OutputFloats);

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
    public long TrainingFlopPerSample
    {
        get
        {
            long total = 0;
            bool first = true;
            foreach (LayerWork l in Layers)
            {
                if (l.ForwardMacs == 0) continue;
                total += 2 * l.ForwardMacs * (first ? 2 : 3);
                first = false;
            }
            return total;
        }
    }

    /// <summary>FLOP of one inference sample (the forward products).</summary>
    public long InferenceFlopPerSample
    {
        get
        {
            long total = 0;
            foreach (LayerWork l in Layers) total += 2 * l.ForwardMacs;
            return total;
        }
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
            long macs = 0;
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
                        break;
                    default:
                        throw new NotSupportedException($"{name}: layer '{layer.Name}' ({layer.Kind}) has a weight tensor, but only dense and conv2d products are counted.");
                }
            }
            work.Add(new LayerWork(layer.Name, layer.Kind, macs, weight is null ? 0 : weight.Length + bias, outFloats));
            inWidth = outFloats;
        }
        return new ModelWork(name, inputFloats, work, parameters);
    }

    private static long Product(int[] shape)
    {
        long p = 1;
        foreach (int d in shape) p *= d;
        return p;
    }
}
