using System.Collections.Generic;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>[GlobalAvgPool]: the mean of each channel over all pixels; the output is flat (C features).</summary>
internal sealed class GlobalAvgPool : Pooling
{
    public override string Attribute => "GlobalAvgPool";
    public override LayerKind Kind => LayerKind.GlobalAvgPool;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "Name" };

    public override LayerSpec Parse(LayerReader r)
    {
        r.RequireSpatial();
        ActivationShape shape = r.Shape;
        if (shape.Spatial && r.InputShapeValid) shape.Height = shape.Width = 1;
        shape.Spatial = false;
        shape.Flat = shape.Channels;
        return new LayerSpec(LayerKind.GlobalAvgPool, r.LayerName, r.Index);
    }

    public override (int Height, int Width) OutputSize(LayerSpec layer, int height, int width) => (1, 1);

    protected override long FlopsPerOutput(LayerSpec layer, int inputPixels) => inputPixels;

    protected override long WorkPerSample(PoolStep p) => p.InFloats;

    internal override string ForwardSummary(PoolStep p) => $"{p.Layer.Name}: mean of each channel over {p.InPixels} pixels; samples split across threads.";

    internal override string ForwardCall(PoolStep p, string input, string output) =>
        $"{K}Pooling.GlobalAvgForward<TIsa>({input}, {output}, {p.InWidth}, {p.InPixels}, s0, s1);";

    internal override string BackwardSummary(PoolStep p) => $"{p.Layer.Name}: dL/dx = dL/dy / {p.InPixels} on every pixel; samples split across threads.";

    internal override string BackwardCall(PoolStep p, string dy, string dx) =>
        $"{K}Pooling.GlobalAvgBackward<TIsa>({dy}, {dx}, {p.InWidth}, {p.InPixels}, s0, s1);";
}
