using System.Collections.Generic;
using Kiln.Generator.Layers;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Planning;

// The plan is what the machine will do: resolved widths, arena offsets, fused steps, buffers. The
// emitter only prints it. Built from a valid ModelSpec; never from symbols.

/// <summary>Which arena a tensor lives in.</summary>
public enum ArenaKind { Parameters, Buffers }

/// <summary>A named tensor with its place in an arena (parameters, gradients and optimiser state share one layout).</summary>
public sealed class TensorPlan
{
    public TensorPlan(string name, string layer, string role, int[] shape, int offset, ArenaKind arena)
    {
        Name = name; Layer = layer; Role = role; Shape = shape; Offset = offset; Arena = arena;
        int length = 1;
        foreach (int d in shape) length = checked(length * d);
        Length = length;
    }
    public string Name { get; }
    public string Layer { get; }
    /// <summary>Kiln.TensorRole member name.</summary>
    public string Role { get; }
    public int[] Shape { get; }
    public int Offset { get; }
    public int Length { get; }
    public ArenaKind Arena { get; }
    /// <summary>C# identifier fragment, e.g. Dense0Weight.</summary>
    public string Identifier => SpecNaming.Pascal(Layer) + Role;
    /// <summary>Index among the trainable tensors (for per-tensor learning-rate scales), or -1.</summary>
    public int TrainableIndex { get; set; } = -1;
    /// <summary>The layer's learning-rate multiplier.</summary>
    public double LearningRateScale { get; set; } = 1;
    /// <summary>Coefficient of ΣW² in the loss (gradient 2·L2·W): L2 λ plus elastic net λβ.</summary>
    public double L2 { get; set; }
    /// <summary>Coefficient of Σ|W| in the loss (gradient L1·sign W): L1 λ plus elastic net λ.</summary>
    public double L1 { get; set; }
    /// <summary>Decoupled decay: w −= α·Decay·w after the optimiser's step (WeightDecay, AdamW).</summary>
    public double Decay { get; set; }
    public bool HasPenalty => L2 != 0 || L1 != 0 || Decay != 0;
}

/// <summary>One step of the forward pass.</summary>
public abstract class StepPlan
{
    /// <summary>Position in the step list (also used in member names).</summary>
    public int Index { get; set; }
    /// <summary>
    /// Row width of the step's input and output: features for flat activations, channels for spatial
    /// ones (which are channels-last, NHWC: one row of C values per pixel).
    /// </summary>
    public int InWidth { get; set; }
    public int OutWidth { get; set; }
    /// <summary>Rows per sample: H·W for spatial activations, 1 for flat ones.</summary>
    public int InPixels { get; set; } = 1;
    public int OutPixels { get; set; } = 1;
    /// <summary>Floats per sample.</summary>
    public int InFloats => InPixels * InWidth;
    public int OutFloats => OutPixels * OutWidth;
    /// <summary>Output shape per sample as reported by IKilnModel.Layers: [C, H, W] when spatial, [width] when flat.</summary>
    public int[] OutputShape { get; set; } = System.Array.Empty<int>();
    public bool IsSpatial => OutputShape.Length == 3;
    /// <summary>Buffer (field name) holding the step's input; "_x" is the copied model input.</summary>
    public string InputBuffer { get; set; } = "_x";
    /// <summary>Buffer holding the step's output.</summary>
    public string OutputBuffer { get; set; } = "";
    /// <summary>What prints the step: the layer definition that planned it, or the fused chain.</summary>
    internal StepPrinter Owner { get; set; } = null!;
    /// <summary>Inference runs this step inside an earlier step's stage (a chain in a GEMM epilogue, a pool in a convolution): see <see cref="InferenceFusion"/>.</summary>
    public bool FusedAtInference { get; set; }
}

/// <summary>The geometry of a Conv2D (NHWC input, weights [KernelH·KernelW·Channels, Filters]).</summary>
public sealed class ConvPlan
{
    public int Channels { get; set; }
    public int Height { get; set; }
    public int Width { get; set; }
    public int KernelH { get; set; }
    public int KernelW { get; set; }
    public int Stride { get; set; }
    public int Padding { get; set; }
    public int Dilation { get; set; }
    public int OutHeight { get; set; }
    public int OutWidth { get; set; }
    public int PatchSize => KernelH * KernelW * Channels;
    /// <summary>The im2col buffer (kept for dW), or null for a 1×1, stride-1, unpadded convolution, which is a plain GEMM on the input.</summary>
    public string? ColumnBuffer { get; set; }
    /// <summary>Name of the generated static Kiln.Kernels.ConvGeometry field.</summary>
    public string GeometryField { get; set; } = "";
    /// <summary>The kernel of small-batch inference (no im2col either way); chosen by the depth of a kernel row (see the planner).</summary>
    public SmallBatchConv SmallBatchKernel { get; set; }
    /// <summary>Offset of the Winograd-transformed weights ((r+1)²·Channels·Filters floats) in the _winograd arena; with <see cref="SmallBatchConv.Winograd"/> only.</summary>
    public int WinogradOffset { get; set; }
    /// <summary>Floats of the Winograd-transformed weights.</summary>
    public int WinogradLength { get; set; }
    /// <summary>2×2 output tiles per sample of the Winograd kernel: ⌈OutHeight/2⌉·⌈OutWidth/2⌉.</summary>
    public int WinogradTiles => (OutHeight + 1) / 2 * ((OutWidth + 1) / 2);
    /// <summary>The zero-bordered copy of the input the small-batch kernel reads; null without padding (it reads the input itself).</summary>
    public string? PaddedBuffer { get; set; }
    /// <summary>Floats of one sample's zero-bordered copy (DirectConv.PaddedSize).</summary>
    public int PaddedSize => (Height + 2 * Padding) * (Width + 2 * Padding) * Channels;
    /// <summary>Inference: the max or average pool run inside this convolution's stage (<see cref="InferenceFusion"/>), or null.</summary>
    public PoolStep? FusedPool { get; set; }
    /// <summary>Inference at small batches: the next convolution whose zero-bordered input the fused pool writes directly, or null.</summary>
    public LinearStep? PoolWritesPaddedInputOf { get; set; }
    /// <summary>Inference at small batches: the fused pool before this convolution writes its zero-bordered input (no copy stage).</summary>
    public bool InputPaddedByPool { get; set; }
    /// <summary>Inference at small batches: the Dense whose partial products the fused conv+pool stage computes, or null.</summary>
    public LinearStep? PartialProductsFor { get; set; }
    /// <summary>
    /// Training runs the forward pass by Winograd F(2×2, r×r) (transformed weights redone every step) and the weight
    /// gradient rebuilds its patches chunk by chunk, so the forward pass writes no patches (set by Conv2D's planner).
    /// </summary>
    public bool WinogradTraining { get; set; }
    /// <summary>
    /// Training runs the forward pass with the shallow register-tile kernel over the zero-bordered input (kept for dW) and
    /// the weight gradient with every tap summed in registers (Kiln.Kernels.ShallowConvTraining): no patch matrix, so no
    /// im2col buffer (set by <see cref="ConvKernels.Choose"/>).
    /// </summary>
    public bool ShallowTraining { get; set; }
    /// <summary>With <see cref="WinogradTraining"/>: dL/dx is Winograd too, a correlation of dL/dy zero-bordered by r − 1 − Padding.</summary>
    public bool WinogradBackwardData { get; set; }
    /// <summary>Zero border of dL/dy in the Winograd backward-data pass: r − 1 − Padding.</summary>
    public int BackwardPadding => KernelH - 1 - Padding;
    /// <summary>2×2 tiles per sample of the Winograd backward-data pass (its output is the input's Height × Width).</summary>
    public int BackwardTiles => (Height + 1) / 2 * ((Width + 1) / 2);
    public string Describe() => $"{KernelH}×{KernelW}" + (Stride != 1 ? $" stride {Stride}" : "") + (Padding != 0 ? $" pad {Padding}" : "") + (Dilation != 1 ? $" dilation {Dilation}" : "");
}

/// <summary>How a convolution computes small-batch inference (batch below the generated SmallBatch), reading its zero-bordered input.</summary>
public enum SmallBatchConv
{
    /// <summary>Kiln.Kernels.DirectConv: an implicit GEMM, one micro-kernel call per kernel row of Kw·C floats.</summary>
    ImplicitGemm,
    /// <summary>Kiln.Kernels.ShallowConv: every tap accumulated in registers, for kernel rows too shallow for a micro-kernel call.</summary>
    Shallow,
    /// <summary>Kiln.Kernels.WinogradConv: F(2×2, r×r) on 2×2 output tiles, for 3×3 and 5×5 stride-1 kernels with enough channels.</summary>
    Winograd,
}

/// <summary>y = x·W + b for a Dense layer, or the same GEMM over im2col patches for a Conv2D (rows = samples·output pixels).</summary>
public sealed class LinearStep : StepPlan
{
    public LinearStep(LayerSpec layer, TensorPlan weight, TensorPlan? bias) { Layer = layer; Weight = weight; Bias = bias; }
    /// <summary>[Fixup]'s factor L^(−1/(2m−2)) already multiplied into InitScale (1 when none), for the generated comment.</summary>
    public double FixupScale { get; set; } = 1;
    public LayerSpec Layer { get; }
    public TensorPlan Weight { get; }
    public TensorPlan? Bias { get; }
    /// <summary>The initialisation after resolving Auto, and its scale (std for normal, bound for uniform, value for constant).</summary>
    public InitKind ResolvedInit { get; set; }
    public double InitScale { get; set; }
    /// <summary>True when no earlier step needs dL/dx (the first Dense reading the model input).</summary>
    public bool SkipInputGradient { get; set; }
    /// <summary>The BatchNorm chain right after this layer, folded into the weights for inference.</summary>
    public ChainStep? FoldedInto { get; set; }
    /// <summary>Offsets of the folded weights and bias in the inference arena.</summary>
    public int FoldedWeightOffset { get; set; }
    public int FoldedBiasOffset { get; set; }
    /// <summary>DropConnect in training: weights masked per mini-batch (mask in _connectMaskN, masked weights in _connectWeightN).</summary>
    public bool HasDropConnect => Layer.DropConnect > 0;
    /// <summary>Set for a Conv2D.</summary>
    public ConvPlan? Conv { get; set; }
    /// <summary>A residual block's projection shortcut (see <see cref="ResidualEndStep.Projection"/>).</summary>
    public bool IsProjection { get; set; }
    /// <summary>Inference: the chain right after this layer that its stage absorbs (see <see cref="ChainInEpilogue"/>), or null.</summary>
    public ChainStep? InferenceChain { get; set; }
    /// <summary>
    /// True when the whole <see cref="InferenceChain"/> (bias, folded BatchNorm, element-wise activation) runs on the GEMM's
    /// output tile; false when only its BatchNorm is folded and the activation (PReLU, Softmax) follows as its own pass.
    /// </summary>
    public bool ChainInEpilogue { get; set; }
    /// <summary>
    /// Inference at small batches: offset of this Dense's folded weights packed into column panels (Kernels.GemvPacked) in
    /// the _gemvPacked arena, or -1 when it multiplies the row-major weights.
    /// </summary>
    public int GemvPackedOffset { get; set; } = -1;
    /// <summary>Inference at small batches: the convolution whose fused pool stage computed this Dense's partial products, or null.</summary>
    public LinearStep? PartialProductsFrom { get; set; }
    /// <summary>
    /// Batch-1 inference: the Dense that reads this Dense's output and whose partial products this Dense's stage computes
    /// over the output columns each thread just wrote (<see cref="InferenceFusion"/>), or null.
    /// </summary>
    public LinearStep? BatchOnePartialsFor { get; set; }
    /// <summary>Batch-1 inference: the Dense whose stage computed this Dense's partial products (this stage only adds them), or null.</summary>
    public LinearStep? BatchOnePartialsFrom { get; set; }
    /// <summary>The buffer the inference stage writes: the chain's output or pre-activation buffer when it absorbs one.</summary>
    public string InferenceOutput => InferenceChain is null ? OutputBuffer : ChainInEpilogue ? InferenceChain.OutputBuffer : InferenceChain.PreActivationBuffer!;
    /// <summary>The GEMM's inner dimension: input width, or the patch size of a convolution.</summary>
    public int GemmK => Conv?.PatchSize ?? InWidth;
    /// <summary>Buffer the GEMM reads: the im2col patches, or the input itself.</summary>
    public string GemmInput => Conv?.ColumnBuffer ?? InputBuffer;
    /// <summary>Fan-in and fan-out for initialisation (docs/techniques.md#initialisation: a convolution's Din = KH·KW·Cin).</summary>
    public int FanIn => GemmK;
    public int FanOut => Conv is null ? OutWidth : Conv.KernelH * Conv.KernelW * OutWidth;
}

/// <summary>MaxPool, AvgPool or GlobalAvgPool over NHWC activations, samples split across threads.</summary>
public sealed class PoolStep : StepPlan
{
    public PoolStep(LayerSpec layer) => Layer = layer;
    public LayerSpec Layer { get; }
    public int Height { get; set; }
    public int Width { get; set; }
    public int OutHeight { get; set; }
    public int OutWidthPx { get; set; }
    /// <summary>Argmax indices of a max pool, kept for the backward pass.</summary>
    public string? ArgmaxBuffer { get; set; }
    /// <summary>Name of the generated static Kiln.Kernels.PoolGeometry field (not for GlobalAvgPool).</summary>
    public string GeometryField { get; set; } = "";
    /// <summary>False when nothing trainable sits upstream (no dL/dx needed).</summary>
    public bool NeedsInputGradient { get; set; }
}

/// <summary>BatchNorm → activation → dropout, each optional, fused into one pass over the batch.</summary>
public sealed class ChainStep : StepPlan
{
    public LayerSpec? BatchNorm { get; set; }
    public TensorPlan? Gamma { get; set; }
    public TensorPlan? Beta { get; set; }
    public TensorPlan? RunningMean { get; set; }
    public TensorPlan? RunningVariance { get; set; }
    public LayerSpec? Activation { get; set; }
    public TensorPlan? PReluAlpha { get; set; }
    public LayerSpec? Dropout { get; set; }
    /// <summary>Buffer of BN output when the activation cannot be fused into the BN kernel (PReLU, Softmax).</summary>
    public string? PreActivationBuffer { get; set; }
    public ActivationKind ActivationKind => Activation?.Activation ?? ActivationKind.Identity;
    public bool HasDropout => Dropout is not null;
    /// <summary>Element-wise activations fuse into the BN / epilogue kernels; PReLU and Softmax need their own pass.</summary>
    public bool ActivationIsElementwise => ActivationKind is not (ActivationKind.PReLU or ActivationKind.Softmax);
    /// <summary>The factor vanilla dropout (DropoutScaling.TestTime) multiplies by at test, 1 otherwise.</summary>
    public double TestTimeScale => Dropout is { Scaling: DropoutScalingKind.TestTime } dropout ? 1 - dropout.Rate : 1;
    /// <summary>True when the preceding Dense absorbs this chain's BatchNorm at inference.</summary>
    public bool BatchNormFolded { get; set; }
    public string Describe()
    {
        var parts = new List<string>();
        if (BatchNorm is not null) parts.Add(BatchNorm.Name);
        if (Activation is not null) parts.Add(Activation.Name);
        if (Dropout is not null) parts.Add(Dropout.Name);
        return string.Join(" → ", parts);
    }
}

/// <summary>LayerNorm, InstanceNorm or GroupNorm: per-sample statistics over groups of channels (and all pixels), γ/β per channel.</summary>
public sealed class NormStep : StepPlan
{
    public NormStep(LayerSpec layer, TensorPlan gamma, TensorPlan beta) { Layer = layer; Gamma = gamma; Beta = beta; }
    public LayerSpec Layer { get; }
    public TensorPlan Gamma { get; }
    public TensorPlan Beta { get; }
    public int Groups => Layer.Groups;
    /// <summary>False when nothing trainable sits upstream (dL/dx is not needed).</summary>
    public bool NeedsInputGradient { get; set; }
}

/// <summary>Maxout: the maximum over each unit's pieces of the Dense or Conv2D before it (which computes units·pieces outputs).</summary>
public sealed class MaxoutStep : StepPlan
{
    public MaxoutStep(LayerSpec layer) => Layer = layer;
    public LayerSpec Layer { get; }
    public int Pieces => Layer.Pieces;
    /// <summary>Which piece won, per output, kept for backward.</summary>
    public string ArgmaxBuffer { get; set; } = "";
}

/// <summary>Where a residual block starts: no computation; its input is the block's shortcut.</summary>
public sealed class ResidualStartStep : StepPlan
{
    public ResidualStartStep(LayerSpec layer) => Layer = layer;
    /// <summary>The [Residual] attribute (name, survival, zero-init).</summary>
    public LayerSpec Layer { get; }
}

/// <summary>Where a residual block ends: y = shortcut + g·branch (g = the stochastic-depth gate in training, Survival at test).</summary>
public sealed class ResidualEndStep : StepPlan
{
    public ResidualEndStep(ResidualStartStep start) => Start = start;
    public ResidualStartStep Start { get; }
    public LayerSpec Layer => Start.Layer;
    public double Survival => Layer.Survival;
    /// <summary>True when something trainable sits before the block, so dL/dx gets the shortcut's dL/dy added (through Pᵀ with a projection).</summary>
    public bool AddShortcutGradient { get; set; }
    /// <summary>
    /// The projection shortcut P (He et al. 2016, option B), or null for the identity: a 1×1 convolution without bias
    /// (stride H/H') for spatial blocks, a Dense without bias for flat ones. It reads the block's input and writes
    /// its own output buffer; it is not in the step list (the emitter runs it at this step).
    /// </summary>
    public LinearStep? Projection { get; set; }
    /// <summary>The buffer added to the branch: the block's input, or the projection's output.</summary>
    public string ShortcutBuffer => Projection?.OutputBuffer ?? Start.InputBuffer;
    /// <summary>dL/dy of the block is kept while the branch runs backward (for dL/dx or for the projection's dW).</summary>
    public bool KeepsOutputGradient => AddShortcutGradient || Projection is not null;
}

/// <summary>The whole plan of a model.</summary>
public sealed class ModelPlan
{
    public ModelPlan(ModelSpec spec) => Spec = spec;
    public ModelSpec Spec { get; }
    public int InputSize { get; set; }
    public int OutputSize { get; set; }
    public int MaxBatch => Spec.MaxBatch;
    public List<StepPlan> Steps { get; } = new();
    public List<TensorPlan> Tensors { get; } = new();
    public int ParameterArenaLength { get; set; }
    public int BufferArenaLength { get; set; }
    public int FoldedArenaLength { get; set; }
    /// <summary>Floats of the small-batch Dense weights packed into column panels (0 when no Dense uses them).</summary>
    public int GemvPackedArenaLength { get; set; }
    /// <summary>Floats of the Winograd-transformed convolution weights (0 when no convolution uses Winograd).</summary>
    public int WinogradArenaLength { get; set; }
    public int ParameterCount { get; set; }
    /// <summary>Widest activation (floats per sample), for the two gradient ping-pong buffers.</summary>
    public int MaxWidth { get; set; }
    /// <summary>Statistics of the declared input normalisation (null when the model declares none).</summary>
    public TensorPlan? InputMean { get; set; }
    public TensorPlan? InputStd { get; set; }
    /// <summary>Groups with their own statistics: the input size per feature, C per channel.</summary>
    public int InputNormalizationGroups { get; set; }
    /// <summary>Floats per sample of the shared dL/d(patches) scratch of the convolutions (0 when none needs it).</summary>
    public int ColumnGradientFloats { get; set; }
    /// <summary>The model input is NCHW with several channels and a spatial layer reads it: the input copy transposes it to NHWC.</summary>
    public bool TransposeInput { get; set; }
    /// <summary>(C, H, W) of the input when it is spatial.</summary>
    public int[] InputShape { get; set; } = System.Array.Empty<int>();
    /// <summary>Buffer holding the network output (logits or scores) of the last forward.</summary>
    public string OutputBuffer { get; set; } = "_x";
    public LossSpec Loss => Spec.Loss!;
    public OptimizerSpec Optimizer => Spec.Optimizer!;
    /// <summary>Optimiser state tensors per parameter: none for SGD and L-BFGS (its history lives in the runtime), one for momentum/AdaGrad/RMSProp, two for Adam(W).</summary>
    public int OptimizerStateCount => Optimizer.Kind switch
    {
        OptimizerKind.Sgd or OptimizerKind.Lbfgs => 0,
        OptimizerKind.Adam or OptimizerKind.AdamW => 2,
        _ => 1,
    };
    /// <summary>The kernel's update rule (Kiln.Kernels.OptimizerKind member).</summary>
    public string KernelOptimizer => Optimizer.Kind == OptimizerKind.Momentum && Optimizer.VelocityForm ? "MomentumVelocity" : Optimizer.Kind.ToString();
    public bool IsLbfgs => Optimizer.Kind == OptimizerKind.Lbfgs;
    /// <summary>Clipping by global norm needs every gradient before any update, so the update runs as its own pass.</summary>
    public bool SeparateUpdatePass => Spec.ClipNorm > 0;
    /// <summary>Every Dense and Conv2D, the projection shortcuts included (each right after the block end that runs it).</summary>
    public IEnumerable<LinearStep> LinearSteps
    {
        get
        {
            foreach (StepPlan step in Steps)
            {
                if (step is LinearStep d) yield return d;
                else if (step is ResidualEndStep { Projection: { } p }) yield return p;
            }
        }
    }
    public IEnumerable<TensorPlan> Trainable => Tensors.FindAll(t => t.Arena == ArenaKind.Parameters);
    public bool HasLossPenalty => Tensors.Exists(t => t.L2 != 0 || t.L1 != 0);
    /// <summary>Floating-point operations of one forward pass per sample (for parallel thresholds and docs).</summary>
    public long ForwardFlopsPerSample { get; set; }
}
