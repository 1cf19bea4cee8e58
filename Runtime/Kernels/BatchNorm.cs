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
    /// <remarks>The variance is two-pass (Σ(z − mean)²), which stays accurate when |mean| ≫ std.</remarks>
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
        int c;
        if (VectorPath.Is512<TIsa>()) c = ForwardTrainColumns<Ops512, Vector512<float>, TAct>(ref a, c0, c1, act);
        else if (VectorPath.Is256<TIsa>()) c = ForwardTrainColumns<Ops256, Vector256<float>, TAct>(ref a, c0, c1, act);
        else c = ForwardTrainColumns<Ops128, Vector128<float>, TAct>(ref a, c0, c1, act);
        for (; c < c1; c++) ForwardTrainScalar(ref a, c, act);
    }

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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ForwardTrainColumns<TO, TV, TAct>(ref TrainArgs a, int c0, int c1, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TAct : struct, IActivation
    {
        int w = TO.Count, c = c0, rows = a.Rows;
        nint cols = a.Cols;
        TV invRows = TO.Splat(1f / rows);
        for (; c + w <= c1; c += w)
        {
            TV sum = TO.Zero;
            for (int r = 0; r < rows; r++) sum = TO.Add(sum, TO.Load(ref a.Z, r * cols + c));
            TV mean = TO.Mul(sum, invRows);
            TV sq = TO.Zero;
            for (int r = 0; r < rows; r++)
            {
                TV d = TO.Sub(TO.Load(ref a.Z, r * cols + c), mean);
                sq = TO.Fma(d, d, sq);
            }
            TV variance = TO.Mul(sq, invRows);
            TV invStd = TO.Div(TO.Splat(1f), TO.Sqrt(TO.Add(variance, TO.Splat(a.Eps))));
            TO.Store(mean, ref a.SaveMean, c);
            TO.Store(invStd, ref a.SaveInvStd, c);
            if (a.UpdateRunning)
            {
                TV m = TO.Splat(a.Momentum), keep = TO.Splat(1f - a.Momentum);
                TO.Store(TO.Fma(keep, TO.Load(ref a.RunMean, c), TO.Mul(m, mean)), ref a.RunMean, c);
                TV unbiased = TO.Mul(variance, TO.Splat((float)rows / (rows - 1)));
                TO.Store(TO.Fma(keep, TO.Load(ref a.RunVar, c), TO.Mul(m, unbiased)), ref a.RunVar, c);
            }
        }
        // The statistics of every whole vector of columns are stored; normalise them as the row-split pipeline does.
        return NormalizeColumns<TO, TV, TAct>(ref a, c0, c, act);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTrainScalar<TAct>(ref TrainArgs a, int c, in TAct act) where TAct : struct, IActivation
    {
        int rows = a.Rows;
        nint cols = a.Cols;
        float sum = 0;
        for (int r = 0; r < rows; r++) sum += Unsafe.Add(ref a.Z, r * cols + c);
        float mean = sum * (1f / rows);
        float sq = 0;
        for (int r = 0; r < rows; r++)
        {
            float d = Unsafe.Add(ref a.Z, r * cols + c) - mean;
            sq = float.MultiplyAddEstimate(d, d, sq);
        }
        float variance = sq * (1f / rows);
        float invStd = 1f / MathF.Sqrt(variance + a.Eps);
        Unsafe.Add(ref a.SaveMean, c) = mean;
        Unsafe.Add(ref a.SaveInvStd, c) = invStd;
        if (a.UpdateRunning)
        {
            float keep = 1f - a.Momentum;
            Unsafe.Add(ref a.RunMean, c) = float.MultiplyAddEstimate(keep, Unsafe.Add(ref a.RunMean, c), a.Momentum * mean);
            Unsafe.Add(ref a.RunVar, c) = float.MultiplyAddEstimate(keep, Unsafe.Add(ref a.RunVar, c), a.Momentum * (variance * ((float)rows / (rows - 1))));
        }
        float scale = Unsafe.Add(ref a.Gamma, c) * invStd, shift = Unsafe.Add(ref a.Beta, c);
        for (int r = 0; r < rows; r++)
        {
            nint o = r * cols + c;
            float v = act.Forward(float.MultiplyAddEstimate(Unsafe.Add(ref a.Z, o) - mean, scale, shift));
            Unsafe.Add(ref a.Y, o) = a.Masked ? v * Unsafe.Add(ref a.Mask, o) : v;
        }
    }

    /// <summary>
    /// Backward for columns [c0, c1), fused with the activation and dropout after BN:
    /// x̂ = (z − mean)·invStd, u = gamma·x̂ + beta, g = dy·mask·f'(u, f(u));
    /// dgamma[c] = Σ_r g·x̂, dbeta[c] = Σ_r g (overwritten);
    /// dz = gamma·invStd/rows·(rows·g − Σ_r g − x̂·Σ_r g·x̂). dz may alias dy.
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
        int c;
        if (VectorPath.Is512<TIsa>()) c = BackwardColumns<Ops512, Vector512<float>, TAct>(ref a, c0, c1, act);
        else if (VectorPath.Is256<TIsa>()) c = BackwardColumns<Ops256, Vector256<float>, TAct>(ref a, c0, c1, act);
        else c = BackwardColumns<Ops128, Vector128<float>, TAct>(ref a, c0, c1, act);
        for (; c < c1; c++) BackwardScalar(ref a, c, act);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int BackwardColumns<TO, TV, TAct>(ref BackArgs a, int c0, int c1, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TAct : struct, IActivation
    {
        // The two passes of the row-split pipeline over the whole batch: g and the sums, then dz.
        int c = BackwardSumColumns<TO, TV, TAct>(ref a, c0, c1, act);
        BackwardRowColumns<TO, TV>(ref a.Z, ref a.Gamma, ref a.SaveMean, ref a.SaveInvStd, ref a.Dgamma, ref a.Dbeta, ref a.Dz, a.Rows, a.Cols, a.Rows, c0, c);
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardScalar<TAct>(ref BackArgs a, int c, in TAct act) where TAct : struct, IActivation
    {
        BackwardSumScalar(ref a, c, act);
        int rows = a.Rows;
        nint cols = a.Cols;
        float mean = Unsafe.Add(ref a.SaveMean, c), invStd = Unsafe.Add(ref a.SaveInvStd, c);
        float sg = Unsafe.Add(ref a.Dbeta, c), sgx = Unsafe.Add(ref a.Dgamma, c);
        float k = Unsafe.Add(ref a.Gamma, c) * invStd / rows;
        for (int r = 0; r < rows; r++)
        {
            nint o = r * cols + c;
            float xh = (Unsafe.Add(ref a.Z, o) - mean) * invStd;
            Unsafe.Add(ref a.Dz, o) = k * (rows * Unsafe.Add(ref a.Dz, o) - sg - xh * sgx);
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
        if (VectorPath.Is512<TIsa>()) c = EvalColumns<Ops512, Vector512<float>, TAct>(ref pz, ref pg, ref pb, ref pm, ref pv, ref py, rows, cols, eps, outScale, act);
        else if (VectorPath.Is256<TIsa>()) c = EvalColumns<Ops256, Vector256<float>, TAct>(ref pz, ref pg, ref pb, ref pm, ref pv, ref py, rows, cols, eps, outScale, act);
        else c = EvalColumns<Ops128, Vector128<float>, TAct>(ref pz, ref pg, ref pb, ref pm, ref pv, ref py, rows, cols, eps, outScale, act);
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
}
