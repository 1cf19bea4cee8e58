using System.Collections.Generic;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [Dropout(rate)] (Srivastava et al. 2014): a fresh mask per mini-batch (0 or the keep scale), applied in the chain's
/// fused pass and its backward; at test the identity (inverted dropout) or × keep (DropoutScaling.TestTime).
/// </summary>
internal sealed class Dropout : ChainLayer
{
    public override string Attribute => "Dropout";
    public override LayerKind Kind => LayerKind.Dropout;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "rate", "Scaling", "Name" };

    public override LayerSpec Parse(LayerReader r)
    {
        double rate = r.Double("rate", 0);
        if (!(rate >= 0 && rate < 1)) r.OutOfDomain("rate", 0, rate, "the drop probability must be in [0, 1)");
        DropoutScalingKind scaling = r.Enum<DropoutScalingKind>("Scaling", "DropoutScaling");
        return new LayerSpec(LayerKind.Dropout, r.LayerName, r.Index, Rate: rate, Scaling: scaling);
    }

    internal override void AddToChain(PlanBuilder b, ChainStep chain, LayerSpec layer) => chain.Dropout = layer;

    /// <summary>ForwardTraining's line that draws this mini-batch's mask.</summary>
    internal static void AddMaskLine(ChainStep c, List<string> body)
    {
        double keep = 1 - c.Dropout!.Rate;
        double scale = c.Dropout.Scaling == DropoutScalingKind.Inverted ? 1 / keep : 1;
        body.Add($"{K}Dropout.FillMask({All($"_mask{c.Index}", c.OutFloats)}, {Float(keep)}, {Float(scale)}, ref _noise);");
    }

    /// <summary>Vanilla dropout at test: × the keep probability (nothing for inverted dropout).</summary>
    internal static void AddTestTimeScale(List<string> body, ChainStep c)
    {
        double scale = c.TestTimeScale;
        if (scale != 1)
            body.Add($"{K}Elementwise.Scale<TIsa>({All(c.OutputBuffer, c.OutFloats)}, {Float(scale)}, {All(c.OutputBuffer, c.OutFloats)}); // vanilla dropout: × keep probability at test");
    }
}
