using System;
using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>Alpha dropout: a fresh mask per mini-batch (0 or a) in <c>_maskN</c>; the identity at test.</summary>
public sealed class AlphaDropoutStep : StepPlan
{
    public AlphaDropoutStep(LayerSpec layer) => Layer = layer;
    public LayerSpec Layer { get; }
    /// <summary>The mask buffer: a for a kept unit, 0 for a dropped one.</summary>
    public string MaskBuffer => "_mask" + Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// [AlphaDropout(rate)] (Klambauer et al. 2017, docs/techniques.md#regularisation): dropped units take SELU's saturation
/// value α′ = −λα, then y = a·x + b restores mean 0 and variance 1. Its own step after the chain before it: forward
/// y = mask·(x − α′) + (a·α′ + b) with mask ∈ {0, a}, backward dL/dx = mask·dL/dy in place, inference a copy.
/// </summary>
internal sealed class AlphaDropout : LayerDefinition
{
    // SELU's constants, as in Kiln.Kernels.AlphaDropout (the generator cannot reference the runtime).
    private const double DroppedValue = -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717;

    public override string Attribute => "AlphaDropout";
    public override LayerKind Kind => LayerKind.AlphaDropout;
    public override IReadOnlyList<string> Arguments { get; } = new[] { "rate", "Name" };

    public override LayerSpec Parse(LayerReader r)
    {
        double rate = r.Double("rate", 0);
        if (!(rate >= 0 && rate < 1)) r.OutOfDomain("rate", 0, rate, "the drop probability must be in [0, 1)");
        return new LayerSpec(LayerKind.AlphaDropout, r.LayerName, r.Index, Rate: rate);
    }

    public override void Plan(PlanBuilder b)
    {
        b.Add(b.SameShape(new AlphaDropoutStep(b.Current)), this);
        b.Flops += (long)b.Width * b.Pixels * 2;
        b.Position++;
    }

    /// <summary>a and b of the affine correction for drop probability <paramref name="rate"/> (keep p = 1 − rate).</summary>
    internal static (double A, double B) Affine(double rate)
    {
        double keep = 1 - rate;
        double a = 1 / Math.Sqrt(keep + DroppedValue * DroppedValue * keep * rate);
        return (a, -a * rate * DroppedValue);
    }

    public override void EmitFields(ModelEmitter e, StepPlan step)
    {
        var s = (AlphaDropoutStep)step;
        e.OutputField(s);
        e.W.Line($"private readonly {K}Arena {s.MaskBuffer} = new(MaxBatch * {s.OutFloats}); // {s.Layer.Name}: 0 (dropped) or a (kept)");
        Dropout.EmitKeyField(e, s.MaskBuffer, s.Layer.Name);
    }

    public override IEnumerable<LayerSpec> DescribedLayers(StepPlan step) { yield return ((AlphaDropoutStep)step).Layer; }

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body)
    {
        var s = (AlphaDropoutStep)step;
        (double a, double b) = Affine(s.Layer.Rate);
        string name = SpecNaming.Pascal(s.Layer.Name) + "Forward";
        e.OpenStage(name, $"{s.Layer.Name}: y = mask·(x − α′) + a·α′ + b (a kept unit gives a·x + b, a dropped one a·α′ + b); samples split across threads.");
        e.RowRange();
        e.W.Line(Dropout.DrawLine(s.MaskBuffer, Rows(s.MaskBuffer, s.OutFloats), $"r0 * {s.OutFloats}", 1 - s.Layer.Rate, a));
        e.W.Line($"{K}AlphaDropout.Forward<TIsa>({Rows(s.InputBuffer, s.InFloats)}, {Rows(s.MaskBuffer, s.OutFloats)}, {Float(DroppedValue)}, {Float(a * DroppedValue + b)}, {Rows(s.OutputBuffer, s.OutFloats)});");
        e.W.Close();
        e.W.Line();
        body.Add($"// {s.Layer.Name}: drop probability {Double(s.Layer.Rate)}, a = {Double(a)}, b = {Double(b)}");
        Dropout.AddKeyLine(body, s.MaskBuffer, s.Layer.Name);
        body.Add($"Execute(Stages.{name}, (long)_batch * {(long)s.OutFloats * (2 + Dropout.DrawWorkPerFloat)});");
    }

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var s = (AlphaDropoutStep)step;
        string name = SpecNaming.Pascal(s.Layer.Name) + "Backward";
        e.OpenStage(name, $"{s.Layer.Name}: dL/dx = mask·dL/dy in place; samples split across threads.");
        e.RowRange();
        e.W.Line($"{K}Elementwise.Multiply<TIsa>({Rows(current, s.OutFloats)}, {Rows(s.MaskBuffer, s.OutFloats)}, {Rows(current, s.OutFloats)});");
        e.W.Close();
        e.W.Line();
        body.Add($"// {s.Layer.Name} (in place on {current})");
        body.Add($"Execute(Stages.{name}, (long)_batch * {(long)s.OutFloats});");
        return current;
    }

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var s = (AlphaDropoutStep)step;
        body.Add($"// {s.Layer.Name} (eval): the identity");
        body.Add($"{All(s.InputBuffer, s.InFloats)}.CopyTo({All(s.OutputBuffer, s.OutFloats)});");
    }
}
