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
//   forward:  PartialSums (= Gemm.ColumnSums of the thread's rows) → CombineMean → PartialSquaredDeviations →
//             CombineVariance → NormalizeRows
//   backward: PartialBackwardSums → CombineBackwardSums (dγ, dβ) → BackwardRows, then the γ/β update
//
// The Combine steps are tiny (parts × columns adds) and run on one thread between the parallel steps. The
// arithmetic is that of ForwardTrain/Backward (two-pass variance); only the order of the row sums differs.
public static partial class BatchNorm
{
    /// <summary>mean[c] = Σ_p sums[p·cols + c] / rows for the <paramref name="parts"/> partial column sums.</summary>
    public static void CombineMean(ReadOnlySpan<float> sums, Span<float> mean, int rows, int cols, int parts)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm training needs at least one row.");
        Checks.Length(sums.Length, (long)parts * cols, nameof(sums));
        Checks.Length(mean.Length, cols, nameof(mean));
        for (int c = 0; c < cols; c++)
        {
            float s = 0;
            for (int p = 0; p < parts; p++) s += sums[p * cols + c];
            mean[c] = s * (1f / rows);
        }
    }

    /// <summary>squares[c] = Σ_r (z[r,c] − mean[c])² over the rows of <paramref name="z"/> (one thread's rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PartialSquaredDeviations<TIsa>(ReadOnlySpan<float> z, ReadOnlySpan<float> mean, Span<float> squares, int rows, int cols)
        where TIsa : struct, ISimdPath
    {
        Checks.NonNegative(rows, nameof(rows));
        Checks.Length(z.Length, (long)rows * cols, nameof(z));
        Checks.Length(mean.Length, cols, nameof(mean));
        Checks.Length(squares.Length, cols, nameof(squares));
        ref float pz = ref MemoryMarshal.GetReference(z);
        ref float pm = ref MemoryMarshal.GetReference(mean);
        ref float ps = ref MemoryMarshal.GetReference(squares);
        int c;
        if (VectorPath.Is512<TIsa>()) c = SquaredDeviationColumns<Ops512, Vector512<float>>(ref pz, ref pm, ref ps, rows, cols);
        else if (VectorPath.Is256<TIsa>()) c = SquaredDeviationColumns<Ops256, Vector256<float>>(ref pz, ref pm, ref ps, rows, cols);
        else c = SquaredDeviationColumns<Ops128, Vector128<float>>(ref pz, ref pm, ref ps, rows, cols);
        for (; c < cols; c++)
        {
            float mu = Unsafe.Add(ref pm, c), sq = 0;
            for (int r = 0; r < rows; r++)
            {
                float d = Unsafe.Add(ref pz, (nint)r * cols + c) - mu;
                sq = float.MultiplyAddEstimate(d, d, sq);
            }
            Unsafe.Add(ref ps, c) = sq;
        }
    }

    private static int SquaredDeviationColumns<TO, TV>(ref float z, ref float mean, ref float squares, int rows, int cols)
        where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, c = 0;
        for (; c + w <= cols; c += w)
        {
            TV mu = TO.Load(ref mean, c), sq = TO.Zero;
            for (int r = 0; r < rows; r++)
            {
                TV d = TO.Sub(TO.Load(ref z, (nint)r * cols + c), mu);
                sq = TO.Fma(d, d, sq);
            }
            TO.Store(sq, ref squares, c);
        }
        return c;
    }

    /// <summary>
    /// From the partial squared deviations: invStd[c] = 1/sqrt(var + eps) with var = Σ_p squares / rows (biased), and,
    /// when <paramref name="updateRunning"/>, the running averages as in <see cref="ForwardTrain{TIsa, TAct}"/>
    /// (runVar takes the unbiased var·rows/(rows − 1)).
    /// </summary>
    public static void CombineVariance(ReadOnlySpan<float> squares, ReadOnlySpan<float> mean, Span<float> invStd, Span<float> runMean, Span<float> runVar,
        int rows, int cols, int parts, float eps, float momentum, bool updateRunning)
    {
        if (updateRunning && rows < 2)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "BatchNorm cannot update its running variance from a batch of one row (the unbiased estimate divides by rows − 1).");
        Checks.Length(squares.Length, (long)parts * cols, nameof(squares));
        Checks.Length(mean.Length, cols, nameof(mean));
        Checks.Length(invStd.Length, cols, nameof(invStd));
        for (int c = 0; c < cols; c++)
        {
            float sq = 0;
            for (int p = 0; p < parts; p++) sq += squares[p * cols + c];
            float variance = sq * (1f / rows);
            invStd[c] = 1f / MathF.Sqrt(variance + eps);
            if (!updateRunning) continue;
            float keep = 1f - momentum;
            runMean[c] = float.MultiplyAddEstimate(keep, runMean[c], momentum * mean[c]);
            runVar[c] = float.MultiplyAddEstimate(keep, runVar[c], momentum * (variance * ((float)rows / (rows - 1))));
        }
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
        int c;
        if (VectorPath.Is512<TIsa>()) c = NormalizeColumns<Ops512, Vector512<float>, TAct>(ref a, 0, cols, act);
        else if (VectorPath.Is256<TIsa>()) c = NormalizeColumns<Ops256, Vector256<float>, TAct>(ref a, 0, cols, act);
        else c = NormalizeColumns<Ops128, Vector128<float>, TAct>(ref a, 0, cols, act);
        for (; c < cols; c++)
        {
            float mu = Unsafe.Add(ref a.SaveMean, c), scale = Unsafe.Add(ref a.Gamma, c) * Unsafe.Add(ref a.SaveInvStd, c), shift = Unsafe.Add(ref a.Beta, c);
            for (int r = 0; r < rows; r++)
            {
                nint o = (nint)r * cols + c;
                float v = act.Forward(float.MultiplyAddEstimate(Unsafe.Add(ref a.Z, o) - mu, scale, shift));
                Unsafe.Add(ref a.Y, o) = a.Masked ? v * Unsafe.Add(ref a.Mask, o) : v;
            }
        }
    }

    /// <summary>The normalisation pass over whole vectors of columns in [c0, c1), from SaveMean/SaveInvStd; returns the first column left.</summary>
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
    /// The first half of <see cref="Backward{TIsa, TAct}"/> over the given rows: g = dy·mask·f'(u) is stored into dz
    /// (dz may alias dy), and sums[c] = Σ_r g, sums[cols + c] = Σ_r g·x̂ (this thread's partial dβ and dγ).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PartialBackwardSums<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> saveMean, ReadOnlySpan<float> saveInvStd,
        Span<float> dz, Span<float> sums, int rows, int cols, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        Checks.NonNegative(rows, nameof(rows));
        long size = (long)rows * cols;
        Checks.Length(z.Length, size, nameof(z));
        Checks.Length(dy.Length, size, nameof(dy));
        Checks.Optional(mask.Length, size, nameof(mask));
        Checks.Length(gamma.Length, cols, nameof(gamma));
        Checks.Length(beta.Length, cols, nameof(beta));
        Checks.Length(saveMean.Length, cols, nameof(saveMean));
        Checks.Length(saveInvStd.Length, cols, nameof(saveInvStd));
        Checks.Length(dz.Length, size, nameof(dz));
        Checks.Length(sums.Length, 2L * cols, nameof(sums));
        var a = new BackArgs(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(dy), ref MemoryMarshal.GetReference(mask),
            ref MemoryMarshal.GetReference(gamma), ref MemoryMarshal.GetReference(beta), ref MemoryMarshal.GetReference(saveMean),
            ref MemoryMarshal.GetReference(saveInvStd), ref MemoryMarshal.GetReference(dz), ref MemoryMarshal.GetReference(sums.Slice(cols)),
            ref MemoryMarshal.GetReference(sums), rows, cols, !mask.IsEmpty);
        int c;
        if (VectorPath.Is512<TIsa>()) c = BackwardSumColumns<Ops512, Vector512<float>, TAct>(ref a, 0, cols, act);
        else if (VectorPath.Is256<TIsa>()) c = BackwardSumColumns<Ops256, Vector256<float>, TAct>(ref a, 0, cols, act);
        else c = BackwardSumColumns<Ops128, Vector128<float>, TAct>(ref a, 0, cols, act);
        for (; c < cols; c++) BackwardSumScalar(ref a, c, act);
    }

    /// <summary>Backward's first pass for one column: g into Dz, Σg·x̂ into Dgamma[c], Σg into Dbeta[c].</summary>
    private static void BackwardSumScalar<TAct>(ref BackArgs a, int c, in TAct act) where TAct : struct, IActivation
    {
        int rows = a.Rows;
        nint cols = a.Cols;
        float mean = Unsafe.Add(ref a.SaveMean, c), invStd = Unsafe.Add(ref a.SaveInvStd, c);
        float gamma = Unsafe.Add(ref a.Gamma, c), beta = Unsafe.Add(ref a.Beta, c), sg = 0, sgx = 0;
        for (int r = 0; r < rows; r++)
        {
            nint o = r * cols + c;
            float xh = (Unsafe.Add(ref a.Z, o) - mean) * invStd;
            float u = float.MultiplyAddEstimate(gamma, xh, beta);
            float g = Unsafe.Add(ref a.Dy, o) * act.Derivative(u, act.Forward(u));
            if (a.Masked) g *= Unsafe.Add(ref a.Mask, o);
            Unsafe.Add(ref a.Dz, o) = g;
            sg += g;
            sgx = float.MultiplyAddEstimate(g, xh, sgx);
        }
        Unsafe.Add(ref a.Dgamma, c) = sgx;
        Unsafe.Add(ref a.Dbeta, c) = sg;
    }

    /// <summary>Backward's first pass over whole vectors of columns in [c0, c1): g into Dz, Σg·x̂ into Dgamma, Σg into Dbeta; returns the first column left.</summary>
    private static int BackwardSumColumns<TO, TV, TAct>(ref BackArgs a, int c0, int c1, in TAct act)
        where TO : struct, IVectorOps<TV> where TV : struct where TAct : struct, IActivation
    {
        int w = TO.Count, c = c0, rows = a.Rows;
        nint cols = a.Cols;
        for (; c + w <= c1; c += w)
        {
            TV mean = TO.Load(ref a.SaveMean, c), invStd = TO.Load(ref a.SaveInvStd, c);
            TV gamma = TO.Load(ref a.Gamma, c), beta = TO.Load(ref a.Beta, c);
            TV sg = TO.Zero, sgx = TO.Zero;
            for (int r = 0; r < rows; r++)
            {
                nint o = r * cols + c;
                TV xh = TO.Mul(TO.Sub(TO.Load(ref a.Z, o), mean), invStd);
                TV u = TO.Fma(gamma, xh, beta);
                TV g = TO.Mul(TO.Load(ref a.Dy, o), TO.Derivative(act, u, TO.Forward(act, u)));
                if (a.Masked) g = TO.Mul(g, TO.Load(ref a.Mask, o));
                TO.Store(g, ref a.Dz, o);
                sg = TO.Add(sg, g);
                sgx = TO.Fma(g, xh, sgx);
            }
            TO.Store(sgx, ref a.Dgamma, c);
            TO.Store(sg, ref a.Dbeta, c);
        }
        return c;
    }

    /// <summary>dβ[c] = Σ_p sums[p·2·cols + c], dγ[c] = Σ_p sums[p·2·cols + cols + c] over the parts' <see cref="PartialBackwardSums{TIsa, TAct}"/>.</summary>
    public static void CombineBackwardSums(ReadOnlySpan<float> sums, Span<float> dgamma, Span<float> dbeta, int cols, int parts)
    {
        Checks.Length(sums.Length, 2L * parts * cols, nameof(sums));
        Checks.Length(dgamma.Length, cols, nameof(dgamma));
        Checks.Length(dbeta.Length, cols, nameof(dbeta));
        for (int c = 0; c < cols; c++)
        {
            float sg = 0, sgx = 0;
            for (int p = 0; p < parts; p++)
            {
                sg += sums[2 * p * cols + c];
                sgx += sums[2 * p * cols + cols + c];
            }
            dbeta[c] = sg;
            dgamma[c] = sgx;
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
        ref float pz = ref MemoryMarshal.GetReference(z), pg = ref MemoryMarshal.GetReference(gamma);
        ref float pm = ref MemoryMarshal.GetReference(saveMean), ps = ref MemoryMarshal.GetReference(saveInvStd);
        ref float pdg = ref MemoryMarshal.GetReference(dgamma), pdb = ref MemoryMarshal.GetReference(dbeta), pdz = ref MemoryMarshal.GetReference(dz);
        int c;
        if (VectorPath.Is512<TIsa>()) c = BackwardRowColumns<Ops512, Vector512<float>>(ref pz, ref pg, ref pm, ref ps, ref pdg, ref pdb, ref pdz, rows, cols, batchRows, 0, cols);
        else if (VectorPath.Is256<TIsa>()) c = BackwardRowColumns<Ops256, Vector256<float>>(ref pz, ref pg, ref pm, ref ps, ref pdg, ref pdb, ref pdz, rows, cols, batchRows, 0, cols);
        else c = BackwardRowColumns<Ops128, Vector128<float>>(ref pz, ref pg, ref pm, ref ps, ref pdg, ref pdb, ref pdz, rows, cols, batchRows, 0, cols);
        for (; c < cols; c++)
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
}
