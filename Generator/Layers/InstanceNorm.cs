using System.Collections.Generic;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>[InstanceNorm]: per sample and channel over the pixels (spatial input only): the GroupNorm kernel with C groups.</summary>
internal sealed class InstanceNorm : SampleNorm
{
    public override string Attribute => "InstanceNorm";
    public override LayerKind Kind => LayerKind.InstanceNorm;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "Epsilon", "Name", "LearningRateScale" };

    protected override int Groups(LayerReader r, int channels)
    {
        if (!r.Shape.Spatial)
            r.Report(Descriptors.SpatialLayerOnFlatInput, r.LayerName,
                $"a flat input of {r.Shape.Flat} features (instance normalisation normalises each channel over its pixels)");
        return channels;
    }

    protected override string Over(NormStep n) => $"per sample and channel over {n.OutPixels} pixels";
}
