using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [BatchNorm] (Ioffe &amp; Szegedy 2015): batch statistics in training, running averages at test, γ/β per channel. It runs
/// in a <see cref="Chain"/> with the activation and dropout after it (one pass); on spatial activations it is
/// BatchNorm2D (statistics per channel over samples and pixels, split by samples in fixed blocks so the sums are
/// the same bits for any thread count). After a Dense or Conv2D it is folded into that layer's weights for inference.
/// </summary>
internal sealed class BatchNorm : ChainLayer
{
    public override string Attribute => "BatchNorm";
    public override LayerKind Kind => LayerKind.BatchNorm;
    public override string NamePrefix => "bn";
    public override IReadOnlyList<string> Arguments { get; } = new[] { "Momentum", "Epsilon", "Name", "LearningRateScale" };

    public override LayerSpec Parse(LayerReader r)
    {
        double momentum = r.Double("Momentum", 0.1);
        double eps = r.Double("Epsilon", 1e-5);
        if (!(momentum >= 0 && momentum <= 1)) r.OutOfDomain("Momentum", -1, momentum, "the running-average momentum must be in [0, 1]");
        r.CheckPositive("Epsilon", eps, "ε must be positive");
        if (r.MaxBatch == 1) r.Report(Descriptors.BatchNormBatchOne, r.LayerName);
        return new LayerSpec(LayerKind.BatchNorm, r.LayerName, r.Index, Momentum: momentum, Epsilon: eps, LearningRateScale: r.LearningRateScale());
    }

    public override long ParameterCount(LayerSpec layer, ActivationShape before, ActivationShape after, ref long lastLinear) =>
        2L * System.Math.Max(after.ChannelCount, 1) + 2 * PlanBuilder.Alignment;

    /// <summary>γ, β and the running statistics, per channel.</summary>
    internal override void AddToChain(PlanBuilder b, ChainStep chain, LayerSpec bn)
    {
        chain.BatchNorm = bn;
        chain.Gamma = b.AddParam(bn.Name, "gamma", "Gamma", b.Width);
        chain.Beta = b.AddParam(bn.Name, "beta", "Beta", b.Width);
        chain.RunningMean = b.AddBuffer(bn.Name, "running_mean", "RunningMean", b.Width);
        chain.RunningVariance = b.AddBuffer(bn.Name, "running_var", "RunningVariance", b.Width);
    }

    internal static void EmitChainFields(ModelEmitter e, ChainStep chain)
    {
        LayerSpec bn = chain.BatchNorm!;
        e.W.Line($"private readonly {K}Arena _mean{chain.Index} = new({chain.OutWidth}); // {bn.Name} batch mean");
        e.W.Line($"private readonly {K}Arena _invStd{chain.Index} = new({chain.OutWidth}); // {bn.Name} 1/sqrt(var + ε)");
        if (chain.IsSpatial)
        {
            int blockSamples = StatisticsBlockSamples(chain), blocks = (e.Plan.MaxBatch + blockSamples - 1) / blockSamples;
            e.W.Line($"private readonly double[] _bnPartial{chain.Index} = new double[{2L * blocks * chain.OutWidth}]; // {bn.Name} per-channel sums of each block of {blockSamples * chain.OutPixels} rows (Σd and Σd² forward, Σg and Σg·x̂ backward)");
        }
    }

    internal static void EmitChainInitialization(ModelEmitter e, ChainStep c)
    {
        e.W.Line($"{K}ParameterInit.Constant({c.Gamma!.Identifier}, 1f);");
        e.W.Line($"{K}ParameterInit.Constant({c.Beta!.Identifier}, 0f);");
        e.W.Line($"{K}ParameterInit.Constant({c.RunningMean!.Identifier}, 0f);");
        e.W.Line($"{K}ParameterInit.Constant({c.RunningVariance!.Identifier}, 1f);");
    }

    /// <summary>Training forward: BatchNorm2D split by samples, or the flat BatchNorm with columns split across threads.</summary>
    internal static void EmitChainForward(ModelEmitter e, ChainStep c, string mask, List<string> body)
    {
        if (c.IsSpatial)
        {
            EmitSplitForward(e, c, mask, body);
            return;
        }
        if (LinearLayer.ForwardAbsorbs(e.Plan, c) is { } absorber)
        {
            body.Add($"// (batch statistics and the fused activation/dropout run in {absorber.Layer.Name}'s forward stage, on the columns each thread computed)");
            return;
        }
        string name = SpecNaming.Pascal(c.BatchNorm!.Name) + "Forward";
        e.OpenStage(name, $"{c.Describe()}: batch statistics and {(c.ActivationIsElementwise ? "the fused activation/dropout" : "normalisation")}, columns split across threads.");
        e.W.Line($"(int c0, int c1) = {K}Partition.Range({c.OutWidth}, part, parts, 16);");
        e.W.Line("if (c0 >= c1) return;");
        EmitFlatForwardColumns(e, c, mask);
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {FlatForwardWork(c)});");
    }

    /// <summary>The work figure per sample of a flat BatchNorm's training forward (with the fused activation/dropout).</summary>
    internal static long FlatForwardWork(ChainStep c) => c.OutFloats * (12L + (c.ActivationIsElementwise && c.HasDropout ? Dropout.DrawWorkPerFloat : 0));

    /// <summary>
    /// A flat BatchNorm's training forward (batch statistics, running statistics, the elementwise activation and this
    /// mini-batch's dropout mask fused) for the columns [c0, c1), declared by the caller. Every column is computed on its
    /// own, so any column ranges give the same bits.
    /// </summary>
    internal static void EmitFlatForwardColumns(ModelEmitter e, ChainStep c, string mask)
    {
        LayerSpec bn = c.BatchNorm!;
        int width = c.OutWidth, floats = c.OutFloats;
        string target = c.PreActivationBuffer ?? c.OutputBuffer;
        string bnMask = c.ActivationIsElementwise ? mask : "default";
        if (bnMask != "default") e.W.Line(Dropout.DrawColumnsLine(c)); // this mini-batch's mask, the stage's columns
        e.W.Line("// A learning-rate scale of 0 freezes the layer: its running statistics stop too (transfer learning).");
        e.W.Line($"bool updateRunning = _updateRunningStatistics && _learningRateScales[{c.Gamma!.TrainableIndex}] != 0f;");
        e.W.Line($"{K}BatchNorm.ForwardTrain<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, {c.RunningMean!.Identifier}, {c.RunningVariance!.Identifier},");
        e.W.Line($"    _mean{c.Index}.Span, _invStd{c.Index}.Span, {bnMask}, {All(target, floats)}, {BatchRows(c.OutPixels)}, {width}, c0, c1, {Float(bn.Epsilon)}, {Float(bn.Momentum)}, updateRunning, {ActivationStruct(c)});");
    }

    /// <summary>Backward with the γ/β update: BatchNorm2D split by samples, or columns split for the flat BatchNorm.</summary>
    internal static void EmitChainBackward(ModelEmitter e, ChainStep c, string mask, string current, List<string> body)
    {
        if (c.IsSpatial)
        {
            EmitSplitBackward(e, c, mask, current, body);
            return;
        }
        if (LinearLayer.BackwardAbsorbs(e.Plan, c) is { } absorber)
        {
            body.Add($"// (BatchNorm backward with the γ/β update runs in {absorber.Layer.Name}'s backward stage, on the columns each thread computed)");
            return;
        }
        string name = SpecNaming.Pascal(c.BatchNorm!.Name) + "Backward";
        e.OpenStage(name, $"{c.Describe()}: {(c.ActivationIsElementwise ? "dropout, activation and " : "")}BatchNorm backward with the γ/β update, columns split across threads.");
        e.W.Line($"(int c0, int c1) = {K}Partition.Range({c.OutWidth}, part, parts, 16);");
        e.W.Line("if (c0 >= c1) return;");
        EmitFlatBackwardColumns(e, c, mask, current, "c0", "c1");
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {FlatBackwardWork(c)});");
    }

    /// <summary>The work figure per sample of a flat BatchNorm's backward (with the fused activation/dropout and the γ/β update).</summary>
    internal static long FlatBackwardWork(ChainStep c) => c.OutFloats * 14L;

    /// <summary>
    /// A flat BatchNorm's backward (the elementwise activation and dropout fused) and its γ/β update for the columns
    /// [<paramref name="lo"/>, <paramref name="hi"/>) of dL/dz, in place on <paramref name="current"/>. Every column is
    /// computed on its own, so any column ranges give the same bits.
    /// </summary>
    internal static void EmitFlatBackwardColumns(ModelEmitter e, ChainStep c, string mask, string current, string lo, string hi)
    {
        int width = c.OutWidth, floats = c.OutFloats;
        string Range(string x) => $"{x}.Slice({lo}, {hi} - {lo})";
        e.W.Line($"{K}BatchNorm.Backward<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {All(current, floats)}, {(c.ActivationIsElementwise ? mask : "default")}, {c.Gamma!.Identifier}, {c.Beta!.Identifier},");
        e.W.Line($"    _mean{c.Index}.Span, _invStd{c.Index}.Span, {All(current, floats)}, {c.Gamma.Identifier}Gradient, {c.Beta!.Identifier}Gradient, {BatchRows(c.OutPixels)}, {width}, {lo}, {hi}, {ActivationStruct(c)});");
        e.W.Open("if (_applyUpdate)");
        e.W.Line($"{StepFor(c.Gamma)}.Apply<TIsa>({Range(c.Gamma.Identifier)}, {Range(c.Gamma.Identifier + "Gradient")}, {e.States(c.Gamma, Range)});");
        e.W.Line($"{StepFor(c.Beta)}.Apply<TIsa>({Range(c.Beta.Identifier)}, {Range(c.Beta.Identifier + "Gradient")}, {e.States(c.Beta, Range)});");
        e.W.Close();
    }

    /// <summary>Inference with the running statistics (when not folded into the layer before it), the element-wise activation fused.</summary>
    internal static void AddEvalLine(ChainStep c, List<string> body)
    {
        double outScale = c.ActivationIsElementwise ? c.TestTimeScale : 1;
        string target = c.ActivationIsElementwise ? c.OutputBuffer : c.PreActivationBuffer!;
        int floats = c.OutFloats;
        body.Add($"{K}BatchNorm.ForwardEval<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, {c.RunningMean!.Identifier}, {c.RunningVariance!.Identifier}, {All(target, floats)}, {BatchRows(c.OutPixels)}, {c.OutWidth}, {Float(c.BatchNorm!.Epsilon)}, {Float(outScale)}, {ActivationStruct(c)});");
    }

    /// <summary>
    /// The max pool whose training passes fuse with this BatchNorm2D chain (Kiln.Kernels.BatchNorm.NormalizeMaxPool2x2 and
    /// MaxPool2x2BackwardSums), or null: a spatial BatchNorm with an element-wise activation (or none), no dropout, followed
    /// directly by a 2×2, stride-2, unpadded MaxPool that is the only reader of the chain's output (no residual block
    /// reading the pre-pool tensor) and needs dL/dx. Anything else keeps the separate passes.
    /// </summary>
    internal static PoolStep? FusedTrainingPool(ModelPlan plan, ChainStep c)
    {
        if (c.BatchNorm is null || !c.IsSpatial || !c.ActivationIsElementwise || c.HasDropout || c.PreActivationBuffer is not null) return null;
        int at = plan.Steps.IndexOf(c);
        if (at < 0 || at + 1 >= plan.Steps.Count || plan.Steps[at + 1] is not PoolStep pool) return null;
        LayerSpec l = pool.Layer;
        if (l.Kind != LayerKind.MaxPool || l.KernelH != 2 || l.KernelW != 2 || l.Stride != 2 || l.Padding != 0) return null;
        if (!pool.NeedsInputGradient || pool.InputBuffer != c.OutputBuffer || pool.ArgmaxBuffer is null || pool.GeometryField.Length == 0) return null;
        foreach (StepPlan other in plan.Steps)
        {
            if (other != pool && other.InputBuffer == c.OutputBuffer) return null;
            if (other is ResidualEndStep end && end.ShortcutBuffer == c.OutputBuffer) return null;
        }
        return pool;
    }

    /// <summary>The BatchNorm2D chain whose training passes run this max pool (see <see cref="FusedTrainingPool"/>), or null.</summary>
    internal static ChainStep? FusedTrainingChain(ModelPlan plan, PoolStep pool)
    {
        int at = plan.Steps.IndexOf(pool);
        return at > 0 && plan.Steps[at - 1] is ChainStep c && FusedTrainingPool(plan, c) == pool ? c : null;
    }

    /// <summary>BatchNorm2D's statistics blocks hold as many whole samples as fit in this many rows, at least one (see <see cref="StatisticsBlockSamples"/>).</summary>
    internal const int StatisticsBlockRows = 256;

    /// <summary>
    /// Samples per block of BatchNorm2D's reductions: fixed by the layer's shape alone, never by the thread count, so the
    /// blocks' sums — and, added in block order, the statistics — are the same bits however many threads share the stage.
    /// Whole samples, so that each thread reduces the samples the convolution before it wrote.
    /// </summary>
    internal static int StatisticsBlockSamples(ChainStep c) => System.Math.Max(1, StatisticsBlockRows / c.OutPixels);

    /// <summary>The block range of one part in a BatchNorm2D reduction stage (whole blocks per thread).</summary>
    private static void BlockRange(ModelEmitter e, ChainStep c)
    {
        int blockRows = StatisticsBlockSamples(c) * c.OutPixels;
        e.W.Line($"int blocks = {K}BatchNorm.BlockCount(_batch * {c.OutPixels}, {blockRows});");
        e.W.Line($"(int b0, int b1) = {K}Partition.Range(blocks, part, parts, 1);");
        e.W.Line("if (b0 >= b1) return;");
    }

    /// <summary>
    /// BatchNorm2D's training forward split by samples (Kiln.Kernels.BatchNorm's row-split pipeline): every thread
    /// keeps the samples the convolution before it wrote; only per-channel sums of fixed blocks cross threads, added in
    /// block order. Two parallel stages: the blocks' shifted Σd and Σd² in one pass (BlockMoments), merged in block
    /// order on the caller (CombineMoments), then the normalisation — which also pools when a 2×2 max pool follows.
    /// </summary>
    internal static void EmitSplitForward(ModelEmitter e, ChainStep c, string mask, List<string> body)
    {
        LayerSpec bn = c.BatchNorm!;
        string target = c.PreActivationBuffer ?? c.OutputBuffer;
        string bnMask = c.ActivationIsElementwise ? mask : "default";
        int width = c.OutWidth, floats = c.OutFloats, pixels = c.OutPixels, blockRows = StatisticsBlockSamples(c) * pixels;
        string pascal = SpecNaming.Pascal(bn.Name), partial = $"_bnPartial{c.Index}";
        string work = $"(long)_batch * {floats * 4L}";
        string ownRows(string buffer) => $"{buffer}.Slice(s0 * {floats}, (s1 - s0) * {floats})";

        e.OpenStage(pascal + "Statistics", $"{bn.Name}: per-channel Σd and Σd² (d = z − the block's first row) of the thread's blocks of {blockRows} rows, one pass (their slots of {partial}).");
        BlockRange(e, c);
        e.W.Line($"{K}BatchNorm.BlockMoments<TIsa>({All(c.InputBuffer, floats)}, {partial}, _batch * {pixels}, {width}, {blockRows}, b0, b1);");
        e.W.Close();
        e.W.Line();
        PoolStep? pool = FusedTrainingPool(e.Plan, c);
        if (pool is not null)
        {
            // The activations are still written (LayerOutput and the activation monitor read them); nothing in training does.
            e.OpenStage(pascal + "Forward", $"{c.Describe()} → {pool.Layer.Name}: normalisation, activation and the 2×2 max pool (with its argmax) of the thread's samples in one pass.");
            e.SampleRange();
            e.W.Line($"{K}BatchNorm.NormalizeMaxPool2x2<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, _mean{c.Index}.Span, _invStd{c.Index}.Span,");
            e.W.Line($"    {All(target, floats)}, {All(pool.OutputBuffer, pool.OutFloats)}, new global::System.Span<int>({pool.ArgmaxBuffer}, 0, _batch * {pool.OutFloats}), in {pool.GeometryField}, s0, s1, {ActivationStruct(c)});");
        }
        else
        {
            e.OpenStage(pascal + "Forward", $"{c.Describe()}: normalisation{(c.ActivationIsElementwise ? " with the fused activation/dropout" : "")} of the thread's samples.");
            e.SampleRange();
            if (bnMask != "default") e.W.Line(Dropout.DrawRowsLine(c, "s0", "s1", floats)); // this mini-batch's mask, the stage's samples
            e.W.Line($"{K}BatchNorm.NormalizeRows<TIsa, {ActivationType(c)}>({ownRows(c.InputBuffer)}, {c.Gamma!.Identifier}, {c.Beta!.Identifier}, _mean{c.Index}.Span, _invStd{c.Index}.Span,");
            e.W.Line($"    {(bnMask == "default" ? "default" : ownRows($"_mask{c.Index}"))}, {ownRows(target)}, (s1 - s0) * {pixels}, {width}, {ActivationStruct(c)});");
        }
        e.W.Close();
        e.W.Line();

        body.Add($"Execute(Stages.{pascal}Statistics, {work});");
        body.Add($"// A learning-rate scale of 0 freezes the layer: its running statistics stop too (transfer learning).");
        body.Add($"{K}BatchNorm.CombineMoments({All(c.InputBuffer, floats)}, {partial}, _mean{c.Index}.Span, _invStd{c.Index}.Span, {c.RunningMean!.Identifier}, {c.RunningVariance!.Identifier},");
        body.Add($"    _batch * {pixels}, {width}, {blockRows}, {Float(bn.Epsilon)}, {Float(bn.Momentum)}, _updateRunningStatistics && _learningRateScales[{c.Gamma!.TrainableIndex}] != 0f);");
        body.Add($"Execute(Stages.{pascal}Forward, {work});");
    }

    /// <summary>
    /// BatchNorm2D's backward split by samples: the thread's blocks' parts of dγ/dβ (g stored in place), the sums combined
    /// on the caller in block order, then dz for the thread's samples, then the γ/β update (after every thread has read γ).
    /// </summary>
    internal static void EmitSplitBackward(ModelEmitter e, ChainStep c, string mask, string current, List<string> body)
    {
        LayerSpec bn = c.BatchNorm!;
        bool fused = c.ActivationIsElementwise;
        int width = c.OutWidth, floats = c.OutFloats, pixels = c.OutPixels, blockRows = StatisticsBlockSamples(c) * pixels;
        string pascal = SpecNaming.Pascal(bn.Name), partial = $"_bnPartial{c.Index}";
        string work = $"(long)_batch * {floats * 4L}";
        string ownRows(string buffer) => $"{buffer}.Slice(s0 * {floats}, (s1 - s0) * {floats})";

        PoolStep? pool = FusedTrainingPool(e.Plan, c);
        if (pool is not null)
        {
            // The pool's dL/dy is in the other gradient buffer (the pool emitted no stage of its own).
            e.OpenStage(pascal + "BackwardSums", $"{pool.Layer.Name} → {c.Describe()}: dL/dy to each argmax, the activation's derivative and the blocks' parts of dβ, dγ in one pass (g in {current}).");
            BlockRange(e, c);
            e.W.Line($"{K}BatchNorm.MaxPool2x2BackwardSums<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {All(Other(current), pool.OutFloats)}, new global::System.ReadOnlySpan<int>({pool.ArgmaxBuffer}, 0, _batch * {pool.OutFloats}),");
            e.W.Line($"    {c.Gamma!.Identifier}, {c.Beta!.Identifier}, _mean{c.Index}.Span, _invStd{c.Index}.Span, {All(current, floats)}, {partial}, in {pool.GeometryField}, _batch, {StatisticsBlockSamples(c)}, b0, b1, {ActivationStruct(c)});");
        }
        else
        {
            e.OpenStage(pascal + "BackwardSums", $"{c.Describe()}: {(fused ? "dropout, activation and " : "")}the thread's blocks' parts of dβ = Σg and dγ = Σg·x̂ (g kept in {current}).");
            BlockRange(e, c);
            e.W.Line($"{K}BatchNorm.BlockBackwardSums<TIsa, {ActivationType(c)}>({All(c.InputBuffer, floats)}, {All(current, floats)}, {(fused && mask != "default" ? All($"_mask{c.Index}", floats) : "default")}, {c.Gamma!.Identifier}, {c.Beta!.Identifier},");
            e.W.Line($"    _mean{c.Index}.Span, _invStd{c.Index}.Span, {All(current, floats)}, {partial}, _batch * {pixels}, {width}, {blockRows}, b0, b1, {ActivationStruct(c)});");
        }
        e.W.Close();
        e.W.Line();
        e.OpenStage(pascal + "Backward", $"{bn.Name}: dL/dz of the thread's samples from the whole batch's dγ and dβ.");
        e.SampleRange();
        e.W.Line($"{K}BatchNorm.BackwardRows<TIsa>({ownRows(c.InputBuffer)}, {c.Gamma.Identifier}, _mean{c.Index}.Span, _invStd{c.Index}.Span, {c.Gamma.Identifier}Gradient, {c.Beta!.Identifier}Gradient,");
        e.W.Line($"    {ownRows(current)}, (s1 - s0) * {pixels}, {width}, _batch * {pixels});");
        e.W.Close();
        e.W.Line();
        e.OpenStage(pascal + "Update", $"{bn.Name}: the γ/β update (after every thread has read γ for dL/dz).");
        e.W.Line("if (part != 0) return;");
        e.W.Line($"{StepFor(c.Gamma)}.Apply<TIsa>({c.Gamma.Identifier}, {c.Gamma.Identifier}Gradient, {e.States(c.Gamma)});");
        e.W.Line($"{StepFor(c.Beta)}.Apply<TIsa>({c.Beta.Identifier}, {c.Beta.Identifier}Gradient, {e.States(c.Beta)});");
        e.W.Close();
        e.W.Line();

        body.Add($"Execute(Stages.{pascal}BackwardSums, {work});");
        body.Add($"{K}BatchNorm.CombineBackwardSums({partial}, {c.Gamma.Identifier}Gradient, {c.Beta.Identifier}Gradient, {width}, {K}BatchNorm.BlockCount(_batch * {pixels}, {blockRows}));");
        body.Add($"Execute(Stages.{pascal}Backward, {work});");
        body.Add($"if (_applyUpdate) Execute(Stages.{pascal}Update, 0);");
    }
}
