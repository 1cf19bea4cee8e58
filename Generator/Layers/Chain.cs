using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.ModelEmitter;
using static Kiln.Generator.Emitting.CodeWriter;

namespace Kiln.Generator.Layers;

/// <summary>
/// A layer kind that runs inside a <see cref="Chain"/> (BatchNorm, the activations, Dropout): it parses its attribute and
/// adds its part (tensors) to the chain; the chain prints the fused stages from the parts' stage bodies.
/// </summary>
internal abstract class ChainLayer : LayerDefinition
{
    public override void Plan(PlanBuilder b) => Chain.Instance.Plan(b);

    /// <summary>Sets the layer's slot of <paramref name="chain"/> and adds its tensors.</summary>
    internal abstract void AddToChain(PlanBuilder b, ChainStep chain, LayerSpec layer);

    // A chain layer never owns a step: Chain prints it.
    public sealed override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body) => throw Unreachable();
    public sealed override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body) => throw Unreachable();
    public sealed override void EmitInference(ModelEmitter e, StepPlan step, List<string> body) => throw Unreachable();
    private InvalidOperationException Unreachable() => new($"{Attribute} is printed by its chain.");
}

/// <summary>
/// [BatchNorm] [activation] [Dropout], each optional, in this order, fused into one pass over the batch (any other order
/// starts a new chain). On spatial activations the same kernels run with rows = samples·pixels and columns = channels,
/// so BatchNorm is BatchNorm2D and PReLU is per channel. Stage bodies come from BatchNorm.cs, Activation.cs/PReLU.cs and
/// Dropout.cs; this class only puts them in order.
/// </summary>
internal sealed class Chain : StepPrinter
{
    public static readonly Chain Instance = new();

    private Chain() { }

    /// <summary>Plans the chain that starts at the current layer and moves past it.</summary>
    public void Plan(PlanBuilder b)
    {
        var chain = b.SameShape(new ChainStep());
        foreach (LayerKind kind in new[] { LayerKind.BatchNorm, LayerKind.Activation, LayerKind.Dropout })
        {
            if (b.Position < b.Layers.Count && b.Current.Kind == kind)
            {
                ((ChainLayer)LayerRegistry.Of(b.Current)).AddToChain(b, chain, b.Current);
                b.Position++;
            }
        }
        if (chain.BatchNorm is null && chain.Activation is null && chain.Dropout is null)
            throw new InvalidOperationException($"Layer '{b.Current.Name}' of kind {b.Current.Kind} cannot be planned.");
        b.Add(chain, this);
    }

    public override void EmitFields(ModelEmitter e, StepPlan step)
    {
        var chain = (ChainStep)step;
        e.OutputField(chain);
        if (chain.PreActivationBuffer is not null)
            e.W.Line($"private readonly {K}Arena {chain.PreActivationBuffer} = new(MaxBatch * {chain.OutFloats}); // {chain.BatchNorm!.Name} output before {chain.Activation!.Name}");
        if (chain.HasDropout)
        {
            e.W.Line($"private readonly {K}Arena _mask{chain.Index} = new(MaxBatch * {chain.OutFloats}); // {chain.Dropout!.Name}: 0 or the keep scale");
            Dropout.EmitKeyField(e, Dropout.MaskBuffer(chain), chain.Dropout.Name);
        }
        if (chain.BatchNorm is not null) BatchNorm.EmitChainFields(e, chain);
    }

    public override void EmitInitialization(ModelEmitter e, StepPlan step)
    {
        var c = (ChainStep)step;
        if (c.BatchNorm is not null) BatchNorm.EmitChainInitialization(e, c);
        Activation.Of(c).EmitInitialization(e, c);
    }

    public override IEnumerable<LayerSpec> DescribedLayers(StepPlan step)
    {
        var c = (ChainStep)step;
        foreach (LayerSpec? layer in new[] { c.BatchNorm, c.Activation, c.Dropout })
            if (layer is not null) yield return layer;
    }

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body)
    {
        var c = (ChainStep)step;
        int floats = c.OutFloats;
        string mask = c.HasDropout ? All($"_mask{c.Index}", floats) : "default";
        string maskRows = c.HasDropout ? Rows($"_mask{c.Index}", floats) : "default";
        body.Add($"// {c.Describe()}{(c.IsSpatial ? $" (per channel over samples·{c.OutPixels} pixels)" : "")}");
        // A BatchNorm run by the Dense layer's forward stage before it: that stage needed the mask's key first.
        if (c.HasDropout && LinearLayer.ForwardAbsorbs(e.Plan, c) is null) Dropout.AddKeyLine(body, Dropout.MaskBuffer(c), c.Dropout!.Name);
        if (c.BatchNorm is not null) BatchNorm.EmitChainForward(e, c, mask, body);
        if (c.BatchNorm is null || !c.ActivationIsElementwise)
        {
            string source = c.PreActivationBuffer ?? c.InputBuffer;
            string name = SpecNaming.Pascal((c.Activation ?? c.Dropout)!.Name) + "Forward";
            e.OpenStage(name, $"{c.Describe()}: element-wise, rows split across threads.");
            e.RowRange();
            if (c.HasDropout) e.W.Line(Dropout.DrawRowsLine(c, "r0", "r1", floats));
            e.W.Line(Activation.Of(c).ForwardRows(c, source, maskRows));
            e.W.Close();
            e.W.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {floats * (10L + (c.HasDropout ? Dropout.DrawWorkPerFloat : 0))});");
        }
    }

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var c = (ChainStep)step;
        bool hasParams = c.BatchNorm is not null || c.PReluAlpha is not null;
        int s = e.Plan.Steps.IndexOf(c);
        bool upstreamTrainable = e.Plan.Steps.Take(s).Any(p => p is LinearStep or NormStep || p is ChainStep pc && (pc.BatchNorm is not null || pc.PReluAlpha is not null));
        if (!hasParams && !upstreamTrainable) return current;
        int floats = c.OutFloats;
        string mask = c.HasDropout ? All($"_mask{c.Index}", floats) : "default";
        string maskRows = c.HasDropout ? Rows($"_mask{c.Index}", floats) : "default";
        body.Add($"// {c.Describe()} (in place on {current})");
        if (!c.ActivationIsElementwise || c.BatchNorm is null)
            Activation.Of(c).EmitBackward(e, c, current, mask, maskRows, body);
        if (c.BatchNorm is not null) BatchNorm.EmitChainBackward(e, c, mask, current, body);
        return current;
    }

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var c = (ChainStep)step;
        body.Add($"// {c.Describe()} (eval)");
        if (c.BatchNorm is not null)
        {
            BatchNorm.AddEvalLine(c, body);
            if (c.ActivationIsElementwise) return;
            AddNonElementwiseEval(body, c, c.PreActivationBuffer!);
        }
        else if (c.ActivationIsElementwise)
            body.Add(Activation.Of(c).EvalLine(c, c.InputBuffer));
        else AddNonElementwiseEval(body, c, c.InputBuffer);
        AddTestTimeScale(body, c);
    }

    /// <summary>The activation's own inference pass (PReLU, Softmax, or element-wise after an unfused BatchNorm).</summary>
    internal static void AddNonElementwiseEval(List<string> body, ChainStep c, string source) => body.Add(Activation.Of(c).EvalLine(c, source));

    /// <summary>Vanilla dropout's × keep at test.</summary>
    internal static void AddTestTimeScale(List<string> body, ChainStep c) => Dropout.AddTestTimeScale(body, c);
}
