using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Layers;

/// <summary>
/// Everything the generator knows about one layer kind of the DSL, in one file per kind (Generator/Layers/Dense.cs,
/// GroupNorm.cs, …): its attribute's arguments and their checks, its output shape, its parameters and their layout,
/// and the bodies of its training-forward, backward and inference stages. <see cref="LayerRegistry.All"/> lists one
/// instance per attribute; the parser, planner and emitter only walk the layer list and call these members.
/// See docs/architecture.md#adding-a-layer-kind.
/// </summary>
internal abstract class LayerDefinition : StepPrinter
{
    /// <summary>The attribute's class name without "Attribute" (e.g. "GroupNorm"), as written in the DSL.</summary>
    public abstract string Attribute { get; }

    /// <summary>The kind the parsed <see cref="LayerSpec"/> carries.</summary>
    public abstract LayerKind Kind { get; }

    /// <summary>Prefix of the default layer names (groupnorm0, groupnorm1, …).</summary>
    public virtual string NamePrefix => Attribute.ToLowerInvariant();

    /// <summary>
    /// The attribute's arguments as the runtime declares them (constructor parameters and settable properties, "Name"
    /// included). Every argument the parser reads is one of these; a test compares the list with Kiln.Runtime's
    /// attribute, so renaming a DSL argument fails the build's tests instead of silently reading a default.
    /// </summary>
    public abstract IReadOnlyList<string> Arguments { get; }

    // ------------------------------------------------------------------ parse

    /// <summary>
    /// Reads and checks the attribute (diagnostics on the offending argument through <paramref name="r"/>) and updates
    /// <see cref="LayerReader.Shape"/> to the layer's output. Never throws on bad input.
    /// </summary>
    public abstract LayerSpec Parse(LayerReader r);

    /// <summary>
    /// The parameters the layer adds (weights with their 16-float alignment, biases, scales), from the widths the parser
    /// tracks, for the model-size check (KLN0018). <paramref name="lastLinear"/> is the count of the last Dense/Conv2D.
    /// </summary>
    public virtual long ParameterCount(LayerSpec layer, ActivationShape before, ActivationShape after, ref long lastLinear) => 0;

    // ------------------------------------------------------------------ plan

    /// <summary>Adds the layer's step(s) and tensors at <see cref="PlanBuilder.Position"/> and moves past the layers it consumed.</summary>
    public abstract void Plan(PlanBuilder b);
}

/// <summary>
/// Prints the steps it planned: their fields, initialisation, views and stages. Every <see cref="LayerDefinition"/> is one;
/// so is <see cref="Chain"/>, which fuses BatchNorm, an activation and Dropout into one pass.
/// </summary>
internal abstract class StepPrinter
{
    /// <summary>Per-step fields: buffers, masks, geometry (the step's output buffer is declared by the emitter).</summary>
    public virtual void EmitFields(ModelEmitter e, StepPlan step) { }

    /// <summary>Static geometry fields, after every buffer.</summary>
    public virtual void EmitGeometry(ModelEmitter e, StepPlan step) { }

    /// <summary>Lines of InitializeParameters for the step's tensors.</summary>
    public virtual void EmitInitialization(ModelEmitter e, StepPlan step) { }

    /// <summary>Public views beyond the tensors (e.g. the last mask or gate), after the tensor views.</summary>
    public virtual void EmitViews(ModelEmitter e, StepPlan step) { }

    /// <summary>The training forward: writes the step's stages and adds its lines to ForwardTraining's <paramref name="body"/>.</summary>
    public abstract void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body);

    /// <summary>
    /// The backward pass with dL/dy in <paramref name="current"/>; returns the buffer holding dL/dx afterwards (the other
    /// ping-pong buffer when the step computed it, <paramref name="current"/> when it worked in place or computed none).
    /// </summary>
    public abstract string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body);

    /// <summary>Inference (Predict): the step's stages and its lines of ForwardInference, following the plan's fusion decisions.</summary>
    public abstract void EmitInference(ModelEmitter e, StepPlan step, List<string> body);

    /// <summary>Entries of the generated layer table (Kiln.LayerInfo) for the step.</summary>
    public virtual IEnumerable<LayerSpec> DescribedLayers(StepPlan step) { yield break; }
}
