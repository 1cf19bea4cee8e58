using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.ModelEmitter;
using static Kiln.Generator.Emitting.CodeWriter;

namespace Kiln.Generator.Layers;

/// <summary>
/// What the pooling layers (MaxPool, AvgPool, GlobalAvgPool, FractionalMaxPool) share: a <see cref="PoolStep"/> over NHWC
/// activations with samples split across threads, one forward stage used by training and inference (a max pool keeps its
/// argmax for backward), and the backward stage. Each kind's file holds its arguments, shape and kernel calls.
/// </summary>
internal abstract class Pooling : LayerDefinition
{
    /// <summary>The output height and width of the pool on an <paramref name="height"/>×<paramref name="width"/> input.</summary>
    public abstract (int Height, int Width) OutputSize(LayerSpec layer, int height, int width);

    /// <summary>Forward FLOPs per output value (for the plan's FLOP count).</summary>
    protected abstract long FlopsPerOutput(LayerSpec layer, int inputPixels);

    public override void Plan(PlanBuilder b)
    {
        LayerSpec layer = b.Current;
        var pool = new PoolStep(layer) { InWidth = b.Width, OutWidth = b.Width, InPixels = b.Pixels, Height = b.Height, Width = b.WidthPx };
        (pool.OutHeight, pool.OutWidthPx) = OutputSize(layer, b.Height, b.WidthPx);
        pool.OutPixels = pool.OutHeight * pool.OutWidthPx;
        b.Flops += (long)pool.OutPixels * b.Width * FlopsPerOutput(layer, b.Pixels);
        if (layer.Kind == LayerKind.GlobalAvgPool) b.Spatial = false;
        b.Height = pool.OutHeight;
        b.WidthPx = pool.OutWidthPx;
        b.Pixels = pool.OutPixels;
        pool.OutputShape = b.Shape();
        b.Add(pool, this);
        b.Position++;
    }

    /// <summary>The forward kernel call over samples [s0, s1) (argmax kept where the kind has one).</summary>
    internal abstract string ForwardCall(PoolStep p, string input, string output);

    /// <summary>The forward stage's summary.</summary>
    internal abstract string ForwardSummary(PoolStep p);

    /// <summary>The backward kernel call over samples [s0, s1).</summary>
    internal abstract string BackwardCall(PoolStep p, string dy, string dx);

    /// <summary>The backward stage's summary.</summary>
    internal abstract string BackwardSummary(PoolStep p);

    public override void EmitFields(ModelEmitter e, StepPlan step)
    {
        var pool = (PoolStep)step;
        e.OutputField(pool);
        if (pool.ArgmaxBuffer is { } argmax)
            e.W.Line($"private readonly int[] {argmax} = new int[MaxBatch * {pool.OutFloats}]; // {pool.Layer.Name}: index of each window's maximum");
    }

    public override IEnumerable<LayerSpec> DescribedLayers(StepPlan step) { yield return ((PoolStep)step).Layer; }

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body)
    {
        var p = (PoolStep)step;
        EmitForwardStage(e, p);
        if (BatchNorm.FusedTrainingChain(e.Plan, p) is { } chain)
        {
            // The stage stays for inference; in training the BatchNorm chain's forward stage pools.
            body.Add($"// {p.Layer.Name}: pooled in {SpecNaming.Pascal(chain.BatchNorm!.Name)}Forward");
            return;
        }
        body.Add($"// {p.Layer.Name}");
        BeforeTrainingForward(p, body);
        body.Add($"Execute(Stages.{SpecNaming.Pascal(p.Layer.Name)}Forward, (long)_batch * {Work(p)});");
    }

    /// <summary>Lines ForwardTraining runs before the pool's stage (FractionalMaxPool draws its regions).</summary>
    protected virtual void BeforeTrainingForward(PoolStep p, List<string> body) { }

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var p = (PoolStep)step;
        if (!p.NeedsInputGradient) return current;
        string next = Other(current);
        if (BatchNorm.FusedTrainingChain(e.Plan, p) is { } chain)
        {
            // The chain's backward reads dL/dy (pooled) from this buffer's other half of the pair and the argmax itself.
            body.Add($"// {p.Layer.Name} (dL/dy in {current}): scattered to its argmax by {SpecNaming.Pascal(chain.BatchNorm!.Name)}BackwardSums");
            return next;
        }
        string name = SpecNaming.Pascal(p.Layer.Name) + "Backward";
        e.OpenStage(name, BackwardSummary(p));
        e.SampleRange();
        e.W.Line(BackwardCall(p, All(current, p.OutFloats), All(next, p.InFloats)));
        e.W.Close();
        e.W.Line();
        body.Add($"// {p.Layer.Name} (dL/dy in {current})");
        body.Add($"Execute(Stages.{name}, (long)_batch * {Work(p)});");
        return next;
    }

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var p = (PoolStep)step;
        body.Add($"// {p.Layer.Name} (eval)");
        body.Add($"Execute(Stages.{SpecNaming.Pascal(p.Layer.Name)}Forward, (long)_batch * {Work(p)});");
    }

    /// <summary>A pooling layer's forward stage (shared by training and inference; a max pool records its argmax for backward).</summary>
    private static void EmitForwardStage(ModelEmitter e, PoolStep p)
    {
        var kind = (Pooling)p.Owner;
        string input = All(p.InputBuffer, p.InFloats), output = All(p.OutputBuffer, p.OutFloats);
        e.OpenStage(SpecNaming.Pascal(p.Layer.Name) + "Forward", kind.ForwardSummary(p));
        e.SampleRange();
        e.W.Line(kind.ForwardCall(p, input, output));
        e.W.Close();
        e.W.Line();
    }

    /// <summary>Work of the pool's forward or backward per sample (for the parallel threshold).</summary>
    internal static long Work(PoolStep p) => ((Pooling)p.Owner).WorkPerSample(p);

    /// <summary>Work per sample of this kind.</summary>
    protected virtual long WorkPerSample(PoolStep p) => (long)p.OutFloats * p.Layer.KernelH * p.Layer.KernelW;

    public override void EmitGeometry(ModelEmitter e, StepPlan step)
    {
        var p = (PoolStep)step;
        if (p.GeometryField.Length > 0)
            e.W.Line($"private static readonly {K}PoolGeometry {p.GeometryField} = new({p.InWidth}, {p.Height}, {p.Width}, {p.Layer.KernelH}, {p.Layer.KernelW}, {p.Layer.Stride}, {p.Layer.Stride}, {p.Layer.Padding}, {p.Layer.Padding}); // {p.Layer.Name}");
    }
}
