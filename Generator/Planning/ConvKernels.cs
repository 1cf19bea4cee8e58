namespace Kiln.Generator.Planning;

/// <summary>
/// Which kernel each convolution's small-batch inference uses (docs/architecture.md#emit): the implicit GEMM, the
/// shallow register-tile kernel or Winograd F(2×2, r×r), by the depth of a kernel row, the kernel size and the channels.
/// </summary>
public static class ConvKernels
{
    /// <summary>Least depth of one implicit-GEMM call (floats of a kernel row) for which small-batch inference skips im2col.</summary>
    internal const int DirectConvMinDepth = 16;

    /// <summary>Least input channels and filters for which small-batch inference uses Winograd F(2×2, r×r).</summary>
    internal const int WinogradMinChannels = 8, WinogradMinFilters = 16;

    /// <summary>Sets <see cref="ConvPlan.SmallBatchKernel"/> (and the Winograd weights' place) of every convolution; returns the Winograd arena's length.</summary>
    public static int Choose(ModelPlan plan)
    {
        int winogradOffset = 0;
        foreach (StepPlan step in plan.Steps)
        {
            if (step is not LinearStep { Conv: { } conv } d) continue;
            // Small-batch inference skips im2col. The implicit GEMM makes one micro-kernel call per kernel row of
            // depth KernelW·Channels (Channels with dilation), accumulating through the output tile between calls:
            // from 16 floats deep that beats im2col + GEMM (5×5×16: 28.3 vs 30.8 µs at batch 1). Shallower rows
            // keep every tap in registers instead (1×28×28, 5×5 → 16: 6.3 µs against 13.9 µs for im2col + GEMM
            // and 13.4 µs for the implicit GEMM, which spends a call on every 5 multiply-adds).
            int depth = conv.Dilation == 1 ? conv.KernelW * conv.Channels : conv.Channels;
            conv.SmallBatchKernel = depth >= DirectConvMinDepth ? SmallBatchConv.ImplicitGemm : SmallBatchConv.Shallow;
            // Training of the same shallow kernels (dilation 1, so a kernel row's taps are consecutive floats): the forward
            // pass by the register-tile kernel over the whole batch, the weight gradient with every tap summed in registers
            // (docs/perf/conv0-training.md), so no patch matrix is written. Not with DropConnect (dW is masked per weight
            // by the GEMM path) nor when Winograd trains the layer.
            conv.ShallowTraining = conv.SmallBatchKernel == SmallBatchConv.Shallow && conv.Dilation == 1 && !conv.WinogradTraining
                && d.Layer.DropConnect == 0 && conv.ColumnBuffer is not null;
            // A 3×3 or 5×5 stride-1 kernel with enough channels takes Winograd F(2×2, r×r) instead: 36 multiplies per
            // tile of 4 pixels against 100 for 5×5 (16 against 36 for 3×3). Below 8 channels the input transform's narrow
            // vectors cost more than the multiplies saved (one core, AVX-512, batch 1: 5×5 16→32 on 14×14 16.5 µs
            // against 27.9 µs as the implicit GEMM, 3×3 64→64 on 8×8 13.5 against 24.9, but 5×5 4→16 8.2 against 6.8).
            if (conv.KernelH == conv.KernelW && conv.KernelH is 3 or 5 && conv.Stride == 1 && conv.Dilation == 1
                && conv.Channels >= WinogradMinChannels && d.OutWidth >= WinogradMinFilters)
            {
                conv.SmallBatchKernel = SmallBatchConv.Winograd;
                conv.WinogradOffset = winogradOffset;
                conv.WinogradLength = (conv.KernelH + 1) * (conv.KernelH + 1) * conv.Channels * d.OutWidth;
                winogradOffset += PlanBuilder.Align(conv.WinogradLength);
            }
        }
        return winogradOffset;
    }
}
