using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// Winograd F(2×2, r×r) in training (docs/perf/winograd-training.md): the forward pass and the backward-data pass use
// Forward; the weights are transformed at the start of every step, since every step updates them.
public static unsafe partial class WinogradConv
{
    /// <summary>
    /// True when dL/dx of the convolution has a Winograd form here: <see cref="Supports"/> and padding at most r − 1 on each
    /// side, so that dL/dx is a stride-1 correlation of dL/dy zero-bordered by r − 1 − pad (<see cref="BackwardDataGeometry"/>).
    /// </summary>
    public static bool SupportsBackwardData(in ConvGeometry g) =>
        Supports(g) && g.PadH <= g.KernelH - 1 && g.PadW <= g.KernelW - 1;

    /// <summary>
    /// The geometry of dL/dx as a forward convolution: over dL/dy (<paramref name="n"/> channels, OutHeight × OutWidth)
    /// with the same r×r kernel, stride 1 and padding r − 1 − pad, whose output is exactly the input's Height × Width.
    /// </summary>
    public static ConvGeometry BackwardDataGeometry(in ConvGeometry g, int n) =>
        new(n, g.OutHeight, g.OutWidth, g.KernelH, g.KernelW, 1, 1, g.KernelH - 1 - g.PadH, g.KernelW - 1 - g.PadW, 1, 1);

    /// <summary>
    /// <see cref="TransformWeights"/> for the input channels
    /// [<paramref name="c0"/>, <paramref name="c1"/>) only (threads split the channels), in float: each U entry is
    /// Σ_kx (Σ_ky G[ξ1, ky]·w)·G[ξ2, kx], summed in that order, so it does not depend on the split. Cheap enough to redo
    /// every training step (5×5, 16 → 32: 18,432 entries from 12,800 weights).
    /// </summary>
    public static void TransformWeightChannels(ReadOnlySpan<float> w, Span<float> u, in ConvGeometry g, int n, int c0, int c1)
    {
        RequireSupported(g);
        Checks.NonNegative(n, nameof(n));
        Checks.Range(c0, c1, g.Channels, nameof(c0), nameof(c1));
        Checks.Length(w.Length, (long)g.PatchSize * n, nameof(w));
        Checks.Length(u.Length, TransformedWeightsSize(g, n), nameof(u));
        if (c0 == c1 || n == 0) return;
        fixed (float* pw = w, pu = u)
        {
            if (g.KernelH == 3) TransformChannels(pw, pu, F23Float, 3, g.Channels, n, c0, c1);
            else TransformChannels(pw, pu, F25Float, 5, g.Channels, n, c0, c1);
        }
    }

    /// <summary>
    /// The transformed weights of dL/dx (<see cref="BackwardDataGeometry"/>, whose channels are the <paramref name="n"/>
    /// filters and whose filters are the input channels) for the filters [<paramref name="j0"/>, <paramref name="j1"/>):
    /// the kernel rotated by 180° with its channels swapped, w'[(ky·r + kx)·n + j, c] = w[((r−1−ky)·r + r−1−kx)·C + c, j],
    /// written into <paramref name="rotated"/> (r²·n·C floats; only the rows of those filters), then transformed.
    /// </summary>
    public static void TransformBackwardDataWeights(ReadOnlySpan<float> w, Span<float> rotated, Span<float> u, in ConvGeometry g, int n, int j0, int j1)
    {
        RequireSupported(g);
        Checks.NonNegative(n, nameof(n));
        Checks.Range(j0, j1, n, nameof(j0), nameof(j1));
        Checks.Length(w.Length, (long)g.PatchSize * n, nameof(w));
        Checks.Length(rotated.Length, (long)g.PatchSize * n, nameof(rotated));
        ConvGeometry back = BackwardDataGeometry(g, n);
        Checks.Length(u.Length, TransformedWeightsSize(back, g.Channels), nameof(u));
        int r = g.KernelH, c = g.Channels;
        for (int ky = 0; ky < r; ky++)
            for (int kx = 0; kx < r; kx++)
            {
                int source = ((r - 1 - ky) * r + (r - 1 - kx)) * c;
                for (int j = j0; j < j1; j++)
                {
                    Span<float> row = rotated.Slice(((ky * r + kx) * n + j) * c, c);
                    for (int ci = 0; ci < c; ci++) row[ci] = w[(source + ci) * n + j];
                }
            }
        TransformWeightChannels(rotated, u, back, c, j0, j1);
    }

    /// <summary>G of F(2, 3) and F(2, 5) rounded to float, row-major (T × r).</summary>
    private static readonly float[] F23Float = Flatten(F23.G), F25Float = Flatten(F25.G);

    private static float[] Flatten(double[,] g)
    {
        var flat = new float[g.Length];
        for (int i = 0; i < g.GetLength(0); i++)
            for (int k = 0; k < g.GetLength(1); k++) flat[i * g.GetLength(1) + k] = (float)g[i, k];
        return flat;
    }

    /// <summary>U for channels [c0, c1), four filters at a time in 128-bit vectors (plain multiply and add: the same result on every path), then one at a time.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformChannels(float* w, float* u, float[] gm, int r, int c, int n, int c0, int c1)
    {
        int t = r + 1;
        Vector128<float>* half = stackalloc Vector128<float>[t * r];   // G·g for four filters of one channel: T × r
        fixed (float* g = gm)
            for (int ci = c0; ci < c1; ci++)
            {
                int j = 0;
                for (; j + 4 <= n; j += 4)
                {
                    for (int xi = 0; xi < t; xi++)
                        for (int kx = 0; kx < r; kx++)
                        {
                            Vector128<float> sum = Vector128<float>.Zero;
                            for (int ky = 0; ky < r; ky++)
                                sum += Vector128.Create(g[xi * r + ky]) * Vector128.Load(w + ((ky * r + kx) * c + ci) * n + j);
                            half[xi * r + kx] = sum;
                        }
                    for (int x1 = 0; x1 < t; x1++)
                        for (int x2 = 0; x2 < t; x2++)
                        {
                            Vector128<float> sum = Vector128<float>.Zero;
                            for (int kx = 0; kx < r; kx++) sum += half[x1 * r + kx] * Vector128.Create(g[x2 * r + kx]);
                            sum.Store(u + ((x1 * t + x2) * c + ci) * n + j);
                        }
                }
                for (; j < n; j++)
                    for (int x1 = 0; x1 < t; x1++)
                        for (int x2 = 0; x2 < t; x2++)
                        {
                            float total = 0;
                            for (int kx = 0; kx < r; kx++)
                            {
                                float sum = 0;
                                for (int ky = 0; ky < r; ky++) sum += g[x1 * r + ky] * w[((ky * r + kx) * c + ci) * n + j];
                                total += sum * g[x2 * r + kx];
                            }
                            u[((x1 * t + x2) * c + ci) * n + j] = total;
                        }
            }
    }
}
