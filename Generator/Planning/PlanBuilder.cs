using System;
using System.Collections.Generic;
using Kiln.Generator.Layers;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Planning;

/// <summary>
/// The planner's state while the layer definitions add their steps: the layer list and the position in it, the
/// activation shape so far (rows per sample × row width; channels-last when spatial), the arenas and the FLOP count.
/// </summary>
public sealed class PlanBuilder
{
    /// <summary>Tensor offsets are rounded to 16 floats so every tensor starts on a 64-byte boundary.</summary>
    public const int Alignment = 16;

    private int _paramOffset, _bufferOffset, _parameterCount;

    public PlanBuilder(ModelPlan plan) => Plan = plan;

    public ModelPlan Plan { get; }
    public EquatableArray<LayerSpec> Layers => Plan.Spec.Layers;
    /// <summary>The next layer to plan; a definition moves it past every layer it consumed.</summary>
    public int Position { get; set; }
    public LayerSpec Current => Layers[Position];
    /// <summary>The layer after the current one, or null.</summary>
    public LayerSpec? Next => Position + 1 < Layers.Count ? Layers[Position + 1] : null;

    /// <summary>Row width: features when flat, channels when spatial.</summary>
    public int Width { get; set; }
    /// <summary>Rows per sample (H·W when spatial).</summary>
    public int Pixels { get; set; } = 1;
    public int Height { get; set; }
    public int WidthPx { get; set; }
    public bool Spatial { get; set; }
    /// <summary>Forward FLOPs per sample so far.</summary>
    public long Flops { get; set; }
    /// <summary>The [Residual] blocks not closed yet.</summary>
    public Stack<ResidualStartStep> OpenBlocks { get; } = new();

    public int ParameterArenaLength => _paramOffset;
    public int BufferArenaLength => _bufferOffset;
    public int ParameterCount => _parameterCount;

    /// <summary>The output shape per sample as IKilnModel.Layers reports it: [C, H, W] when spatial, [floats] when flat.</summary>
    public int[] Shape() => Spatial ? new[] { Width, Height, WidthPx } : new[] { Width * Pixels };

    /// <summary>A step that keeps the shape (InWidth = OutWidth, the same pixels).</summary>
    public T SameShape<T>(T step) where T : StepPlan
    {
        step.InWidth = step.OutWidth = Width;
        step.InPixels = step.OutPixels = Pixels;
        step.OutputShape = Shape();
        return step;
    }

    /// <summary>Adds <paramref name="step"/>, emitted by <paramref name="owner"/>.</summary>
    internal void Add(StepPlan step, StepPrinter owner)
    {
        step.Owner = owner;
        Plan.Steps.Add(step);
    }

    /// <summary>A trainable tensor in the parameter arena (gradients and optimiser state get the same layout).</summary>
    public TensorPlan AddParam(string layer, string suffix, string role, params int[] shape)
    {
        var t = new TensorPlan(layer + "." + suffix, layer, role, shape, _paramOffset, ArenaKind.Parameters);
        // checked: a model too large for int offsets fails loudly (the parser reports KLN0018 before that).
        _paramOffset = checked(_paramOffset + Align(t.Length));
        _parameterCount = checked(_parameterCount + t.Length);
        Plan.Tensors.Add(t);
        return t;
    }

    /// <summary>A state tensor (running statistics) in the buffer arena.</summary>
    public TensorPlan AddBuffer(string layer, string suffix, string role, params int[] shape)
    {
        var t = new TensorPlan(layer + "." + suffix, layer, role, shape, _bufferOffset, ArenaKind.Buffers);
        _bufferOffset = checked(_bufferOffset + Align(t.Length));
        Plan.Tensors.Add(t);
        return t;
    }

    /// <summary><paramref name="length"/> rounded up to whole 64-byte lines.</summary>
    public static int Align(int length) => checked(length + Alignment - 1) / Alignment * Alignment;

    /// <summary>The activation that follows the current Dense or Conv2D (looking past BatchNorm and Dropout), or Identity.</summary>
    public ActivationKind NextActivation()
    {
        for (int i = Position + 1; i < Layers.Count; i++)
        {
            LayerSpec layer = Layers[i];
            if (layer.Kind == LayerKind.Activation) return layer.Activation;
            if (layer.Kind is LayerKind.Dense or LayerKind.Conv2D or LayerKind.MaxPool or LayerKind.AvgPool or LayerKind.GlobalAvgPool or LayerKind.FractionalMaxPool) break;
            if (layer.IsSampleNorm) continue;
            if (layer.Kind == LayerKind.Maxout) break;
        }
        return ActivationKind.Identity;
    }

    /// <summary>The pieces of a Maxout right after the current layer (1 when none): the layer computes units·pieces outputs.</summary>
    public int MaxoutPieces() => Next is { Kind: LayerKind.Maxout } maxout ? maxout.Units : 1;
}
