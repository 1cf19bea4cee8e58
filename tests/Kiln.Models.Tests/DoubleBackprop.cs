using System;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.Models.Tests;

/// <summary>
/// Analytic gradients in double of a training step (softmax cross-entropy with labels, mean over the batch) for the
/// layers of the benchmark CNN: image (NCHW → channels-last), Conv2D, BatchNorm with batch statistics, ReLU, max
/// pooling, Flatten, Dense and dropout with a captured keep pattern. Straightforward loops over the formulas, written
/// independently of the kernels; finite differences (<see cref="ReferenceNet.NumericGradient"/>) are too slow and too
/// noisy at the 1e-6 level this is used for (the accuracy of float32 gradients over batch × pixel reductions).
/// </summary>
public sealed class DoubleBackprop
{
    private readonly ReferenceNet _net;
    private readonly RefOp[] _ops;
    private readonly int _input;

    public DoubleBackprop(ReferenceNet net, int inputSize, params RefOp[] ops)
    {
        _net = net;
        _ops = ops;
        _input = inputSize;
    }

    /// <summary>The loss and dL/d(tensor) for every parameter tensor the ops use.</summary>
    public (double Loss, Dictionary<string, double[]> Gradients) Run(double[] x, int[] labels, int batch)
    {
        var grads = new Dictionary<string, double[]>();
        var backward = new Stack<Func<double[], double[]>>();
        double[] a = (double[])x.Clone();
        int width = _input, pixels = 1, height = 0, imageWidth = 0;
        foreach (RefOp op in _ops)
        {
            int rows = batch * pixels;
            switch (op)
            {
                case RefImage image:
                {
                    int p = image.Height * image.Width, ch = image.Channels;
                    var y = new double[a.Length];
                    for (int n = 0; n < batch; n++)
                        for (int c = 0; c < ch; c++)
                            for (int q = 0; q < p; q++)
                                y[(n * p + q) * ch + c] = a[(n * ch + c) * p + q];
                    a = y;
                    (width, height, imageWidth, pixels) = (ch, image.Height, image.Width, p);
                    backward.Push(dy => dy); // the input's gradient is not needed
                    break;
                }
                case RefConv conv:
                {
                    double[] w = _net.Tensors[conv.Name + ".weight"], input = a;
                    int outC = _net.Shapes[conv.Name + ".weight"][3], inC = width, h = height, iw = imageWidth;
                    double[]? b = conv.Bias ? _net.Tensors[conv.Name + ".bias"] : null;
                    int oh = (h + 2 * conv.Padding - conv.Dilation * (conv.KernelH - 1) - 1) / conv.Stride + 1;
                    int ow = (iw + 2 * conv.Padding - conv.Dilation * (conv.KernelW - 1) - 1) / conv.Stride + 1;
                    // Visits every (output, tap, input) triple once: forward accumulates y, backward dW, db and dx.
                    void Taps(int n, int oy, int ox, Action<int, int> tap)
                    {
                        for (int ky = 0; ky < conv.KernelH; ky++)
                            for (int kx = 0; kx < conv.KernelW; kx++)
                            {
                                int iy = oy * conv.Stride - conv.Padding + ky * conv.Dilation, ix = ox * conv.Stride - conv.Padding + kx * conv.Dilation;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= iw) continue;
                                tap(((n * h + iy) * iw + ix) * inC, (ky * conv.KernelW + kx) * inC);
                            }
                    }
                    var y = new double[batch * oh * ow * outC];
                    for (int n = 0; n < batch; n++)
                        for (int oy = 0; oy < oh; oy++)
                            for (int ox = 0; ox < ow; ox++)
                            {
                                int o0 = ((n * oh + oy) * ow + ox) * outC;
                                for (int o = 0; o < outC; o++) y[o0 + o] = b?[o] ?? 0;
                                Taps(n, oy, ox, (xi, wi) =>
                                {
                                    for (int c = 0; c < inC; c++)
                                        for (int o = 0; o < outC; o++) y[o0 + o] += input[xi + c] * w[(wi + c) * outC + o];
                                });
                            }
                    backward.Push(dy =>
                    {
                        var dw = new double[w.Length];
                        var db = new double[outC];
                        var dx = new double[input.Length];
                        for (int n = 0; n < batch; n++)
                            for (int oy = 0; oy < oh; oy++)
                                for (int ox = 0; ox < ow; ox++)
                                {
                                    int o0 = ((n * oh + oy) * ow + ox) * outC;
                                    for (int o = 0; o < outC; o++) db[o] += dy[o0 + o];
                                    Taps(n, oy, ox, (xi, wi) =>
                                    {
                                        for (int c = 0; c < inC; c++)
                                            for (int o = 0; o < outC; o++)
                                            {
                                                dw[(wi + c) * outC + o] += input[xi + c] * dy[o0 + o];
                                                dx[xi + c] += w[(wi + c) * outC + o] * dy[o0 + o];
                                            }
                                    });
                                }
                        grads[conv.Name + ".weight"] = dw;
                        if (conv.Bias) grads[conv.Name + ".bias"] = db;
                        return dx;
                    });
                    a = y;
                    (width, height, imageWidth, pixels) = (outC, oh, ow, oh * ow);
                    break;
                }
                case RefBatchNorm bn:
                {
                    double[] gamma = _net.Tensors[bn.Name + ".gamma"], beta = _net.Tensors[bn.Name + ".beta"];
                    int cols = width;
                    var xhat = new double[a.Length];
                    var invStd = new double[cols];
                    var y = new double[a.Length];
                    for (int c = 0; c < cols; c++)
                    {
                        double mean = 0, variance = 0;
                        for (int r = 0; r < rows; r++) mean += a[r * cols + c];
                        mean /= rows;
                        for (int r = 0; r < rows; r++) variance += (a[r * cols + c] - mean) * (a[r * cols + c] - mean);
                        variance /= rows;
                        invStd[c] = 1 / Math.Sqrt(variance + bn.Epsilon);
                        for (int r = 0; r < rows; r++)
                        {
                            xhat[r * cols + c] = (a[r * cols + c] - mean) * invStd[c];
                            y[r * cols + c] = gamma[c] * xhat[r * cols + c] + beta[c];
                        }
                    }
                    backward.Push(dy =>
                    {
                        var dgamma = new double[cols];
                        var dbeta = new double[cols];
                        var dx = new double[dy.Length];
                        for (int c = 0; c < cols; c++)
                        {
                            for (int r = 0; r < rows; r++)
                            {
                                dbeta[c] += dy[r * cols + c];
                                dgamma[c] += dy[r * cols + c] * xhat[r * cols + c];
                            }
                            for (int r = 0; r < rows; r++)
                                dx[r * cols + c] = gamma[c] * invStd[c] * (dy[r * cols + c] - dbeta[c] / rows - xhat[r * cols + c] * dgamma[c] / rows);
                        }
                        grads[bn.Name + ".gamma"] = dgamma;
                        grads[bn.Name + ".beta"] = dbeta;
                        return dx;
                    });
                    a = y;
                    break;
                }
                case RefActivation { Kind: "ReLU" }:
                {
                    double[] u = a;
                    a = u.Select(v => Math.Max(0, v)).ToArray();
                    backward.Push(dy => dy.Select((g, i) => u[i] > 0 ? g : 0).ToArray());
                    break;
                }
                case RefMaxPool pool:
                {
                    int oh = (height + 2 * pool.Padding - pool.Size) / pool.Stride + 1, ow = (imageWidth + 2 * pool.Padding - pool.Size) / pool.Stride + 1;
                    int inLength = a.Length;
                    var y = new double[batch * oh * ow * width];
                    var argmax = new int[y.Length];
                    for (int n = 0; n < batch; n++)
                        for (int oy = 0; oy < oh; oy++)
                            for (int ox = 0; ox < ow; ox++)
                                for (int c = 0; c < width; c++)
                                {
                                    double best = double.NegativeInfinity;
                                    int at = -1;
                                    for (int ky = 0; ky < pool.Size; ky++)
                                        for (int kx = 0; kx < pool.Size; kx++)
                                        {
                                            int iy = oy * pool.Stride - pool.Padding + ky, ix = ox * pool.Stride - pool.Padding + kx;
                                            if (iy < 0 || iy >= height || ix < 0 || ix >= imageWidth) continue;
                                            int i = ((n * height + iy) * imageWidth + ix) * width + c;
                                            if (a[i] > best) (best, at) = (a[i], i);
                                        }
                                    int o = ((n * oh + oy) * ow + ox) * width + c;
                                    (y[o], argmax[o]) = (best, at);
                                }
                    backward.Push(dy =>
                    {
                        var dx = new double[inLength];
                        for (int o = 0; o < dy.Length; o++) dx[argmax[o]] += dy[o];
                        return dx;
                    });
                    a = y;
                    (height, imageWidth, pixels) = (oh, ow, oh * ow);
                    break;
                }
                case RefFlatten:
                    width *= pixels;
                    pixels = 1;
                    backward.Push(dy => dy);
                    break;
                case RefDense d:
                {
                    double[] w = _net.Tensors[d.Name + ".weight"], input = a;
                    int inW = width, outW = _net.Shapes[d.Name + ".weight"][1];
                    double[]? b = d.Bias ? _net.Tensors[d.Name + ".bias"] : null;
                    var y = new double[batch * outW];
                    for (int r = 0; r < batch; r++)
                        for (int j = 0; j < outW; j++)
                        {
                            double s = b?[j] ?? 0;
                            for (int i = 0; i < inW; i++) s += input[r * inW + i] * w[i * outW + j];
                            y[r * outW + j] = s;
                        }
                    backward.Push(dy =>
                    {
                        var dw = new double[w.Length];
                        var db = new double[outW];
                        var dx = new double[input.Length];
                        for (int r = 0; r < batch; r++)
                            for (int j = 0; j < outW; j++)
                            {
                                double g = dy[r * outW + j];
                                db[j] += g;
                                for (int i = 0; i < inW; i++)
                                {
                                    dw[i * outW + j] += input[r * inW + i] * g;
                                    dx[r * inW + i] += w[i * outW + j] * g;
                                }
                            }
                        grads[d.Name + ".weight"] = dw;
                        if (d.Bias) grads[d.Name + ".bias"] = db;
                        return dx;
                    });
                    a = y;
                    width = outW;
                    break;
                }
                case RefDropout drop:
                {
                    bool[] kept = _net.Kept[drop.Name];
                    double scale = drop.Scaling == DropoutScaling.Inverted ? 1 / (1 - drop.Rate) : 1;
                    double[] mask = kept.Select(k => k ? scale : 0).ToArray();
                    a = a.Select((v, i) => v * mask[i]).ToArray();
                    backward.Push(dy => dy.Select((g, i) => g * mask[i]).ToArray());
                    break;
                }
                default:
                    throw new NotSupportedException($"{op} has no double backward here.");
            }
        }

        // Softmax cross-entropy, mean over the batch: dL/dz = (softmax − onehot) / batch.
        double loss = 0;
        var dz = new double[a.Length];
        for (int r = 0; r < batch; r++)
        {
            double max = Enumerable.Range(0, width).Max(j => a[r * width + j]);
            double sum = Enumerable.Range(0, width).Sum(j => Math.Exp(a[r * width + j] - max));
            loss += Math.Log(sum) + max - a[r * width + labels[r]];
            for (int j = 0; j < width; j++)
                dz[r * width + j] = (Math.Exp(a[r * width + j] - max) / sum - (j == labels[r] ? 1 : 0)) / batch;
        }
        double[] g = dz;
        while (backward.Count > 0) g = backward.Pop()(g);
        return (loss / batch, grads);
    }
}
