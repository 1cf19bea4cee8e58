using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// What Dense and Conv2D share: y = x·W + b as one GEMM (over im2col patches for a convolution, rows = samples·output
/// pixels), the weight initialisation, DropConnect, and the backward pass dL/dx = dL/dy·Wᵀ, dW = xᵀ·dL/dy with the
/// optimiser fused into the panels. A residual block's projection shortcut is planned as one of these (Residual.cs).
/// </summary>
internal abstract class LinearLayer : LayerDefinition
{
    // ------------------------------------------------------------------ parse

    /// <summary>Init, InitScale and BiasInit, checked; shared by Dense and Conv2D.</summary>
    protected static (InitKind Init, double Scale, double BiasInit) ParseInit(LayerReader r)
    {
        InitKind init = r.Enum<InitKind>("Init", "Init");
        double scale = r.Double("InitScale", double.NaN);
        if (!double.IsNaN(scale)) r.CheckFloat("InitScale", scale);
        if (!double.IsNaN(scale) && (double.IsInfinity(scale) || (init is InitKind.Normal or InitKind.Uniform or InitKind.Orthogonal && scale <= 0)))
            r.OutOfDomain("InitScale", -1, scale, "the standard deviation or bound must be a positive finite number");
        double biasInit = r.Double("BiasInit", 0);
        r.CheckFloat("BiasInit", biasInit);
        return (init, scale, biasInit);
    }

    /// <summary>DropConnect: the probability of dropping a weight, in [0, 1).</summary>
    protected static double ParseDropConnect(LayerReader r)
    {
        double rate = r.Double("DropConnect", 0);
        if (!(rate >= 0 && rate < 1)) r.OutOfDomain("DropConnect", -1, rate, "the probability of dropping a weight must be in [0, 1)");
        return rate;
    }

    // ------------------------------------------------------------------ plan

    /// <summary>Init.Auto resolved by the activation that follows, and the layer's FLOPs counted.</summary>
    protected static void Finish(PlanBuilder b, LinearStep step)
    {
        (step.ResolvedInit, step.InitScale) = Initialization.Resolve(step.Layer, step.FanIn, step.FanOut, b.NextActivation());
        b.Flops += 2L * step.OutPixels * step.GemmK * step.OutWidth;
    }

    // ------------------------------------------------------------------ fields, initialisation, views

    public override void EmitFields(ModelEmitter e, StepPlan step)
    {
        var d = (LinearStep)step;
        // A convolution that trains by Winograd never fills its im2col buffer (inference takes Winograd at every batch size).
        // Nor does one trained by the shallow kernels (Conv2D.cs), which keeps per-sample dW slots instead.
        if (d.Conv is { ColumnBuffer: { } column } cc && !(cc.WinogradTraining && cc.SmallBatchKernel == SmallBatchConv.Winograd) && !cc.ShallowTraining)
            e.W.Line($"private readonly {K}Arena {column} = new(MaxBatch * {d.OutPixels * d.GemmK}); // {d.Layer.Name} im2col patches: {d.OutPixels} pixels × {d.GemmK}, kept for dW");
        if (d.Conv is { PaddedBuffer: { } padded } conv)
        {
            // The shallow-kernel convolution reads its zero-bordered copy at every batch size, the implicit GEMM below SmallBatch only.
            // So do the Winograd and shallow-kernel training passes.
            bool everyBatch = conv.SmallBatchKernel == SmallBatchConv.Shallow || conv.WinogradTraining;
            int samples = everyBatch ? e.Plan.MaxBatch : System.Math.Min(e.Plan.MaxBatch, SmallBatch - 1);
            e.W.Line($"private readonly {K}Arena {padded} = new({samples * conv.PaddedSize}); // {d.Layer.Name} zero-bordered input copies ({conv.Height + 2 * conv.Padding}×{conv.Width + 2 * conv.Padding}×{conv.Channels}) for {(conv.WinogradTraining || conv.ShallowTraining ? "training and " : "")}{(everyBatch ? "" : "small-batch ")}inference");
        }
        if (d.Conv is { WinogradTraining: true } wc) EmitWinogradTrainingFields(e, d, wc);
        if (d.Conv is { ShallowTraining: true }) Conv2D.EmitShallowTrainingFields(e, d);
        e.OutputField(d);
        if (d.HasDropConnect)
        {
            e.W.Line($"private readonly {K}Arena _connectMask{d.Index} = new({d.Weight.Length}); // {d.Layer.Name} DropConnect: 0 or 1/keep per weight, one mask per mini-batch");
            Dropout.EmitKeyField(e, $"_connectMask{d.Index}", d.Layer.Name + " DropConnect");
            e.W.Line($"private readonly {K}Arena _connectWeight{d.Index} = new({d.Weight.Length}); // {d.Layer.Name} weights ∘ mask, used by the training forward and dL/dx");
        }
    }

    public override void EmitGeometry(ModelEmitter e, StepPlan step) => EmitConvGeometry(e, (LinearStep)step);

    /// <summary>The static Kiln.Kernels.ConvGeometry of a convolution (nothing for a Dense).</summary>
    internal static void EmitConvGeometry(ModelEmitter e, LinearStep d)
    {
        if (d.Conv is { } c)
            e.W.Line($"private static readonly {K}ConvGeometry {c.GeometryField} = new({c.Channels}, {c.Height}, {c.Width}, {c.KernelH}, {c.KernelW}, {c.Stride}, {c.Stride}, {c.Padding}, {c.Padding}, {c.Dilation}, {c.Dilation}); // {d.Layer.Name}");
        if (HasWinogradBackwardData(d))
            e.W.Line($"private static readonly {K}ConvGeometry {BackwardGeometry(d)} = {K}WinogradConv.BackwardDataGeometry(in {d.Conv!.GeometryField}, {d.OutWidth}); // {d.Layer.Name}'s dL/dx as a convolution of dL/dy");
    }

    // ------------------------------------------------------------------ Winograd training (Conv2D only)

    /// <summary>The convolution's dL/dx is computed by Winograd (it has one and the layer trains by Winograd).</summary>
    private static bool HasWinogradBackwardData(LinearStep d) => d.Conv is { WinogradBackwardData: true } && !d.SkipInputGradient;

    private static string BackwardGeometry(LinearStep d) => $"s_backward{d.Index}";
    private static string ForwardU(LinearStep d) => $"_winogradForward{d.Index}";
    private static string BackwardU(LinearStep d) => $"_winogradBackward{d.Index}";
    private static string GradientPadded(LinearStep d) => $"_paddedGradient{d.Index}";
    private static string Patches(LinearStep d) => $"_patches{d.Index}";
    private static int Planes(ConvPlan c) => (c.KernelH + 1) * (c.KernelH + 1);
    private static int GradientPaddedSize(LinearStep d) =>
        (d.Conv!.OutHeight + 2 * d.Conv.BackwardPadding) * (d.Conv.OutWidth + 2 * d.Conv.BackwardPadding) * d.OutWidth;

    /// <summary>Samples per chunk of the rebuilt patches of a Winograd-trained convolution's weight gradient: about ConvGradientBlockRows rows.</summary>
    private static int PatchChunk(ModelEmitter e, LinearStep d) => System.Math.Min(e.Plan.MaxBatch, System.Math.Max(1, ConvGradientBlockRows / d.OutPixels));

    private static void EmitWinogradTrainingFields(ModelEmitter e, LinearStep d, ConvPlan c)
    {
        e.W.Line($"private readonly {K}Arena {ForwardU(d)} = new({Planes(c) * c.Channels * d.OutWidth}); // {d.Layer.Name} Winograd weights U = G·g·Gᵀ for the training forward, redone every step");
        if (HasWinogradBackwardData(d))
        {
            e.W.Line($"private readonly {K}Arena {BackwardU(d)} = new({Planes(c) * c.Channels * d.OutWidth}); // {d.Layer.Name} Winograd weights of dL/dx (kernel rotated 180°, channels swapped), redone every step");
            if (c.BackwardPadding > 0)
                e.W.Line($"private readonly {K}Arena {GradientPadded(d)} = new(MaxBatch * {GradientPaddedSize(d)}); // {d.Layer.Name} dL/dy zero-bordered by {c.BackwardPadding} for dL/dx");
        }
        e.W.Line($"private readonly {K}Arena {Patches(d)} = new({PatchChunk(e, d) * d.OutPixels * d.GemmK}); // {d.Layer.Name} patches of {PatchChunk(e, d)} sample(s), rebuilt for dW (each thread its weight rows' columns)");
    }

    /// <summary>
    /// The stage that transforms the weights for this step's Winograd passes (before the forward pass: both use the
    /// weights before this step's update). Input channels (forward) and filters (dL/dx) split across threads.
    /// </summary>
    private static void EmitWinogradWeights(ModelEmitter e, LinearStep d, List<string> body)
    {
        ConvPlan c = d.Conv!;
        string name = SpecNaming.Pascal(d.Layer.Name) + "WinogradWeights";
        bool backward = HasWinogradBackwardData(d);
        e.OpenStage(name, $"{d.Layer.Name}: this step's Winograd weights U = G·g·Gᵀ{(backward ? " for the forward pass and dL/dx" : "")} (weights before this step's update); {(backward ? "input channels and filters" : "input channels")} split across threads.");
        e.W.Line($"(int c0, int c1) = {K}Partition.Range({c.Channels}, part, parts, 1);");
        e.W.Line($"if (c0 < c1) {K}WinogradConv.TransformWeightChannels({d.Weight.Identifier}, {ForwardU(d)}.Slice(0, {Planes(c) * c.Channels * d.OutWidth}), in {c.GeometryField}, {d.OutWidth}, c0, c1);");
        if (backward)
        {
            e.W.Line("// The rotated kernel goes through _dwScratch, which only the weight-gradient stages use.");
            e.W.Line($"(int j0, int j1) = {K}Partition.Range({d.OutWidth}, part, parts, 1);");
            e.W.Line($"if (j0 < j1) {K}WinogradConv.TransformBackwardDataWeights({d.Weight.Identifier}, _dwScratch.Slice(0, {d.GemmK * d.OutWidth}), {BackwardU(d)}.Slice(0, {Planes(c) * c.Channels * d.OutWidth}), in {c.GeometryField}, {d.OutWidth}, j0, j1);");
        }
        e.W.Close();
        e.W.Line();
        // Work: the multiply-adds of G·g·Gᵀ, (r+1)·r·(r + r+1) per channel pair and transform.
        body.Add($"Execute(Stages.{name}, {(backward ? 2L : 1L) * 2 * (c.KernelH + 1) * c.KernelH * (2 * c.KernelH + 1) * c.Channels * d.OutWidth});");
    }

    /// <summary>The training forward of a Winograd-trained convolution: per sample, the zero-bordered copy then its 2×2 tiles.</summary>
    private static void EmitWinogradForward(ModelEmitter e, LinearStep d, string name, string epi, string epiValue, List<string> body)
    {
        ConvPlan c = d.Conv!;
        EmitWinogradWeights(e, d, body);
        e.OpenStage(name, $"{d.Layer.Name}: Winograd F(2×2, {c.KernelH}×{c.KernelW}) over the {(c.PaddedBuffer is null ? "input" : "zero-bordered input")}{(d.Bias is null ? "" : ", + b")}; samples split across threads.");
        EmitWinogradSamples(e, d, $"{ForwardU(d)}.Slice(0, {Planes(c) * c.Channels * d.OutWidth})", d.OutputBuffer, epi, epiValue);
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {2L * c.WinogradTiles * Planes(c) * c.Channels * d.OutWidth});");
    }

    /// <summary>
    /// Samples [s0, s1) of a convolution by Winograd with the transformed weights <paramref name="u"/>: per sample, the
    /// zero-bordered copy (none without padding), then its 2×2 tiles. The training forward, and inference above
    /// SmallBatch for a convolution that trains by Winograd (its patches buffer is gone).
    /// </summary>
    internal static void EmitWinogradSamples(ModelEmitter e, LinearStep d, string u, string output, string epi, string epiValue)
    {
        ConvPlan c = d.Conv!;
        string image = c.PaddedBuffer ?? d.InputBuffer;
        e.SampleRange();
        if (c.PaddedBuffer is null)
        {
            e.W.Line($"{K}WinogradConv.Forward<TIsa, {epi}>({All(image, c.PaddedSize)}, {u}, {All(output, d.OutFloats)}, in {c.GeometryField}, {d.OutWidth}, s0 * {c.WinogradTiles}, s1 * {c.WinogradTiles}, {epiValue});");
            return;
        }
        e.W.Line("// One sample at a time: its tiles read the zero-bordered copy while it is still in cache.");
        e.W.Open("for (int s = s0; s < s1; s++)");
        e.W.Line($"{K}DirectConv.Pad({All(d.InputBuffer, d.InFloats)}, {All(image, c.PaddedSize)}, in {c.GeometryField}, s, s + 1);");
        e.W.Line($"{K}WinogradConv.Forward<TIsa, {epi}>({All(image, c.PaddedSize)}, {u}, {All(output, d.OutFloats)}, in {c.GeometryField}, {d.OutWidth}, s * {c.WinogradTiles}, (s + 1) * {c.WinogradTiles}, {epiValue});");
        e.W.Close();
    }

    /// <summary>dL/dx of a Winograd-trained convolution: per sample, dL/dy zero-bordered by r − 1 − pad, then the rotated kernel's tiles.</summary>
    private static void EmitWinogradBackwardData(ModelEmitter e, LinearStep d, string current, string next, List<string> body)
    {
        ConvPlan c = d.Conv!;
        string name = SpecNaming.Pascal(d.Layer.Name) + "BackwardInput";
        string geometry = BackwardGeometry(d), u = $"{BackwardU(d)}.Slice(0, {Planes(c) * c.Channels * d.OutWidth})";
        string output = All(next, d.InFloats);
        e.OpenStage(name, $"{d.Layer.Name}: dL/dx by Winograd F(2×2, {c.KernelH}×{c.KernelW}), the correlation of dL/dy{(c.BackwardPadding > 0 ? $" zero-bordered by {c.BackwardPadding}" : "")} with the kernel rotated 180° (weights before this step's update); samples split across threads.");
        e.SampleRange();
        if (c.BackwardPadding == 0)
            e.W.Line($"{K}WinogradConv.Forward<TIsa, {K}NoEpilogue>({All(current, d.OutFloats)}, {u}, {output}, in {geometry}, {c.Channels}, s0 * {c.BackwardTiles}, s1 * {c.BackwardTiles}, new {K}NoEpilogue());");
        else
        {
            string padded = All(GradientPadded(d), GradientPaddedSize(d));
            e.W.Open("for (int s = s0; s < s1; s++)");
            e.W.Line($"{K}DirectConv.Pad({All(current, d.OutFloats)}, {padded}, in {geometry}, s, s + 1);");
            e.W.Line($"{K}WinogradConv.Forward<TIsa, {K}NoEpilogue>({padded}, {u}, {output}, in {geometry}, {c.Channels}, s * {c.BackwardTiles}, (s + 1) * {c.BackwardTiles}, new {K}NoEpilogue());");
            e.W.Close();
        }
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {2L * c.BackwardTiles * Planes(c) * c.Channels * d.OutWidth});");
    }

    public override void EmitInitialization(ModelEmitter e, StepPlan step) => EmitWeightInitialization(e, (LinearStep)step);

    /// <summary>The weight (and bias) initialisation lines of a Dense, Conv2D or projection shortcut.</summary>
    internal static void EmitWeightInitialization(ModelEmitter e, LinearStep d)
    {
        string fixup = d.FixupScale != 1 ? $", × {d.FixupScale.ToString("0.######", global::System.Globalization.CultureInfo.InvariantCulture)} = L^(-1/(2m-2)) ([Fixup])" : "";
        e.W.Line($"// {d.Weight.Name} [{string.Join("×", d.Weight.Shape)}]: {InitComment(d)}{fixup}");
        e.W.Line(d.ResolvedInit switch
        {
            InitKind.Zeros => $"{K}ParameterInit.Constant({d.Weight.Identifier}, 0f);",
            InitKind.Constant => $"{K}ParameterInit.Constant({d.Weight.Identifier}, {Float(d.InitScale)});",
            InitKind.Orthogonal => $"{K}ParameterInit.Orthogonal({d.Weight.Identifier}, {d.FanIn}, {d.Weight.Length / d.FanIn}, {Double(d.InitScale)}, ref rng);",
            InitKind.Uniform or InitKind.XavierUniform or InitKind.GlorotUniform or InitKind.HeUniform
                => $"{K}ParameterInit.Uniform({d.Weight.Identifier}, {Double(d.InitScale)}, ref rng);",
            _ => $"{K}ParameterInit.Normal({d.Weight.Identifier}, {Double(d.InitScale)}, ref rng);",
        });
        if (d.Bias is not null)
            e.W.Line($"{K}ParameterInit.Constant({d.Bias.Identifier}, {Float(d.Layer.BiasInit)});");
    }

    private static string InitComment(LinearStep d) => d.ResolvedInit switch
    {
        InitKind.HeNormal => $"He normal, std = sqrt(2/{d.FanIn})",
        InitKind.HeUniform => $"He uniform, ±sqrt(6/{d.FanIn})",
        InitKind.XavierNormal => $"Xavier normal, std = 1/sqrt({d.FanIn})",
        InitKind.XavierUniform => $"Xavier uniform, ±sqrt(3/{d.FanIn})",
        InitKind.GlorotNormal => $"Glorot normal, std = sqrt(2/({d.FanIn}+{d.FanOut}))",
        InitKind.GlorotUniform => $"Glorot uniform, ±sqrt(6/({d.FanIn}+{d.FanOut}))",
        InitKind.LeCunNormal => $"LeCun normal, std = sqrt(1/{d.FanIn})",
        InitKind.Orthogonal => $"orthogonal as a {d.FanIn}×{d.Weight.Length / d.FanIn} matrix, gain {d.InitScale.ToString("0.####", global::System.Globalization.CultureInfo.InvariantCulture)}",
        InitKind.Normal => "N(0, std²)",
        InitKind.Uniform => "U(−a, a)",
        InitKind.Constant => "constant",
        _ => "zeros",
    } + (d.Conv is null ? "" : " (fan-in = kernel_h·kernel_w·in_channels)") + (d.Layer.Init == InitKind.Auto ? " (Init.Auto, chosen by the activation that follows)" : "");

    public override void EmitViews(ModelEmitter e, StepPlan step)
    {
        var d = (LinearStep)step;
        if (!d.HasDropConnect) return;
        e.W.Line($"/// <summary>{d.Layer.Name}'s DropConnect mask of the last training step (0 or 1/keep per weight, laid out as the weight).</summary>");
        e.W.Line($"public {ROSpan} {SpecNaming.Pascal(d.Layer.Name)}DropConnectMask => _connectMask{d.Index}.Slice(0, {d.Weight.Length});");
    }

    public override IEnumerable<LayerSpec> DescribedLayers(StepPlan step) { yield return ((LinearStep)step).Layer; }

    // ------------------------------------------------------------------ training

    public override void EmitTrainingForward(ModelEmitter e, StepPlan step, List<string> body) => EmitGemmForward(e, (LinearStep)step, body);

    public override string EmitBackward(ModelEmitter e, StepPlan step, string current, List<string> body)
    {
        var d = (LinearStep)step;
        string next = Other(current);
        EmitGemmBackward(e, d, current, next, body);
        return d.SkipInputGradient ? current : next;
    }

    // ------------------------------------------------------------------ inference

    public override void EmitInference(ModelEmitter e, StepPlan step, List<string> body)
    {
        var d = (LinearStep)step;
        bool folded = d.FoldedInto is not null;
        string? bias = folded ? $"_folded.Slice({d.FoldedBiasOffset}, {d.OutWidth})" : d.Bias?.Identifier;
        string epiType, epiValue, what;
        if (d.InferenceChain is { } chain && d.ChainInEpilogue)
        {
            // Bias, folded BatchNorm and the activation all happen on the GEMM's output tile.
            epiType = $"{K}BiasActivationEpilogue<{ActivationType(chain)}>";
            epiValue = $"new {K}BiasActivationEpilogue<{ActivationType(chain)}>({bias ?? "default"}, {ActivationStruct(chain)})";
            what = (folded ? " with BatchNorm folded in" : "") + (chain.Activation is not null ? $", {chain.Activation.Name} fused" : "");
        }
        else
        {
            epiType = bias is null ? $"{K}NoEpilogue" : $"{K}BiasEpilogue";
            epiValue = bias is null ? $"new {K}NoEpilogue()" : $"new {K}BiasEpilogue({bias})";
            what = d.InferenceChain is not null ? " with BatchNorm folded in" : "";
        }
        body.Add($"// {d.Layer.Name}{what}");
        EmitInferenceStage(e, d, epiType, epiValue, what, body);
        if (d.InferenceChain is { } tail)
        {
            if (!d.ChainInEpilogue) Chain.AddNonElementwiseEval(body, tail, tail.PreActivationBuffer!);
            Chain.AddTestTimeScale(body, tail);
        }
    }

    /// <summary>The inference stage proper (the GEMM; Conv2D overrides it for convolutions that need patches).</summary>
    protected virtual void EmitInferenceStage(ModelEmitter e, LinearStep d, string epiType, string epiValue, string what, List<string> body)
    {
        // Small batches: the sum of the row products a fused conv+pool stage left (split-input Dense, on the
        // calling thread), or output columns split so each core streams its share of W.
        string name = SpecNaming.Pascal(d.Layer.Name) + "Inference";
        string rows = BatchRows(d.OutPixels), output = d.InferenceOutput, weights = InferenceWeights(d);
        string? producer = d.PartialProductsFrom is { } from ? SpecNaming.Pascal(from.Layer.Name) + "Inference" : null;
        string? pairedFrom = d.BatchOnePartialsFrom is { } a ? SpecNaming.Pascal(a.Layer.Name) + "Inference" : null;
        LinearStep? pairedFor = d.BatchOnePartialsFor;
        e.OpenStage(name, producer is not null
            ? $"{d.Layer.Name} (eval){what}; rows split across threads, or for small batches the sum of the partial products {producer}'s threads left (on the calling thread)."
            : pairedFrom is not null
                ? $"{d.Layer.Name} (eval){what}; rows split across threads, or columns for small batches; batch 1: the sum of the partial products {pairedFrom}'s threads left (on the calling thread)."
            : d.GemvPackedOffset >= 0
                ? $"{d.Layer.Name} (eval){what}; rows split across threads, or columns for small batches (batch 1 split: W packed in column panels, one stream per core"
                    + (pairedFor is null ? ")." : $"; then {pairedFor.Layer.Name}'s partial product over the same columns).")
                : $"{d.Layer.Name} (eval){what}; rows split across threads, or columns for small batches (each core then streams half of W).");
        e.W.Open($"if ({rows} < {SmallBatch})");
        if (pairedFrom is not null)
        {
            e.W.Line($"// Batch 1: {pairedFrom} left one partial product per panel of {d.Layer.Name}'s inputs; added in panel order, whichever thread made which.");
            e.W.Open("if (_batch == 1)");
            e.W.Line($"if (part == 0) {K}Gemm.SumParts<TIsa, {epiType}>({BatchOnePartials(d)}, {BatchOneBlocks(d)}, {Conv2D.SplitSlot(d)}, {All(output, d.OutWidth)}, 1, {d.OutWidth}, {epiValue});");
            e.W.Line("return;");
            e.W.Close();
        }
        if (producer is not null)
        {
            e.W.Line($"// {producer} left one partial product per pool row of each sample; the rows of a sample add up to its x·W.");
            e.W.Line($"{K}Gemm.SumParts<TIsa, {epiType}>(_splitPartial{d.Index}.Span, {Conv2D.SplitBlocks(d)}, {Conv2D.SplitSlot(d)}, {All(output, d.OutFloats)}, {rows}, {d.OutWidth}, {epiValue});");
        }
        else if (d.GemvPackedOffset >= 0)
        {
            // Columns split on block boundaries: batch 1 on several threads reads the packed blocks; one thread (whole rows
            // of W, one stream) and a few rows read the row-major W. A whole block sums each column in the row-major
            // kernel's order, a lone panel does not, so a split on panels would change Predict's bits with the thread count.
            e.W.Line($"(int c0, int c1) = {K}Partition.Range({d.OutWidth}, part, parts, {InferenceFusion.GemvBlockWidth});");
            e.W.Line("if (c0 >= c1) return;");
            e.W.Line($"if ({rows} == 1 && parts > 1) {K}GemvPacked.Forward<TIsa, {epiType}>({All(d.GemmInput, d.GemmK)}, {PackedWeights(d)}, {All(output, d.OutWidth)}, {d.GemmK}, {d.OutWidth}, c0, c1, {epiValue});");
            e.W.Line($"else {K}Gemm.Forward<TIsa, {epiType}>({All(d.GemmInput, d.OutPixels * d.GemmK)}, {weights}, {All(output, d.OutFloats)}, {rows}, {d.GemmK}, {d.OutWidth}, c0, c1, {epiValue});");
            if (pairedFor is not null)
            {
                e.W.Line($"// {pairedFor.Layer.Name}'s inputs split the same way: this thread's columns times their rows of {pairedFor.Layer.Name}'s W, one partial product per panel, while they are in this core's cache.");
                e.W.Line($"if ({rows} == 1) {K}Gemm.PartialForward<TIsa>({All(output, d.OutWidth)}, {InferenceWeights(pairedFor)}, {BatchOnePartials(pairedFor)}, 1, {d.OutWidth}, {pairedFor.OutWidth}, {InferenceFusion.GemvPanelWidth}, c0 / {InferenceFusion.GemvPanelWidth}, (c1 + {InferenceFusion.GemvPanelWidth - 1}) / {InferenceFusion.GemvPanelWidth}, {Conv2D.SplitSlot(pairedFor)});");
            }
        }
        else
        {
            e.W.Line($"(int c0, int c1) = {K}Partition.Range({d.OutWidth}, part, parts, 16);");
            e.W.Line($"if (c0 < c1) {K}Gemm.Forward<TIsa, {epiType}>({All(d.GemmInput, d.OutPixels * d.GemmK)}, {weights}, {All(output, d.OutFloats)}, {rows}, {d.GemmK}, {d.OutWidth}, c0, c1, {epiValue});");
        }
        e.W.Line("return;");
        e.W.Close();
        e.RowRange(rows);
        e.W.Line($"{K}Gemm.Forward<TIsa, {epiType}>({Rows(d.GemmInput, d.GemmK)}, {weights}, {Rows(output, d.OutWidth)}, r1 - r0, {d.GemmK}, {d.OutWidth}, {epiValue});");
        e.W.Close();
        e.W.Line();
        long flops = 2L * d.OutPixels * d.GemmK * d.OutWidth;
        if (d.Conv is not null)
        {
            body.Add($"Execute(Stages.{name}, (long)_batch * {Conv2D.InferenceWork(d)});");
            return;
        }
        // A small batch is bound by streaming W, not by its FLOPs: count each weight as WeightReadWork
        // FLOPs of time, so that a large layer splits its columns across cores even at batch 1.
        if (producer is not null)
            body.Add($"Execute(Stages.{name}, _batch < {SmallBatch} ? 0 : global::System.Math.Max((long)_batch * {flops}, {d.Weight.Length * WeightReadWork}L)); // small batches: the sum of the parts, on this thread");
        else if (pairedFrom is not null)
            body.Add($"Execute(Stages.{name}, _batch == 1 ? 0 : global::System.Math.Max((long)_batch * {flops}, {d.Weight.Length * WeightReadWork}L)); // batch 1: the sum of the parts, on this thread");
        else
            body.Add($"Execute(Stages.{name}, global::System.Math.Max((long)_batch * {flops}, {d.Weight.Length * WeightReadWork}L)); // at least the time to stream W");
    }

    // ------------------------------------------------------------------ stage bodies

    /// <summary>A Dense or Conv2D's training forward stage(s) (also a projection shortcut's, which inference reuses).</summary>
    internal static void EmitGemmForward(ModelEmitter e, LinearStep d, List<string> body)
    {
        body.Add($"// {d.Layer.Name}{(d.Conv is null ? "" : d.Conv.WinogradTraining ? $": {d.Conv.Describe()} convolution by Winograd F(2×2, {d.Conv.KernelH}×{d.Conv.KernelW}): {Planes(d.Conv)} multiplies per 2×2 output tile and channel pair against {4 * d.Conv.KernelH * d.Conv.KernelW} for im2col + GEMM" : d.Conv.ShallowTraining ? $": {d.Conv.Describe()} convolution with every tap in registers (no im2col)" : $": {d.Conv.Describe()} convolution as im2col + GEMM")}");
        if (d.HasDropConnect)
        {
            double keep = 1 - d.Layer.DropConnect;
            string apply = SpecNaming.Pascal(d.Layer.Name) + "DropConnect";
            e.OpenStage(apply, $"{d.Layer.Name}: DropConnect, weights ∘ this mini-batch's mask; weight ranges split across threads.");
            e.W.Line($"(int e0, int e1) = {K}Partition.Range({d.Weight.Length}, part, parts, 16);");
            e.W.Line("if (e0 >= e1) return;");
            e.W.Line(Dropout.DrawLine($"_connectMask{d.Index}", $"_connectMask{d.Index}.Slice(e0, e1 - e0)", "e0", keep, 1 / keep));
            e.W.Line($"{K}DropConnect.Apply<TIsa>({d.Weight.Identifier}, _connectMask{d.Index}.Slice(0, {d.Weight.Length}), _connectWeight{d.Index}.Slice(0, {d.Weight.Length}), e0, e1);");
            e.W.Close();
            e.W.Line();
            Dropout.AddKeyLine(body, $"_connectMask{d.Index}", $"{d.Layer.Name} DropConnect (keep each weight with p = {keep.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})");
            body.Add($"Execute(Stages.{apply}, {d.Weight.Length * (2L + Dropout.DrawWorkPerFloat)});");
        }
        string name = SpecNaming.Pascal(d.Layer.Name) + "Forward";
        string epi = d.Bias is null ? $"{K}NoEpilogue" : $"{K}BiasEpilogue";
        string epiValue = d.Bias is null ? $"new {K}NoEpilogue()" : $"new {K}BiasEpilogue({d.Bias.Identifier})";
        if (d.Conv is { WinogradTraining: true })
        {
            EmitWinogradForward(e, d, name, epi, epiValue, body);
            return;
        }
        if (d.Conv is { ShallowTraining: true })
        {
            Conv2D.EmitShallowTrainingForward(e, d, name, epi, epiValue, body);
            return;
        }
        if (d.Conv?.ColumnBuffer is not null)
        {
            // A projection's inference reuses this forward stage.
            e.OpenStage(name, $"{d.Layer.Name}: im2col and [rows = samples·{d.OutPixels} pixels×{d.GemmK}]·[{d.GemmK}×{d.OutWidth}]{(d.Bias is null ? "" : " + b")}, chunk by chunk; samples split across threads.");
            EmitConvForwardChunks(e, d, TrainingWeights(d), d.OutputBuffer, epi, epiValue);
            e.W.Close();
            e.W.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
            return;
        }
        if (AbsorbedForwardChain(e.Plan, d) is { } chain)
        {
            EmitFusedDenseForward(e, d, chain, name, epi, epiValue, body);
            return;
        }
        string rowsText = d.Conv is null ? "rows" : $"rows = samples·{d.OutPixels} pixels";
        e.OpenStage(name, $"{d.Layer.Name}: [{rowsText}×{d.GemmK}]·[{d.GemmK}×{d.OutWidth}]{(d.Bias is null ? "" : " + b")}, rows split across threads.");
        e.RowRange(BatchRows(d.OutPixels));
        e.W.Line($"{K}Gemm.Forward<TIsa, {epi}>({Rows(d.GemmInput, d.GemmK)}, {TrainingWeights(d)}, {Rows(d.OutputBuffer, d.OutWidth)}, r1 - r0, {d.GemmK}, {d.OutWidth}, {epiValue});");
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
    }

    /// <summary>
    /// A Dense layer's training forward and the flat BatchNorm chain after it as ONE stage split by output columns: each
    /// thread computes its columns of x·W + b, then their batch statistics, activation and dropout while they are in its
    /// cache — one join per step fewer, and the columns a thread normalises are the ones it wrote (docs/threads.md).
    /// Column ranges start at multiples of 64 (the widest GEMM column strip), so every column is the same bits on any
    /// number of parts; a batch of 1 (the GEMV kernels, whose strips follow the range) runs on one part.
    /// </summary>
    private static void EmitFusedDenseForward(ModelEmitter e, LinearStep d, ChainStep chain, string name, string epi, string epiValue, List<string> body)
    {
        e.OpenStage(name, $"{d.Layer.Name} → {chain.Describe()}: x·W{(d.Bias is null ? "" : " + b")}, then the batch statistics and the fused activation/dropout of the same columns; output columns split across threads.");
        e.W.Line("// A batch of 1 takes the GEMV kernels, whose column strips depend on the range: one part then computes every column.");
        e.W.Line($"(int c0, int c1) = _batch > 1 ? {K}Partition.Range({d.OutWidth}, part, parts, {K}Gemm.BackwardInputColumnAlign) : part == 0 ? (0, {d.OutWidth}) : (0, 0);");
        e.W.Line("if (c0 >= c1) return;");
        e.W.Line($"{K}Gemm.Forward<TIsa, {epi}>({All(d.GemmInput, d.GemmK)}, {TrainingWeights(d)}, {All(d.OutputBuffer, d.OutWidth)}, _batch, {d.GemmK}, {d.OutWidth}, c0, c1, {epiValue});");
        e.W.Line($"// {chain.Describe()}");
        BatchNorm.EmitFlatForwardColumns(e, chain, chain.HasDropout ? All($"_mask{chain.Index}", chain.OutFloats) : "default");
        e.W.Close();
        e.W.Line();
        if (chain.HasDropout) Dropout.AddKeyLine(body, Dropout.MaskBuffer(chain), chain.Dropout!.Name);
        body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.GemmK * d.OutWidth + BatchNorm.FlatForwardWork(chain)});");
    }

    /// <summary>
    /// The flat BatchNorm chain right after the Dense layer <paramref name="d"/> that d's training forward stage runs
    /// (<see cref="EmitFusedDenseForward"/>): a BatchNorm with an elementwise activation reading d's output.
    /// </summary>
    internal static ChainStep? AbsorbedForwardChain(ModelPlan plan, LinearStep d)
    {
        int i = plan.Steps.IndexOf(d);
        if (i < 0 || i + 1 >= plan.Steps.Count || d.Conv is not null || d.HasDropConnect) return null;
        return plan.Steps[i + 1] is ChainStep { BatchNorm: not null, IsSpatial: false, ActivationIsElementwise: true } c
            && c.InputBuffer == d.OutputBuffer && c.OutWidth == d.OutWidth ? c : null;
    }

    /// <summary>The Dense layer whose training forward stage runs <paramref name="chain"/>'s BatchNorm, if any.</summary>
    internal static LinearStep? ForwardAbsorbs(ModelPlan plan, ChainStep chain)
    {
        int i = plan.Steps.IndexOf(chain);
        return i > 0 && plan.Steps[i - 1] is LinearStep d && AbsorbedForwardChain(plan, d) == chain ? d : null;
    }

    /// <summary>The weights the training forward and dL/dx use: the DropConnect-masked copy when the layer has DropConnect.</summary>
    internal static string TrainingWeights(LinearStep d) => d.HasDropConnect ? $"_connectWeight{d.Index}.Slice(0, {d.Weight.Length})" : d.Weight.Identifier;

    /// <summary>Samples of one im2col chunk: about 64K floats of patches, so the GEMM reads them from cache right after they are written.</summary>
    internal static int ConvChunk(LinearStep d) => System.Math.Max(1, (1 << 16) / (d.OutPixels * d.GemmK));

    /// <summary>Body of a convolution forward stage over samples [s0, s1): im2col then GEMM, one cache-sized chunk at a time.</summary>
    internal static void EmitConvForwardChunks(ModelEmitter e, LinearStep d, string weights, string output, string epiType, string epiValue)
    {
        ConvPlan conv = d.Conv!;
        int patches = d.OutPixels * d.GemmK, outputs = d.OutFloats, chunk = ConvChunk(d);
        e.SampleRange();
        e.W.Line($"// {chunk} sample(s) per chunk: the GEMM reads the patches while they are still in cache.");
        e.W.Open($"for (int c0 = s0; c0 < s1; c0 += {chunk})");
        e.W.Line($"int c1 = global::System.Math.Min(c0 + {chunk}, s1);");
        e.W.Line($"{K}Im2Col.Forward<TIsa>({All(d.InputBuffer, d.InFloats)}, {All(conv.ColumnBuffer!, patches)}, in {conv.GeometryField}, channelsFirst: false, c0, c1);");
        e.W.Line($"{K}Gemm.Forward<TIsa, {epiType}>({conv.ColumnBuffer}.Slice(c0 * {patches}, (c1 - c0) * {patches}), {weights}, {output}.Slice(c0 * {outputs}, (c1 - c0) * {outputs}), (c1 - c0) * {d.OutPixels}, {d.GemmK}, {d.OutWidth}, {epiValue});");
        e.W.Close();
    }

    /// <summary>
    /// A Dense or Conv2D's backward stages with dL/dy in <paramref name="current"/>: dL/dx into <paramref name="next"/>
    /// (unless SkipInputGradient), then dW with the fused update.
    /// </summary>
    internal static void EmitGemmBackward(ModelEmitter e, LinearStep d, string current, string next, List<string> body)
    {
        string layer = SpecNaming.Pascal(d.Layer.Name);
        string? column = d.Conv?.ColumnBuffer;
        body.Add($"// {d.Layer.Name} (dL/dy in {current})");
        if (HasWinogradBackwardData(d)) EmitWinogradBackwardData(e, d, current, next, body);
        else if (!d.SkipInputGradient && column is not null)
        {
            string name = layer + "BackwardInput";
            int patches = d.OutPixels * d.GemmK, outputs = d.OutFloats, chunk = ConvChunk(d);
            e.OpenStage(name, $"{d.Layer.Name}: dL/d(patches) = dL/dy·Wᵀ (weights before this step's update), then col2im sums them into dL/dx, chunk by chunk; samples split across threads.");
            e.SampleRange();
            e.W.Open($"for (int c0 = s0; c0 < s1; c0 += {chunk})");
            e.W.Line($"int c1 = global::System.Math.Min(c0 + {chunk}, s1);");
            e.W.Line($"{K}Gemm.BackwardInput<TIsa>({current}.Slice(c0 * {outputs}, (c1 - c0) * {outputs}), {TrainingWeights(d)}, _dcol.Slice(c0 * {patches}, (c1 - c0) * {patches}), (c1 - c0) * {d.OutPixels}, {d.GemmK}, {d.OutWidth});");
            e.W.Line($"{K}Im2Col.Backward<TIsa>({All("_dcol", patches)}, {All(next, d.InFloats)}, in {d.Conv!.GeometryField}, channelsFirst: false, c0, c1);");
            e.W.Close();
            e.W.Close();
            e.W.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
        }
        else if (!d.SkipInputGradient && d.Conv is null && !d.HasDropConnect)
        {
            EmitFusedDenseBackward(e, d, current, next, body);
            return;
        }
        else if (!d.SkipInputGradient)
        {
            string name = layer + "BackwardInput";
            string target = column is null ? next : "_dcol";
            e.OpenStage(name, $"{d.Layer.Name}: dL/d{(column is null ? "x" : "(patches)")} = dL/dy·Wᵀ with the weights before this step's update, rows split across threads.");
            e.RowRange(BatchRows(d.OutPixels));
            e.W.Line($"{K}Gemm.BackwardInput<TIsa>({Rows(current, d.OutWidth)}, {TrainingWeights(d)}, {Rows(target, d.GemmK)}, r1 - r0, {d.GemmK}, {d.OutWidth});");
            e.W.Close();
            e.W.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
        }
        if (d.Conv is { ShallowTraining: true })
            Conv2D.EmitShallowTrainingWeights(e, d, current, body);
        else if (d.Conv is not null || d.HasDropConnect)
            EmitBlockedBackwardWeights(e, d, current, body);
        else
        {
            string name = layer + "BackwardWeights";
            e.OpenStage(name, $"{d.Layer.Name}: dW = {(column is null ? "x" : "patches")}ᵀ·dL/dy, each panel of rows updated by the optimiser as soon as it is complete; weight rows split across threads.");
            e.W.Line($"(int k0, int k1) = {K}Partition.Range({d.GemmK}, part, parts, 4);");
            EmitWeightGradientPart(e, d, current, dx: null);
            e.W.Close();
            e.W.Line();
            body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
        }
    }

    /// <summary>
    /// A dense layer's whole backward as ONE stage split by weight rows: each thread computes the columns k0..k1 of dL/dx
    /// from the rows k0..k1 of W (the weights before this step's update), then dW for those rows and their optimiser
    /// update — W's rows are read and then written by the same thread, so the two products need no join between them,
    /// and the thread's dL/dx columns are the BatchNorm/activation columns the backward stage before this layer gives the
    /// same thread (docs/threads.md). The column ranges start at multiples of Gemm.BackwardInputColumnAlign, so dL/dx is
    /// the same bits on any number of parts.
    /// </summary>
    private static void EmitFusedDenseBackward(ModelEmitter e, LinearStep d, string current, string next, List<string> body)
    {
        string name = SpecNaming.Pascal(d.Layer.Name) + "Backward";
        ChainStep? chain = AbsorbedChain(e.Plan, d);
        string bn = chain is null ? "" : $", then {chain.Describe()}'s backward with the γ/β update on those columns of dL/dx";
        e.OpenStage(name, $"{d.Layer.Name}: dL/dx = dL/dy·Wᵀ (weights before this step's update){bn}, then dW = xᵀ·dL/dy with each panel of rows updated by the optimiser as soon as it is complete; weight rows (= columns of dL/dx) split across threads.");
        e.W.Line($"(int k0, int k1) = {K}Partition.Range({d.GemmK}, part, parts, {K}Gemm.BackwardInputColumnAlign);");
        EmitWeightGradientPart(e, d, current, dx: next, chain);
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {2 * 2L * d.GemmK * d.OutWidth + (chain is null ? 0 : BatchNorm.FlatBackwardWork(chain))});");
    }

    /// <summary>Whether a Dense layer's backward is one stage split by weight rows (<see cref="EmitFusedDenseBackward"/>).</summary>
    private static bool HasFusedBackward(LinearStep d) => !d.SkipInputGradient && d.Conv is null && !d.HasDropConnect;

    /// <summary>
    /// The flat BatchNorm chain right before <paramref name="d"/> whose backward runs inside d's fused backward stage, on the
    /// columns of dL/dx each thread has just computed: a BatchNorm (activation and dropout elementwise) that feeds d
    /// directly. Its columns are independent, so moving it into d's stage changes no bits and saves a join per step.
    /// </summary>
    internal static ChainStep? AbsorbedChain(ModelPlan plan, LinearStep d)
    {
        int i = plan.Steps.IndexOf(d);
        if (i <= 0 || !HasFusedBackward(d)) return null;
        return plan.Steps[i - 1] is ChainStep { BatchNorm: not null, IsSpatial: false, ActivationIsElementwise: true } c
            && c.OutputBuffer == d.InputBuffer && c.OutWidth == d.GemmK ? c : null;
    }

    /// <summary>The Dense layer whose fused backward stage runs <paramref name="chain"/>'s BatchNorm backward, if any.</summary>
    internal static LinearStep? BackwardAbsorbs(ModelPlan plan, ChainStep chain)
    {
        int i = plan.Steps.IndexOf(chain);
        return i >= 0 && i + 1 < plan.Steps.Count && plan.Steps[i + 1] is LinearStep d && AbsorbedChain(plan, d) == chain ? d : null;
    }

    /// <summary>
    /// The body of a weight-gradient part for the weight rows k0..k1 (declared by the caller): dL/dx's columns k0..k1 first
    /// when <paramref name="dx"/> is given, then dW with the fused update, then the bias gradient and update by columns.
    /// </summary>
    private static void EmitWeightGradientPart(ModelEmitter e, LinearStep d, string current, string? dx, ChainStep? chain = null)
    {
        string rows = BatchRows(d.OutPixels);
        e.W.Line($"{ROSpan} x = {All(d.GemmInput, d.OutPixels * d.GemmK)};");
        e.W.Line($"{ROSpan} dy = {All(current, d.OutFloats)};");
        e.W.Open("if (k0 < k1)");
        if (dx is not null)
            e.W.Line($"{K}Gemm.BackwardInput<TIsa>(dy, {d.Weight.Identifier}, {All(dx, d.GemmK)}, _batch, {d.GemmK}, {d.OutWidth}, k0, k1);");
        if (dx is not null && chain is not null)
        {
            e.W.Line($"// {chain.Describe()}: dL/dz of these columns, in place, while they are in this core's cache.");
            BatchNorm.EmitFlatBackwardColumns(e, chain, chain.HasDropout ? All($"_mask{chain.Index}", chain.OutFloats) : "default", dx, "k0", "k1");
        }
        e.W.Open("if (_applyUpdate)");
        e.W.Line($"var sink = new {K}UpdatePanelSink<TIsa>({d.Weight.Identifier}, {d.Weight.Identifier}Gradient, {e.States(d.Weight)}, {d.OutWidth}, {StepFor(d.Weight)});");
        e.W.Line($"{K}Gemm.BackwardWeights<TIsa, {K}UpdatePanelSink<TIsa>>(x, dy, {d.Weight.Identifier}Gradient, {rows}, {d.GemmK}, {d.OutWidth}, k0, k1, ref sink);");
        e.W.Close();
        e.W.Open("else");
        e.W.Line($"var sink = new {K}NoPanelSink();");
        e.W.Line($"{K}Gemm.BackwardWeights<TIsa, {K}NoPanelSink>(x, dy, {d.Weight.Identifier}Gradient, {rows}, {d.GemmK}, {d.OutWidth}, k0, k1, ref sink);");
        e.W.Close();
        e.W.Close();
        EmitBiasGradient(e, d, rows);
    }

    /// <summary>The bias gradient (column sums of dy over <paramref name="rows"/> rows) and its update, bias columns split across threads; ends the part.</summary>
    private static void EmitBiasGradient(ModelEmitter e, LinearStep d, string rows)
    {
        if (d.Bias is null) return;
        e.W.Line($"(int c0, int c1) = {K}Partition.Range({d.OutWidth}, part, parts, 16);");
        e.W.Line("if (c0 >= c1) return;");
        e.W.Line($"{K}Gemm.ColumnSums<TIsa>(dy, {d.Bias.Identifier}Gradient, {rows}, {d.OutWidth}, c0, c1);");
        e.W.Line($"if (_applyUpdate) {StepFor(d.Bias)}.Apply<TIsa>({Cols(d.Bias.Identifier)}, {Cols(d.Bias.Identifier + "Gradient")}, {e.States(d.Bias, Cols)});");
    }

    /// <summary>Rows of one block of a convolution's weight-gradient reduction: its patches (≤ 400 KB for k ≤ 400) stay in L2 across the panels.</summary>
    private const int ConvGradientBlockRows = 256;

    /// <summary>
    /// dW = patchesᵀ·dL/dy for a convolution. The reduction runs over samples·pixels rows (thousands), so it
    /// is cut into blocks of rows whose patches stay in cache; each block's partial dW is added to the
    /// gradient, and the optimiser updates the thread's weight rows once all blocks are summed.
    /// </summary>
    private static void EmitBlockedBackwardWeights(ModelEmitter e, LinearStep d, string current, List<string> body)
    {
        string name = SpecNaming.Pascal(d.Layer.Name) + "BackwardWeights";
        int k = d.GemmK, n = d.OutWidth;
        string w = d.Weight.Identifier, g = w + "Gradient";
        string Mine(string x) => $"{x}.Slice(k0 * {n}, (k1 - k0) * {n})";
        string blocks = d.Conv is { WinogradTraining: true } ? $"over patches rebuilt {PatchChunk(e, d)} sample(s) at a time" : $"in blocks of {ConvGradientBlockRows} rows";
        e.OpenStage(name, $"{d.Layer.Name}: dW = {(d.Conv is null ? "x" : "patches")}ᵀ·dL/dy {blocks}{(d.HasDropConnect ? ", masked by DropConnect" : "")}, then the optimiser update of the thread's weight rows; weight rows split across threads.");
        e.W.Line($"(int k0, int k1) = {K}Partition.Range({k}, part, parts, 4);");
        e.W.Line($"int rows = {BatchRows(d.OutPixels)};");
        bool rebuild = d.Conv is { WinogradTraining: true };
        if (!rebuild) e.W.Line($"{ROSpan} x = {All(d.GemmInput, d.OutPixels * k)};");
        e.W.Line($"{ROSpan} dy = {All(current, d.OutFloats)};");
        e.W.Open("if (k0 < k1)");
        e.W.Line($"var sink = new {K}NoPanelSink();");
        if (rebuild)
        {
            // The Winograd forward kept no patches: rebuild them a chunk of samples at a time, each thread only the
            // columns of its weight rows, packed (k1 − k0 wide) in its own part of the chunk buffer.
            int chunk = PatchChunk(e, d), chunkRows = chunk * d.OutPixels;
            e.W.Line($"// Patches rebuilt {chunk} sample(s) ({chunkRows} rows) at a time, only this thread's columns k0..k1 (the Winograd forward kept none).");
            e.W.Line($"{Span} patches = {Patches(d)}.Slice(k0 * {chunkRows}, (k1 - k0) * {chunkRows});");
            e.W.Open($"for (int q0 = 0; q0 < _batch; q0 += {chunk})");
            e.W.Line($"int q1 = global::System.Math.Min(q0 + {chunk}, _batch), count = (q1 - q0) * {d.OutPixels};");
            e.W.Line($"{K}Im2Col.ForwardColumns({All(d.InputBuffer, d.InFloats)}, patches, in {d.Conv!.GeometryField}, q0, q1, k0, k1);");
            e.W.Line($"{Span} target = q0 == 0 ? {Mine(g)} : {Mine("_dwScratch")};");
            e.W.Line($"{K}Gemm.BackwardWeights<TIsa, {K}NoPanelSink>(patches, dy.Slice(q0 * {d.OutFloats}, count * {n}), target, count, k1 - k0, {n}, 0, k1 - k0, ref sink);");
            e.W.Line($"if (q0 > 0) Accumulate({Mine("_dwScratch")}, {Mine(g)});");
            e.W.Close();
        }
        else
        {
            e.W.Open($"for (int b0 = 0; b0 < rows; b0 += {ConvGradientBlockRows})");
            e.W.Line($"int count = global::System.Math.Min({ConvGradientBlockRows}, rows - b0);");
            e.W.Line($"{Span} target = b0 == 0 ? {g} : _dwScratch.Slice(0, {k * n});");
            e.W.Line($"{K}Gemm.BackwardWeights<TIsa, {K}NoPanelSink>(x.Slice(b0 * {k}, count * {k}), dy.Slice(b0 * {n}, count * {n}), target, count, {k}, {n}, k0, k1, ref sink);");
            e.W.Line($"if (b0 > 0) Accumulate({Mine("_dwScratch")}, {Mine(g)});");
            e.W.Close();
        }
        if (d.HasDropConnect)
            e.W.Line($"{K}DropConnect.MaskGradient<TIsa>({g}, _connectMask{d.Index}.Slice(0, {k * n}), k0 * {n}, k1 * {n}); // dropped weights get no gradient");
        e.W.Line($"if (_applyUpdate) {StepFor(d.Weight)}.Apply<TIsa>({Mine(w)}, {Mine(g)}, {e.States(d.Weight, Mine)});");
        e.W.Close();
        EmitBiasGradient(e, d, "rows");
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * k * n});");
    }

    /// <summary>Partial products of a Dense whose batch-1 product the Dense before it computes (one per panel of its inputs).</summary>
    internal static int BatchOneBlocks(LinearStep d) => d.GemmK / InferenceFusion.GemvPanelWidth;

    /// <summary>The buffer of those partial products (see InferenceFusion.PairDenseLayers).</summary>
    internal static string BatchOnePartials(LinearStep d) => $"_batchOnePartial{d.Index}.Slice(0, {BatchOneBlocks(d) * Conv2D.SplitSlot(d)})";

    /// <summary>The small-batch copy of the folded weights packed into column panels (see InferenceFusion.AssignPackedWeights).</summary>
    internal static string PackedWeights(LinearStep d) =>
        $"_gemvPacked.Slice({d.GemvPackedOffset}, {InferenceFusion.GemvPackedLength(d)})";

    /// <summary>The weights Predict multiplies by: BatchNorm folded in when one follows, the parameters otherwise.</summary>
    internal static string InferenceWeights(LinearStep d) =>
        d.FoldedInto is not null ? $"_folded.Slice({d.FoldedWeightOffset}, {d.GemmK * d.OutWidth})" : d.Weight.Identifier;
}
