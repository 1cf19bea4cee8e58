using System;
using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// What LayerNorm, InstanceNorm and GroupNorm share: per-sample statistics over groups of channels (and all pixels), γ/β
/// per channel, one kernel (Kiln.Kernels.GroupNorm: groups 1, C or G), the same computation in training and inference.
/// Forward splits samples across threads; backward runs the whole batch on one thread because dγ/dβ sum over samples.
/// </summary>
internal abstract class SampleNorm : LayerDefinition
{
    /// <summary>The groups of this kind on <paramref name="channels"/> channels (or features): 1, C, or the argument.</summary>
    protected abstract int Groups(LayerReader r, int channels);

    /// <summary>What the statistics run over, for the stage's summary.</summary>
    protected abstract string Over(NormStep n);

    public override LayerSpec Parse(LayerReader r)
    {
        double eps = r.Double("Epsilon", 1e-5);
        r.CheckPositive("Epsilon", eps, "ε must be positive");
        int groups = Groups(r, r.Shape.ChannelCount);
        return new LayerSpec(Kind, r.LayerName, r.Index, Epsilon: eps, Groups: Math.Max(groups, 1), LearningRateScale: r.LearningRateScale());
    }

    public override long ParameterCount(LayerSpec layer, ActivationShape before, ActivationShape after, ref long lastLinear) =>
        2L * Math.Max(after.ChannelCount, 1) + 2 * PlanBuilder.Alignment;

    public override void Plan(PlanBuilder b)
    {
        LayerSpec layer = b.Current;
        var norm = b.SameShape(new NormStep(layer, b.AddParam(layer.Name, "gamma", "Gamma", b.Width), b.AddParam(layer.Name, "beta", "Beta", b.Width)));
        b.Flops += 8L * b.Width * b.Pixels;
        b.Add(norm, this);
        b.Position++;
    }

    public override void EmitFields(ModelEmitter e, StepPlan step)
    {
        var norm = (NormStep)step;
        e.OutputField(norm);
        e.W.Line($"private readonly {K}Arena _mean{norm.Index} = new(MaxBatch * {norm.Groups}); // {norm.Layer.Name} mean per sample and group");
        e.W.Line($"private readonly {K}Arena _invStd{norm.Index} = new(MaxBatch * {norm.Groups}); // {norm.Layer.Name} 1/sqrt(var + ε) per sample and group");
    }

    public override void EmitInitialization(ModelEmitter e, StepPlan step)
    {
        var n = (NormStep)step;
        e.W.Line($"{K}ParameterInit.Constant({n.Gamma.Identifier}, 1f);");
        e.W.Line($"{K}ParameterInit.Constant({n.Beta.Identifier}, 0f);");
    }

    public override IEnumerable<LayerSpec> DescribedLayers(StepPlan step) { yield return ((NormStep)step).Layer; }

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body)
    {
        var n = (NormStep)step;
        OpenForwardStage(e, n);
        e.SampleRange();
        e.W.Line($"{K}GroupNorm.Forward<TIsa>({All(n.InputBuffer, n.InFloats)}, {n.Gamma.Identifier}, {n.Beta.Identifier}, {All(n.OutputBuffer, n.OutFloats)},");
        e.W.Line($"    _mean{n.Index}.Slice(0, _batch * {n.Groups}), _invStd{n.Index}.Slice(0, _batch * {n.Groups}), {n.OutPixels}, {n.OutWidth}, {n.Groups}, {Float(n.Layer.Epsilon)}, s0, s1);");
        e.W.Close();
        e.W.Line();
        body.Add($"// {n.Layer.Name}");
        body.Add($"Execute(Stages.{SpecNaming.Pascal(n.Layer.Name)}Forward, (long)_batch * {8L * n.OutFloats});");
    }

    private void OpenForwardStage(ModelEmitter e, NormStep n) =>
        e.OpenStage(SpecNaming.Pascal(n.Layer.Name) + "Forward", $"{n.Layer.Name}: y = γ·(x − μ)/sqrt(σ² + ε) + β with μ, σ² {Over(n)}; samples split across threads.");

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var norm = (NormStep)step;
        string next = Other(current);
        string name = SpecNaming.Pascal(norm.Layer.Name) + "Backward";
        e.OpenStage(name, $"{norm.Layer.Name}: dL/dx and dγ, dβ (summed over every sample, so one thread does the whole batch), then the γ/β update.");
        e.W.Line("if (part != 0) return;");
        e.W.Line($"{norm.Gamma.Identifier}Gradient.Clear();");
        e.W.Line($"{norm.Beta.Identifier}Gradient.Clear();");
        e.W.Line($"{K}GroupNorm.Backward<TIsa>({All(norm.InputBuffer, norm.InFloats)}, {All(current, norm.OutFloats)}, {norm.Gamma.Identifier}, _mean{norm.Index}.Slice(0, _batch * {norm.Groups}), _invStd{norm.Index}.Slice(0, _batch * {norm.Groups}),");
        e.W.Line($"    {All(next, norm.InFloats)}, {norm.Gamma.Identifier}Gradient, {norm.Beta.Identifier}Gradient, {norm.OutPixels}, {norm.OutWidth}, {norm.Groups}, 0, _batch);");
        e.W.Open("if (_applyUpdate)");
        e.W.Line($"{StepFor(norm.Gamma)}.Apply<TIsa>({norm.Gamma.Identifier}, {norm.Gamma.Identifier}Gradient, {e.States(norm.Gamma)});");
        e.W.Line($"{StepFor(norm.Beta)}.Apply<TIsa>({norm.Beta.Identifier}, {norm.Beta.Identifier}Gradient, {e.States(norm.Beta)});");
        e.W.Close();
        e.W.Close();
        e.W.Line();
        body.Add($"// {norm.Layer.Name} (dL/dy in {current})");
        body.Add($"Execute(Stages.{name}, 0);");
        return norm.NeedsInputGradient ? next : current;
    }

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var norm = (NormStep)step;
        body.Add($"// {norm.Layer.Name} (eval: the same per-sample statistics as in training)");
        body.Add($"Execute(Stages.{SpecNaming.Pascal(norm.Layer.Name)}Forward, (long)_batch * {8L * norm.OutFloats});");
    }
}
