using System.Collections.Generic;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>[LayerNorm]: per sample over all its values (C·H·W when spatial): the GroupNorm kernel with one group.</summary>
internal sealed class LayerNorm : SampleNorm
{
    public override string Attribute => "LayerNorm";
    public override LayerKind Kind => LayerKind.LayerNorm;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "Epsilon", "Name", "LearningRateScale" };
    protected override int Groups(LayerReader r, int channels) => 1;
    protected override string Over(NormStep n) => $"over all {n.OutFloats} values of each sample";
}
