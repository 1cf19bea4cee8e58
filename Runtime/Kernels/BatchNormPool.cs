using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// BatchNorm2D → element-wise activation → 2×2 max pool (stride 2, no padding) in one pass each way, for training.
//
//   forward:  NormalizeMaxPool2x2 reads the pre-BN tensor z once and writes the pooled output and the argmax (and,
//             when asked, the full-size activations, which only LayerOutput reads); the separate max-pool pass over a
//             full-size activation tensor is gone.
//   backward: MaxPool2x2BackwardSums reads the pooled gradient, the argmax and z, and writes g = dy·f'(u) at each
//             window's argmax (0 elsewhere) with the block's parts of dβ = Σg and dγ = Σg·x̂ — the max-pool scatter
//             (zero fill + scatter of a full-size gradient) and BlockBackwardSums' pass in one. BackwardRows and the
//             Combine steps of BatchNormSplit.cs are unchanged.
//
// The windows do not overlap, so each input element belongs to at most one window and receives at most one pooled
// gradient; elements in no window (the last row/column of an odd height/width) get g = 0. The sums are per fixed
// block of whole samples, as in BatchNormSplit.cs, so the statistics stay the same bits for any thread count.
public static partial class BatchNorm
{
    /// <summary>True when <paramref name="g"/> is the 2×2, stride-2, unpadded max pool the fused BatchNorm kernels handle.</summary>
    public static bool FusesWithPool(in PoolGeometry g) =>
        g.SizeH == 2 && g.SizeW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0;

    private static void CheckFusedPool(in PoolGeometry g)
    {
        g.Validate(nameof(g));
        if (!FusesWithPool(g))
            throw new ArgumentException($"{nameof(g)}: the fused BatchNorm + max-pool kernels need a 2×2 window with stride 2 and no padding (got {g}).", nameof(g));
    }

    /// <summary>
    /// Training forward of BatchNorm2D → <typeparamref name="TAct"/> → 2×2 max pool for samples [s0, s1) (all spans hold the
    /// whole batch, NHWC): a = f(gamma·(z − mean)·invStd + beta), pooled = the maximum of a over each window, argmax = its index
    /// within the sample's input, (h·Width + w)·Channels + c, ties to the first in row-major window order (as
    /// <see cref="Pooling.MaxForward{TIsa}"/>). When <paramref name="activations"/> is not empty it also receives a, every element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NormalizeMaxPool2x2<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> invStd, Span<float> activations, Span<float> pooled, Span<int> argmax, in PoolGeometry g, int s0, int s1, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        CheckFusedPool(g);
        Checks.Range(s0, s1, int.MaxValue, nameof(s0), nameof(s1));
        int cols = g.Channels;
        Checks.Length(z.Length, (long)s1 * g.InputSize, nameof(z));
        Checks.Optional(activations.Length, z.Length, nameof(activations));
        Checks.Length(pooled.Length, (long)s1 * g.OutputSize, nameof(pooled));
        Checks.Length(argmax.Length, (long)s1 * g.OutputSize, nameof(argmax));
        Checks.Length(gamma.Length, cols, nameof(gamma));
        Checks.Length(beta.Length, cols, nameof(beta));
        Checks.Length(mean.Length, cols, nameof(mean));
        Checks.Length(invStd.Length, cols, nameof(invStd));
        var a = new PoolArgs
        {
            Z = ref MemoryMarshal.GetReference(z), Gamma = ref MemoryMarshal.GetReference(gamma), Beta = ref MemoryMarshal.GetReference(beta),
            Mean = ref MemoryMarshal.GetReference(mean), InvStd = ref MemoryMarshal.GetReference(invStd),
            Y = ref MemoryMarshal.GetReference(activations), Out = ref MemoryMarshal.GetReference(pooled), Arg = ref MemoryMarshal.GetReference(argmax),
            WriteY = !activations.IsEmpty, C = cols, W = g.Width, H = g.Height, OW = g.OutWidth, OH = g.OutHeight,
        };
        nint inSize = g.InputSize, outSize = g.OutputSize;
        for (int s = s0; s < s1; s++)
        {
            nint zi = s * inSize, oi = s * outSize;
            for (int oy = 0; oy < a.OH; oy++)
            {
                // One output row at a time, a vector of channels across the whole row (its constants loaded once).
                nint o = oi + (nint)oy * a.OW * cols;
                int i0 = 2 * oy * a.W * cols, c = 0;
                if (VectorPath.Lanes<TIsa>() == 16) c = NormMaxRow<Ops512, Vector512<float>, ArgMax512, Vector512<int>, TAct>(ref a, zi, i0, o, c, act);
                else if (VectorPath.Lanes<TIsa>() == 8) c = NormMaxRow<Ops256, Vector256<float>, ArgMax256, Vector256<int>, TAct>(ref a, zi, i0, o, c, act);
                if (c == cols) continue;
                c = NormMaxRow<Ops128, Vector128<float>, ArgMax128, Vector128<int>, TAct>(ref a, zi, i0, o, c, act);
                NormMaxRow<OpsScalar, float, ArgMaxScalar, int, TAct>(ref a, zi, i0, o, c, act);
            }
            if (a.WriteY) NormalizeLeftovers<TIsa, TAct>(z, gamma, beta, mean, invStd, activations, g, zi, act);
        }
    }

    /// <summary>The activations of the input pixels no window reads (last row / column of an odd height / width).</summary>
    private static void NormalizeLeftovers<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> invStd, Span<float> y, in PoolGeometry g, nint zi, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        int cols = g.Channels, covered = 2 * g.OutWidth;
        if (covered < g.Width)
            for (int iy = 0; iy < 2 * g.OutHeight; iy++)
            {
                int at = (int)zi + (iy * g.Width + covered) * cols, n = (g.Width - covered) * cols;
                NormalizeRows<TIsa, TAct>(z.Slice(at, n), gamma, beta, mean, invStd, default, y.Slice(at, n), g.Width - covered, cols, act);
            }
        if (2 * g.OutHeight < g.Height)
        {
            int at = (int)zi + 2 * g.OutHeight * g.Width * cols, rows = (g.Height - 2 * g.OutHeight) * g.Width;
            NormalizeRows<TIsa, TAct>(z.Slice(at, rows * cols), gamma, beta, mean, invStd, default, y.Slice(at, rows * cols), rows, cols, act);
        }
    }

    /// <summary>
    /// One output row's windows (input rows from element <paramref name="i0"/> of the sample), whole vectors of channels
    /// from <paramref name="c"/>, each vector across the row; returns the first channel left.
    /// </summary>
    private static int NormMaxRow<TO, TV, TA, TI, TAct>(ref PoolArgs a, nint zi, int i0, nint o, int c, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TA : struct, IArgMaxLanes<TV, TI> where TI : struct where TAct : struct, IActivation
    {
        int w = TO.Count, cols = a.C, down = a.W * cols, ow = a.OW;
        bool writeY = a.WriteY;
        ref float zs = ref Unsafe.Add(ref a.Z, zi);
        ref float ys = ref Unsafe.Add(ref a.Y, zi);
        ref float po = ref Unsafe.Add(ref a.Out, o);
        ref int pa = ref Unsafe.Add(ref a.Arg, o);
        for (; c + w <= cols; c += w)
        {
            TV mu = TO.Load(ref a.Mean, c), scale = TO.Mul(TO.Load(ref a.Gamma, c), TO.Load(ref a.InvStd, c)), shift = TO.Load(ref a.Beta, c);
            for (int ox = 0; ox < ow; ox++)
            {
                int j00 = i0 + 2 * ox * cols + c, j01 = j00 + cols, j10 = j00 + down, j11 = j10 + cols;
                TV v00 = TO.Forward(act, TO.Fma(TO.Sub(TO.Load(ref zs, j00), mu), scale, shift));
                TV v01 = TO.Forward(act, TO.Fma(TO.Sub(TO.Load(ref zs, j01), mu), scale, shift));
                TV v10 = TO.Forward(act, TO.Fma(TO.Sub(TO.Load(ref zs, j10), mu), scale, shift));
                TV v11 = TO.Forward(act, TO.Fma(TO.Sub(TO.Load(ref zs, j11), mu), scale, shift));
                if (writeY)
                {
                    TO.Store(v00, ref ys, j00);
                    TO.Store(v01, ref ys, j01);
                    TO.Store(v10, ref ys, j10);
                    TO.Store(v11, ref ys, j11);
                }
                TV best = v00;
                TI at = TA.Indices(j00);
                TA.Update(ref best, ref at, v01, j01);
                TA.Update(ref best, ref at, v10, j10);
                TA.Update(ref best, ref at, v11, j11);
                nint k = (nint)ox * cols + c;
                TO.Store(best, ref po, k);
                TA.StoreIndices(at, ref pa, k);
            }
        }
        return c;
    }

    /// <summary>
    /// Training backward of BatchNorm2D → <typeparamref name="TAct"/> → 2×2 max pool, first half, for the blocks b in [b0, b1)
    /// of <paramref name="blockSamples"/> whole samples (spans hold the whole batch of <paramref name="batch"/> samples):
    /// g = dyPooled·f'(u) at each window's argmax and 0 everywhere else is written to <paramref name="g"/> (full size), and
    /// sums[b·2·C + c] = Σg, sums[(b·2 + 1)·C + c] = Σg·x̂ over the block's samples, in double (what
    /// <see cref="Pooling.MaxBackward{TIsa}"/> followed by <see cref="BlockBackwardSums{TIsa, TAct}"/> compute, in one pass).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPool2x2BackwardSums<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> dyPooled, ReadOnlySpan<int> argmax,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd, Span<float> g, Span<double> sums,
        in PoolGeometry geometry, int batch, int blockSamples, int b0, int b1, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        CheckFusedPool(geometry);
        Checks.NonNegative(batch, nameof(batch));
        CheckBlocks(batch, blockSamples, b0, b1);
        int cols = geometry.Channels;
        Checks.Length(z.Length, (long)batch * geometry.InputSize, nameof(z));
        Checks.Length(g.Length, (long)batch * geometry.InputSize, nameof(g));
        Checks.Length(dyPooled.Length, (long)batch * geometry.OutputSize, nameof(dyPooled));
        Checks.Length(argmax.Length, (long)batch * geometry.OutputSize, nameof(argmax));
        Checks.Length(gamma.Length, cols, nameof(gamma));
        Checks.Length(beta.Length, cols, nameof(beta));
        Checks.Length(mean.Length, cols, nameof(mean));
        Checks.Length(invStd.Length, cols, nameof(invStd));
        Checks.Length(sums.Length, 2L * BlockCount(batch, blockSamples) * cols, nameof(sums));
        var a = new PoolArgs
        {
            Z = ref MemoryMarshal.GetReference(z), Gamma = ref MemoryMarshal.GetReference(gamma), Beta = ref MemoryMarshal.GetReference(beta),
            Mean = ref MemoryMarshal.GetReference(mean), InvStd = ref MemoryMarshal.GetReference(invStd),
            Y = ref MemoryMarshal.GetReference(g), Out = ref Unsafe.AsRef(in MemoryMarshal.GetReference(dyPooled)), Arg = ref Unsafe.AsRef(in MemoryMarshal.GetReference(argmax)),
            C = cols, W = geometry.Width, H = geometry.Height, OW = geometry.OutWidth, OH = geometry.OutHeight,
        };
        for (int b = b0; b < b1; b++)
        {
            int first = b * blockSamples, last = Math.Min(batch, first + blockSamples);
            for (int s = first; s < last; s++) ClearLeftovers(g.Slice(s * geometry.InputSize, geometry.InputSize), geometry);
            ref double sg = ref sums[2 * b * cols];
            ref double sgx = ref sums[(2 * b + 1) * cols];
            var run = new PoolBackwardRun<TAct> { A = a, SumG = ref sg, SumGx = ref sgx, S0 = first, S1 = last, Act = act };
            int c = VectorPath.RunWide<TIsa, PoolBackwardRun<TAct>>(ref run);
            for (; c < cols; c++) PoolBackwardScalar(ref a, ref sg, ref sgx, first, last, c, act);
        }
    }

    /// <summary>g := 0 on the input pixels of one sample that no window reads.</summary>
    private static void ClearLeftovers(Span<float> g, in PoolGeometry geo)
    {
        int cols = geo.Channels, covered = 2 * geo.OutWidth;
        if (covered < geo.Width)
            for (int iy = 0; iy < 2 * geo.OutHeight; iy++)
                g.Slice((iy * geo.Width + covered) * cols, (geo.Width - covered) * cols).Clear();
        if (2 * geo.OutHeight < geo.Height) g.Slice(2 * geo.OutHeight * geo.Width * cols).Clear();
    }

    /// <summary>The backward pass over whole vectors of channels for samples [s0, s1); returns the first channel left.</summary>
    private static int PoolBackwardColumns<TO, TV, TW, TD, TAct>(ref PoolArgs a, ref double sumG, ref double sumGx, int s0, int s1, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TW : struct, IWideOps<TV, TD> where TD : struct where TAct : struct, IActivation
    {
        int w = TO.Count, cols = a.C, c = 0;
        nint inSize = (nint)a.H * a.W * cols, outSize = (nint)a.OH * a.OW * cols;
        for (; c + w <= cols; c += w)
        {
            TV mu = TO.Load(ref a.Mean, c), invStd = TO.Load(ref a.InvStd, c), gamma = TO.Load(ref a.Gamma, c), beta = TO.Load(ref a.Beta, c);
            TD sgLo = TW.Zero, sgHi = TW.Zero, sxLo = TW.Zero, sxHi = TW.Zero;
            for (int s = s0; s < s1; s++)
            {
                ref float zs = ref Unsafe.Add(ref a.Z, s * inSize);
                ref float gs = ref Unsafe.Add(ref a.Y, s * inSize);
                nint oi = s * outSize;
                for (int oy = 0; oy < a.OH; oy++)
                    for (int ox = 0; ox < a.OW; ox++)
                    {
                        int j00 = (2 * oy * a.W + 2 * ox) * cols + c, j01 = j00 + cols, j10 = j00 + a.W * cols, j11 = j10 + cols;
                        nint o = oi + (nint)(oy * a.OW + ox) * cols + c;
                        TV m00 = ArgIs<TV>(ref a.Arg, o, j00), m01 = ArgIs<TV>(ref a.Arg, o, j01), m10 = ArgIs<TV>(ref a.Arg, o, j10);
                        TV zv = Pick(m00, TO.Load(ref zs, j00), Pick(m01, TO.Load(ref zs, j01), Pick(m10, TO.Load(ref zs, j10), TO.Load(ref zs, j11))));
                        TV xh = TO.Mul(TO.Sub(zv, mu), invStd);
                        TV u = TO.Fma(gamma, xh, beta);
                        TV d = TO.Mul(TO.Load(ref a.Out, o), TO.Derivative(act, u, TO.Forward(act, u)));
                        // The argmax is one of the four: the element that is none of the first three is the fourth.
                        TV m11 = ArgIs<TV>(ref a.Arg, o, j11);
                        TO.Store(Pick(m00, d, TO.Zero), ref gs, j00);
                        TO.Store(Pick(m01, d, TO.Zero), ref gs, j01);
                        TO.Store(Pick(m10, d, TO.Zero), ref gs, j10);
                        TO.Store(Pick(m11, d, TO.Zero), ref gs, j11);
                        TD dLo = TW.Lower(d), dHi = TW.Upper(d);
                        sgLo = TW.Add(sgLo, dLo);
                        sgHi = TW.Add(sgHi, dHi);
                        sxLo = TW.Fma(dLo, TW.Lower(xh), sxLo);
                        sxHi = TW.Fma(dHi, TW.Upper(xh), sxHi);
                    }
            }
            TW.Store(sgLo, ref sumG, c);
            TW.Store(sgHi, ref sumG, c + w / 2);
            TW.Store(sxLo, ref sumGx, c);
            TW.Store(sxHi, ref sumGx, c + w / 2);
        }
        return c;
    }

    /// <summary>The backward pass for one channel <paramref name="c"/> (the tail no vector covers), samples [s0, s1).</summary>
    private static void PoolBackwardScalar<TAct>(ref PoolArgs a, ref double sumG, ref double sumGx, int s0, int s1, int c, in TAct act)
        where TAct : struct, IActivation
    {
        int cols = a.C;
        nint inSize = (nint)a.H * a.W * cols, outSize = (nint)a.OH * a.OW * cols;
        float mu = Unsafe.Add(ref a.Mean, c), invStd = Unsafe.Add(ref a.InvStd, c), gamma = Unsafe.Add(ref a.Gamma, c), beta = Unsafe.Add(ref a.Beta, c);
        double s = 0, sx = 0;
        for (int n = s0; n < s1; n++)
        {
            ref float zs = ref Unsafe.Add(ref a.Z, n * inSize);
            ref float gs = ref Unsafe.Add(ref a.Y, n * inSize);
            nint oi = n * outSize;
            for (int oy = 0; oy < a.OH; oy++)
                for (int ox = 0; ox < a.OW; ox++)
                {
                    int j00 = (2 * oy * a.W + 2 * ox) * cols + c, j10 = j00 + a.W * cols;
                    nint o = oi + (nint)(oy * a.OW + ox) * cols + c;
                    int at = Unsafe.Add(ref a.Arg, o);
                    Unsafe.Add(ref gs, j00) = 0f;
                    Unsafe.Add(ref gs, j00 + cols) = 0f;
                    Unsafe.Add(ref gs, j10) = 0f;
                    Unsafe.Add(ref gs, j10 + cols) = 0f;
                    if (at != j00 && at != j00 + cols && at != j10 && at != j10 + cols)
                        throw new ArgumentException($"argmax[{o}] = {at} is not in its 2×2 window (was it written by the matching forward?).", "argmax");
                    float xh = (Unsafe.Add(ref zs, at) - mu) * invStd;
                    float u = MathF.FusedMultiplyAdd(gamma, xh, beta);
                    float d = Unsafe.Add(ref a.Out, o) * act.Derivative(u, act.Forward(u));
                    Unsafe.Add(ref gs, at) = d;
                    s += d;
                    sx = Math.FusedMultiplyAdd(d, xh, sx);
                }
        }
        Unsafe.Add(ref sumG, c) = s;
        Unsafe.Add(ref sumGx, c) = sx;
    }

    /// <summary>All-ones lanes where arg[o + lane] == index + lane, as a float vector of the width of <typeparamref name="TV"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ArgIs<TV>(ref int arg, nint o, int index) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
            return (TV)(object)Vector512.Equals(Vector512.LoadUnsafe(ref arg, (nuint)o), Vector512.Create(index) + Vector512<int>.Indices).AsSingle();
        if (typeof(TV) == typeof(Vector256<float>))
            return (TV)(object)Vector256.Equals(Vector256.LoadUnsafe(ref arg, (nuint)o), Vector256.Create(index) + Vector256<int>.Indices).AsSingle();
        if (typeof(TV) == typeof(Vector128<float>))
            return (TV)(object)Vector128.Equals(Vector128.LoadUnsafe(ref arg, (nuint)o), Vector128.Create(index) + Vector128<int>.Indices).AsSingle();
        throw new NotSupportedException(typeof(TV).Name);
    }

    /// <summary>mask ? a : b, lane-wise (mask lanes all ones or all zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Pick<TV>(TV mask, TV a, TV b) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
            return (TV)(object)Vector512.ConditionalSelect((Vector512<float>)(object)mask, (Vector512<float>)(object)a, (Vector512<float>)(object)b);
        if (typeof(TV) == typeof(Vector256<float>))
            return (TV)(object)Vector256.ConditionalSelect((Vector256<float>)(object)mask, (Vector256<float>)(object)a, (Vector256<float>)(object)b);
        if (typeof(TV) == typeof(Vector128<float>))
            return (TV)(object)Vector128.ConditionalSelect((Vector128<float>)(object)mask, (Vector128<float>)(object)a, (Vector128<float>)(object)b);
        throw new NotSupportedException(typeof(TV).Name);
    }

    /// <summary>The fused kernels' arguments. Forward: Y = activations (optional), Out/Arg written. Backward: Y = g, Out = dy (read), Arg read.</summary>
    private ref struct PoolArgs
    {
        public ref float Z;
        public ref float Gamma;
        public ref float Beta;
        public ref float Mean;
        public ref float InvStd;
        public ref float Y;
        public ref float Out;
        public ref int Arg;
        public bool WriteY;
        public int C;
        public int W;
        public int H;
        public int OW;
        public int OH;
    }

    /// <summary>PoolBackwardColumns's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct PoolBackwardRun<TAct> : IWideKernel where TAct : struct, IActivation
    {
        public PoolArgs A;
        public ref double SumG;
        public ref double SumGx;
        public int S0;
        public int S1;
        public TAct Act;

        int IWideKernel.Run<TO, TV, TW, TD>() => PoolBackwardColumns<TO, TV, TW, TD, TAct>(ref A, ref SumG, ref SumGx, S0, S1, in Act);
    }
}
