using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// BatchNorm over the batch (rows) of each column, fused with the activation and dropout mask that
/// follow it. The [c0, c1) column ranges let a worker pool split the columns.
/// </summary>
public static partial class BatchNorm
{
    /// <summary>
    /// Training forward for columns [c0, c1) of z (rows×cols): batch mean and biased variance per column,
    /// saveMean[c] = mean, saveInvStd[c] = 1/sqrt(var + eps); when updateRunning:
    /// runMean = (1−m)·runMean + m·mean, runVar = (1−m)·runVar + m·var·rows/(rows−1) (unbiased; rows &gt; 1).
    /// y[r,c] = f(gamma[c]·(z − mean)·invStd + beta[c])·mask[r,c] (mask empty = 1).
    /// </summary>
    /// <remarks>
    /// The variance is two-pass (Σ(z − mean)²), which stays accurate when |mean| ≫ std; both sums accumulate in double,
    /// rows in order, the same way whichever column range a thread was given.
    /// </remarks>
    public static void ForwardTrain<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        Span<float> runMean, Span<float> runVar, Span<float> saveMean, Span<float> saveInvStd, ReadOnlySpan<float> mask, Span<float> y,
        int rows, int cols, int c0, int c1, float eps, float momentum, bool updateRunning, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm training needs at least one row.");
        if (updateRunning && rows < 2)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm cannot update its running variance from a batch of one row (the unbiased estimate divides by rows − 1).");
        Checks.NonNegative(cols, nameof(cols));
        Checks.Range(c0, c1, cols, nameof(c0), nameof(c1));
        long size = (long)rows * cols;
        Checks.Length(z.Length, size, nameof(z));
        Checks.Length(gamma.Length, c1, nameof(gamma));
        Checks.Length(beta.Length, c1, nameof(beta));
        if (updateRunning)
        {
            Checks.Length(runMean.Length, c1, nameof(runMean));
            Checks.Length(runVar.Length, c1, nameof(runVar));
        }
        Checks.Length(saveMean.Length, c1, nameof(saveMean));
        Checks.Length(saveInvStd.Length, c1, nameof(saveInvStd));
        Checks.Optional(mask.Length, size, nameof(mask));
        Checks.Length(y.Length, size, nameof(y));
        var a = new TrainArgs(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(gamma), ref MemoryMarshal.GetReference(beta),
            ref MemoryMarshal.GetReference(runMean), ref MemoryMarshal.GetReference(runVar), ref MemoryMarshal.GetReference(saveMean),
            ref MemoryMarshal.GetReference(saveInvStd), ref MemoryMarshal.GetReference(mask), ref MemoryMarshal.GetReference(y),
            rows, cols, eps, momentum, updateRunning, !mask.IsEmpty);
        // Statistics a chunk of columns at a time, summed in double (the whole batch is one block of the row-split pipeline).
        Span<double> wide = stackalloc double[StatisticsChunk];
        for (int j0 = c0; j0 < c1; j0 += StatisticsChunk)
        {
            int j1 = Math.Min(c1, j0 + StatisticsChunk);
            SumColumns<TIsa>(z, wide, 0, rows, cols, j0, j1);
            for (int j = j0; j < j1; j++) saveMean[j] = (float)(wide[j - j0] / rows);
            SquaredDeviations<TIsa>(z, saveMean, wide, 0, rows, cols, j0, j1);
            for (int j = j0; j < j1; j++) SetStatistics(wide[j - j0] / rows, saveMean, saveInvStd, runMean, runVar, j, rows, eps, momentum, updateRunning);
        }
        Normalize<TIsa, TAct>(ref a, c0, c1, act);
    }

    /// <summary>Columns whose double sums <see cref="ForwardTrain{TIsa, TAct}"/> and <see cref="Backward{TIsa, TAct}"/> keep on the stack at a time.</summary>
    private const int StatisticsChunk = 64;

    /// <summary>The shared arguments of the training forward, so the per-width bodies take one parameter.</summary>
    private ref struct TrainArgs
    {
        public ref float Z, Gamma, Beta, RunMean, RunVar, SaveMean, SaveInvStd, Mask, Y;
        public int Rows, Cols;
        public float Eps, Momentum;
        public bool UpdateRunning, Masked;

        public TrainArgs(ref float z, ref float gamma, ref float beta, ref float runMean, ref float runVar, ref float saveMean,
            ref float saveInvStd, ref float mask, ref float y, int rows, int cols, float eps, float momentum, bool updateRunning, bool masked)
        {
            Z = ref z; Gamma = ref gamma; Beta = ref beta; RunMean = ref runMean; RunVar = ref runVar;
            SaveMean = ref saveMean; SaveInvStd = ref saveInvStd; Mask = ref mask; Y = ref y;
            Rows = rows; Cols = cols; Eps = eps; Momentum = momentum; UpdateRunning = updateRunning; Masked = masked;
        }
    }

    /// <summary>
    /// Backward for columns [c0, c1), fused with the activation and dropout after BN:
    /// x̂ = (z − mean)·invStd, u = gamma·x̂ + beta, g = dy·mask·f'(u, f(u));
    /// dgamma[c] = Σ_r g·x̂, dbeta[c] = Σ_r g (overwritten);
    /// dz = gamma·invStd/rows·(rows·g − Σ_r g − x̂·Σ_r g·x̂). dz may alias dy. The sums accumulate in double, rows in order.
    /// </summary>
    /// <remarks>The first pass stores g into dz (dy[r,c] is read before dz[r,c] is written), the second turns g into dz.</remarks>
    public static void Backward<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> saveMean, ReadOnlySpan<float> saveInvStd,
        Span<float> dz, Span<float> dgamma, Span<float> dbeta, int rows, int cols, int c0, int c1, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm backward needs at least one row.");
        Checks.NonNegative(cols, nameof(cols));
        Checks.Range(c0, c1, cols, nameof(c0), nameof(c1));
        long size = (long)rows * cols;
        Checks.Length(z.Length, size, nameof(z));
        Checks.Length(dy.Length, size, nameof(dy));
        Checks.Optional(mask.Length, size, nameof(mask));
        Checks.Length(gamma.Length, c1, nameof(gamma));
        Checks.Length(beta.Length, c1, nameof(beta));
        Checks.Length(saveMean.Length, c1, nameof(saveMean));
        Checks.Length(saveInvStd.Length, c1, nameof(saveInvStd));
        Checks.Length(dz.Length, size, nameof(dz));
        Checks.Length(dgamma.Length, c1, nameof(dgamma));
        Checks.Length(dbeta.Length, c1, nameof(dbeta));
        var a = new BackArgs(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(dy), ref MemoryMarshal.GetReference(mask),
            ref MemoryMarshal.GetReference(gamma), ref MemoryMarshal.GetReference(beta), ref MemoryMarshal.GetReference(saveMean),
            ref MemoryMarshal.GetReference(saveInvStd), ref MemoryMarshal.GetReference(dz), ref MemoryMarshal.GetReference(dgamma),
            ref MemoryMarshal.GetReference(dbeta), rows, cols, !mask.IsEmpty);
        // g and the column sums (in double) a chunk of columns at a time, then dz from the sums.
        Span<double> sums = stackalloc double[2 * StatisticsChunk];
        for (int j0 = c0; j0 < c1; j0 += StatisticsChunk)
        {
            int j1 = Math.Min(c1, j0 + StatisticsChunk);
            BackwardSums<TIsa, TAct>(ref a, sums.Slice(0, StatisticsChunk), sums.Slice(StatisticsChunk), 0, rows, j0, j1, act);
            for (int j = j0; j < j1; j++)
            {
                dbeta[j] = (float)sums[j - j0];
                dgamma[j] = (float)sums[StatisticsChunk + j - j0];
            }
        }
        BackwardRowRange<TIsa>(ref a.Z, ref a.Gamma, ref a.SaveMean, ref a.SaveInvStd, ref a.Dgamma, ref a.Dbeta, ref a.Dz, rows, cols, rows, c0, c1);
    }

    private ref struct BackArgs
    {
        public ref float Z, Dy, Mask, Gamma, Beta, SaveMean, SaveInvStd, Dz, Dgamma, Dbeta;
        public int Rows, Cols;
        public bool Masked;

        public BackArgs(ref float z, ref float dy, ref float mask, ref float gamma, ref float beta, ref float saveMean, ref float saveInvStd,
            ref float dz, ref float dgamma, ref float dbeta, int rows, int cols, bool masked)
        {
            Z = ref z; Dy = ref dy; Mask = ref mask; Gamma = ref gamma; Beta = ref beta; SaveMean = ref saveMean;
            SaveInvStd = ref saveInvStd; Dz = ref dz; Dgamma = ref dgamma; Dbeta = ref dbeta;
            Rows = rows; Cols = cols; Masked = masked;
        }
    }

    /// <summary>Eval: y = f(gamma·(z − runMean)/sqrt(runVar + eps) + beta)·outScale, over all rows×cols.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardEval<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runMean, ReadOnlySpan<float> runVar, Span<float> y, int rows, int cols, float eps, float outScale, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.NonNegative(cols, nameof(cols));
        long size = (long)rows * cols;
        Checks.Length(z.Length, size, nameof(z));
        Checks.Length(gamma.Length, cols, nameof(gamma));
        Checks.Length(beta.Length, cols, nameof(beta));
        Checks.Length(runMean.Length, cols, nameof(runMean));
        Checks.Length(runVar.Length, cols, nameof(runVar));
        Checks.Length(y.Length, size, nameof(y));
        ref float pz = ref MemoryMarshal.GetReference(z);
        ref float pg = ref MemoryMarshal.GetReference(gamma);
        ref float pb = ref MemoryMarshal.GetReference(beta);
        ref float pm = ref MemoryMarshal.GetReference(runMean);
        ref float pv = ref MemoryMarshal.GetReference(runVar);
        ref float py = ref MemoryMarshal.GetReference(y);
        int c;
        var run = new EvalColumnsRun<TAct> { Z = ref pz, Gamma = ref pg, Beta = ref pb, RunMean = ref pm, RunVar = ref pv, Y = ref py, Rows = rows, Cols = cols, Eps = eps, OutScale = outScale, Act = act };
        c = VectorPath.Run<TIsa, EvalColumnsRun<TAct>>(ref run);
        for (; c < cols; c++)
        {
            float s = Unsafe.Add(ref pg, c) / MathF.Sqrt(Unsafe.Add(ref pv, c) + eps);
            float mu = Unsafe.Add(ref pm, c), b = Unsafe.Add(ref pb, c);
            for (int r = 0; r < rows; r++)
            {
                nint o = (nint)r * cols + c;
                Unsafe.Add(ref py, o) = act.Forward(float.MultiplyAddEstimate(Unsafe.Add(ref pz, o) - mu, s, b)) * outScale;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int EvalColumns<TO, TV, TAct>(ref float z, ref float gamma, ref float beta, ref float runMean, ref float runVar, ref float y,
        int rows, int cols, float eps, float outScale, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TAct : struct, IActivation
    {
        int w = TO.Count, c = 0;
        TV vout = TO.Splat(outScale);
        // Column blocks outer: the per-column scale (a sqrt and a divide) is computed once per block.
        for (; c + w <= cols; c += w)
        {
            TV s = TO.Div(TO.Load(ref gamma, c), TO.Sqrt(TO.Add(TO.Load(ref runVar, c), TO.Splat(eps))));
            TV mu = TO.Load(ref runMean, c), b = TO.Load(ref beta, c);
            for (int r = 0; r < rows; r++)
            {
                nint o = (nint)r * cols + c;
                TO.Store(TO.Mul(TO.Forward(act, TO.Fma(TO.Sub(TO.Load(ref z, o), mu), s, b)), vout), ref y, o);
            }
        }
        return c;
    }

    /// <summary>
    /// Folds eval-mode BN into the preceding Dense: s = gamma/sqrt(runVar + eps); wf[i,j] = w[i,j]·s[j];
    /// bf[j] = (b[j] − runMean[j])·s[j] + beta[j] (b empty = 0). w, wf: k×n.
    /// </summary>
    /// <remarks>wf may alias w, and bf may alias b. s is computed in double.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fold(ReadOnlySpan<float> w, ReadOnlySpan<float> b, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runMean, ReadOnlySpan<float> runVar, float eps, Span<float> wf, Span<float> bf, int k, int n)
    {
        Checks.NonNegative(k, nameof(k));
        Checks.NonNegative(n, nameof(n));
        Checks.Length(w.Length, (long)k * n, nameof(w));
        Checks.Optional(b.Length, n, nameof(b));
        Checks.Length(gamma.Length, n, nameof(gamma));
        Checks.Length(beta.Length, n, nameof(beta));
        Checks.Length(runMean.Length, n, nameof(runMean));
        Checks.Length(runVar.Length, n, nameof(runVar));
        Checks.Length(wf.Length, (long)k * n, nameof(wf));
        Checks.Length(bf.Length, n, nameof(bf));
        // s in double, computed once per column (stack for typical widths, pooled beyond).
        double[]? rented = n > 1024 ? ArrayPool<double>.Shared.Rent(n) : null;
        Span<double> scale = rented is null ? stackalloc double[1024] : rented.AsSpan();
        try
        {
            for (int j = 0; j < n; j++)
            {
                double s = gamma[j] / Math.Sqrt((double)runVar[j] + eps);
                scale[j] = s;
                double bj = b.IsEmpty ? 0.0 : b[j];
                bf[j] = (float)((bj - runMean[j]) * s + beta[j]);
            }
            for (int i = 0; i < k; i++)
            {
                int o = i * n;
                for (int j = 0; j < n; j++) wf[o + j] = (float)(w[o + j] * scale[j]);
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>EvalColumns's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct EvalColumnsRun<TAct> : IVectorKernel where TAct : struct, IActivation
    {
        public ref float Z;
        public ref float Gamma;
        public ref float Beta;
        public ref float RunMean;
        public ref float RunVar;
        public ref float Y;
        public int Rows;
        public int Cols;
        public float Eps;
        public float OutScale;
        public TAct Act;

        int IVectorKernel.Run<TO, TV>() => EvalColumns<TO, TV, TAct>(ref Z, ref Gamma, ref Beta, ref RunMean, ref RunVar, ref Y, Rows, Cols, Eps, OutScale, in Act);
    }
}
