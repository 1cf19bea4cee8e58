using System;
using System.Collections.Generic;
using Kiln.Generator.Layers;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Planning;

/// <summary>
/// ModelSpec → ModelPlan: each layer definition plans its steps and tensors (Generator/Layers), then the passes below
/// assign buffers, fold BatchNorms, choose the convolution kernels (ConvKernels.cs), decide where gradients flow and
/// size the gradient buffers, and <see cref="InferenceFusion"/> decides what inference runs fused.
/// </summary>
public static class Planner
{
    public static ModelPlan Build(ModelSpec spec)
    {
        var plan = new ModelPlan(spec) { InputSize = spec.InputSize };
        var b = new PlanBuilder(plan) { Width = spec.InputSize };
        if (spec.NormalizesInputs)
        {
            // Data statistics, not parameters: state tensors like BatchNorm's running averages, so checkpoints carry them.
            int groups = spec.Normalization == InputNormalizationKind.PerChannel ? spec.InputShape[0] : spec.InputSize;
            plan.InputNormalizationGroups = groups;
            plan.InputMean = b.AddBuffer("input", "mean", "Mean", groups);
            plan.InputStd = b.AddBuffer("input", "std", "StandardDeviation", groups);
        }
        var layers = spec.Layers;
        if (spec.InputShape.Count is 2 or 3 && layers.Count > 0 && layers[0].Kind != LayerKind.Flatten)
        {
            // The activation shape: rows per sample (pixels) × row width (features, or channels when spatial).
            int c = spec.InputShape.Count == 3 ? spec.InputShape[0] : 1;
            b.Height = spec.InputShape[spec.InputShape.Count - 2];
            b.WidthPx = spec.InputShape[spec.InputShape.Count - 1];
            b.Spatial = true;
            b.Pixels = b.Height * b.WidthPx;
            b.Width = c;
            plan.InputShape = new[] { c, b.Height, b.WidthPx };
            plan.TransposeInput = c > 1; // NCHW in, NHWC inside
        }
        while (b.Position < layers.Count) LayerRegistry.Of(b.Current).Plan(b);

        int foldedOffset = AssignBuffers(plan);
        int winogradOffset = ConvKernels.Choose(plan);
        MarkGradientFlow(plan);
        AssignUpdateRules(plan);
        InferenceFusion.Apply(plan);
        plan.OutputBuffer = plan.Steps.Count > 0 ? plan.Steps[plan.Steps.Count - 1].OutputBuffer : "_x";
        plan.OutputSize = b.Width * b.Pixels;
        plan.MaxWidth = GradientWidth(plan, plan.OutputSize);
        plan.ParameterArenaLength = Math.Max(b.ParameterArenaLength, PlanBuilder.Alignment);
        plan.BufferArenaLength = Math.Max(b.BufferArenaLength, PlanBuilder.Alignment);
        plan.FoldedArenaLength = Math.Max(foldedOffset, PlanBuilder.Alignment);
        plan.WinogradArenaLength = winogradOffset;
        plan.ParameterCount = b.ParameterCount;
        plan.ForwardFlopsPerSample = b.Flops;
        return plan;
    }

    /// <summary>
    /// Buffers: each step writes its own output (a block start computes nothing); a projection shortcut reads the block's
    /// input; a BatchNorm chain right after a Dense or Conv2D is folded into it for inference. Returns the folded arena's length.
    /// </summary>
    private static int AssignBuffers(ModelPlan plan)
    {
        string current = "_x";
        int foldedOffset = 0;
        for (int s = 0; s < plan.Steps.Count; s++)
        {
            StepPlan step = plan.Steps[s];
            string index = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
            step.Index = s;
            step.InputBuffer = current;
            step.OutputBuffer = step is ResidualStartStep ? current : "_y" + index;
            current = step.OutputBuffer;
            if (step is LinearStep { Conv: { } conv })
            {
                conv.GeometryField = "s_geometry" + index;
                bool direct = conv.KernelH == 1 && conv.KernelW == 1 && conv.Stride == 1 && conv.Padding == 0;
                conv.ColumnBuffer = direct ? null : "_col" + index;
                conv.PaddedBuffer = !direct && conv.Padding > 0 ? "_padded" + index : null;
            }
            if (step is ResidualEndStep { Projection: { } projection } end)
            {
                // Not in the step list: it reads the block's input and writes its own buffer (member names use this step's index).
                projection.Index = s;
                projection.InputBuffer = end.Start.InputBuffer;
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
                if (chain.BatchNorm is not null && s > 0 && plan.Steps[s - 1] is LinearStep previous)
                {
                    previous.FoldedInto = chain;
                    chain.BatchNormFolded = true;
                    previous.FoldedWeightOffset = foldedOffset;
                    foldedOffset += PlanBuilder.Align(previous.GemmK * previous.OutWidth);
                    previous.FoldedBiasOffset = foldedOffset;
                    foldedOffset += PlanBuilder.Align(previous.OutWidth);
                }
            }
        }
        return foldedOffset;
    }

    /// <summary>dL/dx is only needed where something trainable sits upstream.</summary>
    private static void MarkGradientFlow(ModelPlan plan)
    {
        bool trainableUpstream = false;
        var trainableBefore = new Dictionary<ResidualStartStep, bool>();
        foreach (StepPlan step in plan.Steps)
        {
            if (step is LinearStep dense)
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
    }

    /// <summary>Floats per sample of the gradient buffers: dL/d(output) of every step, and dL/dx only where it is computed.</summary>
    private static int GradientWidth(ModelPlan plan, int outputFloats)
    {
        int gradientWidth = outputFloats;
        foreach (StepPlan step in plan.Steps)
        {
            gradientWidth = Math.Max(gradientWidth, step.OutFloats);
            if (step is LinearStep { SkipInputGradient: false } d)
            {
                gradientWidth = Math.Max(gradientWidth, d.InFloats);
                if (d.Conv is { ColumnBuffer: not null, WinogradBackwardData: false }) plan.ColumnGradientFloats = Math.Max(plan.ColumnGradientFloats, d.OutPixels * d.GemmK);
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
        return gradientWidth;
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
}
