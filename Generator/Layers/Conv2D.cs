using System;
using System.Collections.Generic;
using Kiln.Generator.Emitting;
using Kiln.Generator.Planning;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [Conv2D(filters, kernel)] on NHWC activations: im2col (patch order ky, kx, c) then the GEMM of <see cref="LinearLayer"/>
/// with rows = samples·output pixels, weights [KH·KW·C, filters]. Small-batch inference reads a zero-bordered copy of the
/// input with the kernel the plan chose (implicit GEMM, shallow register tiles or Winograd: Planning/ConvKernels.cs),
/// and may run the pool after it in the same stage (Planning/InferenceFusion.cs).
/// </summary>
internal sealed class Conv2D : LinearLayer
{
    public override string Attribute => "Conv2D";
    public override LayerKind Kind => LayerKind.Conv2D;
    public override string NamePrefix => "conv";
    public override IReadOnlyList<string> Arguments { get; } = new[]
    {
        "filters", "kernel", "KernelHeight", "KernelWidth", "Stride", "Padding", "Dilation", "Bias", "Init", "InitScale", "BiasInit",
        "Name", "LearningRateScale", "Regularize", "DropConnect",
    };

    public override LayerSpec Parse(LayerReader r)
    {
        r.RequireSpatial();
        int filters = r.Int("filters", 0);
        Window window = Windows.Parse(r, conv: true, filters);
        (InitKind init, double scale, double biasInit) = ParseInit(r);
        return new LayerSpec(LayerKind.Conv2D, r.LayerName, r.Index, Filters: filters, Bias: r.Bool("Bias", true),
            Init: init, InitScale: scale, BiasInit: biasInit, LearningRateScale: r.LearningRateScale(),
            Regularize: r.Bool("Regularize", true), KernelH: window.KernelH, KernelW: window.KernelW, Stride: window.Stride, Padding: window.Padding,
            Dilation: window.Dilation, DropConnect: ParseDropConnect(r));
    }

    public override long ParameterCount(LayerSpec layer, ActivationShape before, ActivationShape after, ref long lastLinear) =>
        lastLinear = (long)Math.Max(layer.KernelH, 0) * Math.Max(layer.KernelW, 0) * before.Channels * Math.Max(layer.Filters, 0) + Math.Max(layer.Filters, 0) + 2 * PlanBuilder.Alignment;

    public override void Plan(PlanBuilder b)
    {
        LayerSpec layer = b.Current;
        var geometry = new ConvPlan
        {
            Channels = b.Width, Height = b.Height, Width = b.WidthPx, KernelH = layer.KernelH, KernelW = layer.KernelW,
            Stride = layer.Stride, Padding = layer.Padding, Dilation = layer.Dilation,
            OutHeight = Windows.Extent(b.Height, layer.KernelH, layer.Stride, layer.Padding, layer.Dilation),
            OutWidth = Windows.Extent(b.WidthPx, layer.KernelW, layer.Stride, layer.Padding, layer.Dilation),
        };
        int filters = layer.Filters * b.MaxoutPieces();
        // Training by Winograd F(2×2, r×r) under the thresholds of small-batch inference (Planning/ConvKernels.cs): the
        // forward pass and dL/dx (a correlation of dL/dy with the kernel rotated 180°, padded by r − 1 − pad) spend
        // (r+1)² multiplies per 2×2 output tile and channel pair against 4·r² for im2col + GEMM (5×5: 36 against 100).
        // Not with DropConnect (the masked weights change within the step) nor a padding past r − 1 (for dL/dx).
        geometry.WinogradTraining = layer.KernelH == layer.KernelW && layer.KernelH is 3 or 5 && layer.Stride == 1 && layer.Dilation == 1
            && b.Width >= ConvKernels.WinogradMinChannels && filters >= ConvKernels.WinogradMinFilters && layer.DropConnect == 0;
        geometry.WinogradBackwardData = geometry.WinogradTraining && layer.Padding <= layer.KernelH - 1;
        TensorPlan w = b.AddParam(layer.Name, "weight", "Weight", layer.KernelH, layer.KernelW, b.Width, filters);
        TensorPlan? bias = layer.Bias ? b.AddParam(layer.Name, "bias", "Bias", filters) : null;
        var conv = new LinearStep(layer, w, bias)
        {
            Conv = geometry, InWidth = b.Width, InPixels = b.Pixels, OutWidth = filters,
            OutPixels = geometry.OutHeight * geometry.OutWidth,
            OutputShape = new[] { filters, geometry.OutHeight, geometry.OutWidth },
        };
        Finish(b, conv);
        b.Add(conv, this);
        b.Width = filters;
        b.Height = geometry.OutHeight;
        b.WidthPx = geometry.OutWidth;
        b.Pixels = conv.OutPixels;
        b.Position++;
    }

    /// <summary>
    /// Inference work of a convolution's stage (for the parallel threshold): the register-tile kernel spends a broadcast on
    /// every FMA (about half the GEMM's rate, so twice the work); Winograd's work is its products, (r+1)² per tile, input
    /// and output channel (transforms not counted); a fused pool adds its own.
    /// </summary>
    internal static long InferenceWork(LinearStep d)
    {
        ConvPlan conv = d.Conv!;
        long flops = 2L * d.OutPixels * d.GemmK * d.OutWidth;
        long work = conv.SmallBatchKernel switch
        {
            SmallBatchConv.Shallow => 2 * flops,
            SmallBatchConv.Winograd => 2L * conv.WinogradTiles * (conv.KernelH + 1) * (conv.KernelH + 1) * conv.Channels * d.OutWidth,
            _ => flops,
        };
        return work + (conv.FusedPool is { } pool ? Pooling.Work(pool) : 0);
    }

    protected override void EmitInferenceStage(ModelEmitter e, LinearStep d, string epiType, string epiValue, string what, List<string> body)
    {
        if (d.Conv?.ColumnBuffer is null)
        {
            base.EmitInferenceStage(e, d, epiType, epiValue, what, body);
            return;
        }
        // Small batches: no im2col, the output pixels split across threads (an implicit GEMM, or every tap in
        // registers for shallow kernel rows); larger batches: im2col and GEMM chunk by chunk, samples split.
        // The small-batch kernels read the zero-bordered copy, or the input itself when there is no padding.
        ConvPlan conv = d.Conv;
        string name = SpecNaming.Pascal(d.Layer.Name) + "Inference";
        string rows = BatchRows(d.OutPixels), output = d.InferenceOutput, weights = InferenceWeights(d);
        string image = conv.PaddedBuffer ?? d.InputBuffer;
        bool shallow = conv.SmallBatchKernel == SmallBatchConv.Shallow;
        bool winograd = conv.SmallBatchKernel == SmallBatchConv.Winograd;
        PoolStep? pool = conv.FusedPool;
        LinearStep? padTarget = conv.PoolWritesPaddedInputOf, splitDense = conv.PartialProductsFor;
        if (conv.InputPaddedByPool) body.Add($"// {d.Layer.Name}: below {SmallBatch} samples the fused pool before it has written its zero-bordered input");
        else if (conv.PaddedBuffer is not null)
        {
            EmitPadStage(e, d);
            body.Add($"if (_batch < {SmallBatch}) Execute(Stages.{SpecNaming.Pascal(d.Layer.Name)}Pad, 0);");
        }
        string input = conv.PaddedBuffer is null ? "input" : "zero-bordered input";
        string poolWhat = pool is null ? "" : $", then {pool.Layer.Name} on what each thread computed";
        e.OpenStage(name, shallow
            ? $"{d.Layer.Name} (eval){what}{poolWhat}: each tile of output pixels accumulates all {d.GemmK} taps in registers, reading the {input} (no im2col); small batches split output pixels across threads, larger ones samples."
            : winograd
            ? $"{d.Layer.Name} (eval){what}{poolWhat}: for small batches Winograd F(2×2, {conv.KernelH}×{conv.KernelW}) over the {input}, 2×2 output tiles split across threads; otherwise samples split, {(conv.WinogradTraining ? "Winograd sample by sample" : "im2col and GEMM chunk by chunk")}."
            : $"{d.Layer.Name} (eval){what}{poolWhat}: for small batches an implicit GEMM over the {input} (no im2col); otherwise samples split, im2col and GEMM chunk by chunk.");
        e.W.Open($"if (_batch < {SmallBatch})");
        if (winograd)
        {
            // Tiles split across threads; with a fused pool, tile t is exactly the pool's output pixel t, so each
            // thread pools what it computed.
            e.W.Line(pool is null
                ? "// 2×2 output tiles split across threads."
                : $"// {pool.Layer.Name}'s windows are the 2×2 Winograd tiles: its output pixels split across threads, each thread computes and pools its own tiles.");
            e.W.Line($"(int p0, int p1) = _split{d.Index}.Range(_batch * {conv.WinogradTiles}, part, parts{Granule(splitDense, pool)});");
            e.W.Line("if (p0 >= p1) return;");
            e.W.Line($"{K}WinogradConv.Forward<TIsa, {epiType}>({All(image, conv.PaddedSize)}, _winograd.Slice({conv.WinogradOffset}, {conv.WinogradLength}), {All(output, d.OutFloats)}, in {conv.GeometryField}, {d.OutWidth}, p0, p1, {epiValue});");
            if (pool is not null) EmitPoolPixels(e, pool, padTarget, output, d);
            if (splitDense is not null) EmitPartialProduct(e, splitDense, pool!);
        }
        else
        {
            string kernel = $"{K}{(shallow ? "ShallowConv" : "DirectConv")}.Forward<TIsa, {epiType}>({All(image, conv.PaddedSize)}, {weights}, {All(output, d.OutFloats)}, in {conv.GeometryField}, {d.OutWidth}";
            if (pool is null)
            {
                e.W.Line("// Output pixels split across threads.");
                e.W.Line($"(int r0, int r1) = _split{d.Index}.Range({rows}, part, parts);");
                e.W.Line("if (r0 >= r1) return;");
                e.W.Line($"{kernel}, r0, r1, {epiValue});");
            }
            else
            {
                // Split by the pool's output pixels: each thread convolves exactly the pixels its windows read (rows
                // and columns past the last window go with the row's or sample's end) and pools them from its cache.
                e.W.Line($"// {pool.Layer.Name}'s output pixels split across threads; each thread convolves the pixels its windows read, then pools them.");
                e.W.Line($"(int p0, int p1) = _split{d.Index}.Range(_batch * {pool.OutHeight * pool.OutWidthPx}, part, parts{Granule(splitDense, pool)});");
                e.W.Line("if (p0 >= p1) return;");
                e.W.Line($"global::System.Span<(int Start, int End)> segments = stackalloc (int, int)[{K}Pooling.MaxInputSegments(in {pool.GeometryField})];");
                e.W.Line($"int count = {K}Pooling.InputSegments(in {pool.GeometryField}, p0, p1, segments);");
                e.W.Line($"for (int i = 0; i < count; i++) {kernel}, segments[i].Start, segments[i].End, {epiValue});");
                EmitPoolPixels(e, pool, padTarget, output, d);
                if (splitDense is not null) EmitPartialProduct(e, splitDense, pool);
            }
        }
        e.W.Line($"_split{d.Index}.Finish(part);");
        e.W.Line("return;");
        e.W.Close();
        if (shallow) EmitShallowConvChunks(e, d, image, weights, output, epiType, epiValue, pool);
        else if (conv.WinogradTraining && conv.SmallBatchKernel == SmallBatchConv.Winograd)
        {
            // Trained by Winograd: no im2col buffer; large batches take Winograd too, samples split.
            EmitWinogradSamples(e, d, $"_winograd.Slice({conv.WinogradOffset}, {conv.WinogradLength})", output, epiType, epiValue);
        }
        else EmitConvForwardChunks(e, d, weights, output, epiType, epiValue);
        if (pool is not null && !shallow) EmitPoolSamples(e, pool, All(output, d.OutFloats), "s0", "s1");
        e.W.Close();
        e.W.Line();
        if (pool is not null) body.Add($"// {pool.Layer.Name} (eval) runs in {name}");
        body.Add($"Execute(Stages.{name}, (long)_batch * {InferenceWork(d)});");
        body.Add($"if (_batch < {SmallBatch}) _split{d.Index}.Learn(); // next call's split follows this call's thread speeds");
    }

    /// <summary>The zero-bordered input copy that a convolution's small-batch inference reads, samples split across threads.</summary>
    private static void EmitPadStage(ModelEmitter e, LinearStep d)
    {
        ConvPlan conv = d.Conv!;
        e.OpenStage(SpecNaming.Pascal(d.Layer.Name) + "Pad", $"{d.Layer.Name}: copies each sample into a zero-bordered {conv.Height + 2 * conv.Padding}×{conv.Width + 2 * conv.Padding}×{conv.Channels} image in {conv.PaddedBuffer} (small-batch inference reads its patches there, no im2col); samples split across threads.");
        e.SampleRange();
        e.W.Line($"{K}DirectConv.Pad({All(d.InputBuffer, d.InFloats)}, {All(conv.PaddedBuffer!, conv.PaddedSize)}, in {conv.GeometryField}, s0, s1);");
        e.W.Close();
        e.W.Line();
    }

    /// <summary>
    /// Large-batch inference of a shallow-kernel convolution over samples [s0, s1): per chunk, the zero-bordered copy,
    /// the register-tile convolution and the fused pool (if any), so that each step reads the last one's output from cache.
    /// </summary>
    private static void EmitShallowConvChunks(ModelEmitter e, LinearStep d, string image, string weights, string output, string epiType, string epiValue, PoolStep? pool)
    {
        ConvPlan conv = d.Conv!;
        int chunk = System.Math.Max(1, (1 << 16) / d.OutFloats);
        e.SampleRange();
        e.W.Line($"// {chunk} sample(s) per chunk: {(conv.PaddedBuffer is null ? "" : "padded, ")}convolved{(pool is null ? "" : " and pooled")} while they are in cache.");
        e.W.Open($"for (int c0 = s0; c0 < s1; c0 += {chunk})");
        e.W.Line($"int c1 = global::System.Math.Min(c0 + {chunk}, s1);");
        if (conv.PaddedBuffer is not null)
            e.W.Line($"{K}DirectConv.Pad({All(d.InputBuffer, d.InFloats)}, {All(conv.PaddedBuffer, conv.PaddedSize)}, in {conv.GeometryField}, c0, c1);");
        e.W.Line($"{K}ShallowConv.Forward<TIsa, {epiType}>({All(image, conv.PaddedSize)}, {weights}, {All(output, d.OutFloats)}, in {conv.GeometryField}, {d.OutWidth}, c0 * {d.OutPixels}, c1 * {d.OutPixels}, {epiValue});");
        if (pool is not null) EmitPoolSamples(e, pool, All(output, d.OutFloats), "c0", "c1");
        e.W.Close();
    }

    // ------------------------------------------------------------------ training by the shallow kernels

    /// <summary>Per-sample gradient slots of a convolution trained by the shallow kernels: dW (PatchSize × filters) then dL/db (filters).</summary>
    private static string GradientSlots(LinearStep d) => $"_dwSamples{d.Index}";

    /// <summary>Floats of one sample's gradient slot: the taps' rows, and a row for dL/db when the layer has a bias.</summary>
    private static int SlotSize(LinearStep d) => (d.GemmK + (d.Bias is null ? 0 : 1)) * d.OutWidth;

    /// <summary>The fields of <see cref="ConvPlan.ShallowTraining"/>: each sample's dW (its zero-bordered input is the padded buffer's field).</summary>
    internal static void EmitShallowTrainingFields(ModelEmitter e, LinearStep d) =>
        e.W.Line($"private readonly {K}Arena {GradientSlots(d)} = new(MaxBatch * {SlotSize(d)}); // {d.Layer.Name} dW of each sample ({d.GemmK} taps{(d.Bias is null ? "" : " + dL/db")} × {d.OutWidth}), summed in sample order (no im2col patches)");

    /// <summary>
    /// The training forward of <see cref="ConvPlan.ShallowTraining"/>: chunk by chunk the zero-bordered copy (kept: the
    /// weight gradient reads it) and every tap in registers over tiles of output pixels; samples split across threads.
    /// </summary>
    internal static void EmitShallowTrainingForward(ModelEmitter e, LinearStep d, string name, string epiType, string epiValue, List<string> body)
    {
        ConvPlan conv = d.Conv!;
        string copies = conv.PaddedBuffer is null ? "" : $"zero-bordered copies in {conv.PaddedBuffer} (kept for dW), then ";
        e.OpenStage(name, $"{d.Layer.Name}: {copies}each tile of output pixels accumulates all {d.GemmK} taps in registers{(d.Bias is null ? "" : " + b")} (no im2col), chunk by chunk; samples split across threads.");
        EmitShallowConvChunks(e, d, conv.PaddedBuffer ?? d.InputBuffer, TrainingWeights(d), d.OutputBuffer, epiType, epiValue, null);
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{name}, (long)_batch * {2L * d.OutPixels * d.GemmK * d.OutWidth});");
    }

    /// <summary>
    /// The weight gradient of <see cref="ConvPlan.ShallowTraining"/>: each sample's dW summed in registers from its
    /// zero-bordered input and dL/dy (samples split across threads), then the samples' slots added in sample order, so
    /// the gradient is the same for any thread count, and the optimiser update (weight rows split across threads).
    /// </summary>
    internal static void EmitShallowTrainingWeights(ModelEmitter e, LinearStep d, string current, List<string> body)
    {
        ConvPlan conv = d.Conv!;
        string layer = SpecNaming.Pascal(d.Layer.Name), slots = GradientSlots(d);
        int k = d.GemmK, n = d.OutWidth, size = SlotSize(d);
        string w = d.Weight.Identifier, g = w + "Gradient";
        string Mine(string x) => $"{x}.Slice(k0 * {n}, (k1 - k0) * {n})";
        string samples = layer + "BackwardWeights", sums = layer + "WeightSums";
        e.OpenStage(samples, $"{d.Layer.Name}: each sample's dW = Σ over its {d.OutPixels} pixels of taps ⊗ dL/dy, all {k} taps × {n} filters summed in registers from the {(conv.PaddedBuffer is null ? "" : "zero-bordered ")}input (no patch matrix){(d.Bias is null ? "" : ", and dL/db from the same loads of dL/dy")}, into its slot of {slots}; samples split across threads.");
        e.SampleRange();
        e.W.Line($"{K}ShallowConvTraining.BackwardWeights<TIsa>({All(conv.PaddedBuffer ?? d.InputBuffer, conv.PaddedSize)}, {All(current, d.OutFloats)}, {All(slots, size)}, in {conv.GeometryField}, {n}, bias: {(d.Bias is null ? "false" : "true")}, s0, s1);");
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{samples}, (long)_batch * {2L * d.OutPixels * k * n});");

        e.OpenStage(sums, $"{d.Layer.Name}: dW{(d.Bias is null ? "" : " and dL/db")} = the samples' slots added in sample order (the same sum for any thread count), then the optimiser update; weight rows{(d.Bias is null ? "" : " and bias columns")} split across threads.");
        e.W.Line($"(int k0, int k1) = {K}Partition.Range({k}, part, parts, 4);");
        e.W.Open("if (k0 < k1)");
        e.W.Line($"{K}ShallowConvTraining.SumSamples<TIsa>({All(slots, size)}, {Mine(g)}, _batch, {size}, k0 * {n}, k1 * {n});");
        e.W.Line($"if (_applyUpdate) {StepFor(d.Weight)}.Apply<TIsa>({Mine(w)}, {Mine(g)}, {e.States(d.Weight, Mine)});");
        e.W.Close();
        if (d.Bias is { } bias)
        {
            e.W.Line($"(int c0, int c1) = {K}Partition.Range({n}, part, parts, 16);");
            e.W.Line("if (c0 >= c1) return;");
            e.W.Line($"{K}ShallowConvTraining.SumSamples<TIsa>({All(slots, size)}, {Cols(bias.Identifier + "Gradient")}, _batch, {size}, {k * n} + c0, {k * n} + c1);");
            e.W.Line($"if (_applyUpdate) {StepFor(bias)}.Apply<TIsa>({Cols(bias.Identifier)}, {Cols(bias.Identifier + "Gradient")}, {e.States(bias, Cols)});");
        }
        e.W.Close();
        e.W.Line();
        body.Add($"Execute(Stages.{sums}, (long)_batch * {size});");
    }

    /// <summary>A fused pool over whole samples [from, to) of the convolution's output, no argmax (inference).</summary>
    internal static void EmitPoolSamples(ModelEmitter e, PoolStep pool, string input, string from, string to) =>
        e.W.Line(pool.Layer.Kind == LayerKind.MaxPool
            ? $"{K}Pooling.MaxForward<TIsa>({input}, {All(pool.OutputBuffer, pool.OutFloats)}, default, in {pool.GeometryField}, {from}, {to}); // {pool.Layer.Name} (no argmax at inference)"
            : $"{K}Pooling.AvgForward<TIsa>({input}, {All(pool.OutputBuffer, pool.OutFloats)}, in {pool.GeometryField}, {from}, {to}); // {pool.Layer.Name}");

    /// <summary>Floats between two blocks' partial products of a split-input Dense: its outputs rounded up to whole cache lines.</summary>
    internal static int SplitSlot(LinearStep d) => (d.OutWidth + 15) / 16 * 16;

    /// <summary>", granule: W" (a pool row of W pixels) when a split-input Dense's blocks must not be cut; empty otherwise.</summary>
    private static string Granule(LinearStep? splitDense, PoolStep? pool) =>
        splitDense is null || pool is null ? "" : $", granule: {pool.OutWidthPx}";

    /// <summary>Partial products per sample of a split-input Dense: one per row of the pool before it.</summary>
    internal static int SplitBlocks(LinearStep d) => d.PartialProductsFrom!.Conv!.FusedPool!.OutHeight;

    /// <summary>In a fused conv+pool stage: the partial products of the next Dense over this thread's pool rows [p0, p1) / width.</summary>
    private static void EmitPartialProduct(ModelEmitter e, LinearStep dense, PoolStep pool)
    {
        int rowFeatures = pool.OutWidthPx * pool.OutWidth;
        e.W.Line($"// {dense.Layer.Name}'s inputs split the same way: one partial product per pool row this thread pooled, by that row's rows of W ({dense.Layer.Name}'s stage adds them).");
        e.W.Line($"{K}Gemm.PartialForward<TIsa>({All(pool.OutputBuffer, pool.OutFloats)}, {InferenceWeights(dense)}, _splitPartial{dense.Index}.Span, _batch, {dense.GemmK}, {dense.OutWidth}, {rowFeatures}, p0 / {pool.OutWidthPx}, p1 / {pool.OutWidthPx}, {SplitSlot(dense)});");
    }

    /// <summary>A fused small-batch pool over its output pixels [p0, p1), into the next convolution's zero-bordered input when it has one.</summary>
    private static void EmitPoolPixels(ModelEmitter e, PoolStep pool, LinearStep? padTarget, string output, LinearStep d)
    {
        string pooled = padTarget is null
            ? $"{All(pool.OutputBuffer, pool.OutFloats)}, in {pool.GeometryField}, p0, p1"
            : $"{All(padTarget.Conv!.PaddedBuffer!, padTarget.Conv.PaddedSize)}, in {pool.GeometryField}, p0, p1, border: {padTarget.Conv.Padding}";
        if (padTarget is not null)
            e.W.Line($"// Straight into {padTarget.Layer.Name}'s zero-bordered input (its border stays 0: nothing else writes it), so {padTarget.Layer.Name} needs no copy.");
        e.W.Line($"{K}Pooling.{(pool.Layer.Kind == LayerKind.MaxPool ? "Max" : "Avg")}ForwardPixels<TIsa>({All(output, d.OutFloats)}, {pooled});");
    }
}
