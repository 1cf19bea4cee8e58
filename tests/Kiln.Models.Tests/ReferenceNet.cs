using System;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.Models.Tests;

// An independent double-precision implementation of the layers and losses, written straight from
// the formulas in docs/techniques.md#activations, docs/techniques.md#normalisation, docs/techniques.md#regularisation, docs/techniques.md#losses. It shares no code with the kernels: it reads the
// model's parameters by tensor name and the model's dropout masks (which units were kept), and
// recomputes everything else in double.

public abstract record RefOp;
public sealed record RefDense(string Name, bool Bias = true) : RefOp;
public sealed record RefBatchNorm(string Name, double Epsilon = 1e-5) : RefOp;
public sealed record RefActivation(string Kind, double Alpha = 0, string? PReluName = null) : RefOp;
public sealed record RefDropout(string Name, double Rate, DropoutScaling Scaling = DropoutScaling.Inverted) : RefOp;
public sealed record RefSoftmax : RefOp;
/// <summary>
/// Alpha dropout (docs/techniques.md#regularisation): in training a kept unit gives a·x + b, a dropped one a·α′ + b
/// (α′ = −λα); at test the identity. The keep pattern is read back from the layer's output and its input layer's.
/// </summary>
public sealed record RefAlphaDropout(string Name, string InputLayer, double Rate) : RefOp
{
    public const double Dropped = -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717;
    public double A => 1 / Math.Sqrt((1 - Rate) * (1 + Rate * Dropped * Dropped));
    public double B => -A * Rate * Dropped;
}
/// <summary>A spatial NCHW model input: the reference transposes it to channels-last (N, H, W, C) and tracks (C, H, W).</summary>
public sealed record RefImage(int Channels, int Height, int Width) : RefOp;
/// <summary>2-D convolution with weights [KH, KW, Cin, Cout], zero padding.</summary>
public sealed record RefConv(string Name, int KernelH, int KernelW, int Stride = 1, int Padding = 0, int Dilation = 1, bool Bias = true) : RefOp;
public sealed record RefMaxPool(int Size, int Stride, int Padding = 0) : RefOp;
/// <summary>Average over the in-bounds cells of each window (padding not counted).</summary>
public sealed record RefAvgPool(int Size, int Stride, int Padding = 0) : RefOp;
public sealed record RefGlobalAvgPool : RefOp;
/// <summary>LayerNorm (groups 1), InstanceNorm (groups = channels) or GroupNorm: per sample over each group of channels and all pixels.</summary>
public sealed record RefGroupNorm(string Name, int Groups, double Epsilon = 1e-5) : RefOp;
/// <summary>Maxout over the pieces of each unit (pieces of unit u adjacent: columns u·k … u·k + k − 1).</summary>
public sealed record RefMaxout(int Pieces) : RefOp;
/// <summary>
/// Fractional max pooling to OutH×OutW: training uses <see cref="ReferenceNet.Regions"/>[Name] (row and column
/// starts, each out + 1 entries); test averages the maxima over Draws layouts with offsets u = (d + 0.5)/Draws,
/// starts[i] = ceil(α(i + u)) − ceil(α·u), starts[out] = in (Graham 2014), computed here independently.
/// </summary>
public sealed record RefFractionalMaxPool(string Name, int OutH, int OutW, int Draws) : RefOp;
/// <summary>Start of a residual block: the current activations become the shortcut.</summary>
public sealed record RefResidualStart : RefOp;
/// <summary>
/// End of a residual block: shortcut + gate·branch; the gate is <see cref="ReferenceNet.Gates"/>[Name] in training, Survival at test.
/// With Projection the shortcut is P(x): a 1×1 convolution without bias, the smallest stride s with ⌈H/s⌉ = H' (and W), weights Name.projection [1, 1, C_in, C_out]
/// (spatial), or x·W with W = Name.projection [in, out] (flat).
/// </summary>
public sealed record RefResidualEnd(string Name, double Survival = 1, bool Projection = false) : RefOp;
/// <summary>Channels-last activations read as one vector per sample (H, W, C order).</summary>
public sealed record RefFlatten : RefOp;
/// <summary>Fixup's scalar bias (docs/techniques.md#initialisation): y = x + b, b = Name.bias[0].</summary>
public sealed record RefScalarBias(string Name) : RefOp;
/// <summary>Fixup's scalar multiplier (docs/techniques.md#initialisation): y = s·x, s = Name.scale[0].</summary>
public sealed record RefMultiplier(string Name) : RefOp;

public sealed class ReferenceNet
{
    private readonly RefOp[] _ops;
    private readonly int _input;
    public Dictionary<string, double[]> Tensors { get; } = new();
    public Dictionary<string, int[]> Shapes { get; } = new();
    /// <summary>Fractional max-pooling regions of the training step, by layer name.</summary>
    public Dictionary<string, (int[] Rows, int[] Cols)> Regions { get; } = new();
    /// <summary>Stochastic-depth gates (0 or 1) of residual blocks in training, by block name (absent = 1).</summary>
    public Dictionary<string, double> Gates { get; } = new();
    /// <summary>DropConnect masks (0 or 1/keep per weight) by layer name, applied to the weights in training.</summary>
    public Dictionary<string, double[]> WeightMasks { get; } = new();
    /// <summary>Keep pattern per dropout layer (true = kept), batch × width.</summary>
    public Dictionary<string, bool[]> Kept { get; } = new();
    public LossKind Loss { get; }
    public double Margin { get; init; } = 1.0;
    /// <summary>λ·R(W) terms per tensor: the loss adds L2·ΣW² + L1·Σ|W|.</summary>
    public Dictionary<string, (double L2, double L1)> Penalties { get; } = new();

    private double PenaltyLoss()
    {
        double total = 0;
        foreach (var (name, (l2, l1)) in Penalties)
            foreach (double w in Tensors[name]) total += l2 * w * w + l1 * Math.Abs(w);
        return total;
    }

    public ReferenceNet(IKilnModel model, LossKind loss, params RefOp[] ops)
    {
        _ops = ops;
        _input = model.InputSize;
        Loss = loss;
        foreach (TensorInfo t in model.Tensors)
        {
            Tensors[t.Name] = model.TensorData(t).ToArray().Select(v => (double)v).ToArray();
            Shapes[t.Name] = t.Shape;
        }
    }

    /// <summary>Reads the keep pattern of every dropout layer from the model's last training forward.</summary>
    public void CaptureMasks(IKilnModel model, Func<string, float[]> layerOutput)
    {
        foreach (RefDropout d in _ops.OfType<RefDropout>())
            Kept[d.Name] = layerOutput(d.Name).Select(v => v != 0f).ToArray();
        foreach (RefAlphaDropout d in _ops.OfType<RefAlphaDropout>())
        {
            float[] x = layerOutput(d.InputLayer), y = layerOutput(d.Name);
            double dropped = d.A * RefAlphaDropout.Dropped + d.B;
            Kept[d.Name] = y.Select((v, k) => Math.Abs(v - (d.A * x[k] + d.B)) <= Math.Abs(v - dropped)).ToArray();
        }
    }

    /// <summary>Network output (before the loss's own softmax/sigmoid) for a batch.</summary>
    public double[] Forward(double[] x, int batch, bool training)
    {
        double[] a = (double[])x.Clone();
        int width = _input;
        // Spatial activations are channels-last: `rows` = batch·pixels rows of `width` = C values.
        int pixels = 1, height = 0, imageWidth = 0;
        var shortcuts = new Stack<(double[] A, int Width, int Height, int ImageWidth, int Pixels)>();
        foreach (RefOp op in _ops)
        {
            int rows = batch * pixels;
            switch (op)
            {
                case RefImage image:
                {
                    int p = image.Height * image.Width;
                    var y = new double[a.Length];
                    for (int n = 0; n < batch; n++)
                        for (int c = 0; c < image.Channels; c++)
                            for (int q = 0; q < p; q++)
                                y[(n * p + q) * image.Channels + c] = a[(n * image.Channels + c) * p + q];
                    a = y;
                    (width, height, imageWidth, pixels) = (image.Channels, image.Height, image.Width, p);
                    break;
                }
                case RefConv conv:
                {
                    double[] w = Masked(conv.Name, training);
                    int outC = Shapes[conv.Name + ".weight"][3];
                    double[]? b = conv.Bias ? Tensors[conv.Name + ".bias"] : null;
                    int oh = (height + 2 * conv.Padding - conv.Dilation * (conv.KernelH - 1) - 1) / conv.Stride + 1;
                    int ow = (imageWidth + 2 * conv.Padding - conv.Dilation * (conv.KernelW - 1) - 1) / conv.Stride + 1;
                    var y = new double[batch * oh * ow * outC];
                    for (int n = 0; n < batch; n++)
                        for (int oy = 0; oy < oh; oy++)
                            for (int ox = 0; ox < ow; ox++)
                                for (int o = 0; o < outC; o++)
                                {
                                    double sum = b?[o] ?? 0;
                                    for (int ky = 0; ky < conv.KernelH; ky++)
                                        for (int kx = 0; kx < conv.KernelW; kx++)
                                        {
                                            int iy = oy * conv.Stride - conv.Padding + ky * conv.Dilation;
                                            int ix = ox * conv.Stride - conv.Padding + kx * conv.Dilation;
                                            if (iy < 0 || iy >= height || ix < 0 || ix >= imageWidth) continue;
                                            for (int c = 0; c < width; c++)
                                                sum += a[((n * height + iy) * imageWidth + ix) * width + c] * w[((ky * conv.KernelW + kx) * width + c) * outC + o];
                                        }
                                    y[((n * oh + oy) * ow + ox) * outC + o] = sum;
                                }
                    a = y;
                    (width, height, imageWidth, pixels) = (outC, oh, ow, oh * ow);
                    break;
                }
                case RefMaxPool or RefAvgPool:
                {
                    bool max = op is RefMaxPool;
                    (int size, int stride, int padding) = op is RefMaxPool mp ? (mp.Size, mp.Stride, mp.Padding)
                        : (((RefAvgPool)op).Size, ((RefAvgPool)op).Stride, ((RefAvgPool)op).Padding);
                    int oh = (height + 2 * padding - size) / stride + 1, ow = (imageWidth + 2 * padding - size) / stride + 1;
                    var y = new double[batch * oh * ow * width];
                    for (int n = 0; n < batch; n++)
                        for (int oy = 0; oy < oh; oy++)
                            for (int ox = 0; ox < ow; ox++)
                                for (int c = 0; c < width; c++)
                                {
                                    double best = double.NegativeInfinity, sum = 0;
                                    int count = 0;
                                    for (int ky = 0; ky < size; ky++)
                                        for (int kx = 0; kx < size; kx++)
                                        {
                                            int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
                                            if (iy < 0 || iy >= height || ix < 0 || ix >= imageWidth) continue;
                                            double v = a[((n * height + iy) * imageWidth + ix) * width + c];
                                            best = Math.Max(best, v);
                                            sum += v;
                                            count++;
                                        }
                                    y[((n * oh + oy) * ow + ox) * width + c] = max ? best : sum / count;
                                }
                    a = y;
                    (height, imageWidth, pixels) = (oh, ow, oh * ow);
                    break;
                }
                case RefGlobalAvgPool:
                {
                    var y = new double[batch * width];
                    for (int n = 0; n < batch; n++)
                        for (int q = 0; q < pixels; q++)
                            for (int c = 0; c < width; c++)
                                y[n * width + c] += a[(n * pixels + q) * width + c] / pixels;
                    a = y;
                    pixels = 1;
                    break;
                }
                case RefGroupNorm gn:
                {
                    double[] gamma = Tensors[gn.Name + ".gamma"], beta = Tensors[gn.Name + ".beta"];
                    int per = width / gn.Groups;
                    var y = new double[a.Length];
                    for (int n = 0; n < batch; n++)
                        for (int g = 0; g < gn.Groups; g++)
                        {
                            double mean = 0, variance = 0;
                            int count = pixels * per;
                            for (int q = 0; q < pixels; q++)
                                for (int c = g * per; c < (g + 1) * per; c++) mean += a[(n * pixels + q) * width + c];
                            mean /= count;
                            for (int q = 0; q < pixels; q++)
                                for (int c = g * per; c < (g + 1) * per; c++) variance += Math.Pow(a[(n * pixels + q) * width + c] - mean, 2);
                            variance /= count;
                            for (int q = 0; q < pixels; q++)
                                for (int c = g * per; c < (g + 1) * per; c++)
                                {
                                    int k = (n * pixels + q) * width + c;
                                    y[k] = gamma[c] * (a[k] - mean) / Math.Sqrt(variance + gn.Epsilon) + beta[c];
                                }
                        }
                    a = y;
                    break;
                }
                case RefMaxout mo:
                {
                    int units = width / mo.Pieces;
                    var y = new double[rows * units];
                    for (int r = 0; r < rows; r++)
                        for (int u = 0; u < units; u++)
                        {
                            double best = double.NegativeInfinity;
                            for (int j = 0; j < mo.Pieces; j++) best = Math.Max(best, a[r * width + u * mo.Pieces + j]);
                            y[r * units + u] = best;
                        }
                    a = y;
                    width = units;
                    break;
                }
                case RefFractionalMaxPool fp:
                {
                    static int[] Layout(int inSize, int outSize, double u)
                    {
                        double alpha = (double)inSize / outSize;
                        var starts = new int[outSize + 1];
                        for (int i = 0; i < outSize; i++) starts[i] = (int)(Math.Ceiling(alpha * (i + u)) - Math.Ceiling(alpha * u));
                        starts[outSize] = inSize;
                        return starts;
                    }
                    var layouts = training
                        ? new[] { Regions[fp.Name] }
                        : Enumerable.Range(0, fp.Draws).Select(d => (Layout(height, fp.OutH, (d + 0.5) / fp.Draws), Layout(imageWidth, fp.OutW, (d + 0.5) / fp.Draws))).ToArray();
                    var y = new double[batch * fp.OutH * fp.OutW * width];
                    foreach ((int[] rs, int[] cs) in layouts)
                        for (int n = 0; n < batch; n++)
                            for (int oy = 0; oy < fp.OutH; oy++)
                                for (int ox = 0; ox < fp.OutW; ox++)
                                    for (int c = 0; c < width; c++)
                                    {
                                        double best = double.NegativeInfinity;
                                        for (int iy = rs[oy]; iy < rs[oy + 1]; iy++)
                                            for (int ix = cs[ox]; ix < cs[ox + 1]; ix++)
                                                best = Math.Max(best, a[((n * height + iy) * imageWidth + ix) * width + c]);
                                        y[((n * fp.OutH + oy) * fp.OutW + ox) * width + c] += best / layouts.Length;
                                    }
                    a = y;
                    (height, imageWidth, pixels) = (fp.OutH, fp.OutW, fp.OutH * fp.OutW);
                    break;
                }
                case RefResidualStart:
                    shortcuts.Push((a, width, height, imageWidth, pixels));
                    break;
                case RefResidualEnd end:
                {
                    double gate = training ? (Gates.TryGetValue(end.Name, out double g) ? g : 1) : end.Survival;
                    (double[] shortcut, int inC, int inH, int inW, int inPixels) = shortcuts.Pop();
                    if (end.Projection)
                    {
                        double[] p = Tensors[end.Name + ".projection"];
                        var projected = new double[a.Length];
                        if (inPixels == 1 && pixels == 1)
                        {
                            for (int n = 0; n < batch; n++)
                                for (int j = 0; j < width; j++)
                                {
                                    double sum = 0;
                                    for (int i = 0; i < inC; i++) sum += shortcut[n * inC + i] * p[i * width + j];
                                    projected[n * width + j] = sum;
                                }
                        }
                        else
                        {
                            int stride = Enumerable.Range(1, Math.Max(inH, inW)).First(t => (inH + t - 1) / t == height && (inW + t - 1) / t == imageWidth);
                            for (int n = 0; n < batch; n++)
                                for (int oy = 0; oy < height; oy++)
                                    for (int ox = 0; ox < imageWidth; ox++)
                                        for (int o = 0; o < width; o++)
                                        {
                                            double sum = 0;
                                            int q = (n * inH + oy * stride) * inW + ox * stride;
                                            for (int c = 0; c < inC; c++) sum += shortcut[q * inC + c] * p[c * width + o];
                                            projected[((n * height + oy) * imageWidth + ox) * width + o] = sum;
                                        }
                        }
                        shortcut = projected;
                    }
                    a = a.Select((v, i) => shortcut[i] + gate * v).ToArray();
                    break;
                }
                case RefFlatten:
                    width *= pixels;
                    pixels = 1;
                    break;
                case RefDense d:
                {
                    double[] w = Masked(d.Name, training);
                    int outW = Shapes[d.Name + ".weight"][1];
                    double[]? b = d.Bias ? Tensors[d.Name + ".bias"] : null;
                    var y = new double[batch * outW];
                    for (int r = 0; r < batch; r++)
                        for (int j = 0; j < outW; j++)
                        {
                            double s = b?[j] ?? 0;
                            for (int i = 0; i < width; i++) s += a[r * width + i] * w[i * outW + j];
                            y[r * outW + j] = s;
                        }
                    a = y;
                    width = outW;
                    break;
                }
                case RefBatchNorm bn:
                {
                    double[] gamma = Tensors[bn.Name + ".gamma"], beta = Tensors[bn.Name + ".beta"];
                    double[] rm = Tensors[bn.Name + ".running_mean"], rv = Tensors[bn.Name + ".running_var"];
                    var y = new double[a.Length];
                    for (int c = 0; c < width; c++)
                    {
                        double mean, variance;
                        if (training)
                        {
                            mean = 0;
                            for (int r = 0; r < rows; r++) mean += a[r * width + c];
                            mean /= rows;
                            variance = 0;
                            for (int r = 0; r < rows; r++) variance += Math.Pow(a[r * width + c] - mean, 2);
                            variance /= rows; // biased, as in the paper (per channel over N, H, W when spatial)
                        }
                        else { mean = rm[c]; variance = rv[c]; }
                        for (int r = 0; r < rows; r++)
                            y[r * width + c] = gamma[c] * (a[r * width + c] - mean) / Math.Sqrt(variance + bn.Epsilon) + beta[c];
                    }
                    a = y;
                    break;
                }
                case RefActivation act:
                {
                    double[]? alpha = act.PReluName is null ? null : Tensors[act.PReluName + ".alpha"];
                    var y = new double[a.Length];
                    for (int k = 0; k < a.Length; k++) y[k] = Activate(act, a[k], alpha?[k % width] ?? 0);
                    a = y;
                    break;
                }
                case RefDropout drop:
                {
                    double keep = 1 - drop.Rate;
                    if (training)
                    {
                        bool[] kept = Kept[drop.Name];
                        double scale = drop.Scaling == DropoutScaling.Inverted ? 1 / keep : 1;
                        for (int k = 0; k < a.Length; k++) a[k] = kept[k] ? a[k] * scale : 0;
                    }
                    else if (drop.Scaling == DropoutScaling.TestTime)
                        for (int k = 0; k < a.Length; k++) a[k] *= keep;
                    break;
                }
                case RefScalarBias sb:
                {
                    double b = Tensors[sb.Name + ".bias"][0];
                    a = a.Select(v => v + b).ToArray();
                    break;
                }
                case RefMultiplier mul:
                {
                    double s = Tensors[mul.Name + ".scale"][0];
                    a = a.Select(v => s * v).ToArray();
                    break;
                }
                case RefAlphaDropout alpha:
                {
                    if (!training) break;
                    bool[] kept = Kept[alpha.Name];
                    for (int k = 0; k < a.Length; k++) a[k] = alpha.A * (kept[k] ? a[k] : RefAlphaDropout.Dropped) + alpha.B;
                    break;
                }
                case RefSoftmax:
                {
                    for (int r = 0; r < batch; r++)
                    {
                        double max = double.NegativeInfinity;
                        for (int j = 0; j < width; j++) max = Math.Max(max, a[r * width + j]);
                        double sum = 0;
                        for (int j = 0; j < width; j++) sum += Math.Exp(a[r * width + j] - max);
                        for (int j = 0; j < width; j++) a[r * width + j] = Math.Exp(a[r * width + j] - max) / sum;
                    }
                    break;
                }
            }
        }
        return a;
    }

    private double[] Masked(string layer, bool training)
    {
        double[] w = Tensors[layer + ".weight"];
        if (!training || !WeightMasks.TryGetValue(layer, out double[]? mask)) return w;
        return w.Select((v, i) => v * mask[i]).ToArray();
    }

    public static double Activate(RefActivation act, double x, double preluAlpha) => act.Kind switch
    {
        "Sigmoid" => 1 / (1 + Math.Exp(-x)),
        "Tanh" => Math.Tanh(x),
        "ReLU" => Math.Max(0, x),
        "LeakyReLU" => x > 0 ? x : act.Alpha * x,
        "PReLU" => x > 0 ? x : preluAlpha * x,
        "ELU" => x > 0 ? x : act.Alpha * (Math.Exp(x) - 1),
        "SELU" => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.Exp(x) - 1)),
        "Swish" => x / (1 + Math.Exp(-act.Alpha * x)),
        "GELU" => x * 0.5 * (1 + Erf(x / Math.Sqrt(2))),
        "Identity" => x,
        _ => throw new ArgumentException("Unknown activation " + act.Kind),
    };

    /// <summary>Mean loss over the batch, with integer labels.</summary>
    public double LossWithLabels(double[] x, int[] labels, int batch, bool training)
    {
        double[] z = Forward(x, batch, training);
        int o = z.Length / batch;
        double total = 0;
        for (int r = 0; r < batch; r++)
        {
            int y = labels[r];
            switch (Loss)
            {
                case LossKind.SoftmaxCrossEntropy:
                {
                    double max = Enumerable.Range(0, o).Max(j => z[r * o + j]);
                    double lse = max + Math.Log(Enumerable.Range(0, o).Sum(j => Math.Exp(z[r * o + j] - max)));
                    total += lse - z[r * o + y];
                    break;
                }
                case LossKind.MulticlassHinge:
                    for (int j = 0; j < o; j++)
                        if (j != y) total += Math.Max(0, z[r * o + j] - z[r * o + y] + Margin);
                    break;
                case LossKind.BinaryCrossEntropy:
                {
                    double v = z[r], t = y;
                    total += Math.Max(v, 0) - v * t + Math.Log(1 + Math.Exp(-Math.Abs(v)));
                    break;
                }
                default:
                    throw new InvalidOperationException("MSE needs float targets.");
            }
        }
        return total / batch + PenaltyLoss();
    }

    /// <summary>Mean loss over the batch, with float targets (soft labels, binary targets, regression).</summary>
    public double LossWithTargets(double[] x, double[] targets, int batch, bool training)
    {
        double[] z = Forward(x, batch, training);
        int o = z.Length / batch;
        double total = 0;
        for (int r = 0; r < batch; r++)
        {
            switch (Loss)
            {
                case LossKind.SoftmaxCrossEntropy:
                {
                    double max = Enumerable.Range(0, o).Max(j => z[r * o + j]);
                    double lse = max + Math.Log(Enumerable.Range(0, o).Sum(j => Math.Exp(z[r * o + j] - max)));
                    for (int j = 0; j < o; j++) total -= targets[r * o + j] * (z[r * o + j] - lse);
                    break;
                }
                case LossKind.BinaryCrossEntropy:
                    for (int j = 0; j < o; j++)
                    {
                        double v = z[r * o + j], t = targets[r * o + j];
                        total += Math.Max(v, 0) - v * t + Math.Log(1 + Math.Exp(-Math.Abs(v)));
                    }
                    break;
                case LossKind.MeanSquaredError:
                {
                    double s = 0;
                    for (int j = 0; j < o; j++) s += Math.Pow(z[r * o + j] - targets[r * o + j], 2);
                    total += s / o;
                    break;
                }
                default:
                    throw new InvalidOperationException("Hinge needs labels.");
            }
        }
        return total / batch + PenaltyLoss();
    }

    /// <summary>Central finite differences in double of a loss with respect to every element of a tensor.</summary>
    public double[] NumericGradient(string tensor, Func<double> loss, double h = 1e-6)
    {
        double[] values = Tensors[tensor];
        var grad = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double saved = values[i];
            values[i] = saved + h;
            double plus = loss();
            values[i] = saved - h;
            double minus = loss();
            values[i] = saved;
            grad[i] = (plus - minus) / (2 * h);
        }
        return grad;
    }

    /// <summary>erf in double: Maclaurin series for |x| &lt; 3, continued fraction for erfc beyond.</summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        double result;
        if (ax < 3)
        {
            double sum = 0, term = ax;
            for (int n = 0; n < 200; n++)
            {
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
                term *= -ax * ax / (n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double k = ax;
            for (int n = 80; n >= 1; n--) k = ax + n / 2.0 / k;
            result = 1 - Math.Exp(-ax * ax) / (Math.Sqrt(Math.PI) * k);
        }
        return x < 0 ? -result : result;
    }
}
