using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [Residual] opens a block (He et al. 2016): a start step that computes nothing; its input is the shortcut. The block's
/// sum, stochastic depth and projection shortcut live in <see cref="EndResidual"/>; backward adds the shortcut's
/// gradient where it reaches this step.
/// </summary>
internal sealed class Residual : LayerDefinition
{
    public override string Attribute => "Residual";
    public override LayerKind Kind => LayerKind.Residual;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "Survival", "ZeroInitLast", "Projection", "Name" };

    public override LayerSpec Parse(LayerReader r)
    {
        double survival = r.Double("Survival", 1.0);
        if (!(survival > 0 && survival <= 1)) r.OutOfDomain("Survival", -1, survival, "the survival probability must be in (0, 1]");
        if (r.Block is { } open)
            r.ReportAt(Descriptors.InvalidArrangement, r.Location, r.LayerName, $"residual blocks cannot be nested; close '{open.Name}' with [EndResidual] first");
        bool projection = r.Bool("Projection", false);
        r.Block ??= new OpenBlock(r.LayerName, r.Location, r.Shape.Copy(), projection);
        return new LayerSpec(LayerKind.Residual, r.LayerName, r.Index, Survival: survival, ZeroInitLast: r.Bool("ZeroInitLast", false), Projection: projection);
    }

    public override void Plan(PlanBuilder b)
    {
        var start = b.SameShape(new ResidualStartStep(b.Current));
        b.OpenBlocks.Push(start);
        b.Add(start, this);
        b.Position++;
    }

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body) =>
        body.Add($"// {((ResidualStartStep)step).Layer.Name} starts: its input {step.InputBuffer} is the shortcut");

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var start = (ResidualStartStep)step;
        ResidualEndStep closing = e.Plan.Steps.OfType<ResidualEndStep>().Single(x => x.Start == start);
        if (closing.Projection is { } projection)
        {
            // dL/dx gets Pᵀ·dL/dy (into the free ping-pong buffer, then added); dP = xᵀ·dL/dy with the fused update.
            string free = Other(current);
            body.Add($"// {start.Layer.Name} starts: the projection shortcut's backward from the kept dL/dy (_skip{closing.Index})");
            LinearLayer.EmitGemmBackward(e, projection, $"_skip{closing.Index}", free, body);
            if (!closing.AddShortcutGradient) return current;
            EmitShortcutAdd(e, start, All(free, start.OutFloats), current, "Pᵀ·dL/dy of the projection shortcut");
            body.Add($"Execute(Stages.{SpecNaming.Pascal(start.Layer.Name)}Shortcut, (long)_batch * {start.OutFloats});");
            return current;
        }
        if (!closing.AddShortcutGradient) return current;
        EmitShortcutAdd(e, start, $"_skip{closing.Index}.Slice(0, _batch * {start.OutFloats})", current, "the shortcut's dL/dy");
        body.Add($"// {start.Layer.Name} starts: add the shortcut's gradient (dL/dx in {current})");
        body.Add($"Execute(Stages.{SpecNaming.Pascal(start.Layer.Name)}Shortcut, (long)_batch * {start.OutFloats});");
        return current;
    }

    /// <summary>The stage dL/dx += <paramref name="shortcut"/>, element ranges split across threads.</summary>
    private static void EmitShortcutAdd(ModelEmitter e, ResidualStartStep start, string shortcut, string current, string what)
    {
        e.OpenStage(SpecNaming.Pascal(start.Layer.Name) + "Shortcut", $"{start.Layer.Name}: dL/dx = the branch's dL/dx + {what}; element ranges split across threads.");
        e.W.Line($"(int e0, int e1) = {K}Partition.Range(_batch * {start.OutFloats}, part, parts, 16);");
        e.W.Line($"if (e0 < e1) {K}Residual.Add<TIsa>({shortcut}, {All(current, start.OutFloats)}, 1f, {All(current, start.OutFloats)}, e0, e1);");
        e.W.Close();
        e.W.Line();
    }

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body) { }
}
