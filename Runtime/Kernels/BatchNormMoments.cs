using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels;

// BatchNorm2D's statistics in one pass over z instead of two (BlockSums, then BlockSquaredDeviations about the mean):
// each block b sums d = z − K_b and d² in double, with the shift K_b[c] = z[first row of the block, c]. A shift taken
// from the block's own data keeps Σd² − (Σd)²/n free of cancellation (the shift is within a few standard deviations of
// the block's mean), and double sums keep it to float rounding. CombineMoments adds the blocks' counts, means and
// centred sums of squares in block order on one thread (the pairwise update of Chan, Golub & LeVeque), so the
// statistics are the same bits for any thread count, as with the two-pass pipeline (docs/architecture.md, "Reductions").
public static partial class BatchNorm
{
    /// <summary>
    /// For each block b in [b0, b1): moments[2b·cols + c] = Σ (z[r,c] − K), moments[(2b + 1)·cols + c] = Σ (z[r,c] − K)² over
    /// the block's rows, in double in row order, with K = z[first row of the block, c] (z: the whole rows×cols batch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BlockMoments<TIsa>(ReadOnlySpan<float> z, Span<double> moments, int rows, int cols, int blockRows, int b0, int b1)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(cols, nameof(cols));
        CheckBlocks(rows, blockRows, b0, b1);
        Checks.Length(z.Length, (long)rows * cols, nameof(z));
        Checks.Length(moments.Length, 2L * BlockCount(rows, blockRows) * cols, nameof(moments));
        ref float pz = ref MemoryMarshal.GetReference(z);
        for (int b = b0; b < b1; b++)
        {
            int r0 = b * blockRows, r1 = Math.Min(rows, r0 + blockRows);
            ref double sums = ref moments[2 * b * cols];
            ref double squares = ref moments[(2 * b + 1) * cols];
            var run = new MomentColumnsRun { Z = ref pz, Sums = ref sums, Squares = ref squares, Cols = cols, R0 = r0, R1 = r1 };
            int c = VectorPath.RunWide<TIsa, MomentColumnsRun>(ref run);
            for (; c < cols; c++)
            {
                double k = Unsafe.Add(ref pz, (nint)r0 * cols + c), s0 = 0, s1 = 0, q0 = 0, q1 = 0;
                int r = r0;
                for (; r + 1 < r1; r += 2)
                {
                    double d0 = Unsafe.Add(ref pz, (nint)r * cols + c) - k, d1 = Unsafe.Add(ref pz, (nint)(r + 1) * cols + c) - k;
                    s0 += d0;
                    s1 += d1;
                    q0 = Math.FusedMultiplyAdd(d0, d0, q0);
                    q1 = Math.FusedMultiplyAdd(d1, d1, q1);
                }
                if (r < r1)
                {
                    double d0 = Unsafe.Add(ref pz, (nint)r * cols + c) - k;
                    s0 += d0;
                    q0 = Math.FusedMultiplyAdd(d0, d0, q0);
                }
                Unsafe.Add(ref sums, c) = s0 + s1;
                Unsafe.Add(ref squares, c) = q0 + q1;
            }
        }
    }

    /// <summary>Σd and Σd² (d = z − z[r0]) of rows [r0, r1) over whole vectors of columns, in double, even and odd rows in two chains; returns the first column left.</summary>
    private static int MomentColumns<TO, TV, TW, TD>(ref float z, ref double sums, ref double squares, int cols, int r0, int r1)
        where TO : struct, IVectorOps<TV> where TV : struct where TW : struct, IWideOps<TV, TD> where TD : struct
    {
        int w = TO.Count, c = 0;
        for (; c + w <= cols; c += w)
        {
            TV k = TO.Load(ref z, (nint)r0 * cols + c);
            TD kLo = TW.Lower(k), kHi = TW.Upper(k);
            TD sLo0 = TW.Zero, sHi0 = TW.Zero, sLo1 = TW.Zero, sHi1 = TW.Zero;
            TD qLo0 = TW.Zero, qHi0 = TW.Zero, qLo1 = TW.Zero, qHi1 = TW.Zero;
            int r = r0;
            for (; r + 1 < r1; r += 2)
            {
                TV v0 = TO.Load(ref z, (nint)r * cols + c), v1 = TO.Load(ref z, (nint)(r + 1) * cols + c);
                TD a = TW.Sub(TW.Lower(v0), kLo), b = TW.Sub(TW.Upper(v0), kHi);
                TD d = TW.Sub(TW.Lower(v1), kLo), e = TW.Sub(TW.Upper(v1), kHi);
                sLo0 = TW.Add(sLo0, a);
                sHi0 = TW.Add(sHi0, b);
                sLo1 = TW.Add(sLo1, d);
                sHi1 = TW.Add(sHi1, e);
                qLo0 = TW.Fma(a, a, qLo0);
                qHi0 = TW.Fma(b, b, qHi0);
                qLo1 = TW.Fma(d, d, qLo1);
                qHi1 = TW.Fma(e, e, qHi1);
            }
            if (r < r1)
            {
                TV v0 = TO.Load(ref z, (nint)r * cols + c);
                TD a = TW.Sub(TW.Lower(v0), kLo), b = TW.Sub(TW.Upper(v0), kHi);
                sLo0 = TW.Add(sLo0, a);
                sHi0 = TW.Add(sHi0, b);
                qLo0 = TW.Fma(a, a, qLo0);
                qHi0 = TW.Fma(b, b, qHi0);
            }
            TW.Store(TW.Add(sLo0, sLo1), ref sums, c);
            TW.Store(TW.Add(sHi0, sHi1), ref sums, c + w / 2);
            TW.Store(TW.Add(qLo0, qLo1), ref squares, c);
            TW.Store(TW.Add(qHi0, qHi1), ref squares, c + w / 2);
        }
        return c;
    }

    /// <summary>MomentColumns's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct MomentColumnsRun : IWideKernel
    {
        public ref float Z;
        public ref double Sums;
        public ref double Squares;
        public int Cols;
        public int R0;
        public int R1;

        int IWideKernel.Run<TO, TV, TW, TD>() => MomentColumns<TO, TV, TW, TD>(ref Z, ref Sums, ref Squares, Cols, R0, R1);
    }

    /// <summary>
    /// mean, invStd = 1/sqrt(var + eps) (var biased) and, when <paramref name="updateRunning"/>, the running averages (as
    /// <see cref="CombineVariance"/>) from the blocks' <see cref="BlockMoments{TIsa}"/>, merged in block order in double.
    /// </summary>
    public static void CombineMoments(ReadOnlySpan<float> z, ReadOnlySpan<double> moments, Span<float> mean, Span<float> invStd, Span<float> runMean, Span<float> runVar,
        int rows, int cols, int blockRows, float eps, float momentum, bool updateRunning)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm training needs at least one row.");
        if (updateRunning && rows < 2)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm cannot update its running variance from a batch of one row (the unbiased estimate divides by rows − 1).");
        int blocks = BlockCount(rows, blockRows);
        Checks.Length(z.Length, (long)rows * cols, nameof(z));
        Checks.Length(moments.Length, 2L * blocks * cols, nameof(moments));
        Checks.Length(mean.Length, cols, nameof(mean));
        Checks.Length(invStd.Length, cols, nameof(invStd));
        if (updateRunning)
        {
            Checks.Length(runMean.Length, cols, nameof(runMean));
            Checks.Length(runVar.Length, cols, nameof(runVar));
        }
        for (int c = 0; c < cols; c++)
        {
            double n = 0, mu = 0, m2 = 0;
            for (int b = 0; b < blocks; b++)
            {
                int r0 = b * blockRows;
                double nb = Math.Min(rows, r0 + blockRows) - r0;
                double s = moments[2 * b * cols + c], q = moments[(2 * b + 1) * cols + c];
                double muB = z[r0 * cols + c] + s / nb, m2B = Math.Max(0, q - s * s / nb);
                double total = n + nb, delta = muB - mu;
                mu += delta * nb / total;
                m2 += m2B + delta * delta * n * nb / total;
                n = total;
            }
            mean[c] = (float)mu;
            SetStatistics(m2 / rows, mean, invStd, runMean, runVar, c, rows, eps, momentum, updateRunning);
        }
    }
}
