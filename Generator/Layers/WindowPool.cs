using System.Collections.Generic;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>MaxPool and AvgPool: a size×size window (stride = size unless given, optional padding) over each channel.</summary>
internal abstract class WindowPool : Pooling
{
    public override IReadOnlyList<string> Arguments { get; } = new[] { "size", "Stride", "Padding", "Name" };

    public override LayerSpec Parse(LayerReader r)
    {
        r.RequireSpatial();
        Window window = Windows.Parse(r, conv: false, filters: 0);
        return new LayerSpec(Kind, r.LayerName, r.Index, KernelH: window.KernelH, KernelW: window.KernelW, Stride: window.Stride, Padding: window.Padding);
    }

    public override (int Height, int Width) OutputSize(LayerSpec layer, int height, int width) =>
        (Windows.Extent(height, layer.KernelH, layer.Stride, layer.Padding, 1), Windows.Extent(width, layer.KernelW, layer.Stride, layer.Padding, 1));

    protected override long FlopsPerOutput(LayerSpec layer, int inputPixels) => layer.KernelH * layer.KernelW;
}
