using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;

namespace Kiln.Generator.Emitting;

// The forward, loss, backward and inference passes: the orchestration only. Each step's stages are printed by the
// layer definition that planned it (Generator/Layers: step.Owner); each parallel stage is a generic method over the
// ISA path; the sequential orchestration lives in ForwardTraining / Backward / ForwardInference.
internal sealed partial class ModelEmitter
{
    /// <summary>
    /// The writer of the generated file (for the layer definitions' stage bodies); while a feature view is printed
    /// (<see cref="EmitFeature"/>), a scratch writer for the steps outside it.
    /// </summary>
    internal CodeWriter W => InFocus(_current) ? _w : _discard;

    private HashSet<StepPlan>? _focus;
    private StepPlan? _current;
    private readonly CodeWriter _discard = new();

    private bool InFocus(StepPlan? step) => _focus is null || step is null || _focus.Contains(step);

    /// <summary>Calls <paramref name="print"/> for every step (in order, or reversed), with <see cref="W"/> set for it.</summary>
    private void ForEachStep(System.Action<StepPlan> print, bool reversed = false)
    {
        for (int i = 0; i < _plan.Steps.Count; i++)
        {
            _current = _plan.Steps[reversed ? _plan.Steps.Count - 1 - i : i];
            print(_current);
        }
        _current = null;
    }

    /// <summary>Calls <paramref name="print"/> for every step and keeps the lines it adds to <paramref name="body"/> for steps in focus.</summary>
    private void CollectLines(List<string> body, System.Action<StepPlan, List<string>> print, bool reversed = false) =>
        ForEachStep(step =>
        {
            var lines = new List<string>();
            print(step, lines);
            if (InFocus(step)) body.AddRange(lines);
        }, reversed);

    /// <summary>
    /// A feature view for the feature snapshots (tests/Kiln.Generator.Tests/FeatureSnapshotTests.cs): everything the
    /// steps in <paramref name="focus"/> print (fields, initialisation, views, training forward, backward, inference),
    /// with the other steps' output left out.
    /// </summary>
    internal static string EmitFeature(ModelPlan plan, System.Func<StepPlan, bool> focus)
    {
        var e = new ModelEmitter(plan) { _focus = new HashSet<StepPlan>(plan.Steps.Where(focus)) };
        e._w.Line("// Plan: " + e.DescribePlan());
        e._w.Line("// ---- fields");
        e.ForEachStep(step => step.Owner.EmitFields(e, step));
        e.ForEachStep(step => step.Owner.EmitGeometry(e, step));
        e._w.Line("// ---- InitializeParameters");
        e.ForEachStep(step => step.Owner.EmitInitialization(e, step));
        e._w.Line("// ---- views");
        e.ForEachStep(step => step.Owner.EmitViews(e, step));
        e._w.Line("// ---- training forward");
        e.EmitTrainingForward();
        e._w.Line("// ---- backward");
        e.EmitBackward();
        e._w.Line("// ---- inference");
        e.EmitInference();
        return e._w.ToString();
    }

    /// <summary>The plan being printed.</summary>
    internal ModelPlan Plan => _plan;

    /// <summary>The other gradient ping-pong buffer.</summary>
    internal static string Other(string current) => current == "_g0" ? "_g1" : "_g0";

    /// <summary>The field of a step's output buffer (MaxBatch rows).</summary>
    internal void OutputField(StepPlan step) =>
        W.Line($"private readonly {K}Arena {step.OutputBuffer} = new(MaxBatch * {step.OutFloats}); // output of {StepName(step)}{(step.IsSpatial ? $" ({Shape(step)}, channels-last)" : "")}");

    private int AddStage(string name, string comment)
    {
        _stages.Add((name, comment));
        return _stages.Count - 1;
    }

    internal static string ActivationStruct(ChainStep chain) => chain.ActivationIsElementwise ? ActivationStruct(chain.ActivationKind, chain.Activation?.Alpha ?? 0) : ActivationStruct(ActivationKind.Identity, 0);

    internal static string ActivationType(ChainStep chain) => chain.ActivationIsElementwise ? ActivationType(chain.ActivationKind) : ActivationType(ActivationKind.Identity);

    internal static string ActivationType(ActivationKind kind) => K + kind switch
    {
        ActivationKind.Sigmoid => "Sigmoid",
        ActivationKind.Tanh => "Tanh",
        ActivationKind.ReLU => "Relu",
        ActivationKind.LeakyReLU => "LeakyRelu",
        ActivationKind.ELU => "Elu",
        ActivationKind.SELU => "Selu",
        ActivationKind.Swish => "Swish",
        ActivationKind.GELU => "Gelu",
        _ => "Identity",
    };

    internal static string ActivationStruct(ActivationKind kind, double alpha) => kind switch
    {
        ActivationKind.LeakyReLU or ActivationKind.ELU or ActivationKind.Swish => $"new {ActivationType(kind)}({Float(alpha)})",
        _ => $"new {ActivationType(kind)}()",
    };

    internal static string Rows(string buffer, int width) => $"{buffer}.Slice(r0 * {width}, (r1 - r0) * {width})";

    internal static string All(string buffer, int width) => $"{buffer}.Slice(0, _batch * {width})";

    /// <summary>The two optimiser-state arguments of Apply for a tensor ("default" where the rule keeps none), each passed through <paramref name="slice"/>.</summary>
    internal string States(TensorPlan t, System.Func<string, string>? slice = null)
    {
        string State(int s) => s <= _plan.OptimizerStateCount ? (slice ?? (x => x))($"{t.Identifier}State{s}") : "default";
        return $"{State(1)}, {State(2)}";
    }

    internal void OpenStage(string name, string comment)
    {
        AddStage(name, comment);
        W.Line($"/// <summary>{comment}</summary>");
        W.Line(HotAttribute);
        W.Open($"private void {name}<TIsa>(int part, int parts) {IsaConstraint}");
    }

    internal void RowRange(string total = "_batch", string align = "8")
    {
        W.Line($"(int r0, int r1) = {K}Partition.Range({total}, part, parts, {align});");
        W.Line("if (r0 >= r1) return;");
    }

    // ------------------------------------------------------------------ training forward

    /// <summary>Rows of a whole batch when each sample has <paramref name="pixels"/> rows.</summary>
    internal static string BatchRows(int pixels) => pixels == 1 ? "_batch" : $"_batch * {pixels}";

    /// <summary>Rows of the samples [r0, r1) when each sample has <paramref name="pixels"/> rows.</summary>
    internal static string SampleRows(int pixels) => pixels == 1 ? "r1 - r0" : $"(r1 - r0) * {pixels}";

    internal void SampleRange()
    {
        W.Line($"(int s0, int s1) = {K}Partition.Range(_batch, part, parts, 1);");
        W.Line("if (s0 >= s1) return;");
    }

    /// <summary>The step for one tensor: its learning-rate scale and penalties applied to this step's constants.</summary>
    internal static string StepFor(TensorPlan t) => $"StepFor({t.TrainableIndex})";

    internal static string Cols(string identifier) => $"{identifier}.Slice(c0, c1 - c0)";

    // ------------------------------------------------------------------ training forward

    private void EmitTrainingForward()
    {
        var body = new List<string>();
        CollectLines(body, (step, lines) => step.Owner.EmitTrainingForward(this, step, lines));
        _w.Line("/// <summary>Training-mode forward over _batch rows of _x: batch statistics, fresh dropout masks.</summary>");
        _w.Line(HotAttribute);
        _w.Open("private void ForwardTraining()");
        foreach (string line in body) _w.Line(line);
        _w.Close();
        _w.Line();
    }

    // ------------------------------------------------------------------ loss

    private void EmitLoss()
    {
        LossSpec loss = _spec.Loss!;
        int o = _plan.OutputSize;
        _w.Line("/// <summary>Mean loss of the last forward; with withGradient, dL/d(output) (already divided by the batch) goes to _g0.</summary>");
        _w.Line(HotAttribute);
        _w.Open("protected override float ComputeLoss(bool useLabels, bool withGradient)");
        _w.Line("int batch = _batch;");
        _w.Line($"{ROSpan} output = {_plan.OutputBuffer}.Slice(0, batch * {o});");
        _w.Line($"{Span} gradient = withGradient ? _g0.Slice(0, batch * {o}) : default;");
        _w.Line("float scale = 1f / batch;");
        _w.Line("global::System.ReadOnlySpan<int> labels = new global::System.ReadOnlySpan<int>(_labels, 0, batch);");
        _w.Line($"{ROSpan} targets = _targets.Slice(0, batch * {o});");
        string labelsCall = loss.Kind switch
        {
            LossKind.SoftmaxCrossEntropy => $"{K}Losses.SoftmaxCrossEntropy(output, labels, gradient, batch, {o}, scale)",
            LossKind.MulticlassHinge => $"{K}Losses.MulticlassHinge(output, labels, gradient, batch, {o}, {Float(loss.Margin)}, scale)",
            LossKind.BinaryCrossEntropy => $"{K}Losses.BinaryCrossEntropy(output, labels, gradient, batch, scale)",
            _ => "throw new global::System.NotSupportedException(\"MeanSquaredError needs float targets.\")",
        };
        string targetsCall = loss.Kind switch
        {
            LossKind.SoftmaxCrossEntropy => $"{K}Losses.SoftmaxCrossEntropy(output, targets, gradient, batch, {o}, scale)",
            LossKind.BinaryCrossEntropy => $"{K}Losses.BinaryCrossEntropy(output, targets, gradient, batch, {o}, scale)",
            LossKind.MeanSquaredError => $"{K}Losses.MeanSquaredError(output, targets, gradient, batch, {o}, scale)",
            _ => "throw new global::System.NotSupportedException(\"MulticlassHinge needs integer labels.\")",
        };
        _w.Line($"float sum = useLabels ? {labelsCall} : {targetsCall};");
        _w.Line("return sum / batch;");
        _w.Close();
        _w.Line();
    }

    // ------------------------------------------------------------------ backward

    private void EmitBackward()
    {
        var body = new List<string>();
        string current = "_g0";
        CollectLines(body, (step, lines) => current = step.Owner.EmitBackward(this, step, current, lines), reversed: true);
        _w.Line("/// <summary>Backward pass from dL/d(output) in _g0, fused with the optimiser update when _applyUpdate.</summary>");
        _w.Line(HotAttribute);
        _w.Open("private void Backward()");
        foreach (string line in body) _w.Line(line);
        _w.Close();
        _w.Line();
    }

    // ------------------------------------------------------------------ inference

    private void EmitInference()
    {
        var body = new List<string>();
        CollectLines(body, (step, lines) => { if (!step.FusedAtInference) step.Owner.EmitInference(this, step, lines); });
        foreach (LinearStep conv in _plan.Steps.OfType<LinearStep>().Where(d => d.Conv?.ColumnBuffer is not null && InFocus(d)))
        {
            _w.Line($"// {conv.Layer.Name} at small batches: its units split across threads in proportion to each thread's measured speed.");
            _w.Line($"private readonly {K}AdaptiveSplit _split{conv.Index} = new({K}WorkerPool.Current.Parallelism);");
        }
        if (_plan.Steps.Any(s => s is LinearStep { Conv.ColumnBuffer: not null } && InFocus(s))) _w.Line();
        foreach (LinearStep dense in _plan.Steps.OfType<LinearStep>().Where(d => d.PartialProductsFrom is not null && InFocus(d)))
        {
            _w.Line($"// {dense.Layer.Name} at small batches: one partial product x·W per pool row of each sample, computed in {SpecNaming.Pascal(dense.PartialProductsFrom!.Layer.Name)}Inference, added by {SpecNaming.Pascal(dense.Layer.Name)}Inference.");
            _w.Line($"private readonly {K}Arena _splitPartial{dense.Index} = new({System.Math.Min(_plan.MaxBatch, SmallBatch - 1) * Layers.Conv2D.SplitBlocks(dense) * Layers.Conv2D.SplitSlot(dense)});");
            _w.Line();
        }
        foreach (LinearStep dense in _plan.Steps.OfType<LinearStep>().Where(d => d.BatchOnePartialsFrom is not null && InFocus(d)))
        {
            _w.Line($"// {dense.Layer.Name} at batch 1: one partial product per panel of its inputs, computed in {SpecNaming.Pascal(dense.BatchOnePartialsFrom!.Layer.Name)}Inference, added by {SpecNaming.Pascal(dense.Layer.Name)}Inference.");
            _w.Line($"private readonly {K}Arena _batchOnePartial{dense.Index} = new({Layers.LinearLayer.BatchOneBlocks(dense) * Layers.Conv2D.SplitSlot(dense)});");
            _w.Line();
        }
        _w.Line("/// <summary>Eval-mode forward over _batch rows of _x.</summary>");
        _w.Line(HotAttribute);
        _w.Open("protected override void ForwardInference()");
        if (HasInferenceWeights) _w.Line("if (_inferenceWeightsStale) PrepareInferenceWeights();");
        _w.Open("switch (_isa)");
        _w.Line($"case global::Kiln.IsaPath.Avx512: ForwardInference<{K}Avx512Path>(); break;");
        _w.Line($"case global::Kiln.IsaPath.Avx2: ForwardInference<{K}Avx2Path>(); break;");
        _w.Line($"default: ForwardInference<{K}PortablePath>(); break;");
        _w.Close();
        _w.Close();
        _w.Line();
        _w.Line(HotAttribute);
        _w.Open($"private void ForwardInference<TIsa>() {IsaConstraint}");
        foreach (string line in body) _w.Line(line);
        _w.Close();
        _w.Line();
        if (HasInferenceWeights) EmitPrepareInferenceWeights();
    }

    /// <summary>PrepareInferenceWeights: BatchNorm folded into the layer before it, Winograd-transformed weights.</summary>
    private void EmitPrepareInferenceWeights()
    {
        bool anyFolded = _plan.Steps.OfType<LinearStep>().Any(d => d.FoldedInto is not null);
        var winogradConvs = _plan.Steps.OfType<LinearStep>().Where(d => d.Conv is { SmallBatchKernel: SmallBatchConv.Winograd }).ToList();
        _w.Line("/// <summary>");
        if (anyFolded) _w.Line("/// Folds each BatchNorm's running statistics into the Dense or Conv2D before it: W' = W·γ/σ, b' = (b − μ)·γ/σ + β.");
        if (_plan.GemvPackedArenaLength > 0) _w.Line("/// Packs the folded weights of each Dense into column panels for small-batch inference (each thread's columns one contiguous stream).");
        if (winogradConvs.Count > 0) _w.Line($"/// Transforms the{(anyFolded ? " (folded)" : "")} weights of each Winograd convolution for small-batch inference: U = G·g·Gᵀ.");
        _w.Line("/// </summary>");
        _w.Open("private void PrepareInferenceWeights()");
        foreach (LinearStep d in _plan.Steps.OfType<LinearStep>().Where(d => d.FoldedInto is not null))
        {
            ChainStep c = d.FoldedInto!;
            _w.Line($"{K}BatchNorm.Fold({d.Weight.Identifier}, {(d.Bias is null ? "default" : d.Bias.Identifier)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, {c.RunningMean!.Identifier}, {c.RunningVariance!.Identifier}, {Float(c.BatchNorm!.Epsilon)},");
            _w.Line($"    _folded.Slice({d.FoldedWeightOffset}, {d.GemmK * d.OutWidth}), _folded.Slice({d.FoldedBiasOffset}, {d.OutWidth}), {d.GemmK}, {d.OutWidth});");
        }
        foreach (LinearStep d in _plan.Steps.OfType<LinearStep>().Where(d => d.GemvPackedOffset >= 0))
            _w.Line($"{K}GemvPacked.Pack({Layers.LinearLayer.InferenceWeights(d)}, {Layers.LinearLayer.PackedWeights(d)}, {d.GemmK}, {d.OutWidth}); // {d.Layer.Name}, small batches");
        foreach (LinearStep d in winogradConvs)
            _w.Line($"{K}WinogradConv.TransformWeights({Layers.LinearLayer.InferenceWeights(d)}, _winograd.Slice({d.Conv!.WinogradOffset}, {d.Conv.WinogradLength}), in {d.Conv.GeometryField}, {d.OutWidth}); // {d.Layer.Name}");
        _w.Line("_inferenceWeightsStale = false;");
        _w.Close();
        _w.Line();
    }
}
