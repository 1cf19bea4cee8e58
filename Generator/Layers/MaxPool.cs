using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>[MaxPool(size)]: the maximum of each window per channel; the argmax is kept for backward (Kiln.Kernels.Pooling).</summary>
internal sealed class MaxPool : WindowPool
{
    public override string Attribute => "MaxPool";
    public override LayerKind Kind => LayerKind.MaxPool;

    internal override string ForwardSummary(PoolStep p) =>
        $"{p.Layer.Name}: maximum of each {p.Layer.KernelH}×{p.Layer.KernelW} window (stride {p.Layer.Stride}) per channel, argmax kept for backward; samples split across threads.";

    internal override string ForwardCall(PoolStep p, string input, string output) =>
        $"{K}Pooling.MaxForward<TIsa>({input}, {output}, new global::System.Span<int>({p.ArgmaxBuffer}, 0, _batch * {p.OutFloats}), in {p.GeometryField}, s0, s1);";

    internal override string BackwardSummary(PoolStep p) =>
        $"{p.Layer.Name}: dL/dx gets each window's dL/dy at its argmax (zero elsewhere); samples split across threads.";

    internal override string BackwardCall(PoolStep p, string dy, string dx) =>
        $"{K}Pooling.MaxBackward<TIsa>({dy}, new global::System.ReadOnlySpan<int>({p.ArgmaxBuffer}, 0, _batch * {p.OutFloats}), {dx}, in {p.GeometryField}, s0, s1);";
}
