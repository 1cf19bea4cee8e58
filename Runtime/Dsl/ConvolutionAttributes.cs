using System;

namespace Kiln;

// Spatial layers (docs/techniques.md#activations, docs/techniques.md#initialisation, docs/techniques.md#normalisation). Activations are kept channels-last (NHWC) inside the model;
// the model input arrives as NCHW (InputShape = { C, H, W }) and is transposed once when it is copied
// in. Output size per axis: (H + 2·Padding − Dilation·(Kernel − 1) − 1) / Stride + 1, which must be an
// integer (KLN0014) and at least 1 (KLN0013).

/// <summary>
/// 2-D convolution: y[oy, ox, oc] = b[oc] + Σ_{ky,kx,c} x[oy·S − P + ky·D, ox·S − P + kx·D, c]·W[ky, kx, c, oc]
/// (zero outside the input). The weight tensor is [KernelHeight, KernelWidth, InChannels, Filters]; He/Xavier
/// fan-in is KernelHeight·KernelWidth·InChannels.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute : Attribute
{
    /// <summary>A square <paramref name="kernel"/>×<paramref name="kernel"/> convolution with <paramref name="filters"/> output channels.</summary>
    public Conv2DAttribute(int filters, int kernel)
    {
        Filters = filters;
        Kernel = kernel;
    }
    /// <summary>Output channels.</summary>
    public int Filters { get; }
    /// <summary>Kernel height and width (overridden per axis by <see cref="KernelHeight"/>/<see cref="KernelWidth"/>).</summary>
    public int Kernel { get; }
    /// <summary>Kernel height when it differs from the width (0 = <see cref="Kernel"/>).</summary>
    public int KernelHeight { get; set; }
    /// <summary>Kernel width when it differs from the height (0 = <see cref="Kernel"/>).</summary>
    public int KernelWidth { get; set; }
    /// <summary>Step between windows, both axes (default 1).</summary>
    public int Stride { get; set; } = 1;
    /// <summary>Zeros added on every side, both axes (default 0; (Kernel − 1)/2 keeps the size at stride 1).</summary>
    public int Padding { get; set; }
    /// <summary>Spacing between kernel taps (default 1: a dense kernel).</summary>
    public int Dilation { get; set; } = 1;
    /// <summary>Whether the layer has a bias per filter (default true; redundant before BatchNorm).</summary>
    public bool Bias { get; set; } = true;
    /// <summary>Weight initialisation; <see cref="Kiln.Init.Auto"/> picks He for ReLU-like activations and Glorot otherwise (see docs/dsl.md).</summary>
    public Init Init { get; set; } = Init.Auto;
    /// <summary>Scale for <see cref="Kiln.Init.Normal"/> (std), <see cref="Kiln.Init.Uniform"/> (bound) and <see cref="Kiln.Init.Constant"/> (value).</summary>
    public double InitScale { get; set; } = double.NaN;
    /// <summary>Constant initial value of every bias.</summary>
    public double BiasInit { get; set; }
    /// <summary>Layer name for checkpoints and transfer learning; default conv0, conv1, ...</summary>
    public string? Name { get; set; }
    /// <summary>Multiplies the learning rate for this layer's tensors (0 freezes it).</summary>
    public double LearningRateScale { get; set; } = 1.0;
    /// <summary>Whether declared penalties apply to this layer.</summary>
    public bool Regularize { get; set; } = true;
    /// <summary>
    /// DropConnect (Wan et al. 2013, docs/techniques.md#regularisation): in training each weight is zeroed with this probability
    /// (one mask per mini-batch, kept weights scaled by 1/(1 − rate)); at test every weight is used. 0 = off.
    /// </summary>
    public double DropConnect { get; set; }
}

/// <summary>Max pooling over <c>size</c>×<c>size</c> windows, per channel; the gradient goes to the maximum of each window.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPoolAttribute : Attribute
{
    /// <summary>Max pooling over <paramref name="size"/>×<paramref name="size"/> windows (stride defaults to the size).</summary>
    public MaxPoolAttribute(int size) => Size = size;
    /// <summary>Window height and width.</summary>
    public int Size { get; }
    /// <summary>Step between windows (0 = <see cref="Size"/>: non-overlapping windows).</summary>
    public int Stride { get; set; }
    /// <summary>Padding on every side (padded cells never win the maximum).</summary>
    public int Padding { get; set; }
    /// <summary>Layer name; default maxpool0, maxpool1, ...</summary>
    public string? Name { get; set; }
}

/// <summary>Average pooling over <c>size</c>×<c>size</c> windows, per channel (padded cells are not counted).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AvgPoolAttribute : Attribute
{
    /// <summary>Average pooling over <paramref name="size"/>×<paramref name="size"/> windows (stride defaults to the size).</summary>
    public AvgPoolAttribute(int size) => Size = size;
    /// <summary>Window height and width.</summary>
    public int Size { get; }
    /// <summary>Step between windows (0 = <see cref="Size"/>).</summary>
    public int Stride { get; set; }
    /// <summary>Padding on every side.</summary>
    public int Padding { get; set; }
    /// <summary>Layer name; default avgpool0, ...</summary>
    public string? Name { get; set; }
}

/// <summary>Mean of each channel over all pixels: (C, H, W) → C values (a flat output; no Flatten needed after it).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAvgPoolAttribute : Attribute
{
    /// <summary>Layer name; default globalavgpool0, ...</summary>
    public string? Name { get; set; }
}

/// <summary>
/// Fractional max pooling (Graham 2014, docs/techniques.md#regularisation): each spatial size shrinks by <c>ratio</c> (1 &lt; ratio &lt; 2;
/// output = round(H / ratio)) with pseudo-random disjoint pooling regions, drawn afresh for every training
/// mini-batch; at test the output is the average over <see cref="TestDraws"/> fixed region layouts.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class FractionalMaxPoolAttribute : Attribute
{
    /// <summary>Fractional max pooling that shrinks each spatial axis by <paramref name="ratio"/>.</summary>
    public FractionalMaxPoolAttribute(double ratio) => Ratio = ratio;
    /// <summary>Input size / output size per axis, in (1, 2); √2 in the paper.</summary>
    public double Ratio { get; }
    /// <summary>Region layouts averaged at test (default 4).</summary>
    public int TestDraws { get; set; } = 4;
    /// <summary>Layer name; default fractionalmaxpool0, ...</summary>
    public string? Name { get; set; }
}
