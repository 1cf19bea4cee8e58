namespace Kiln.Kernels;

/// <summary>
/// The strides, in floats, of one convolution that the shallow kernels run straight from a zero-bordered input
/// (<see cref="ShallowConv"/> forward, <see cref="ShallowConvTraining"/> weight gradient): an image's size, the step
/// from one output pixel to the next and from one output row to the next, and between kernel rows and taps.
/// </summary>
internal readonly struct ShallowShape
{
    public ShallowShape(in ConvGeometry g, int n)
    {
        Channels = g.Channels;
        KernelH = g.KernelH;
        KernelW = g.KernelW;
        RowTaps = g.KernelW * g.Channels;
        Taps = g.PatchSize;
        OutHeight = g.OutHeight;
        OutWidth = g.OutWidth;
        Pixels = g.OutPixels;
        N = n;
        nint paddedRow = (nint)(g.Width + 2 * g.PadW) * g.Channels;
        ImageSize = DirectConv.PaddedSize(g);
        PixelStep = (nint)g.StrideW * g.Channels;
        RowStep = g.StrideH * paddedRow;
        KyStep = g.DilationH * paddedRow;
        KxStep = (nint)g.DilationW * g.Channels;
    }

    public readonly int Channels, KernelH, KernelW, Taps, OutHeight, OutWidth, Pixels;
    /// <summary>Taps per kernel row (Kw·C): consecutive floats of an image row when the dilation is 1, as training needs.</summary>
    public readonly int RowTaps;
    /// <summary>Output channels: the row length of w, of y and of dL/dy.</summary>
    public readonly int N;
    public readonly nint ImageSize, PixelStep, RowStep, KyStep, KxStep;
}
