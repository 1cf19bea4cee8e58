using System;
using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// The activation attributes ([ReLU], [Tanh], [LeakyReLU(α)], [Swish(β)], [Softmax], …; docs/techniques.md#activations),
/// one instance per attribute in <see cref="LayerRegistry.All"/>. An element-wise activation runs fused into the
/// BatchNorm kernel or the GEMM epilogue before it (Kiln.Kernels activation structs); Softmax (last layer only) and
/// PReLU (<see cref="PReLU"/>, learned α) need a pass of their own. Planned and printed as part of a <see cref="Chain"/>.
/// </summary>
internal class Activation : ChainLayer
{
    private readonly string? _alphaArgument;
    private readonly double _defaultAlpha;

    /// <summary>A chain without an activation (dropout only) prints as the identity.</summary>
    internal static readonly Activation None = new(ActivationKind.Identity);

    public Activation(ActivationKind activation, string? alphaArgument = null, double defaultAlpha = 0)
    {
        Function = activation;
        _alphaArgument = alphaArgument;
        _defaultAlpha = defaultAlpha;
        Arguments = alphaArgument is null ? new[] { "Name" } : new[] { alphaArgument, "Name" };
    }

    /// <summary>Which activation this attribute is.</summary>
    public ActivationKind Function { get; }
    public override string Attribute => Function.ToString();
    public override LayerKind Kind => LayerKind.Activation;
    public override IReadOnlyList<string> Arguments { get; }

    public override LayerSpec Parse(LayerReader r)
    {
        double alpha = _alphaArgument is null ? 0 : r.Double(_alphaArgument, _defaultAlpha);
        CheckAlpha(r, alpha, _alphaArgument ?? "Alpha");
        return new LayerSpec(LayerKind.Activation, r.LayerName, r.Index, Activation: Function, Alpha: alpha);
    }

    /// <summary>α (β for Swish) must be finite; ELU's must be positive.</summary>
    protected void CheckAlpha(LayerReader r, double alpha, string argument)
    {
        if (!AttributeArguments.IsFloat(alpha) || (Function == ActivationKind.ELU && alpha <= 0))
            r.OutOfDomain(argument, 0, alpha, Function == ActivationKind.ELU ? "ELU's α must be positive" : "it must be finite",
                shown: Function == ActivationKind.Swish ? "β" : "α");
    }

    /// <summary>True when the activation fuses into the BatchNorm kernels and GEMM epilogues (all but PReLU and Softmax).</summary>
    public virtual bool IsElementwise => Function != ActivationKind.Softmax;

    /// <summary>The chain's activation definition (<see cref="None"/> when it has none).</summary>
    internal static Activation Of(ChainStep c) => c.Activation is { } act ? (Activation)LayerRegistry.Of(act) : None;

    /// <summary>The training forward over rows [r0, r1) of <paramref name="source"/> when it is not fused into the BatchNorm.</summary>
    internal virtual string ForwardRows(ChainStep c, string source, string maskRows)
    {
        int floats = c.OutFloats;
        return Function == ActivationKind.Softmax
            ? $"{K}Elementwise.SoftmaxForward({Rows(source, floats)}, {Rows(c.OutputBuffer, floats)}, r1 - r0, {floats});"
            : $"{K}Elementwise.ActivationForward<TIsa, {ActivationType(c)}>({Rows(source, floats)}, {maskRows}, {Rows(c.OutputBuffer, floats)}, {ActivationStruct(c)});";
    }

    /// <summary>The backward stage of the activation (and dropout) when not fused into the BatchNorm's, in place on <paramref name="current"/>.</summary>
    internal virtual void EmitBackward(ModelEmitter e, ChainStep c, string current, string mask, string maskRows, List<string> body)
    {
        int floats = c.OutFloats;
        string name = SpecNaming.Pascal((c.Activation ?? c.Dropout)!.Name) + "Backward";
        string u = c.PreActivationBuffer ?? c.InputBuffer;
        e.OpenStage(name, $"{c.Describe()}: activation{(c.HasDropout ? " and dropout" : "")} backward, rows split across threads.");
        e.RowRange();
        if (Function == ActivationKind.Softmax)
            e.W.Line($"{K}Elementwise.SoftmaxBackward({Rows(c.OutputBuffer, floats)}, {Rows(current, floats)}, {Rows(current, floats)}, r1 - r0, {floats});");
        else
            e.W.Line($"{K}Elementwise.ActivationBackward<TIsa, {ActivationType(c)}>({Rows(u, floats)}, {Rows(current, floats)}, {maskRows}, {Rows(current, floats)}, {ActivationStruct(c)});");
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {floats * 10L});");
    }

    /// <summary>Inference of the activation over the whole batch from <paramref name="source"/>.</summary>
    internal virtual string EvalLine(ChainStep c, string source)
    {
        int floats = c.OutFloats;
        return Function == ActivationKind.Softmax
            ? $"{K}Elementwise.SoftmaxForward({All(source, floats)}, {All(c.OutputBuffer, floats)}, _batch, {floats});"
            : $"{K}Elementwise.ActivationForward<TIsa, {ActivationType(c)}>({All(source, floats)}, default, {All(c.OutputBuffer, floats)}, {ActivationStruct(c)});";
    }

    /// <summary>Tensors of the activation (PReLU's α).</summary>
    internal override void AddToChain(PlanBuilder b, ChainStep chain, LayerSpec layer) => chain.Activation = layer;

    /// <summary>InitializeParameters lines (PReLU's α).</summary>
    internal virtual void EmitInitialization(ModelEmitter e, ChainStep c) { }
}
