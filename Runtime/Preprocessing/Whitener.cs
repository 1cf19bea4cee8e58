using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Text.Json;
using Kiln.Data;
using Kiln.Kernels;

namespace Kiln.Preprocessing;

/// <summary>
/// Whitening from the eigen-decomposition of the training covariance Σ = (1/N) Σ_n (x_n − μ)(x_n − μ)ᵀ = U Λ Uᵀ
/// (docs/techniques.md#preprocessing): y = (x − μ) · <see cref="Matrix"/>. <see cref="PcaWhitener"/> keeps the top-k principal directions,
/// y_j = u_jᵀ(x − μ) / √(λ_j + ε); <see cref="ZcaWhitener"/> rotates back, y = U diag(1/√(λ + ε)) Uᵀ (x − μ).
/// </summary>
/// <remarks>
/// <para>The covariance, the eigen-decomposition (symmetric Jacobi) and the matrix are computed in double; the matrix is
/// stored in float and applied with Kiln's GEMM on the <see cref="Isa"/> path, a chunk of rows at a time through a scratch
/// buffer sized at fit, so applying allocates nothing.</para>
/// <para>ε (default 1e-5, in the data's squared units) keeps tiny-variance directions from being blown up into noise.
/// A direction with λ + ε ≤ 1e-12 · λ_max carries no variance at all (for example a constant border pixel) and is
/// dropped (scale 0) instead of divided by ≈ 0.</para>
/// </remarks>
public abstract class Whitener : Preprocessor
{
    private const int ChunkRows = 64;

    private float[] _mean = [];
    private double[] _eigenvalues = [];
    private float[] _matrix = [];
    private float[] _scratch = [];
    private int _outputs;
    private IsaPath _isa = KilnIsa.Default;

    private protected Whitener(double epsilon)
    {
        if (!(epsilon >= 0) || !double.IsFinite(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be a finite number ≥ 0.");
        Epsilon = epsilon;
    }

    /// <summary>Added to every eigenvalue before the inverse square root.</summary>
    public double Epsilon { get; }

    /// <summary>The kernel path that applies the matrix (default: <see cref="KilnIsa.Default"/>).</summary>
    public IsaPath Isa
    {
        get => _isa;
        set => _isa = KilnIsa.Validate(value);
    }

    /// <summary>The training mean μ (FeatureCount values).</summary>
    public IReadOnlyList<float> Mean => ReadOnly(_mean);

    /// <summary>Eigenvalues of the training covariance, descending (negative round-off clamped to 0).</summary>
    public IReadOnlyList<double> Eigenvalues => Array.AsReadOnly(_eigenvalues);

    /// <summary>The whitening matrix, FeatureCount × OutputFeatureCount row-major (input-major): y = (x − μ) · Matrix.</summary>
    public IReadOnlyList<float> Matrix => ReadOnly(_matrix);

    /// <inheritdoc/>
    public override bool IsFitted => _mean.Length > 0;
    /// <inheritdoc/>
    public override int FeatureCount => _mean.Length;
    /// <inheritdoc/>
    public override int OutputFeatureCount => _outputs;

    /// <summary>Output features for <paramref name="features"/> inputs.</summary>
    private protected abstract int Outputs(int features);

    /// <summary>
    /// The F × Outputs matrix (input-major) from the eigenvalues (descending) and the eigenvectors (rows, same order),
    /// given the per-direction scales s_j = 1/√(λ_j + ε) (0 for dropped directions).
    /// </summary>
    private protected abstract float[] BuildMatrix(double[] scales, double[] vectors, int features);

    private protected override void FitCore(Dataset train)
    {
        int f = train.FeatureCount, n = train.Count;
        float[] x = train.Features;
        double[] mean = FeatureMeans(train);

        // Upper triangle of Σ_n d dᵀ (d = x − μ in double), then mirrored and divided by N. Samples go in blocks so that
        // each covariance row stays in cache while the block's rows are added to it.
        const int Block = 32;
        var cov = new double[f * f];
        var d = new double[Block * f];
        for (int r0 = 0; r0 < n; r0 += Block)
        {
            int m = Math.Min(Block, n - r0);
            for (int b = 0; b < m; b++)
                for (int j = 0; j < f; j++) d[b * f + j] = x[(r0 + b) * f + j] - mean[j];
            for (int i = 0; i < f; i++)
            {
                Span<double> row = cov.AsSpan(i * f + i, f - i);
                for (int b = 0; b < m; b++)
                {
                    double di = d[b * f + i];
                    if (di != 0) TensorPrimitives.MultiplyAdd(d.AsSpan(b * f + i, f - i), di, row, row);
                }
            }
        }
        for (int i = 0; i < f; i++)
            for (int j = i; j < f; j++)
            {
                double v = cov[i * f + j] / n;
                cov[i * f + j] = v;
                cov[j * f + i] = v;
            }

        (double[] values, double[] vectors) = SymmetricEigen.Decompose(cov, f);
        for (int j = 0; j < f; j++) values[j] = Math.Max(values[j], 0);
        float[] meanF = new float[f];
        for (int j = 0; j < f; j++) meanF[j] = (float)mean[j];
        Set(meanF, values, BuildMatrix(Scales(values, Epsilon), vectors, f));
    }

    private static double[] Scales(double[] values, double epsilon)
    {
        double floor = 1e-12 * values[0];
        var s = new double[values.Length];
        for (int j = 0; j < values.Length; j++)
        {
            double v = values[j] + epsilon;
            s[j] = v > floor && v > 0 ? 1 / Math.Sqrt(v) : 0;
        }
        return s;
    }

    private void Set(float[] mean, double[] eigenvalues, float[] matrix)
    {
        _mean = mean;
        _eigenvalues = eigenvalues;
        _matrix = matrix;
        _outputs = matrix.Length / mean.Length;
        _scratch = new float[ChunkRows * mean.Length];
    }

    private protected override void ApplyRows(ReadOnlySpan<float> source, Span<float> destination, int rows)
    {
        int f = _mean.Length, k = _outputs;
        for (int r0 = 0; r0 < rows; r0 += ChunkRows)
        {
            int m = Math.Min(ChunkRows, rows - r0);
            // Centre into the scratch first: in place, the destination rows are the source rows.
            Span<float> centred = _scratch.AsSpan(0, m * f);
            for (int r = 0; r < m; r++)
                TensorPrimitives.Subtract(source.Slice((r0 + r) * f, f), _mean, centred.Slice(r * f, f));
            Span<float> y = destination.Slice(r0 * k, m * k);
            switch (_isa)
            {
                case IsaPath.Avx512: Gemm.Forward<Avx512Path, NoEpilogue>(centred, _matrix, y, m, f, k, default); break;
                case IsaPath.Avx2: Gemm.Forward<Avx2Path, NoEpilogue>(centred, _matrix, y, m, f, k, default); break;
                default: Gemm.Forward<PortablePath, NoEpilogue>(centred, _matrix, y, m, f, k, default); break;
            }
        }
    }

    private protected override void WriteProperties(Utf8JsonWriter json)
    {
        json.WriteNumber("epsilon", Epsilon);
        WriteExtraProperties(json);
        WriteArray(json, "mean", _mean);
        WriteArray(json, "eigenvalues", _eigenvalues);
        WriteArray(json, "matrix", _matrix);
    }

    private protected virtual void WriteExtraProperties(Utf8JsonWriter json) { }

    internal static double ReadEpsilon(JsonElement e, string where)
    {
        JsonElement p = Property(e, "epsilon", JsonValueKind.Number, where);
        if (!p.TryGetDouble(out double eps) || !(eps >= 0) || !double.IsFinite(eps))
            throw new JsonException($"{where}: 'epsilon' is {p.GetRawText()}, expected a finite number ≥ 0.");
        return eps;
    }

    /// <summary>Reads mean, eigenvalues and matrix into <paramref name="target"/> (whose output count follows from the mean's length).</summary>
    internal static T ReadStatistics<T>(T target, JsonElement e, string where) where T : Whitener
    {
        float[] mean = ReadFloats(e, "mean", -1, where);
        if (mean.Length == 0) throw new JsonException($"{where}: 'mean' is empty.");
        int outputs = target.Outputs(mean.Length);
        if (outputs < 1 || outputs > mean.Length)
            throw new JsonException($"{where}: {outputs} components do not fit {mean.Length} features.");
        double[] eigenvalues = ReadDoubles(e, "eigenvalues", mean.Length, where);
        for (int j = 0; j < eigenvalues.Length; j++)
            if (eigenvalues[j] < 0 || (j > 0 && eigenvalues[j] > eigenvalues[j - 1]))
                throw new JsonException($"{where}: 'eigenvalues' must be ≥ 0 and descending; entry {j} is {eigenvalues[j]}.");
        float[] matrix = ReadFloats(e, "matrix", mean.Length * outputs, where);
        target.Set(mean, eigenvalues, matrix);
        return target;
    }
}

/// <summary>
/// PCA whitening: y_j = u_jᵀ(x − μ) / √(λ_j + ε) for the <see cref="Components"/> directions of largest training variance
/// (all when 0). The output has Components features (a reduced data set when fewer than the inputs).
/// </summary>
public sealed class PcaWhitener : Whitener
{
    internal const string KindName = "pca_whiten";

    /// <param name="components">Principal directions kept, 0 for all.</param>
    /// <param name="epsilon">Added to every eigenvalue before the inverse square root.</param>
    public PcaWhitener(int components = 0, double epsilon = 1e-5) : base(epsilon)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(components);
        Components = components;
    }

    /// <summary>Principal directions kept; 0 keeps all.</summary>
    public int Components { get; }

    /// <inheritdoc/>
    public override string Kind => KindName;

    /// <summary>Fits mean, covariance and its eigen-decomposition on <paramref name="train"/>.</summary>
    public new PcaWhitener Fit(Dataset train)
    {
        if (train is not null && Components > train.FeatureCount)
            throw new ArgumentException($"Cannot keep {Components} principal components of {train.FeatureCount} features (data set '{train.Name}').", nameof(train));
        return (PcaWhitener)base.Fit(train!);
    }

    private protected override int Outputs(int features) => Components == 0 ? features : Components;

    private protected override float[] BuildMatrix(double[] scales, double[] vectors, int features)
    {
        int k = Outputs(features);
        var m = new float[features * k];
        for (int j = 0; j < k; j++)
            for (int i = 0; i < features; i++) m[i * k + j] = (float)(vectors[j * features + i] * scales[j]);
        return m;
    }

    private protected override void WriteExtraProperties(Utf8JsonWriter json) => json.WriteNumber("components", Components);

    internal static PcaWhitener ReadProperties(JsonElement e, string where) =>
        ReadStatistics(new PcaWhitener(ReadInt(e, "components", 0, where), ReadEpsilon(e, where)), e, where);
}

/// <summary>
/// ZCA whitening: y = W (x − μ) with the symmetric W = U diag(1/√(λ + ε)) Uᵀ. Of all whitening transforms (every
/// R·W with R orthogonal) it keeps the data closest to the original in the least-squares sense, so whitened images
/// still look like images. Output has as many features as the input (the image shape is kept).
/// </summary>
public sealed class ZcaWhitener : Whitener
{
    internal const string KindName = "zca_whiten";

    /// <param name="epsilon">Added to every eigenvalue before the inverse square root.</param>
    public ZcaWhitener(double epsilon = 1e-5) : base(epsilon) { }

    /// <inheritdoc/>
    public override string Kind => KindName;

    /// <summary>Fits mean, covariance and its eigen-decomposition on <paramref name="train"/>.</summary>
    public new ZcaWhitener Fit(Dataset train) => (ZcaWhitener)base.Fit(train);

    private protected override int Outputs(int features) => features;

    private protected override float[] BuildMatrix(double[] scales, double[] vectors, int features)
    {
        int f = features;
        var w = new double[f * f];
        var scaled = new double[f];
        for (int j = 0; j < f; j++)
        {
            if (scales[j] == 0) continue;
            ReadOnlySpan<double> u = vectors.AsSpan(j * f, f);
            TensorPrimitives.Multiply(u, scales[j], scaled);
            for (int i = 0; i < f; i++)
            {
                Span<double> row = w.AsSpan(i * f, f);
                TensorPrimitives.MultiplyAdd(scaled, u[i], row, row);   // w[i, :] += u_i · s_j u
            }
        }
        var m = new float[f * f];
        for (int i = 0; i < f; i++)
            for (int l = i; l < f; l++)
            {
                // Exactly symmetric in float: both halves from the mean of the two double sums.
                float v = (float)(0.5 * (w[i * f + l] + w[l * f + i]));
                m[i * f + l] = v;
                m[l * f + i] = v;
            }
        return m;
    }

    internal static ZcaWhitener ReadProperties(JsonElement e, string where) =>
        ReadStatistics(new ZcaWhitener(ReadEpsilon(e, where)), e, where);
}
