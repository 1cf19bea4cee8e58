using System;
using System.Collections.Generic;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Planning;

/// <summary>ModelSpec → ModelPlan: shapes, arena layout, fused chains, buffers.</summary>
public static class Planner
{
    /// <summary>Tensor offsets are rounded to 16 floats so every tensor starts on a 64-byte boundary.</summary>
    private const int Alignment = 16;

    public static ModelPlan Build(ModelSpec spec)
    {
        var plan = new ModelPlan(spec) { InputSize = spec.InputSize };
        int paramOffset = 0, bufferOffset = 0, foldedOffset = 0, parameterCount = 0;
        int width = spec.InputSize;
        long flops = 0;

        TensorPlan AddParam(string layer, string suffix, string role, params int[] shape)
        {
            var t = new TensorPlan(layer + "." + suffix, layer, role, shape, paramOffset, ArenaKind.Parameters);
            paramOffset += Align(t.Length);
            parameterCount += t.Length;
            plan.Tensors.Add(t);
            return t;
        }
        TensorPlan AddBuffer(string layer, string suffix, string role, params int[] shape)
        {
            var t = new TensorPlan(layer + "." + suffix, layer, role, shape, bufferOffset, ArenaKind.Buffers);
            bufferOffset += Align(t.Length);
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
        int i = 0;
        while (i < layers.Count)
        {
            LayerSpec layer = layers[i];
            if (layer.Kind == LayerKind.Flatten) { i++; continue; } // buffers are flat already
            if (layer.Kind == LayerKind.Dense)
            {
                TensorPlan w = AddParam(layer.Name, "weight", "Weight", width, layer.Units);
                TensorPlan? b = layer.Bias ? AddParam(layer.Name, "bias", "Bias", layer.Units) : null;
                var dense = new DenseStep(layer, w, b) { InWidth = width, OutWidth = layer.Units };
                (dense.ResolvedInit, dense.InitScale) = ResolveInit(layer, width, layer.Units, NextActivation(layers, i + 1));
                flops += 2L * width * layer.Units;
                plan.Steps.Add(dense);
                width = layer.Units;
                i++;
                continue;
            }

            // A chain: [BatchNorm] [Activation] [Dropout], in this order, each at most once.
            var chain = new ChainStep { InWidth = width, OutWidth = width };
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

        // Buffers: each step writes its own output; BN folds into a Dense directly before it.
        string current = "_x";
        for (int s = 0; s < plan.Steps.Count; s++)
        {
            StepPlan step = plan.Steps[s];
            step.Index = s;
            step.InputBuffer = current;
            step.OutputBuffer = "_y" + s.ToString(System.Globalization.CultureInfo.InvariantCulture);
            current = step.OutputBuffer;
            if (step is ChainStep chain)
            {
                if (chain.BatchNorm is not null && !chain.ActivationIsElementwise)
                    chain.PreActivationBuffer = "_u" + s.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (chain.BatchNorm is not null && s > 0 && plan.Steps[s - 1] is DenseStep previous)
                {
                    previous.FoldedInto = chain;
                    chain.BatchNormFolded = true;
                    previous.FoldedWeightOffset = foldedOffset;
                    foldedOffset += Align(previous.InWidth * previous.OutWidth);
                    previous.FoldedBiasOffset = foldedOffset;
                    foldedOffset += Align(previous.OutWidth);
                }
            }
        }
        // dL/dx is only needed where something trainable sits upstream.
        bool trainableUpstream = false;
        foreach (StepPlan step in plan.Steps)
        {
            if (step is DenseStep dense)
            {
                dense.SkipInputGradient = !trainableUpstream;
                trainableUpstream = true;
            }
            else if (step is ChainStep chain && (chain.BatchNorm is not null || chain.PReluAlpha is not null))
                trainableUpstream = true;
        }

        // The gradient buffers hold dL/d(output) of every step, and dL/dx only where it is computed.
        int gradientWidth = width;
        foreach (StepPlan step in plan.Steps)
        {
            gradientWidth = Math.Max(gradientWidth, step.OutWidth);
            if (step is DenseStep { SkipInputGradient: false } d) gradientWidth = Math.Max(gradientWidth, d.InWidth);
        }

        AssignUpdateRules(plan);
        plan.OutputBuffer = current;
        plan.OutputSize = width;
        plan.MaxWidth = gradientWidth;
        plan.ParameterArenaLength = Math.Max(paramOffset, Alignment);
        plan.BufferArenaLength = Math.Max(bufferOffset, Alignment);
        plan.FoldedArenaLength = Math.Max(foldedOffset, Alignment);
        plan.ParameterCount = parameterCount;
        plan.ForwardFlopsPerSample = flops;
        return plan;
    }

    /// <summary>Per-tensor learning-rate scale and penalties: by default penalties reach Dense weights only (CATALOGUE §12 rule 17).</summary>
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

    private static int Align(int length) => (length + Alignment - 1) / Alignment * Alignment;

    /// <summary>The activation that follows a Dense (looking past BatchNorm and Dropout), or Identity.</summary>
    private static ActivationKind NextActivation(EquatableArray<LayerSpec> layers, int start)
    {
        for (int i = start; i < layers.Count; i++)
        {
            if (layers[i].Kind == LayerKind.Activation) return layers[i].Activation;
            if (layers[i].Kind == LayerKind.Dense) break;
        }
        return ActivationKind.Identity;
    }

    /// <summary>Resolves Init.Auto by the activation and computes the scale from fan-in/fan-out (CATALOGUE §3).</summary>
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
