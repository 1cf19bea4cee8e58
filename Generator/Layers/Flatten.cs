using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>[Flatten]: not a step. NHWC buffers are flat already; it only changes how the next layer reads them (HWC order).</summary>
internal sealed class Flatten : LayerDefinition
{
    public override string Attribute => "Flatten";
    public override LayerKind Kind => LayerKind.Flatten;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "Name" };

    public override LayerSpec Parse(LayerReader r)
    {
        r.Shape.Spatial = false;
        return new LayerSpec(LayerKind.Flatten, r.LayerName, r.Index);
    }

    public override void Plan(PlanBuilder b)
    {
        b.Width *= b.Pixels;
        b.Pixels = 1;
        b.Spatial = false;
        b.Position++;
    }

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body) { }
    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body) => current;
    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body) { }
}
