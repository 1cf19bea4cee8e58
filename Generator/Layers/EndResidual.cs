using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [EndResidual] closes a block: y = shortcut + g·branch, g the stochastic-depth gate in training (Survival at test). With
/// [Residual(Projection = true)] the shortcut is a learned, bias-free 1×1 convolution or Dense (He et al. 2016, option B),
/// planned here as a <see cref="LinearStep"/> kept on the end step; its backward runs at the block's start (Residual.cs).
/// </summary>
internal sealed class EndResidual : LayerDefinition
{
    public override string Attribute => "EndResidual";
    public override LayerKind Kind => LayerKind.EndResidual;
    public override string NamePrefix => "endresidual";
    public override IReadOnlyList<string> Arguments { get; } = Array.Empty<string>();

    public override LayerSpec Parse(LayerReader r)
    {
        if (r.Block is not { } block)
            r.ReportAt(Descriptors.InvalidArrangement, r.Location, r.LayerName, "[EndResidual] without an open [Residual] block");
        else
        {
            ActivationShape from = block.Shape, to = r.Shape;
            bool shapeChanges = from.Flat != to.Flat || from.Spatial != to.Spatial || (to.Spatial && (from.Channels != to.Channels || from.Height != to.Height || from.Width != to.Width));
            if (block.Projection)
            {
                if (from.Spatial != to.Spatial)
                    r.ReportAt(Descriptors.InvalidArrangement, r.Location, block.Name,
                        $"the branch turns {from.Describe()} into {to.Describe()}; a projection shortcut maps spatial to spatial (a 1×1 convolution) or flat to flat (a Dense without bias), so keep Flatten outside the block");
                else if (to.Spatial && to.Height > 0 && to.Width > 0 && from.Height > 0 && from.Width > 0 && ProjectionStride(from.Height, from.Width, to.Height, to.Width) == 0)
                    r.ReportAt(Descriptors.InvalidArrangement, r.Location, block.Name,
                        $"the branch turns {from.Describe()} into {to.Describe()}; the projection shortcut is a 1×1 convolution with one integer stride s for both axes (⌈H/s⌉ = H' and ⌈W/s⌉ = W', e.g. s = H/H'), and no such stride exists here");
            }
            else if (shapeChanges)
                r.ReportAt(Descriptors.InvalidArrangement, r.Location, block.Name,
                    $"the branch turns {from.Describe()} into {to.Describe()}; an identity shortcut needs the same shape (keep the channels, use stride 1 and 'same' padding), or set [Residual(Projection = true)] for a learned projection shortcut");
            int start = -1;
            for (int i = 0; i < r.Previous.Count; i++) if (r.Previous[i].Name == block.Name) { start = i; break; }
            if (!r.Previous.Skip(start + 1).Any(l => l.Kind is LayerKind.Dense or LayerKind.Conv2D))
                r.ReportAt(Descriptors.InvalidArrangement, r.Location, block.Name, "the residual branch has no Dense or Conv2D layer");
            r.Block = null;
        }
        return new LayerSpec(LayerKind.EndResidual, r.LayerName, r.Index);
    }

    /// <summary>
    /// The stride of a projection shortcut (a 1×1 convolution, no padding) that maps an H×W image to H'×W': the smallest
    /// s with ⌈H/s⌉ = H' and ⌈W/s⌉ = W' (s = H/H' when that divides, e.g. 8×8 → 4×4; also 7×7 → 4×4 with s = 2,
    /// the shape a 3×3, padding 1, stride 2 branch gives), or 0 when no single integer stride does it.
    /// </summary>
    public static int ProjectionStride(int height, int width, int outHeight, int outWidth)
    {
        if (height <= 0 || width <= 0 || outHeight <= 0 || outWidth <= 0) return 0;
        for (int s = 1; s <= Math.Max(height, width); s++)
            if ((height + s - 1) / s == outHeight && (width + s - 1) / s == outWidth) return s;
        return 0;
    }

    public override void Plan(PlanBuilder b)
    {
        ResidualStartStep start = b.OpenBlocks.Pop();
        var end = b.SameShape(new ResidualEndStep(start));
        if (start.Layer.Projection) end.Projection = PlanProjection(b, start);
        if (b.Plan.Spec.Fixup) ApplyFixup(b, start);
        if (start.Layer.ZeroInitLast)
        {
            // docs/techniques.md#initialisation: the branch's last weight layer starts at zero, so the block starts as the identity.
            LinearStep last = (LinearStep)b.Plan.Steps[b.Plan.Steps.FindLastIndex(x => x is LinearStep)];
            (last.ResolvedInit, last.InitScale) = (InitKind.Zeros, 0);
        }
        b.Add(end, this);
        b.Position++;
    }

    /// <summary>
    /// [Fixup] (docs/techniques.md#initialisation): the branch's last Dense/Conv2D starts at zero and the other m − 1 have
    /// their initial scale multiplied by L^(−1/(2m−2)), L the model's residual blocks (nothing to scale when m = 1).
    /// </summary>
    private static void ApplyFixup(PlanBuilder b, ResidualStartStep start)
    {
        int first = b.Plan.Steps.IndexOf(start) + 1;
        List<LinearStep> branch = b.Plan.Steps.Skip(first).OfType<LinearStep>().ToList();
        if (branch.Count == 0) return;
        int blocks = b.Layers.Count(l => l.Kind == LayerKind.Residual);
        int m = branch.Count;
        double factor = m > 1 ? Math.Pow(blocks, -1.0 / (2 * m - 2)) : 1;
        for (int i = 0; i < m - 1; i++)
        {
            branch[i].InitScale *= factor;
            branch[i].FixupScale = factor;
        }
        (branch[m - 1].ResolvedInit, branch[m - 1].InitScale) = (InitKind.Zeros, 0);
    }

    /// <summary>He et al. 2016 option B: a learned shortcut without bias, He-initialised with fan-in C_in.</summary>
    private LinearStep PlanProjection(PlanBuilder b, ResidualStartStep start)
    {
        int width = b.Width;
        LayerSpec projection = start.Layer with
        {
            Kind = start.IsSpatial ? LayerKind.Conv2D : LayerKind.Dense, Name = start.Layer.Name + ".projection",
            Units = start.IsSpatial ? 0 : width, Filters = start.IsSpatial ? width : 0, Bias = false, Init = InitKind.HeNormal,
        };
        LinearStep step;
        if (start.IsSpatial)
        {
            int stride = Math.Max(1, ProjectionStride(start.OutputShape[1], start.OutputShape[2], b.Height, b.WidthPx));
            var geometry = new ConvPlan
            {
                Channels = start.OutWidth, Height = start.OutputShape[1], Width = start.OutputShape[2], KernelH = 1, KernelW = 1,
                Stride = stride, Padding = 0, Dilation = 1, OutHeight = b.Height, OutWidth = b.WidthPx,
            };
            TensorPlan w = b.AddParam(start.Layer.Name, "projection", "Weight", 1, 1, start.OutWidth, width);
            step = new LinearStep(projection with { KernelH = 1, KernelW = 1, Stride = stride }, w, null)
            {
                Conv = geometry, InWidth = start.OutWidth, InPixels = start.OutPixels, OutWidth = width, OutPixels = b.Pixels, OutputShape = b.Shape(),
            };
        }
        else
        {
            TensorPlan w = b.AddParam(start.Layer.Name, "projection", "Weight", start.OutFloats, width);
            step = new LinearStep(projection, w, null) { InWidth = start.OutFloats, InPixels = 1, OutWidth = width, OutPixels = 1, OutputShape = b.Shape() };
        }
        step.Owner = LayerRegistry.Of(step.Layer);
        step.IsProjection = true;
        step.ResolvedInit = InitKind.HeNormal;
        step.InitScale = Math.Sqrt(2.0 / step.InWidth);
        b.Flops += 2L * step.OutPixels * step.GemmK * width;
        return step;
    }

    public override void EmitFields(ModelEmitter e, StepPlan step)
    {
        var end = (ResidualEndStep)step;
        e.W.Line($"private float _gate{end.Index} = 1f; // {end.Layer.Name}: stochastic-depth gate of the last training step (1 = branch kept)");
        if (end.KeepsOutputGradient)
            e.W.Line($"private readonly {K}Arena _skip{end.Index} = new(MaxBatch * {end.OutFloats}); // {end.Layer.Name}: dL/dy kept for the shortcut while the branch runs backward");
        if (end.Projection is { } projection)
        {
            if (projection.Conv?.ColumnBuffer is { } projectionColumn)
                e.W.Line($"private readonly {K}Arena {projectionColumn} = new(MaxBatch * {projection.OutPixels * projection.GemmK}); // {projection.Layer.Name} im2col (1×1, stride {projection.Conv.Stride}): {projection.OutPixels} pixels × {projection.GemmK}, kept for dW");
            e.W.Line($"private readonly {K}Arena {projection.OutputBuffer} = new(MaxBatch * {projection.OutFloats}); // output of {projection.Layer.Name}, P(x) of the block input");
        }
        e.OutputField(end);
    }

    public override void EmitGeometry(ModelEmitter e, StepPlan step)
    {
        if (((ResidualEndStep)step).Projection is { } projection) LinearLayer.EmitConvGeometry(e, projection);
    }

    public override void EmitInitialization(ModelEmitter e, StepPlan step)
    {
        if (((ResidualEndStep)step).Projection is { } projection) LinearLayer.EmitWeightInitialization(e, projection);
    }

    public override void EmitViews(ModelEmitter e, StepPlan step)
    {
        var r = (ResidualEndStep)step;
        e.W.Line($"/// <summary>{r.Layer.Name}'s stochastic-depth gate in the last training step: 1 when the branch was kept, 0 when the block was skipped.</summary>");
        e.W.Line($"public float {SpecNaming.Pascal(r.Layer.Name)}Gate => _gate{r.Index};");
    }

    public override IEnumerable<LayerSpec> DescribedLayers(StepPlan step) { yield return ((ResidualEndStep)step).Layer; }

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body)
    {
        var end = (ResidualEndStep)step;
        string name = SpecNaming.Pascal(end.Layer.Name) + "Forward";
        if (end.Projection is not null)
        {
            body.Add($"// {end.Layer.Name}: projection shortcut P(x) of the block input {end.Start.InputBuffer}");
            LinearLayer.EmitGemmForward(e, end.Projection, body);
        }
        body.Add($"// {end.Layer.Name}: y = {(end.Projection is null ? "shortcut" : "P(x)")} + gate·branch");
        if (end.Survival < 1)
            body.Add($"_gate{end.Index} = _noise.NextDouble() < {Double(end.Survival)} ? 1f : 0f; // stochastic depth: keep the branch with p = {end.Survival.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, once per mini-batch");
        EmitAddStage(e, end, name, $"_gate{end.Index}", "training: the gate of this mini-batch");
        body.Add($"Execute(Stages.{name}, (long)_batch * {end.OutFloats * 2L});");
    }

    /// <summary>y = shortcut + scale·branch over the whole batch, element ranges split across threads.</summary>
    private static void EmitAddStage(ModelEmitter e, ResidualEndStep end, string name, string scale, string what)
    {
        e.OpenStage(name, $"{end.Layer.Name}: y = {end.ShortcutBuffer} ({(end.Projection is null ? "shortcut" : "projection shortcut")}) + g·{end.InputBuffer} (branch), {what}; element ranges split across threads.");
        e.W.Line($"(int e0, int e1) = {K}Partition.Range(_batch * {end.OutFloats}, part, parts, 16);");
        e.W.Line($"if (e0 < e1) {K}Residual.Add<TIsa>({All(end.ShortcutBuffer, end.OutFloats)}, {All(end.InputBuffer, end.OutFloats)}, {scale}, {All(end.OutputBuffer, end.OutFloats)}, e0, e1);");
        e.W.Close();
        e.W.Line();
    }

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var end = (ResidualEndStep)step;
        body.Add($"// {end.Layer.Name}: dL/d(shortcut) = dL/dy, dL/d(branch) = gate·dL/dy (dL/dy in {current})");
        if (end.KeepsOutputGradient) body.Add($"{All(current, end.OutFloats)}.CopyTo(_skip{end.Index}.Span);");
        if (end.Survival < 1)
        {
            string name = SpecNaming.Pascal(end.Layer.Name) + "Backward";
            e.OpenStage(name, $"{end.Layer.Name}: the branch's dL/dy = gate·dL/dy in place; element ranges split across threads.");
            e.W.Line($"(int e0, int e1) = {K}Partition.Range(_batch * {end.OutFloats}, part, parts, 16);");
            e.W.Line($"if (e0 < e1) {K}Residual.ScaleGradient<TIsa>({All(current, end.OutFloats)}, _gate{end.Index}, {All(current, end.OutFloats)}, e0, e1);");
            e.W.Close();
            e.W.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {end.OutFloats});");
        }
        return current;
    }

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var end = (ResidualEndStep)step;
        string name = SpecNaming.Pascal(end.Layer.Name) + "Inference";
        if (end.Projection is { } projection)
        {
            body.Add($"// {end.Layer.Name}: projection shortcut P(x) (the training forward's stage; nothing in it depends on the mode)");
            body.Add($"Execute(Stages.{SpecNaming.Pascal(projection.Layer.Name)}Forward, (long)_batch * {2L * projection.OutPixels * projection.GemmK * projection.OutWidth});");
        }
        EmitAddStage(e, end, name, Float(end.Survival), $"test: every block is used, the branch scaled by its survival probability {end.Survival.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
        body.Add($"// {end.Layer.Name} (eval)");
        body.Add($"Execute(Stages.{name}, (long)_batch * {end.OutFloats * 2L});");
    }
}
