using System;
using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [Maxout(pieces)] (Goodfellow et al. 2013): the maximum over each unit's pieces. The Dense or Conv2D right before it
/// computes units·pieces outputs (<see cref="PlanBuilder.MaxoutPieces"/>); the winner is kept as a byte per output for backward.
/// </summary>
internal sealed class Maxout : LayerDefinition
{
    public override string Attribute => "Maxout";
    public override LayerKind Kind => LayerKind.Maxout;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "pieces", "Name" };

    public override LayerSpec Parse(LayerReader r)
    {
        int pieces = r.Int("pieces", 2);
        if (pieces < 2 || pieces > 255) r.OutOfDomain("pieces", 0, pieces, "Maxout needs between 2 and 255 linear pieces per unit");
        if (r.Previous.Count == 0 || r.Previous[r.Previous.Count - 1].Kind is not (LayerKind.Dense or LayerKind.Conv2D))
            r.ReportAt(Descriptors.InvalidArrangement, r.Location, r.LayerName, "Maxout must come right after the Dense or Conv2D whose outputs it takes the maximum of");
        return new LayerSpec(LayerKind.Maxout, r.LayerName, r.Index, Units: pieces);
    }

    public override long ParameterCount(LayerSpec layer, ActivationShape before, ActivationShape after, ref long lastLinear) =>
        lastLinear * Math.Max(layer.Units - 1, 0);

    public override void Plan(PlanBuilder b)
    {
        LayerSpec layer = b.Current;
        int units = b.Width / layer.Units;
        var step = new MaxoutStep(layer) { InWidth = b.Width, OutWidth = units, InPixels = b.Pixels, OutPixels = b.Pixels };
        b.Width = units;
        step.OutputShape = b.Shape();
        b.Add(step, this);
        b.Position++;
    }

    public override void EmitFields(ModelEmitter e, StepPlan step)
    {
        var maxout = (MaxoutStep)step;
        e.OutputField(maxout);
        e.W.Line($"private readonly byte[] {maxout.ArgmaxBuffer} = new byte[MaxBatch * {maxout.OutFloats}]; // {maxout.Layer.Name}: the winning piece of each unit");
    }

    public override IEnumerable<LayerSpec> DescribedLayers(StepPlan step) { yield return ((MaxoutStep)step).Layer; }

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body)
    {
        var maxout = (MaxoutStep)step;
        string name = SpecNaming.Pascal(maxout.Layer.Name) + "Forward";
        e.OpenStage(name, $"{maxout.Layer.Name}: the maximum of each unit's {maxout.Pieces} pieces, the winner kept for backward; samples split across threads.");
        e.RowRange();
        e.W.Line($"{K}Maxout.Forward<TIsa>({Rows(maxout.InputBuffer, maxout.InFloats)}, {Rows(maxout.OutputBuffer, maxout.OutFloats)}, new global::System.Span<byte>({maxout.ArgmaxBuffer}, r0 * {maxout.OutFloats}, (r1 - r0) * {maxout.OutFloats}), {SampleRows(maxout.OutPixels)}, {maxout.OutWidth}, {maxout.Pieces});");
        e.W.Close();
        e.W.Line();
        body.Add($"// {maxout.Layer.Name}");
        body.Add($"Execute(Stages.{name}, (long)_batch * {(long)maxout.InFloats * 2});");
    }

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var maxout = (MaxoutStep)step;
        string next = Other(current);
        string name = SpecNaming.Pascal(maxout.Layer.Name) + "Backward";
        e.OpenStage(name, $"{maxout.Layer.Name}: dL/dy goes to each unit's winning piece, zero to the others; samples split across threads.");
        e.RowRange();
        e.W.Line($"{K}Maxout.Backward<TIsa>({Rows(current, maxout.OutFloats)}, new global::System.ReadOnlySpan<byte>({maxout.ArgmaxBuffer}, r0 * {maxout.OutFloats}, (r1 - r0) * {maxout.OutFloats}), {Rows(next, maxout.InFloats)}, {SampleRows(maxout.OutPixels)}, {maxout.OutWidth}, {maxout.Pieces});");
        e.W.Close();
        e.W.Line();
        body.Add($"// {maxout.Layer.Name} (dL/dy in {current})");
        body.Add($"Execute(Stages.{name}, (long)_batch * {(long)maxout.InFloats * 2});");
        return next;
    }

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var maxout = (MaxoutStep)step;
        body.Add($"// {maxout.Layer.Name} (eval)");
        body.Add($"Execute(Stages.{SpecNaming.Pascal(maxout.Layer.Name)}Forward, (long)_batch * {(long)maxout.InFloats * 2});");
    }
}
