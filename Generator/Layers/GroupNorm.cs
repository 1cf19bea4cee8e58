using System.Collections.Generic;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>
/// [GroupNorm(groups)] (Wu &amp; He 2018): per sample over each group of C/groups consecutive channels and all pixels; γ/β per
/// channel. Parsing checks that the groups divide the channels; the stages are <see cref="SampleNorm"/>'s, on
/// Kiln.Kernels.GroupNorm.
/// </summary>
internal sealed class GroupNorm : SampleNorm
{
    public override string Attribute => "GroupNorm";
    public override LayerKind Kind => LayerKind.GroupNorm;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "groups", "Epsilon", "Name", "LearningRateScale" };

    protected override int Groups(LayerReader r, int channels)
    {
        int groups = r.Int("groups", 0);
        if (groups < 1 || channels % groups != 0)
            r.OutOfDomain("groups", 0, groups, $"it must divide the {channels} {(r.Shape.Spatial ? "channels" : "features")} of its input");
        return groups;
    }

    protected override string Over(NormStep n) => $"per sample over each group of {n.OutWidth / n.Groups} channels × {n.OutPixels} pixels";
}
