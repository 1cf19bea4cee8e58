using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [PReLU] (He et al. 2015): max(0, x) + α·min(0, x) with a learned α per channel (per feature when flat), initialised to
/// Init. Not element-wise in the fusing sense: it has its own forward pass and a backward that sums dα over every row on
/// one thread, with the α update (Kiln.Kernels.PRelu).
/// </summary>
internal sealed class PReLU : Activation
{
    public PReLU() : base(ActivationKind.PReLU) { }

    public override IReadOnlyList<string> Arguments { get; } = new[] { "Init", "LearningRateScale", "Name" };

    public override LayerSpec Parse(LayerReader r)
    {
        double alpha = r.Double("Init", 0.25);
        CheckAlpha(r, alpha, "Init");
        return new LayerSpec(LayerKind.Activation, r.LayerName, r.Index, Activation: ActivationKind.PReLU, Alpha: alpha, LearningRateScale: r.LearningRateScale());
    }

    public override long ParameterCount(LayerSpec layer, ActivationShape before, ActivationShape after, ref long lastLinear) =>
        2L * System.Math.Max(after.ChannelCount, 1) + 2 * PlanBuilder.Alignment;

    public override bool IsElementwise => false;

    internal override void AddToChain(PlanBuilder b, ChainStep chain, LayerSpec layer)
    {
        chain.Activation = layer;
        chain.PReluAlpha = b.AddParam(layer.Name, "alpha", "Alpha", b.Width);
    }

    internal override void EmitInitialization(ModelEmitter e, ChainStep c) =>
        e.W.Line($"{K}ParameterInit.Constant({c.PReluAlpha!.Identifier}, {Float(c.Activation!.Alpha)});");

    internal override string ForwardRows(ChainStep c, string source, string maskRows) =>
        $"{K}PRelu.Forward<TIsa>({Rows(source, c.OutFloats)}, {c.PReluAlpha!.Identifier}, {maskRows}, {Rows(c.OutputBuffer, c.OutFloats)}, {SampleRows(c.OutPixels)}, {c.OutWidth});";

    internal override void EmitBackward(ModelEmitter e, ChainStep c, string current, string mask, string maskRows, List<string> body)
    {
        // α's gradient sums over every row, so one thread does the whole batch.
        int floats = c.OutFloats;
        string name = SpecNaming.Pascal(c.Activation!.Name) + "Backward";
        string u = c.PreActivationBuffer ?? c.InputBuffer;
        e.OpenStage(name, $"{c.Activation!.Name}: PReLU backward and α update (whole batch on one thread: dα sums over rows).");
        e.W.Line("if (part != 0) return;");
        e.W.Line($"{K}PRelu.Backward<TIsa>({All(u, floats)}, {c.PReluAlpha!.Identifier}, {All(current, floats)}, {mask}, {All(current, floats)}, {c.PReluAlpha.Identifier}Gradient, {BatchRows(c.OutPixels)}, {c.OutWidth});");
        e.W.Line($"if (_applyUpdate) {StepFor(c.PReluAlpha)}.Apply<TIsa>({c.PReluAlpha.Identifier}, {c.PReluAlpha.Identifier}Gradient, {e.States(c.PReluAlpha)});");
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, 0);");
    }

    internal override string EvalLine(ChainStep c, string source) =>
        $"{K}PRelu.Forward<TIsa>({All(source, c.OutFloats)}, {c.PReluAlpha!.Identifier}, default, {All(c.OutputBuffer, c.OutFloats)}, {BatchRows(c.OutPixels)}, {c.OutWidth});";
}
