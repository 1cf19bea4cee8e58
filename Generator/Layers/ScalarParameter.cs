using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>A layer with one trainable scalar (<see cref="ScalarBias"/>, <see cref="Multiplier"/>): its own step and tensor.</summary>
public sealed class ScalarStep : StepPlan
{
    public ScalarStep(LayerSpec layer, TensorPlan scalar) { Layer = layer; Scalar = scalar; }
    public LayerSpec Layer { get; }
    /// <summary>The one-element parameter tensor.</summary>
    public TensorPlan Scalar { get; }
}

/// <summary>
/// The trainable scalars of Fixup (docs/techniques.md#initialisation), one file per attribute deriving from this: a
/// forward split across threads, a backward on one thread (the scalar's gradient sums the whole batch, in a fixed order:
/// Kiln.Kernels.Fixup) that also updates the scalar, and the training forward's stage reused at inference.
/// </summary>
internal abstract class ScalarParameter : LayerDefinition
{
    public override IReadOnlyList<string> Arguments { get; } = new[] { "Name", "LearningRateScale", "Regularize" };

    /// <summary>Suffix of the tensor name (&lt;layer&gt;.bias) and its Kiln.TensorRole.</summary>
    protected abstract (string Suffix, string Role) Tensor { get; }

    /// <summary>The scalar's initial value.</summary>
    protected abstract double Initial { get; }

    /// <summary>What the forward computes, for the stage comment.</summary>
    protected abstract string Formula { get; }

    public override LayerSpec Parse(LayerReader r) =>
        new(Kind, r.LayerName, r.Index, LearningRateScale: r.LearningRateScale(), Regularize: r.Bool("Regularize", false));

    public override long ParameterCount(LayerSpec layer, ActivationShape before, ActivationShape after, ref long lastLinear) => 1;

    public override void Plan(PlanBuilder b)
    {
        LayerSpec layer = b.Current;
        TensorPlan scalar = b.AddParam(layer.Name, Tensor.Suffix, Tensor.Role, 1);
        b.Add(b.SameShape(new ScalarStep(layer, scalar)), this);
        b.Flops += (long)b.Width * b.Pixels;
        b.Position++;
    }

    public override void EmitFields(ModelEmitter e, StepPlan step) => e.OutputField(step);

    public override void EmitInitialization(ModelEmitter e, StepPlan step) =>
        e.W.Line($"{K}ParameterInit.Constant({((ScalarStep)step).Scalar.Identifier}, {Float(Initial)});");

    public override IEnumerable<LayerSpec> DescribedLayers(StepPlan step) { yield return ((ScalarStep)step).Layer; }

    /// <summary>The forward over rows [r0, r1) of the batch, reading the scalar as <paramref name="scalar"/>.</summary>
    protected abstract string ForwardRows(ScalarStep s, string scalar);

    /// <summary>The backward's lines with dL/dy in <paramref name="current"/>: the scalar's gradient, then dL/dx in place.</summary>
    protected abstract IEnumerable<string> BackwardLines(ScalarStep s, string current);

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body)
    {
        var s = (ScalarStep)step;
        string name = SpecNaming.Pascal(s.Layer.Name) + "Forward";
        e.OpenStage(name, $"{s.Layer.Name}: {Formula} ({s.Scalar.Name}); samples split across threads.");
        e.RowRange();
        e.W.Line(ForwardRows(s, $"{s.Scalar.Identifier}[0]"));
        e.W.Close();
        e.W.Line();
        body.Add($"// {s.Layer.Name}: {Formula}");
        body.Add($"Execute(Stages.{name}, (long)_batch * {s.OutFloats});");
    }

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var s = (ScalarStep)step;
        string name = SpecNaming.Pascal(s.Layer.Name) + "Backward";
        e.OpenStage(name, $"{s.Layer.Name}: the scalar's gradient, dL/dx in place on {current}, and the scalar's update (whole batch on one thread: the gradient sums every element).");
        e.W.Line("if (part != 0) return;");
        foreach (string line in BackwardLines(s, current)) e.W.Line(line);
        e.W.Line($"if (_applyUpdate) {StepFor(s.Scalar)}.Apply<TIsa>({s.Scalar.Identifier}, {s.Scalar.Identifier}Gradient, {e.States(s.Scalar)});");
        e.W.Close();
        e.W.Line();
        body.Add($"// {s.Layer.Name} (in place on {current})");
        body.Add($"Execute(Stages.{name}, 0);");
        return current;
    }

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var s = (ScalarStep)step;
        body.Add($"// {s.Layer.Name} (eval): the training forward's stage (nothing in it depends on the mode)");
        body.Add($"Execute(Stages.{SpecNaming.Pascal(s.Layer.Name)}Forward, (long)_batch * {s.OutFloats});");
    }
}
