using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>[AvgPool(size)]: the mean of each window's in-bounds cells per channel (Kiln.Kernels.Pooling).</summary>
internal sealed class AvgPool : WindowPool
{
    public override string Attribute => "AvgPool";
    public override LayerKind Kind => LayerKind.AvgPool;

    internal override string ForwardSummary(PoolStep p) =>
        $"{p.Layer.Name}: mean of each {p.Layer.KernelH}×{p.Layer.KernelW} window (stride {p.Layer.Stride}) per channel; samples split across threads.";

    internal override string ForwardCall(PoolStep p, string input, string output) =>
        $"{K}Pooling.AvgForward<TIsa>({input}, {output}, in {p.GeometryField}, s0, s1);";

    internal override string BackwardSummary(PoolStep p) =>
        $"{p.Layer.Name}: dL/dx spreads each window's dL/dy evenly over its in-bounds cells; samples split across threads.";

    internal override string BackwardCall(PoolStep p, string dy, string dx) =>
        $"{K}Pooling.AvgBackward<TIsa>({dy}, {dx}, in {p.GeometryField}, s0, s1);";
}
