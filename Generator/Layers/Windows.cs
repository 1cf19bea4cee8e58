using System;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>The sliding-window arguments of Conv2D, MaxPool and AvgPool, after their checks.</summary>
internal readonly struct Window
{
    public Window(int kernelH, int kernelW, int stride, int padding, int dilation)
    {
        KernelH = kernelH; KernelW = kernelW; Stride = stride; Padding = padding; Dilation = dilation;
    }
    public int KernelH { get; }
    public int KernelW { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
}

/// <summary>
/// Window geometry shared by Conv2D and the window pools: the one output-extent formula the parser and the planner
/// both use, and the parser's checks of the window against the input (KLN0013 window larger than the input, KLN0014
/// a stride that leaves rows over), each on the offending argument.
/// </summary>
internal static class Windows
{
    /// <summary>(extent + 2·padding − dilation·(kernel − 1) − 1)/stride + 1: the output size along one axis.</summary>
    public static int Extent(int extent, int kernel, int stride, int padding, int dilation) =>
        (extent + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;

    /// <summary>
    /// Reads and checks a window (Conv2D when <paramref name="conv"/>, else MaxPool/AvgPool) and, when the input shape
    /// is known, moves <see cref="LayerReader.Shape"/> to the output (channels = <paramref name="filters"/> for a convolution).
    /// </summary>
    public static Window Parse(LayerReader r, bool conv, int filters)
    {
        string sizeArgument = conv ? "kernel" : "size";
        int size = r.Int(sizeArgument, 0);
        int kernelHeight = conv ? r.Int("KernelHeight", 0) : 0, kernelWidth = conv ? r.Int("KernelWidth", 0) : 0;
        int kernelH = kernelHeight > 0 ? kernelHeight : size;
        int kernelW = kernelWidth > 0 ? kernelWidth : size;
        int stride = r.Int("Stride", conv ? 1 : 0);
        if (!conv && stride == 0) stride = size;
        int padding = r.Int("Padding", 0);
        int dilation = conv ? r.Int("Dilation", 1) : 1;
        bool valid = true;
        void Fail(string argument, int positional, double value, string rule) { r.OutOfDomain(argument, positional, value, rule); valid = false; }
        if (conv && filters <= 0) Fail("filters", 0, filters, "a convolution needs at least one filter");
        if (conv && filters > ModelLimits.MaxUnits) Fail("filters", 0, filters, $"keep at most {ModelLimits.MaxUnits:N0} filters");
        if (size <= 0 && !(kernelHeight > 0 && kernelWidth > 0)) Fail(sizeArgument, conv ? 1 : 0, size, "the window needs at least one cell");
        if (kernelHeight < 0) Fail("KernelHeight", -1, kernelHeight, "it must be positive (0 = Kernel)");
        if (kernelWidth < 0) Fail("KernelWidth", -1, kernelWidth, "it must be positive (0 = Kernel)");
        if (stride <= 0) Fail("Stride", -1, stride, conv ? "the stride must be at least 1" : "the stride must be at least 1 (0 means the window size)");
        if (padding < 0) Fail("Padding", -1, padding, "padding cannot be negative");
        if (!conv && padding > 0 && padding >= Math.Min(kernelH, kernelW))
            Fail("Padding", -1, padding, "pooling padding must be smaller than the window, or a window could hold padding only");
        if (dilation <= 0) Fail("Dilation", -1, dilation, "the dilation must be at least 1");

        ActivationShape shape = r.Shape;
        if (shape.Spatial && r.InputShapeValid && valid)
        {
            // A square window on a square input fails on both axes alike: one diagnostic says so.
            bool square = shape.Height == shape.Width && kernelH == kernelW;
            bool tall = kernelHeight > 0, wide = kernelWidth > 0;
            int sizePosition = conv ? 1 : 0;
            int outH = CheckedExtent(r, square ? "height and width" : "height", shape.Height, kernelH, stride, padding, dilation,
                tall ? "KernelHeight" : sizeArgument, tall ? -1 : sizePosition);
            int outW = square ? outH : CheckedExtent(r, "width", shape.Width, kernelW, stride, padding, dilation,
                wide ? "KernelWidth" : sizeArgument, wide ? -1 : sizePosition);
            if (outH > 0 && outW > 0)
            {
                long patch = (long)kernelH * kernelW * shape.Channels;
                if (conv && ((long)r.MaxBatch * outH * outW * patch > ModelLimits.MaxTensorLength || (long)r.MaxBatch * outH * outW * filters > ModelLimits.MaxTensorLength))
                    r.OutOfDomain("filters", 0, filters, $"the layer would need {(long)r.MaxBatch * outH * outW * Math.Max(patch, filters):N0} floats per batch buffer; Kiln keeps each under {ModelLimits.MaxTensorLength:N0}");
                shape.Height = outH;
                shape.Width = outW;
                if (conv) shape.Channels = filters;
            }
        }
        shape.Flat = shape.Channels * shape.Height * shape.Width;
        return new Window(kernelH, kernelW, stride, padding, dilation);
    }

    /// <summary>The output extent, or 0 after reporting why it does not exist.</summary>
    private static int CheckedExtent(LayerReader r, string axis, int extent, int kernel, int stride, int padding, int dilation, string kernelArgument, int kernelPositional)
    {
        long span = (long)dilation * (kernel - 1) + 1;
        long padded = extent + 2L * padding;
        if (span > padded)
        {
            r.ReportAt(Descriptors.WindowLargerThanInput, r.At(kernelArgument, kernelPositional),
                r.LayerName, axis, span, padded, $"input {axis} {extent} + 2×padding {padding}; use a smaller window or more padding");
            return 0;
        }
        long room = padded - span;
        if (room % stride != 0)
        {
            r.ReportAt(Descriptors.FractionalOutputSize, AttributeArguments.ArgLocation(r.Syntax, "Stride") ?? r.At(kernelArgument, kernelPositional),
                r.LayerName, axis, $"{extent} + 2×{padding} − {span}", stride,
                $"the last {room % stride} row(s)/column(s) would be ignored: choose a stride that divides {room}, or change the padding");
            return 0;
        }
        return (int)(room / stride + 1);
    }
}
