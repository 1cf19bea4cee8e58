using System.Collections.Generic;
using Kiln.Generator.Emitting;
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

    /// <summary>
    /// The field holding a mask's key for the current mini-batch: ForwardTraining sets it from the model's noise stream
    /// (<see cref="AddKeyLine"/>) and the stage that applies the mask draws its own part from it (<see cref="DrawLine"/>).
    /// </summary>
    internal static string KeyField(string mask) => mask + "Key";

    /// <summary>Declares <see cref="KeyField"/> of <paramref name="mask"/>.</summary>
    internal static void EmitKeyField(ModelEmitter e, string mask, string layer) =>
        e.W.Line($"private ulong {KeyField(mask)}; // {layer}: this mini-batch's mask key (element i of {mask} is a pure function of the key and i)");

    /// <summary>ForwardTraining's line that keys this mini-batch's mask: one draw of the noise stream, serial and O(1).</summary>
    internal static void AddKeyLine(List<string> body, string mask, string layer) =>
        body.Add($"{KeyField(mask)} = _noise.NextUInt64(); // {layer}: the stage that applies the mask draws its part of it from this key");

    /// <summary>
    /// A stage's line that draws the part <paramref name="part"/> of the mask whose first element has index
    /// <paramref name="first"/> in the whole mask (the same values for any split of the mask between threads).
    /// </summary>
    internal static string DrawLine(string mask, string part, string first, double keep, double scale) =>
        $"{K}Dropout.Draw<TIsa>({part}, {first}, {Float(keep)}, {Float(scale)}, {KeyField(mask)});";

    /// <summary>
    /// The work (Execute's unit: the stage's cost on one thread) of drawing one mask element, on the scale of the chain
    /// stages' per-float figures (BatchNorm forward 12): drawing the benchmark MLP's 65,536-element mask took ≈9 µs
    /// beside ≈20 µs for its BatchNorm/ReLU pass (docs/perf/mlp-training-step.md), about half as much per element.
    /// </summary>
    internal const long DrawWorkPerFloat = 6;

    /// <summary>The mask buffer of a chain's dropout.</summary>
    internal static string MaskBuffer(ChainStep c) => "_mask" + c.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The chain dropout's keep probability and the value of a kept unit.</summary>
    internal static (double Keep, double Scale) KeepAndScale(ChainStep c)
    {
        double keep = 1 - c.Dropout!.Rate;
        return (keep, c.Dropout.Scaling == DropoutScalingKind.Inverted ? 1 / keep : 1);
    }

    /// <summary>The chain's mask rows [r0, r1) (stages split by rows: the activation's, BatchNorm2D's by samples over <paramref name="rowFloats"/>-float rows).</summary>
    internal static string DrawRowsLine(ChainStep c, string r0, string r1, int rowFloats)
    {
        (double keep, double scale) = KeepAndScale(c);
        string mask = MaskBuffer(c);
        return DrawLine(mask, $"{mask}.Slice({r0} * {rowFloats}, ({r1} - {r0}) * {rowFloats})", $"{r0} * {rowFloats}", keep, scale);
    }

    /// <summary>The chain's mask columns [c0, c1) of every row (the flat BatchNorm's column-split stage).</summary>
    internal static string DrawColumnsLine(ChainStep c)
    {
        (double keep, double scale) = KeepAndScale(c);
        string mask = MaskBuffer(c);
        return $"{K}Dropout.DrawColumns<TIsa>({All(mask, c.OutFloats)}, {c.OutFloats}, c0, c1, {Float(keep)}, {Float(scale)}, {KeyField(mask)});";
    }

    /// <summary>Vanilla dropout at test: × the keep probability (nothing for inverted dropout).</summary>
    internal static void AddTestTimeScale(List<string> body, ChainStep c)
    {
        double scale = c.TestTimeScale;
        if (scale != 1)
            body.Add($"{K}Elementwise.Scale<TIsa>({All(c.OutputBuffer, c.OutFloats)}, {Float(scale)}, {All(c.OutputBuffer, c.OutFloats)}); // vanilla dropout: × keep probability at test");
    }
}
