using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

// BatchNorm with the rows (samples·pixels) split across threads instead of the columns. A BatchNorm2D has few
// columns (channels) and many rows; splitting columns leaves one thread with all of a 16-channel layer, and makes
// every activation change cores between the convolution (samples split) and the BatchNorm (channels split). Split
// by rows, each thread keeps its own samples and the threads only exchange per-channel partial sums:
//
//   forward:  BlockMoments → CombineMoments (one pass over z, BatchNormMoments.cs) → NormalizeRows, or the fused
//             NormalizeMaxPool2x2 (BatchNormPool.cs); the two-pass BlockSums → CombineMean → BlockSquaredDeviations →
//             CombineVariance below give the same statistics and are no longer emitted by the generator
//   backward: BlockBackwardSums → CombineBackwardSums (dγ, dβ) → BackwardRows, then the γ/β update
//
// The sums are taken over fixed blocks of rows (block b: rows [b·blockRows, (b+1)·blockRows)), whose boundaries do
// not depend on how many threads share the stage: each thread sums whole blocks, every block the same way (in
// double, rows in order), and the Combine steps add the blocks' sums in block order, in double, on one thread. The
// statistics, and so everything downstream, are therefore the same bits whatever the thread count (docs/architecture.md,
// "Reductions"). The Combine steps are tiny (blocks × columns adds) and run between the parallel steps.
public static partial class BatchNorm
{
    /// <summary>How many blocks of <paramref name="blockRows"/> rows cover <paramref name="rows"/> rows (the last may be short).</summary>
    public static int BlockCount(int rows, int blockRows)
    {
        Checks.NonNegative(rows, nameof(rows));
        if (blockRows < 1) throw new ArgumentOutOfRangeException(nameof(blockRows), blockRows, "A block needs at least one row.");
        return (int)(((long)rows + blockRows - 1) / blockRows);
    }

    /// <summary>Throws unless blocks [b0, b1) are among the blocks of <paramref name="blockRows"/> rows that cover <paramref name="rows"/> rows.</summary>
    private static void CheckBlocks(int rows, int blockRows, int b0, int b1)
    {
        int blocks = BlockCount(rows, blockRows);
        if (b0 < 0 || b1 > blocks || b0 > b1)
            throw new ArgumentOutOfRangeException(nameof(b0), $"Blocks [{b0}, {b1}) are not within the {blocks} blocks of {blockRows} rows that cover {rows} rows.");
    }

    /// <summary>
    /// For each block b in [b0, b1): sums[b·cols + c] = Σ z[r,c] over the block's rows, accumulated in double in row order
    /// (z: the whole rows×cols batch). A block's sums do not depend on which call computed it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BlockSums<TIsa>(ReadOnlySpan<float> z, Span<double> sums, int rows, int cols, int blockRows, int b0, int b1)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(cols, nameof(cols));
        CheckBlocks(rows, blockRows, b0, b1);
        Checks.Length(z.Length, (long)rows * cols, nameof(z));
        Checks.Length(sums.Length, (long)BlockCount(rows, blockRows) * cols, nameof(sums));
        for (int b = b0; b < b1; b++)
        {
            int r0 = b * blockRows;
            SumColumns<TIsa>(z, sums.Slice(b * cols, cols), r0, Math.Min(rows, r0 + blockRows), cols, 0, cols);
        }
    }

    /// <summary>
    /// sums[j − c0] = Σ z[r,j] over rows [r0, r1), for j in [c0, c1), in double, rows in order with even and odd rows in two
    /// chains. Every column gets the same operations whether it falls in a vector or in the scalar tail, so its sum does
    /// not depend on the column range.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SumColumns<TIsa>(ReadOnlySpan<float> z, Span<double> sums, int r0, int r1, int cols, int c0, int c1)
        where TIsa : struct, ISimdPath
    {
        ref float pz = ref MemoryMarshal.GetReference(z);
        ref double ps = ref MemoryMarshal.GetReference(sums);
        int c;
        var run = new SumColumnsRun { Z = ref pz, Sums = ref ps, Cols = cols, R0 = r0, R1 = r1, C0 = c0, C1 = c1 };
        c = VectorPath.RunWide<TIsa, SumColumnsRun>(ref run);
        for (; c < c1; c++)
        {
            double s0 = 0, s1 = 0;
            int r = r0;
            for (; r + 1 < r1; r += 2)
            {
                s0 += Unsafe.Add(ref pz, (nint)r * cols + c);
                s1 += Unsafe.Add(ref pz, (nint)(r + 1) * cols + c);
            }
            if (r < r1) s0 += Unsafe.Add(ref pz, (nint)r * cols + c);
            Unsafe.Add(ref ps, c - c0) = s0 + s1;
        }
    }

    /// <summary>Column sums of rows [r0, r1) over whole vectors of columns in [c0, c1), in double (even and odd rows in two chains) into sums[c − c0]; returns the first column left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SumColumns<TO, TV, TW, TD>(ref float z, ref double sums, int cols, int r0, int r1, int c0, int c1)
        where TO : struct, IVectorOps<TV> where TV : struct where TW : struct, IWideOps<TV, TD> where TD : struct
    {
        int w = TO.Count, c = c0;
        for (; c + w <= c1; c += w)
        {
            TD lo0 = TW.Zero, hi0 = TW.Zero, lo1 = TW.Zero, hi1 = TW.Zero;
            int r = r0;
            for (; r + 1 < r1; r += 2)
            {
                TV v0 = TO.Load(ref z, (nint)r * cols + c), v1 = TO.Load(ref z, (nint)(r + 1) * cols + c);
                lo0 = TW.Add(lo0, TW.Lower(v0));
                hi0 = TW.Add(hi0, TW.Upper(v0));
                lo1 = TW.Add(lo1, TW.Lower(v1));
                hi1 = TW.Add(hi1, TW.Upper(v1));
            }
            if (r < r1)
            {
                TV v0 = TO.Load(ref z, (nint)r * cols + c);
                lo0 = TW.Add(lo0, TW.Lower(v0));
                hi0 = TW.Add(hi0, TW.Upper(v0));
            }
            TW.Store(TW.Add(lo0, lo1), ref sums, c - c0);
            TW.Store(TW.Add(hi0, hi1), ref sums, c - c0 + w / 2);
        }
        return c;
    }

    /// <summary>mean[c] = Σ_b sums[b·cols + c] / rows: the blocks' <see cref="BlockSums{TIsa}"/> added in block order, in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CombineMean(ReadOnlySpan<double> sums, Span<float> mean, int rows, int cols, int blocks)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm training needs at least one row.");
        Checks.NonNegative(blocks, nameof(blocks));
        Checks.Length(sums.Length, (long)blocks * cols, nameof(sums));
        Checks.Length(mean.Length, cols, nameof(mean));
        for (int c = 0; c < cols; c++) mean[c] = (float)(AddBlocks(sums, c, cols, blocks) / rows);
    }

    /// <summary>Σ_b values[b·stride + offset] in block order, in double.</summary>
    private static double AddBlocks(ReadOnlySpan<double> values, int offset, int stride, int blocks)
    {
        double total = 0;
        for (int b = 0; b < blocks; b++) total += values[b * stride + offset];
        return total;
    }

    /// <summary>
    /// For each block b in [b0, b1): squares[b·cols + c] = Σ (z[r,c] − mean[c])² over the block's rows, in double in row
    /// order (z: the whole rows×cols batch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BlockSquaredDeviations<TIsa>(ReadOnlySpan<float> z, ReadOnlySpan<float> mean, Span<double> squares, int rows, int cols, int blockRows, int b0, int b1)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(cols, nameof(cols));
        CheckBlocks(rows, blockRows, b0, b1);
        Checks.Length(z.Length, (long)rows * cols, nameof(z));
        Checks.Length(mean.Length, cols, nameof(mean));
        Checks.Length(squares.Length, (long)BlockCount(rows, blockRows) * cols, nameof(squares));
        for (int b = b0; b < b1; b++)
        {
            int r0 = b * blockRows;
            SquaredDeviations<TIsa>(z, mean, squares.Slice(b * cols, cols), r0, Math.Min(rows, r0 + blockRows), cols, 0, cols);
        }
    }

    /// <summary>squares[j − c0] = Σ (z[r,j] − mean[j])² over rows [r0, r1), for j in [c0, c1), in double (as <see cref="SumColumns{TIsa}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SquaredDeviations<TIsa>(ReadOnlySpan<float> z, ReadOnlySpan<float> mean, Span<double> squares, int r0, int r1, int cols, int c0, int c1)
        where TIsa : struct, ISimdPath
    {
        ref float pz = ref MemoryMarshal.GetReference(z);
        ref float pm = ref MemoryMarshal.GetReference(mean);
        ref double ps = ref MemoryMarshal.GetReference(squares);
        int c;
        var run = new SquaredDeviationColumnsRun { Z = ref pz, Mean = ref pm, Squares = ref ps, Cols = cols, R0 = r0, R1 = r1, C0 = c0, C1 = c1 };
        c = VectorPath.RunWide<TIsa, SquaredDeviationColumnsRun>(ref run);
        for (; c < c1; c++)
        {
            double mu = Unsafe.Add(ref pm, c), s0 = 0, s1 = 0;
            int r = r0;
            for (; r + 1 < r1; r += 2)
            {
                double d0 = Unsafe.Add(ref pz, (nint)r * cols + c) - mu, d1 = Unsafe.Add(ref pz, (nint)(r + 1) * cols + c) - mu;
                s0 = double.MultiplyAddEstimate(d0, d0, s0);
                s1 = double.MultiplyAddEstimate(d1, d1, s1);
            }
            if (r < r1)
            {
                double d0 = Unsafe.Add(ref pz, (nint)r * cols + c) - mu;
                s0 = double.MultiplyAddEstimate(d0, d0, s0);
            }
            Unsafe.Add(ref ps, c - c0) = s0 + s1;
        }
    }

    /// <summary>Σ (z − mean)² of rows [r0, r1) over whole vectors of columns in [c0, c1), in double, into squares[c − c0]; returns the first column left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SquaredDeviationColumns<TO, TV, TW, TD>(ref float z, ref float mean, ref double squares, int cols, int r0, int r1, int c0, int c1)
        where TO : struct, IVectorOps<TV> where TV : struct where TW : struct, IWideOps<TV, TD> where TD : struct
    {
        int w = TO.Count, c = c0;
        for (; c + w <= c1; c += w)
        {
            // The deviation in double: z and the float mean are exact there, so only the squares' sum rounds.
            TV mu = TO.Load(ref mean, c);
            TD muLo = TW.Lower(mu), muHi = TW.Upper(mu);
            TD lo0 = TW.Zero, hi0 = TW.Zero, lo1 = TW.Zero, hi1 = TW.Zero;
            int r = r0;
            for (; r + 1 < r1; r += 2)
            {
                TV v0 = TO.Load(ref z, (nint)r * cols + c), v1 = TO.Load(ref z, (nint)(r + 1) * cols + c);
                TD a = TW.Sub(TW.Lower(v0), muLo), b = TW.Sub(TW.Upper(v0), muHi);
                TD d = TW.Sub(TW.Lower(v1), muLo), e = TW.Sub(TW.Upper(v1), muHi);
                lo0 = TW.Fma(a, a, lo0);
                hi0 = TW.Fma(b, b, hi0);
                lo1 = TW.Fma(d, d, lo1);
                hi1 = TW.Fma(e, e, hi1);
            }
            if (r < r1)
            {
                TV v0 = TO.Load(ref z, (nint)r * cols + c);
                TD a = TW.Sub(TW.Lower(v0), muLo), b = TW.Sub(TW.Upper(v0), muHi);
                lo0 = TW.Fma(a, a, lo0);
                hi0 = TW.Fma(b, b, hi0);
            }
            TW.Store(TW.Add(lo0, lo1), ref squares, c - c0);
            TW.Store(TW.Add(hi0, hi1), ref squares, c - c0 + w / 2);
        }
        return c;
    }

    /// <summary>
    /// From the blocks' squared deviations (<see cref="BlockSquaredDeviations{TIsa}"/>, added in block order, in double):
    /// invStd[c] = 1/sqrt(var + eps) with var = Σ_b squares / rows (biased), and, when <paramref name="updateRunning"/>,
    /// the running averages as in <see cref="ForwardTrain{TIsa, TAct}"/> (runVar takes the unbiased var·rows/(rows − 1)).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CombineVariance(ReadOnlySpan<double> squares, ReadOnlySpan<float> mean, Span<float> invStd, Span<float> runMean, Span<float> runVar,
        int rows, int cols, int blocks, float eps, float momentum, bool updateRunning)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm training needs at least one row.");
        if (updateRunning && rows < 2)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm cannot update its running variance from a batch of one row (the unbiased estimate divides by rows − 1).");
        Checks.NonNegative(blocks, nameof(blocks));
        Checks.Length(squares.Length, (long)blocks * cols, nameof(squares));
        Checks.Length(mean.Length, cols, nameof(mean));
        Checks.Length(invStd.Length, cols, nameof(invStd));
        if (updateRunning)
        {
            Checks.Length(runMean.Length, cols, nameof(runMean));
            Checks.Length(runVar.Length, cols, nameof(runVar));
        }
        for (int c = 0; c < cols; c++)
            SetStatistics(AddBlocks(squares, c, cols, blocks) / rows, mean, invStd, runMean, runVar, c, rows, eps, momentum, updateRunning);
    }

    /// <summary>invStd[c] from the biased variance, and the running averages (runVar unbiased) when <paramref name="updateRunning"/>.</summary>
    private static void SetStatistics(double variance, ReadOnlySpan<float> mean, Span<float> invStd, Span<float> runMean, Span<float> runVar,
        int c, int rows, float eps, float momentum, bool updateRunning)
    {
        invStd[c] = (float)(1 / Math.Sqrt(variance + eps));
        if (!updateRunning) return;
        double keep = 1.0 - momentum;
        runMean[c] = (float)(keep * runMean[c] + momentum * (double)mean[c]);
        runVar[c] = (float)(keep * runVar[c] + momentum * (variance * rows / (rows - 1)));
    }

    /// <summary>y[r,c] = f(gamma[c]·(z[r,c] − mean[c])·invStd[c] + beta[c])·mask[r,c] over the given rows (mask empty = 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NormalizeRows<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> invStd, ReadOnlySpan<float> mask, Span<float> y, int rows, int cols, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        Checks.NonNegative(rows, nameof(rows));
        long size = (long)rows * cols;
        Checks.Length(z.Length, size, nameof(z));
        Checks.Length(gamma.Length, cols, nameof(gamma));
        Checks.Length(beta.Length, cols, nameof(beta));
        Checks.Length(mean.Length, cols, nameof(mean));
        Checks.Length(invStd.Length, cols, nameof(invStd));
        Checks.Optional(mask.Length, size, nameof(mask));
        Checks.Length(y.Length, size, nameof(y));
        var a = new TrainArgs(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(gamma), ref MemoryMarshal.GetReference(beta),
            ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<float>(), ref MemoryMarshal.GetReference(mean),
            ref MemoryMarshal.GetReference(invStd), ref MemoryMarshal.GetReference(mask), ref MemoryMarshal.GetReference(y),
            rows, cols, 0, 0, false, !mask.IsEmpty);
        Normalize<TIsa, TAct>(ref a, 0, cols, act);
    }

    /// <summary>The normalisation pass over columns [c0, c1), from SaveMean/SaveInvStd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Normalize<TIsa, TAct>(ref TrainArgs a, int c0, int c1, in TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        int c, rows = a.Rows;
        nint cols = a.Cols;
        var run = new NormalizeColumnsRun<TAct> { A = a, C0 = c0, C1 = c1, Act = act };
        c = VectorPath.Run<TIsa, NormalizeColumnsRun<TAct>>(ref run);
        for (; c < c1; c++)
        {
            float mu = Unsafe.Add(ref a.SaveMean, c), scale = Unsafe.Add(ref a.Gamma, c) * Unsafe.Add(ref a.SaveInvStd, c), shift = Unsafe.Add(ref a.Beta, c);
            for (int r = 0; r < rows; r++)
            {
                nint o = r * cols + c;
                float v = act.Forward(float.MultiplyAddEstimate(Unsafe.Add(ref a.Z, o) - mu, scale, shift));
                Unsafe.Add(ref a.Y, o) = a.Masked ? v * Unsafe.Add(ref a.Mask, o) : v;
            }
        }
    }

    /// <summary>The normalisation pass over whole vectors of columns in [c0, c1), from SaveMean/SaveInvStd; returns the first column left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int NormalizeColumns<TO, TV, TAct>(ref TrainArgs a, int c0, int c1, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TAct : struct, IActivation
    {
        int w = TO.Count, c = c0, rows = a.Rows;
        nint cols = a.Cols;
        for (; c + w <= c1; c += w)
        {
            TV mean = TO.Load(ref a.SaveMean, c);
            TV scale = TO.Mul(TO.Load(ref a.Gamma, c), TO.Load(ref a.SaveInvStd, c));
            TV shift = TO.Load(ref a.Beta, c);
            for (int r = 0; r < rows; r++)
            {
                nint o = r * cols + c;
                TV v = TO.Forward(act, TO.Fma(TO.Sub(TO.Load(ref a.Z, o), mean), scale, shift));
                if (a.Masked) v = TO.Mul(v, TO.Load(ref a.Mask, o));
                TO.Store(v, ref a.Y, o);
            }
        }
        return c;
    }

    /// <summary>
    /// The first half of <see cref="Backward{TIsa, TAct}"/> for each block b in [b0, b1) (z, dy, mask, dz: the whole
    /// rows×cols batch): g = dy·mask·f'(u) is stored into dz (dz may alias dy), and sums[b·2·cols + c] = Σ g,
    /// sums[b·2·cols + cols + c] = Σ g·x̂ over the block's rows (its parts of dβ and dγ), in double in row order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BlockBackwardSums<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> saveMean, ReadOnlySpan<float> saveInvStd,
        Span<float> dz, Span<double> sums, int rows, int cols, int blockRows, int b0, int b1, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        Checks.NonNegative(cols, nameof(cols));
        CheckBlocks(rows, blockRows, b0, b1);
        long size = (long)rows * cols;
        Checks.Length(z.Length, size, nameof(z));
        Checks.Length(dy.Length, size, nameof(dy));
        Checks.Optional(mask.Length, size, nameof(mask));
        Checks.Length(gamma.Length, cols, nameof(gamma));
        Checks.Length(beta.Length, cols, nameof(beta));
        Checks.Length(saveMean.Length, cols, nameof(saveMean));
        Checks.Length(saveInvStd.Length, cols, nameof(saveInvStd));
        Checks.Length(dz.Length, size, nameof(dz));
        Checks.Length(sums.Length, 2L * BlockCount(rows, blockRows) * cols, nameof(sums));
        var a = new BackArgs(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(dy), ref MemoryMarshal.GetReference(mask),
            ref MemoryMarshal.GetReference(gamma), ref MemoryMarshal.GetReference(beta), ref MemoryMarshal.GetReference(saveMean),
            ref MemoryMarshal.GetReference(saveInvStd), ref MemoryMarshal.GetReference(dz), ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<float>(),
            rows, cols, !mask.IsEmpty);
        for (int b = b0; b < b1; b++)
        {
            int r0 = b * blockRows;
            BackwardSums<TIsa, TAct>(ref a, sums.Slice(2 * b * cols, cols), sums.Slice((2 * b + 1) * cols, cols), r0, Math.Min(rows, r0 + blockRows), 0, cols, act);
        }
    }

    /// <summary>
    /// Backward's first pass over rows [r0, r1) and columns [c0, c1): g = dy·mask·f'(u) into Dz, sumG[c − c0] = Σg and
    /// sumGx[c − c0] = Σg·x̂ in double, rows in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardSums<TIsa, TAct>(ref BackArgs a, scoped Span<double> sumG, scoped Span<double> sumGx, int r0, int r1, int c0, int c1, in TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        ref double sg = ref MemoryMarshal.GetReference(sumG);
        ref double sgx = ref MemoryMarshal.GetReference(sumGx);
        int c, cols = a.Cols;
        var run = new BlockBackwardColumnsRun<TAct> { A = a, SumG = ref sg, SumGx = ref sgx, R0 = r0, R1 = r1, C0 = c0, C1 = c1, Act = act };
        c = VectorPath.RunWide<TIsa, BlockBackwardColumnsRun<TAct>>(ref run);
        for (; c < c1; c++)
        {
            float mean = Unsafe.Add(ref a.SaveMean, c), invStd = Unsafe.Add(ref a.SaveInvStd, c);
            float gamma = Unsafe.Add(ref a.Gamma, c), beta = Unsafe.Add(ref a.Beta, c);
            double s = 0, sx = 0;
            for (int r = r0; r < r1; r++)
            {
                nint o = (nint)r * cols + c;
                float xh = (Unsafe.Add(ref a.Z, o) - mean) * invStd;
                float u = float.MultiplyAddEstimate(gamma, xh, beta);
                float g = Unsafe.Add(ref a.Dy, o) * act.Derivative(u, act.Forward(u));
                if (a.Masked) g *= Unsafe.Add(ref a.Mask, o);
                Unsafe.Add(ref a.Dz, o) = g;
                s += g;
                sx = double.MultiplyAddEstimate(g, xh, sx);
            }
            Unsafe.Add(ref sg, c - c0) = s;
            Unsafe.Add(ref sgx, c - c0) = sx;
        }
    }

    /// <summary>Backward's first pass for rows [r0, r1) over whole vectors of columns in [c0, c1): g into Dz, Σg and Σg·x̂ in double at c − c0; returns the first column left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int BlockBackwardColumns<TO, TV, TW, TD, TAct>(ref BackArgs a, ref double sumG, ref double sumGx, int r0, int r1, int c0, int c1, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TW : struct, IWideOps<TV, TD> where TD : struct where TAct : struct, IActivation
    {
        int w = TO.Count, c = c0, cols = a.Cols;
        for (; c + w <= c1; c += w)
        {
            TV mean = TO.Load(ref a.SaveMean, c), invStd = TO.Load(ref a.SaveInvStd, c);
            TV gamma = TO.Load(ref a.Gamma, c), beta = TO.Load(ref a.Beta, c);
            TD sgLo = TW.Zero, sgHi = TW.Zero, sxLo = TW.Zero, sxHi = TW.Zero;
            for (int r = r0; r < r1; r++)
            {
                nint o = (nint)r * cols + c;
                TV xh = TO.Mul(TO.Sub(TO.Load(ref a.Z, o), mean), invStd);
                TV u = TO.Fma(gamma, xh, beta);
                TV g = TO.Mul(TO.Load(ref a.Dy, o), TO.Derivative(act, u, TO.Forward(act, u)));
                if (a.Masked) g = TO.Mul(g, TO.Load(ref a.Mask, o));
                TO.Store(g, ref a.Dz, o);
                TD gLo = TW.Lower(g), gHi = TW.Upper(g);
                sgLo = TW.Add(sgLo, gLo);
                sgHi = TW.Add(sgHi, gHi);
                sxLo = TW.Fma(gLo, TW.Lower(xh), sxLo);
                sxHi = TW.Fma(gHi, TW.Upper(xh), sxHi);
            }
            TW.Store(sgLo, ref sumG, c - c0);
            TW.Store(sgHi, ref sumG, c - c0 + w / 2);
            TW.Store(sxLo, ref sumGx, c - c0);
            TW.Store(sxHi, ref sumGx, c - c0 + w / 2);
        }
        return c;
    }

    /// <summary>dβ[c] = Σ_b sums[b·2·cols + c], dγ[c] = Σ_b sums[b·2·cols + cols + c] over the blocks' <see cref="BlockBackwardSums{TIsa, TAct}"/>, in block order, in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CombineBackwardSums(ReadOnlySpan<double> sums, Span<float> dgamma, Span<float> dbeta, int cols, int blocks)
    {
        Checks.NonNegative(blocks, nameof(blocks));
        Checks.Length(sums.Length, 2L * blocks * cols, nameof(sums));
        Checks.Length(dgamma.Length, cols, nameof(dgamma));
        Checks.Length(dbeta.Length, cols, nameof(dbeta));
        for (int c = 0; c < cols; c++)
        {
            dbeta[c] = (float)AddBlocks(sums, c, 2 * cols, blocks);
            dgamma[c] = (float)AddBlocks(sums, cols + c, 2 * cols, blocks);
        }
    }

    /// <summary>
    /// The second half of <see cref="Backward{TIsa, TAct}"/> over the given rows, with the whole batch's sums
    /// (dβ = Σg, dγ = Σg·x̂ over <paramref name="batchRows"/> rows): dz = gamma·invStd/N·(N·g − Σg − x̂·Σg·x̂), g read from dz.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardRows<TIsa>(ReadOnlySpan<float> z, ReadOnlySpan<float> gamma, ReadOnlySpan<float> saveMean, ReadOnlySpan<float> saveInvStd,
        ReadOnlySpan<float> dgamma, ReadOnlySpan<float> dbeta, Span<float> dz, int rows, int cols, int batchRows)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(rows, nameof(rows));
        if (batchRows < 1) throw new ArgumentOutOfRangeException(nameof(batchRows), batchRows, "BatchNorm backward needs at least one row.");
        long size = (long)rows * cols;
        Checks.Length(z.Length, size, nameof(z));
        Checks.Length(gamma.Length, cols, nameof(gamma));
        Checks.Length(saveMean.Length, cols, nameof(saveMean));
        Checks.Length(saveInvStd.Length, cols, nameof(saveInvStd));
        Checks.Length(dgamma.Length, cols, nameof(dgamma));
        Checks.Length(dbeta.Length, cols, nameof(dbeta));
        Checks.Length(dz.Length, size, nameof(dz));
        BackwardRowRange<TIsa>(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(gamma), ref MemoryMarshal.GetReference(saveMean),
            ref MemoryMarshal.GetReference(saveInvStd), ref MemoryMarshal.GetReference(dgamma), ref MemoryMarshal.GetReference(dbeta),
            ref MemoryMarshal.GetReference(dz), rows, cols, batchRows, 0, cols);
    }

    /// <summary>Backward's second pass over columns [c0, c1): dz from g (in dz) and the batch's sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRowRange<TIsa>(ref float pz, ref float pg, ref float pm, ref float ps, ref float pdg, ref float pdb, ref float pdz,
        int rows, int cols, int batchRows, int c0, int c1)
        where TIsa : struct, ISimdPath
    {
        int c;
        var run = new BackwardRowColumnsRun { Z = ref pz, Gamma = ref pg, SaveMean = ref pm, SaveInvStd = ref ps, Dgamma = ref pdg, Dbeta = ref pdb, Dz = ref pdz, Rows = rows, Cols = cols, BatchRows = batchRows, C0 = c0, C1 = c1 };
        c = VectorPath.Run<TIsa, BackwardRowColumnsRun>(ref run);
        for (; c < c1; c++)
        {
            float mean = Unsafe.Add(ref pm, c), invStd = Unsafe.Add(ref ps, c), sg = Unsafe.Add(ref pdb, c), sgx = Unsafe.Add(ref pdg, c);
            float k = Unsafe.Add(ref pg, c) * invStd / batchRows;
            for (int r = 0; r < rows; r++)
            {
                nint o = (nint)r * cols + c;
                float xh = (Unsafe.Add(ref pz, o) - mean) * invStd;
                Unsafe.Add(ref pdz, o) = k * (batchRows * Unsafe.Add(ref pdz, o) - sg - xh * sgx);
            }
        }
    }

    /// <summary>Backward's second pass over whole vectors of columns in [c0, c1): dz from g (in dz) and the batch's sums; returns the first column left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int BackwardRowColumns<TO, TV>(ref float z, ref float gamma, ref float saveMean, ref float saveInvStd, ref float dgamma, ref float dbeta,
        ref float dz, int rows, int cols, int batchRows, int c0, int c1)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, c = c0;
        TV n = TO.Splat(batchRows);
        for (; c + w <= c1; c += w)
        {
            TV mean = TO.Load(ref saveMean, c), invStd = TO.Load(ref saveInvStd, c);
            TV sg = TO.Load(ref dbeta, c), sgx = TO.Load(ref dgamma, c);
            TV k = TO.Div(TO.Mul(TO.Load(ref gamma, c), invStd), n);
            for (int r = 0; r < rows; r++)
            {
                nint o = (nint)r * cols + c;
                TV xh = TO.Mul(TO.Sub(TO.Load(ref z, o), mean), invStd);
                TV inner = TO.Sub(TO.Sub(TO.Mul(n, TO.Load(ref dz, o)), sg), TO.Mul(xh, sgx));
                TO.Store(TO.Mul(k, inner), ref dz, o);
            }
        }
        return c;
    }

    /// <summary>SumColumns's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct SumColumnsRun : IWideKernel
    {
        public ref float Z;
        public ref double Sums;
        public int Cols;
        public int R0;
        public int R1;
        public int C0;
        public int C1;

        int IWideKernel.Run<TO, TV, TW, TD>() => SumColumns<TO, TV, TW, TD>(ref Z, ref Sums, Cols, R0, R1, C0, C1);
    }

    /// <summary>SquaredDeviationColumns's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct SquaredDeviationColumnsRun : IWideKernel
    {
        public ref float Z;
        public ref float Mean;
        public ref double Squares;
        public int Cols;
        public int R0;
        public int R1;
        public int C0;
        public int C1;

        int IWideKernel.Run<TO, TV, TW, TD>() => SquaredDeviationColumns<TO, TV, TW, TD>(ref Z, ref Mean, ref Squares, Cols, R0, R1, C0, C1);
    }

    /// <summary>NormalizeColumns's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct NormalizeColumnsRun<TAct> : IVectorKernel where TAct : struct, IActivation
    {
        public TrainArgs A;
        public int C0;
        public int C1;
        public TAct Act;

        int IVectorKernel.Run<TO, TV>() => NormalizeColumns<TO, TV, TAct>(ref A, C0, C1, in Act);
    }

    /// <summary>BlockBackwardColumns's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct BlockBackwardColumnsRun<TAct> : IWideKernel where TAct : struct, IActivation
    {
        public BackArgs A;
        public ref double SumG;
        public ref double SumGx;
        public int R0;
        public int R1;
        public int C0;
        public int C1;
        public TAct Act;

        int IWideKernel.Run<TO, TV, TW, TD>() => BlockBackwardColumns<TO, TV, TW, TD, TAct>(ref A, ref SumG, ref SumGx, R0, R1, C0, C1, in Act);
    }

    /// <summary>BackwardRowColumns's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct BackwardRowColumnsRun : IVectorKernel
    {
        public ref float Z;
        public ref float Gamma;
        public ref float SaveMean;
        public ref float SaveInvStd;
        public ref float Dgamma;
        public ref float Dbeta;
        public ref float Dz;
        public int Rows;
        public int Cols;
        public int BatchRows;
        public int C0;
        public int C1;

        int IVectorKernel.Run<TO, TV>() => BackwardRowColumns<TO, TV>(ref Z, ref Gamma, ref SaveMean, ref SaveInvStd, ref Dgamma, ref Dbeta, ref Dz, Rows, Cols, BatchRows, C0, C1);
    }
}
