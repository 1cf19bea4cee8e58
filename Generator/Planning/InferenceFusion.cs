using System.Collections.Generic;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Planning;

/// <summary>
/// Inference (Predict) fusion, decided once on the finished plan so that the emitter only prints it: which chain a
/// Dense/Conv2D's GEMM epilogue absorbs, which pool a convolution's stage runs on what each thread computed, which
/// convolution's zero-bordered input such a pool writes directly, and which Dense starts its product inside such a
/// stage (docs/architecture.md#emit).
/// </summary>
public static class InferenceFusion
{
    public static void Apply(ModelPlan plan)
    {
        List<StepPlan> steps = plan.Steps;
        for (int s = 0; s < steps.Count; s++)
        {
            if (steps[s] is not LinearStep d || d.FusedAtInference) continue;
            ChainStep? next = s + 1 < steps.Count ? steps[s + 1] as ChainStep : null;
            if (next is not null && (next.BatchNorm is null || next.BatchNormFolded) && next.ActivationIsElementwise)
            {
                // Bias, folded BatchNorm and the activation all happen on the GEMM's output tile.
                d.InferenceChain = next;
                d.ChainInEpilogue = true;
                next.FusedAtInference = true;
            }
            else if (next is not null && d.FoldedInto is not null)
            {
                // The BatchNorm is folded into W; the non-element-wise activation runs on the pre-activation buffer after.
                d.InferenceChain = next;
                next.FusedAtInference = true;
            }
            if (d.Conv is not { ColumnBuffer: not null } conv) continue;
            PoolStep? pool = FusablePool(plan, s, d.ChainInEpilogue ? d.InferenceChain : null, d.InferenceOutput);
            // Winograd splits 2×2 output tiles, so it fuses only a pool whose windows are exactly those tiles.
            if (conv.SmallBatchKernel == SmallBatchConv.Winograd && pool is not null && !IsWinogradTilePool(pool, conv)) pool = null;
            if (pool is null) continue;
            conv.FusedPool = pool;
            pool.FusedAtInference = true;
            LinearStep? padTarget = SoleConsumer(plan, pool) is LinearStep { Conv: { ColumnBuffer: not null, PaddedBuffer: not null } } c ? c : null;
            if (padTarget is not null)
            {
                conv.PoolWritesPaddedInputOf = padTarget;
                padTarget.Conv!.InputPaddedByPool = true;
            }
            else if (SoleConsumer(plan, pool) is LinearStep { Conv: null, IsProjection: false } dense
                && dense.GemmInput == pool.OutputBuffer && dense.GemmK == pool.OutFloats)
            {
                conv.PartialProductsFor = dense;
                dense.PartialProductsFrom = d;
            }
        }
        PairDenseLayers(plan);
        AssignPackedWeights(plan);
    }

    /// <summary>
    /// Batch-1 Predict of two Dense layers in a row, the first with packed weights (its columns split across threads on
    /// panel boundaries): the first one's stage also multiplies the output columns each thread just wrote by their rows of
    /// the second one's W, one partial product per panel of inputs, and the second one's stage only adds them in panel
    /// order (on the calling thread). So the second layer's weights are streamed by both cores, each from its own cache,
    /// its input never crosses cores, and the call has one hand-off instead of two. The same blocks are computed on one
    /// thread, so the result does not depend on the thread count. The first layer's output must go to the second alone,
    /// as it is (its bias, folded BatchNorm and element-wise activation in the epilogue, no test-time rescale after it).
    /// </summary>
    private static void PairDenseLayers(ModelPlan plan)
    {
        foreach (StepPlan step in plan.Steps)
        {
            if (step is not LinearStep a || !Packable(a) || a.OutWidth % GemvPanelWidth != 0) continue;
            if (a.InferenceChain is { } chain && (!a.ChainInEpilogue || chain.TestTimeScale != 1)) continue;
            if (SoleReader(plan, a, a.InferenceOutput) is not LinearStep { Conv: null, IsProjection: false, PartialProductsFrom: null, BatchOnePartialsFor: null } b
                || b.GemmInput != a.InferenceOutput || b.GemmK != a.OutWidth || a.BatchOnePartialsFrom is not null) continue;
            a.BatchOnePartialsFor = b;
            b.BatchOnePartialsFrom = a;
        }
    }

    /// <summary>The one step other than the producer and its chain that reads <paramref name="buffer"/> (no residual shortcut either), else null.</summary>
    private static StepPlan? SoleReader(ModelPlan plan, LinearStep producer, string buffer)
    {
        StepPlan? reader = null;
        foreach (StepPlan step in plan.Steps)
        {
            if (step == producer || step == producer.InferenceChain) continue;
            bool reads = step.InputBuffer == buffer || step is ResidualEndStep end && (end.ShortcutBuffer == buffer || end.Start.InputBuffer == buffer);
            if (!reads) continue;
            if (reader is not null) return null;
            reader = step;
        }
        return reader;
    }

    /// <summary>
    /// A folded Dense whose batch-1 stage splits across threads and is at least two panels wide: KilnModel runs stages under
    /// 2^20 FLOPs on the caller, and a batch-1 Dense counts each weight as WeightReadWork of them.
    /// </summary>
    private static bool Packable(LinearStep d) =>
        d is { Conv: null, FoldedInto: not null, PartialProductsFrom: null, IsProjection: false }
        && d.OutWidth >= 2 * GemvPanelWidth && (long)d.GemmK * d.OutWidth * Emitting.ModelEmitter.WeightReadWork >= ParallelWorkThreshold;

    /// <summary>Columns per panel of Kiln.Kernels.GemvPacked (the runtime's GemvPacked.PanelWidth), the granularity of its column split.</summary>
    public const int GemvPanelWidth = 64;

    /// <summary>Columns per block of its packed layout (two panels, GemvPacked.BlockWidth): the copy holds whole blocks.</summary>
    public const int GemvBlockWidth = 2 * GemvPanelWidth;

    /// <summary>Floats of a Dense's packed copy (GemvPacked.PackedLength): k rows of every block, the last one padded.</summary>
    public static long GemvPackedLength(LinearStep d) => (long)d.GemmK * ((d.OutWidth + GemvBlockWidth - 1) / GemvBlockWidth * GemvBlockWidth);

    private const long MaxPackedFloats = 1L << 30;

    /// <summary>KilnModel.ParallelWorkThreshold: a stage with less work runs on the calling thread.</summary>
    private const long ParallelWorkThreshold = 1L << 20;

    /// <summary>
    /// Batch-1 Predict of a Dense whose BatchNorm is folded into it, with its columns split across threads, multiplies a copy
    /// of the folded weights packed into column blocks, made with the fold (so it is refreshed whenever the fold is): each
    /// thread's share of the output columns is then one contiguous stream of W (docs/architecture.md). Other Dense layers
    /// (small ones, unfolded ones) read their row-major weights, and a split-input Dense sums partial products instead.
    /// </summary>
    private static void AssignPackedWeights(ModelPlan plan)
    {
        int offset = 0;
        foreach (StepPlan step in plan.Steps)
        {
            // The packed copy serves only a batch-1 stage split across threads: a layer narrower than two panels, or too
            // small for its stage to split, always reads the row-major W; a Dense whose batch-1 product the layer before
            // computed in parts reads none.
            if (step is not LinearStep d || !Packable(d) || d.BatchOnePartialsFrom is not null) continue;
            long length = GemvPackedLength(d);
            if (offset + length > MaxPackedFloats) continue;   // keeps the arena's int offsets far from overflow
            d.GemvPackedOffset = offset;
            offset += PlanBuilder.Align((int)length);
        }
        plan.GemvPackedArenaLength = offset;
    }

    /// <summary>
    /// The max or average pool that reads a convolution's inference output right after it (and after the BatchNorm and
    /// activation fused into it) when its windows tile that output without overlap or padding: the convolution's
    /// inference stage then pools each thread's own rows, with no hand-off between the two. Null otherwise.
    /// </summary>
    private static PoolStep? FusablePool(ModelPlan plan, int convIndex, ChainStep? tail, string output)
    {
        if (tail is not null && tail.TestTimeScale != 1) return null;   // the output is rescaled after the convolution
        int after = convIndex + (tail is null ? 1 : 2);
        if (after >= plan.Steps.Count || plan.Steps[after] is not PoolStep { Layer.Kind: LayerKind.MaxPool or LayerKind.AvgPool } pool) return null;
        LayerSpec l = pool.Layer;
        return pool.InputBuffer == output && l.Padding == 0 && l.KernelH == l.Stride && l.KernelW == l.Stride ? pool : null;
    }

    /// <summary>True when the pool's windows are the Winograd kernel's 2×2 output tiles: 2×2, stride 2, over even output sides.</summary>
    private static bool IsWinogradTilePool(PoolStep pool, ConvPlan conv) =>
        pool.Layer.KernelH == 2 && pool.Layer.KernelW == 2 && pool.Layer.Stride == 2 && pool.Layer.Padding == 0
        && conv.OutHeight % 2 == 0 && conv.OutWidth % 2 == 0;

    /// <summary>The step right after <paramref name="pool"/> when it alone reads the pool's output (no other step, no shortcut), else null.</summary>
    private static StepPlan? SoleConsumer(ModelPlan plan, PoolStep pool)
    {
        int index = plan.Steps.IndexOf(pool);
        if (index + 1 >= plan.Steps.Count) return null;
        StepPlan next = plan.Steps[index + 1];
        if (next.InputBuffer != pool.OutputBuffer) return null;
        foreach (StepPlan step in plan.Steps)
        {
            if (step != next && step.InputBuffer == pool.OutputBuffer) return null;
            if (step is ResidualEndStep end && (end.ShortcutBuffer == pool.OutputBuffer || end.Start.InputBuffer == pool.OutputBuffer)) return null;
        }
        return next;
    }
}
