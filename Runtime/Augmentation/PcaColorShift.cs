using System;
using System.Collections.Generic;
using Kiln.Data;
using Kiln.Preprocessing;

namespace Kiln.Augmentation;

/// <summary>
/// PCA colour shift (AlexNet, Krizhevsky et al. 2012): the C×C covariance of the channel values of every training pixel
/// is decomposed into eigenvectors p_j and eigenvalues λ_j; each sample gets α_j ~ N(0, σ²) and every pixel's channel
/// vector is shifted by Σ_j α_j·√λ_j·p_j. For 1-channel images this is a brightness shift with standard deviation
/// σ·(pixel std).
/// </summary>
/// <remarks>
/// The paper writes α_j·λ_j; the shift is applied here with √λ_j, the standard deviation along p_j, so that it is in the
/// units of the data whatever their scale (σ = 0.1 shifts by about a tenth of the colour spread). Fit it on the training split.
/// </remarks>
public sealed class PcaColorShift : IBatchAugmentation
{
    private readonly ImageShape _shape;
    private readonly double[] _eigenvalues;
    private readonly float[] _axes;      // C×C: row j = √λ_j·p_j
    private readonly float[] _shift;     // per channel, per sample

    /// <param name="train">Training images (their <see cref="Dataset.Shape"/> must be set).</param>
    /// <param name="sigma">Standard deviation of the α_j (default 0.1, as AlexNet).</param>
    public PcaColorShift(Dataset train, double sigma = 0.1)
    {
        ArgumentNullException.ThrowIfNull(train);
        ImageShape shape = train.Shape
            ?? throw new ArgumentException($"PcaColorShift needs images: data set '{train.Name}' has no image shape (C, H, W).", nameof(train));
        if (train.Count == 0) throw new ArgumentException($"Cannot fit PcaColorShift on the empty data set '{train.Name}'.", nameof(train));
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "σ must be finite and ≥ 0.");
        _shape = shape;
        Sigma = sigma;

        int c = shape.Channels, plane = shape.Height * shape.Width;
        float[] x = train.Features;
        var mean = new double[c];
        for (int o = 0; o < x.Length; o += shape.Size)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < plane; p++) mean[ch] += x[o + ch * plane + p];
        double count = (double)train.Count * plane;
        for (int ch = 0; ch < c; ch++) mean[ch] /= count;
        var cov = new double[c * c];
        var d = new double[c];
        for (int o = 0; o < x.Length; o += shape.Size)
            for (int p = 0; p < plane; p++)
            {
                for (int ch = 0; ch < c; ch++) d[ch] = x[o + ch * plane + p] - mean[ch];
                for (int a = 0; a < c; a++)
                    for (int b = a; b < c; b++) cov[a * c + b] += d[a] * d[b];
            }
        for (int a = 0; a < c; a++)
            for (int b = a; b < c; b++) cov[b * c + a] = cov[a * c + b] /= count;

        (double[] values, double[] vectors) = SymmetricEigen.Decompose(cov, c);
        _eigenvalues = values;
        _axes = new float[c * c];
        for (int j = 0; j < c; j++)
        {
            double scale = Math.Sqrt(Math.Max(values[j], 0));
            for (int ch = 0; ch < c; ch++) _axes[j * c + ch] = (float)(scale * vectors[j * c + ch]);
        }
        _shift = new float[c];
    }

    /// <summary>Standard deviation of the random coefficient drawn per principal component and image.</summary>
    public double Sigma { get; }
    /// <summary>Eigenvalues of the training channel covariance, descending.</summary>
    public IReadOnlyList<double> Eigenvalues => Array.AsReadOnly(_eigenvalues);
    /// <inheritdoc/>
    public bool ProducesSoftTargets => false;

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        RandomDraws.CheckBatch(inputs, batch, _shape.Size, nameof(PcaColorShift));
        int c = _shape.Channels, plane = _shape.Height * _shape.Width;
        for (int i = 0; i < batch; i++)
        {
            _shift.AsSpan().Clear();
            for (int j = 0; j < c; j++)
            {
                float alpha = (float)(Sigma * RandomDraws.Normal(ref rng));
                for (int ch = 0; ch < c; ch++) _shift[ch] += alpha * _axes[j * c + ch];
            }
            for (int ch = 0; ch < c; ch++)
            {
                Span<float> p = inputs.Slice(i * _shape.Size + ch * plane, plane);
                float s = _shift[ch];
                for (int k = 0; k < p.Length; k++) p[k] += s;
            }
        }
    }
}
