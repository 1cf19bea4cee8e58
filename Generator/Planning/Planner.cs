using System;
using System.Collections.Generic;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Planning;

/// <summary>ModelSpec → ModelPlan: shapes, arena layout, fused chains, buffers.</summary>
public static class Planner
{
    /// <summary>Tensor offsets are rounded to 16 floats so every tensor starts on a 64-byte boundary.</summary>
    private const int Alignment = 16;

    /// <summary>Least depth of one implicit-GEMM call (floats of a kernel row) for which small-batch inference skips im2col.</summary>
    internal const int DirectConvMinDepth = 16;

    /// <summary>Least input channels and filters for which small-batch inference uses Winograd F(2×2, r×r).</summary>
    internal const int WinogradMinChannels = 8, WinogradMinFilters = 16;

    public static ModelPlan Build(ModelSpec spec)
    {
        var plan = new ModelPlan(spec) { InputSize = spec.InputSize };
        int paramOffset = 0, bufferOffset = 0, foldedOffset = 0, winogradOffset = 0, parameterCount = 0;
        int width = spec.InputSize;
        long flops = 0;

        TensorPlan AddParam(string layer, string suffix, string role, params int[] shape)
        {
            var t = new TensorPlan(layer + "." + suffix, layer, role, shape, paramOffset, ArenaKind.Parameters);
            // checked: a model too large for int offsets fails loudly (the parser reports KLN0018 before that).
            paramOffset = checked(paramOffset + Align(t.Length));
            parameterCount = checked(parameterCount + t.Length);
            plan.Tensors.Add(t);
            return t;
        }
        TensorPlan AddBuffer(string layer, string suffix, string role, params int[] shape)
        {
            var t = new TensorPlan(layer + "." + suffix, layer, role, shape, bufferOffset, ArenaKind.Buffers);
            bufferOffset = checked(bufferOffset + Align(t.Length));
            plan.Tensors.Add(t);
            return t;
        }

        if (spec.NormalizesInputs)
        {
            // Data statistics, not parameters: state tensors like BatchNorm's running averages, so checkpoints carry them.
            int groups = spec.Normalization == InputNormalizationKind.PerChannel ? spec.InputShape[0] : spec.InputSize;
            plan.InputNormalizationGroups = groups;
            plan.InputMean = AddBuffer("input", "mean", "Mean", groups);
            plan.InputStd = AddBuffer("input", "std", "StandardDeviation", groups);
        }

        var layers = spec.Layers;
        // The activation shape: rows per sample (pixels) × row width (features, or channels when spatial).
        int pixels = 1, height = 0, widthPx = 0;
        bool spatial = false;
        if (spec.InputShape.Count is 2 or 3 && layers.Count > 0 && layers[0].Kind != LayerKind.Flatten)
        {
            int c = spec.InputShape.Count == 3 ? spec.InputShape[0] : 1;
            height = spec.InputShape[spec.InputShape.Count - 2];
            widthPx = spec.InputShape[spec.InputShape.Count - 1];
            spatial = true;
            pixels = height * widthPx;
            width = c;
            plan.InputShape = new[] { c, height, widthPx };
            plan.TransposeInput = c > 1; // NCHW in, NHWC inside
        }
        var openBlocks = new Stack<ResidualStartStep>();
        int[] Shape() => spatial ? new[] { width, height, widthPx } : new[] { width * pixels };
        int i = 0;
        while (i < layers.Count)
        {
            LayerSpec layer = layers[i];
            if (layer.Kind == LayerKind.Flatten)
            {
                // NHWC buffers are flat already: Flatten only changes how the next layer reads them (HWC order).
                width *= pixels;
                pixels = 1;
                spatial = false;
                i++;
                continue;
            }
            // A Maxout right after a Dense or Conv2D multiplies that layer's outputs by its pieces.
            int pieces = i + 1 < layers.Count && layers[i + 1].Kind == LayerKind.Maxout ? layers[i + 1].Units : 1;
            if (layer.Kind == LayerKind.Dense)
            {
                int outputs = layer.Units * pieces;
                TensorPlan w = AddParam(layer.Name, "weight", "Weight", width, outputs);
                TensorPlan? b = layer.Bias ? AddParam(layer.Name, "bias", "Bias", outputs) : null;
                var dense = new DenseStep(layer, w, b) { InWidth = width, OutWidth = outputs, OutputShape = new[] { outputs } };
                (dense.ResolvedInit, dense.InitScale) = ResolveInit(layer, dense.FanIn, dense.FanOut, NextActivation(layers, i + 1));
                flops += 2L * width * outputs;
                plan.Steps.Add(dense);
                width = outputs;
                i++;
                continue;
            }
            if (layer.Kind == LayerKind.Maxout)
            {
                int units = width / layer.Units;
                plan.Steps.Add(new MaxoutStep(layer)
                {
                    InWidth = width, OutWidth = units, InPixels = pixels, OutPixels = pixels,
                    OutputShape = spatial ? new[] { units, height, widthPx } : new[] { units * pixels },
                });
                width = units;
                i++;
                continue;
            }
            if (layer.Kind == LayerKind.Conv2D)
            {
                var geometry = new ConvPlan
                {
                    Channels = width, Height = height, Width = widthPx, KernelH = layer.KernelH, KernelW = layer.KernelW,
                    Stride = layer.Stride, Padding = layer.Padding, Dilation = layer.Dilation,
                    OutHeight = (height + 2 * layer.Padding - layer.Dilation * (layer.KernelH - 1) - 1) / layer.Stride + 1,
                    OutWidth = (widthPx + 2 * layer.Padding - layer.Dilation * (layer.KernelW - 1) - 1) / layer.Stride + 1,
                };
                int filters = layer.Units * pieces;
                TensorPlan w = AddParam(layer.Name, "weight", "Weight", layer.KernelH, layer.KernelW, width, filters);
                TensorPlan? b = layer.Bias ? AddParam(layer.Name, "bias", "Bias", filters) : null;
                var conv = new DenseStep(layer, w, b)
                {
                    Conv = geometry, InWidth = width, InPixels = pixels, OutWidth = filters,
                    OutPixels = geometry.OutHeight * geometry.OutWidth,
                    OutputShape = new[] { filters, geometry.OutHeight, geometry.OutWidth },
                };
                (conv.ResolvedInit, conv.InitScale) = ResolveInit(layer, conv.FanIn, conv.FanOut, NextActivation(layers, i + 1));
                flops += 2L * conv.OutPixels * geometry.PatchSize * filters;
                plan.Steps.Add(conv);
                width = filters;
                height = geometry.OutHeight;
                widthPx = geometry.OutWidth;
                pixels = conv.OutPixels;
                i++;
                continue;
            }
            if (layer.Kind == LayerKind.Residual)
            {
                var start = new ResidualStartStep(layer) { InWidth = width, OutWidth = width, InPixels = pixels, OutPixels = pixels, OutputShape = Shape() };
                openBlocks.Push(start);
                plan.Steps.Add(start);
                i++;
                continue;
            }
            if (layer.Kind == LayerKind.EndResidual)
            {
                ResidualStartStep start = openBlocks.Pop();
                var end = new ResidualEndStep(start) { InWidth = width, OutWidth = width, InPixels = pixels, OutPixels = pixels, OutputShape = Shape() };
                if (start.Layer.Projection)
                {
                    // He et al. 2016 option B: a learned shortcut without bias, He-initialised with fan-in C_in.
                    LayerSpec projection = start.Layer with { Kind = start.IsSpatial ? LayerKind.Conv2D : LayerKind.Dense, Name = start.Layer.Name + ".projection", Units = width, Bias = false, Init = InitKind.HeNormal };
                    if (start.IsSpatial)
                    {
                        int stride = Math.Max(1, ModelSpecParser.ProjectionStride(start.OutputShape[1], start.OutputShape[2], height, widthPx));
                        var geometry = new ConvPlan
                        {
                            Channels = start.OutWidth, Height = start.OutputShape[1], Width = start.OutputShape[2], KernelH = 1, KernelW = 1,
                            Stride = stride, Padding = 0, Dilation = 1, OutHeight = height, OutWidth = widthPx,
                        };
                        TensorPlan w = AddParam(start.Layer.Name, "projection", "Weight", 1, 1, start.OutWidth, width);
                        end.Projection = new DenseStep(projection with { KernelH = 1, KernelW = 1, Stride = stride }, w, null)
                        {
                            Conv = geometry, InWidth = start.OutWidth, InPixels = start.OutPixels, OutWidth = width, OutPixels = pixels, OutputShape = Shape(),
                        };
                    }
                    else
                    {
                        TensorPlan w = AddParam(start.Layer.Name, "projection", "Weight", start.OutFloats, width);
                        end.Projection = new DenseStep(projection, w, null) { InWidth = start.OutFloats, InPixels = 1, OutWidth = width, OutPixels = 1, OutputShape = Shape() };
                    }
                    end.Projection.IsProjection = true;
                    end.Projection.ResolvedInit = InitKind.HeNormal;
                    end.Projection.InitScale = Math.Sqrt(2.0 / end.Projection.InWidth);
                    flops += 2L * end.Projection.OutPixels * end.Projection.GemmK * width;
                }
                if (start.Layer.ZeroInitLast)
                {
                    // docs/techniques.md#initialisation: the branch's last weight layer starts at zero, so the block starts as the identity.
                    DenseStep last = (DenseStep)plan.Steps[plan.Steps.FindLastIndex(x => x is DenseStep)];
                    (last.ResolvedInit, last.InitScale) = (InitKind.Zeros, 0);
                }
                plan.Steps.Add(end);
                i++;
                continue;
            }
            if (layer.IsSampleNorm)
            {
                var norm = new NormStep(layer, AddParam(layer.Name, "gamma", "Gamma", width), AddParam(layer.Name, "beta", "Beta", width))
                {
                    InWidth = width, OutWidth = width, InPixels = pixels, OutPixels = pixels, OutputShape = Shape(),
                };
                flops += 8L * width * pixels;
                plan.Steps.Add(norm);
                i++;
                continue;
            }
            if (layer.Kind is LayerKind.MaxPool or LayerKind.AvgPool or LayerKind.GlobalAvgPool or LayerKind.FractionalMaxPool)
            {
                var pool = new PoolStep(layer) { InWidth = width, OutWidth = width, InPixels = pixels, Height = height, Width = widthPx };
                if (layer.Kind == LayerKind.GlobalAvgPool)
                {
                    pool.OutHeight = pool.OutWidthPx = 1;
                    spatial = false;
                }
                else if (layer.Kind == LayerKind.FractionalMaxPool)
                {
                    pool.OutHeight = ModelSpecParser.FractionalOutput(height, layer.Rate);
                    pool.OutWidthPx = ModelSpecParser.FractionalOutput(widthPx, layer.Rate);
                }
                else
                {
                    pool.OutHeight = (height + 2 * layer.Padding - layer.KernelH) / layer.Stride + 1;
                    pool.OutWidthPx = (widthPx + 2 * layer.Padding - layer.KernelW) / layer.Stride + 1;
                }
                pool.OutPixels = pool.OutHeight * pool.OutWidthPx;
                flops += (long)pool.OutPixels * width * (layer.Kind switch { LayerKind.GlobalAvgPool => pixels, LayerKind.FractionalMaxPool => 4, _ => layer.KernelH * layer.KernelW });
                height = pool.OutHeight;
                widthPx = pool.OutWidthPx;
                pixels = pool.OutPixels;
                pool.OutputShape = Shape();
                plan.Steps.Add(pool);
                i++;
                continue;
            }

            // A chain: [BatchNorm] [Activation] [Dropout], in this order, each at most once. On spatial
            // activations the same kernels run with rows = samples·pixels and columns = channels, so
            // BatchNorm is BatchNorm2D (statistics per channel over N, H, W) and PReLU is per channel.
            var chain = new ChainStep { InWidth = width, OutWidth = width, InPixels = pixels, OutPixels = pixels, OutputShape = Shape() };
            if (i < layers.Count && layers[i].Kind == LayerKind.BatchNorm)
            {
                LayerSpec bn = layers[i++];
                chain.BatchNorm = bn;
                chain.Gamma = AddParam(bn.Name, "gamma", "Gamma", width);
                chain.Beta = AddParam(bn.Name, "beta", "Beta", width);
                chain.RunningMean = AddBuffer(bn.Name, "running_mean", "RunningMean", width);
                chain.RunningVariance = AddBuffer(bn.Name, "running_var", "RunningVariance", width);
            }
            if (i < layers.Count && layers[i].Kind == LayerKind.Activation)
            {
                LayerSpec act = layers[i++];
                chain.Activation = act;
                if (act.Activation == ActivationKind.PReLU) chain.PReluAlpha = AddParam(act.Name, "alpha", "Alpha", width);
            }
            if (i < layers.Count && layers[i].Kind == LayerKind.Dropout)
                chain.Dropout = layers[i++];
            if (chain.BatchNorm is null && chain.Activation is null && chain.Dropout is null)
                throw new InvalidOperationException($"Layer '{layers[i].Name}' of kind {layers[i].Kind} cannot be planned.");
            plan.Steps.Add(chain);
        }

        // Buffers: each step writes its own output; BN folds into a Dense or Conv2D directly before it.
        string current = "_x";
        for (int s = 0; s < plan.Steps.Count; s++)
        {
            StepPlan step = plan.Steps[s];
            string index = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
            step.Index = s;
            step.InputBuffer = current;
            step.OutputBuffer = step is ResidualStartStep ? current : "_y" + index; // a block start computes nothing
            current = step.OutputBuffer;
            if (step is DenseStep { Conv: { } conv })
            {
                conv.GeometryField = "s_geometry" + index;
                bool direct = conv.KernelH == 1 && conv.KernelW == 1 && conv.Stride == 1 && conv.Padding == 0;
                conv.ColumnBuffer = direct ? null : "_col" + index;
                // Small-batch inference skips im2col. The implicit GEMM makes one micro-kernel call per kernel row of
                // depth KernelW·Channels (Channels with dilation), accumulating through the output tile between calls:
                // from 16 floats deep that beats im2col + GEMM (5×5×16: 28.3 vs 30.8 µs at batch 1). Shallower rows
                // keep every tap in registers instead (1×28×28, 5×5 → 16: 6.3 µs against 13.9 µs for im2col + GEMM
                // and 13.4 µs for the implicit GEMM, which spends a call on every 5 multiply-adds).
                int depth = conv.Dilation == 1 ? conv.KernelW * conv.Channels : conv.Channels;
                conv.SmallBatchKernel = depth >= DirectConvMinDepth ? SmallBatchConv.ImplicitGemm : SmallBatchConv.Shallow;
                // A 3×3 or 5×5 stride-1 kernel with enough channels takes Winograd F(2×2, r×r) instead: 36 multiplies per
                // tile of 4 pixels against 100 for 5×5 (16 against 36 for 3×3). Below 8 channels the input transform's narrow
                // vectors cost more than the multiplies saved (one core, AVX-512, batch 1: 5×5 16→32 on 14×14 16.5 µs
                // against 27.9 µs as the implicit GEMM, 3×3 64→64 on 8×8 13.5 against 24.9, but 5×5 4→16 8.2 against 6.8).
                if (conv.KernelH == conv.KernelW && conv.KernelH is 3 or 5 && conv.Stride == 1 && conv.Dilation == 1
                    && conv.Channels >= WinogradMinChannels && step.OutWidth >= WinogradMinFilters)
                {
                    conv.SmallBatchKernel = SmallBatchConv.Winograd;
                    conv.WinogradOffset = winogradOffset;
                    conv.WinogradLength = (conv.KernelH + 1) * (conv.KernelH + 1) * conv.Channels * step.OutWidth;
                    winogradOffset += Align(conv.WinogradLength);
                }
                conv.PaddedBuffer = !direct && conv.Padding > 0 ? "_padded" + index : null;
            }
            if (step is ResidualEndStep { Projection: { } projection })
            {
                // Not in the step list: it reads the block's input and writes its own buffer (member names use this step's index).
                projection.Index = s;
                projection.InputBuffer = ((ResidualEndStep)step).Start.InputBuffer;
                projection.OutputBuffer = "_shortcut" + index;
                if (projection.Conv is { } pc)
                {
                    pc.GeometryField = "s_geometry" + index;
                    pc.ColumnBuffer = pc.Stride == 1 ? null : "_col" + index;
                }
            }
            if (step is MaxoutStep maxout) maxout.ArgmaxBuffer = "_piece" + index;
            if (step is PoolStep pool)
            {
                if (pool.Layer.Kind is LayerKind.MaxPool or LayerKind.AvgPool) pool.GeometryField = "s_geometry" + index;
                if (pool.Layer.Kind is LayerKind.MaxPool or LayerKind.FractionalMaxPool) pool.ArgmaxBuffer = "_argmax" + index;
            }
            if (step is ChainStep chain)
            {
                if (chain.BatchNorm is not null && !chain.ActivationIsElementwise)
                    chain.PreActivationBuffer = "_u" + index;
                if (chain.BatchNorm is not null && s > 0 && plan.Steps[s - 1] is DenseStep previous)
                {
                    previous.FoldedInto = chain;
                    chain.BatchNormFolded = true;
                    previous.FoldedWeightOffset = foldedOffset;
                    foldedOffset += Align(previous.GemmK * previous.OutWidth);
                    previous.FoldedBiasOffset = foldedOffset;
                    foldedOffset += Align(previous.OutWidth);
                }
            }
        }
        // dL/dx is only needed where something trainable sits upstream.
        bool trainableUpstream = false;
        var trainableBefore = new Dictionary<ResidualStartStep, bool>();
        foreach (StepPlan step in plan.Steps)
        {
            if (step is DenseStep dense)
            {
                dense.SkipInputGradient = !trainableUpstream;
                trainableUpstream = true;
            }
            else if (step is PoolStep pool) pool.NeedsInputGradient = trainableUpstream;
            else if (step is ResidualEndStep end)
            {
                end.AddShortcutGradient = trainableBefore[end.Start];
                if (end.Projection is not null) end.Projection.SkipInputGradient = !end.AddShortcutGradient;
            }
            else if (step is ResidualStartStep start) trainableBefore[start] = trainableUpstream;
            else if (step is NormStep norm)
            {
                norm.NeedsInputGradient = trainableUpstream;
                trainableUpstream = true;
            }
            else if (step is ChainStep chain && (chain.BatchNorm is not null || chain.PReluAlpha is not null))
                trainableUpstream = true;
        }

        // The gradient buffers hold dL/d(output) of every step, and dL/dx only where it is computed.
        int gradientWidth = width * pixels;
        foreach (StepPlan step in plan.Steps)
        {
            gradientWidth = Math.Max(gradientWidth, step.OutFloats);
            if (step is DenseStep { SkipInputGradient: false } d)
            {
                gradientWidth = Math.Max(gradientWidth, d.InFloats);
                if (d.Conv?.ColumnBuffer is not null) plan.ColumnGradientFloats = Math.Max(plan.ColumnGradientFloats, d.OutPixels * d.GemmK);
            }
            if (step is PoolStep { NeedsInputGradient: true } p) gradientWidth = Math.Max(gradientWidth, p.InFloats);
            if (step is NormStep { NeedsInputGradient: true } n) gradientWidth = Math.Max(gradientWidth, n.InFloats);
            if (step is MaxoutStep m) gradientWidth = Math.Max(gradientWidth, m.InFloats);
            if (step is ResidualEndStep { Projection: { SkipInputGradient: false } pr })
            {
                gradientWidth = Math.Max(gradientWidth, pr.InFloats);
                if (pr.Conv?.ColumnBuffer is not null) plan.ColumnGradientFloats = Math.Max(plan.ColumnGradientFloats, pr.OutPixels * pr.GemmK);
            }
        }

        AssignUpdateRules(plan);
        plan.OutputBuffer = current;
        plan.OutputSize = width * pixels;
        plan.MaxWidth = gradientWidth;
        plan.ParameterArenaLength = Math.Max(paramOffset, Alignment);
        plan.BufferArenaLength = Math.Max(bufferOffset, Alignment);
        plan.FoldedArenaLength = Math.Max(foldedOffset, Alignment);
        plan.WinogradArenaLength = winogradOffset;
        plan.ParameterCount = parameterCount;
        plan.ForwardFlopsPerSample = flops;
        return plan;
    }

    /// <summary>Per-tensor learning-rate scale and penalties: by default penalties reach Dense weights only (docs/techniques.md#regularisation).</summary>
    private static void AssignUpdateRules(ModelPlan plan)
    {
        ModelSpec spec = plan.Spec;
        var layers = new Dictionary<string, LayerSpec>();
        foreach (LayerSpec layer in spec.Layers) layers[layer.Name] = layer;
        int index = 0;
        foreach (TensorPlan t in plan.Tensors)
        {
            if (t.Arena != ArenaKind.Parameters) continue;
            t.TrainableIndex = index++;
            LayerSpec layer = layers[t.Layer];
            t.LearningRateScale = layer.LearningRateScale;
            if (!layer.Regularize) continue;
            bool weight = t.Role == "Weight";
            foreach (PenaltySpec p in spec.Penalties)
            {
                if (!weight && !p.AllParameters) continue;
                switch (p.Kind)
                {
                    case PenaltyKind.L2: t.L2 += p.Lambda; break;
                    case PenaltyKind.L1: t.L1 += p.Lambda; break;
                    case PenaltyKind.ElasticNet: t.L2 += p.Lambda * p.Beta; t.L1 += p.Lambda; break;
                    case PenaltyKind.WeightDecay: t.Decay += p.Lambda; break;
                }
            }
            if (weight && spec.Optimizer!.Kind == OptimizerKind.AdamW) t.Decay += spec.Optimizer.WeightDecay;
        }
    }

    private static int Align(int length) => checked(length + Alignment - 1) / Alignment * Alignment;

    /// <summary>The activation that follows a Dense or Conv2D (looking past BatchNorm and Dropout), or Identity.</summary>
    private static ActivationKind NextActivation(EquatableArray<LayerSpec> layers, int start)
    {
        for (int i = start; i < layers.Count; i++)
        {
            if (layers[i].Kind == LayerKind.Activation) return layers[i].Activation;
            if (layers[i].Kind is LayerKind.Dense or LayerKind.Conv2D or LayerKind.MaxPool or LayerKind.AvgPool or LayerKind.GlobalAvgPool or LayerKind.FractionalMaxPool) break;
            if (layers[i].IsSampleNorm) continue;
            if (layers[i].Kind == LayerKind.Maxout) break;
        }
        return ActivationKind.Identity;
    }

    /// <summary>Resolves Init.Auto by the activation and computes the scale from fan-in/fan-out (docs/techniques.md#initialisation).</summary>
    public static (InitKind Kind, double Scale) ResolveInit(LayerSpec dense, int fanIn, int fanOut, ActivationKind next)
    {
        InitKind kind = dense.Init;
        if (kind == InitKind.Auto)
            kind = next switch
            {
                ActivationKind.ReLU or ActivationKind.LeakyReLU or ActivationKind.PReLU or ActivationKind.ELU
                    or ActivationKind.GELU or ActivationKind.Swish => InitKind.HeNormal,
                ActivationKind.SELU => InitKind.LeCunNormal,
                _ => InitKind.GlorotUniform,
            };
        double given = dense.InitScale;
        double scale = kind switch
        {
            InitKind.Zeros => 0,
            InitKind.Constant => double.IsNaN(given) ? 0 : given,
            InitKind.Normal => double.IsNaN(given) ? 0.01 : given,
            InitKind.Uniform => double.IsNaN(given) ? 0.05 : given,
            InitKind.XavierNormal => Math.Sqrt(1.0 / fanIn),
            InitKind.XavierUniform => Math.Sqrt(3.0 / fanIn),
            InitKind.GlorotNormal => Math.Sqrt(2.0 / (fanIn + fanOut)),
            InitKind.GlorotUniform => Math.Sqrt(6.0 / (fanIn + fanOut)),
            InitKind.HeNormal => Math.Sqrt(2.0 / fanIn),
            InitKind.HeUniform => Math.Sqrt(6.0 / fanIn),
            InitKind.LeCunNormal => Math.Sqrt(1.0 / fanIn),
            _ => throw new ArgumentOutOfRangeException(nameof(dense), kind, "Unknown initialisation."),
        };
        return (kind, scale);
    }
}
