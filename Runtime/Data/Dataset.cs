using System;
using System.Collections.Generic;

namespace Kiln.Data;

/// <summary>Channels × height × width of image samples; <see cref="Size"/> is the flat feature count.</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Features per image: Channels × Height × Width.</summary>
    public int Size => Channels * Height * Width;

    /// <inheritdoc/>
    public override string ToString() => $"{Channels}×{Height}×{Width}";
}

/// <summary>A training split and a test (or validation) split.</summary>
public sealed record DataSplit(Dataset Train, Dataset Test);

/// <summary>
/// A labelled classification data set held in memory: features row-major (sample i occupies
/// <c>Features[i*FeatureCount .. (i+1)*FeatureCount)</c>), one integer label per sample.
/// </summary>
/// <remarks>
/// The arrays are exposed directly (no copies) so that loaders, standardisation and batch filling work
/// on them without overhead. <see cref="Subset(ReadOnlySpan{int}, string?)"/>, <see cref="Split"/> and
/// <see cref="Kiln.Preprocessing.Preprocessor.Transform(Dataset)"/> always copy, so their results never alias the source.
/// </remarks>
public sealed class Dataset
{
    /// <summary>Wraps existing arrays (not copied).</summary>
    /// <param name="features">Row-major features, <c>labels.Length * featureCount</c> floats.</param>
    /// <param name="labels">Class index per sample, each in [0, classCount).</param>
    /// <param name="featureCount">Features per sample (&gt; 0).</param>
    /// <param name="classCount">Number of classes; 0 infers max(label) + 1.</param>
    /// <param name="shape">Optional image shape whose size must equal <paramref name="featureCount"/>.</param>
    /// <param name="name">Name used in messages and metrics.</param>
    public Dataset(float[] features, int[] labels, int featureCount, int classCount = 0, ImageShape? shape = null, string name = "")
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featureCount);
        ArgumentOutOfRangeException.ThrowIfNegative(classCount);
        if ((long)labels.Length * featureCount != features.Length)
            throw new ArgumentException(
                $"Data set '{name}': {features.Length} feature values do not make {labels.Length} samples of {featureCount} features.", nameof(features));
        if (shape is { } s && (s.Channels <= 0 || s.Height <= 0 || s.Width <= 0 || s.Size != featureCount))
            throw new ArgumentException($"Data set '{name}': shape {s} does not hold {featureCount} features.", nameof(shape));

        int maxLabel = -1;
        for (int i = 0; i < labels.Length; i++)
        {
            int y = labels[i];
            if (y < 0)
                throw new ArgumentException($"Data set '{name}': sample {i} has negative label {y}.", nameof(labels));
            if (y > maxLabel) maxLabel = y;
        }
        if (classCount == 0) classCount = maxLabel + 1;
        else if (maxLabel >= classCount)
            throw new ArgumentException($"Data set '{name}': label {maxLabel} is outside the {classCount} declared classes.", nameof(labels));

        Features = features;
        Labels = labels;
        FeatureCount = featureCount;
        ClassCount = classCount;
        Shape = shape;
        Name = name;
    }

    /// <summary>Name used in messages and metrics (for example <c>fashion-mnist/train</c>).</summary>
    public string Name { get; }
    /// <summary>Row-major features (shared, not a copy).</summary>
    public float[] Features { get; }
    /// <summary>Class index per sample (shared, not a copy).</summary>
    public int[] Labels { get; }
    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;
    /// <summary>Features per sample.</summary>
    public int FeatureCount { get; }
    /// <summary>Number of classes (labels lie in [0, ClassCount)).</summary>
    public int ClassCount { get; }
    /// <summary>Image shape (C, H, W) when the features are an image; null for plain vectors.</summary>
    public ImageShape? Shape { get; }

    /// <summary>The features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Features.AsSpan(index * FeatureCount, FeatureCount);
    }

    /// <summary>Samples per class, indexed by label.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (int y in Labels) counts[y]++;
        return counts;
    }

    /// <summary>
    /// A data set from one array per sample (copied): every row must have the same length. Errors name the row.
    /// </summary>
    public static Dataset FromRows(IReadOnlyList<float[]> rows, int[] labels, int classCount = 0, ImageShape? shape = null, string name = "")
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        if (rows.Count != labels.Length)
            throw new ArgumentException($"Data set '{name}': {rows.Count} rows but {labels.Length} labels.", nameof(labels));
        if (rows.Count == 0) throw new ArgumentException($"Data set '{name}': no rows.", nameof(rows));
        int f = rows[0]?.Length ?? 0;
        if (f == 0) throw new ArgumentException($"Data set '{name}': row 0 is null or empty.", nameof(rows));
        var features = new float[(long)rows.Count * f];
        for (int i = 0; i < rows.Count; i++)
        {
            float[]? row = rows[i];
            if (row is null || row.Length != f)
                throw new ArgumentException($"Data set '{name}': row {i} has {row?.Length.ToString() ?? "no"} values; row 0 has {f}.", nameof(rows));
            row.CopyTo(features, (long)i * f);
        }
        return new Dataset(features, (int[])labels.Clone(), f, classCount, shape, name);
    }

    /// <summary>A data set from a samples × features matrix (copied).</summary>
    public static Dataset FromMatrix(float[,] features, int[] labels, int classCount = 0, ImageShape? shape = null, string name = "")
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        int n = features.GetLength(0), f = features.GetLength(1);
        if (n != labels.Length)
            throw new ArgumentException($"Data set '{name}': the matrix has {n} rows but there are {labels.Length} labels.", nameof(labels));
        if (f == 0) throw new ArgumentException($"Data set '{name}': the matrix has no columns.", nameof(features));
        var flat = new float[(long)n * f];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < f; j++) flat[(long)i * f + j] = features[i, j];
        return new Dataset(flat, (int[])labels.Clone(), f, classCount, shape, name);
    }

    /// <summary>The same samples (arrays shared, not copied) viewed as images of <paramref name="shape"/>, or as plain vectors when null.</summary>
    public Dataset WithShape(ImageShape? shape) => new(Features, Labels, FeatureCount, ClassCount, shape, Name);

    /// <summary>Same samples with other features (same count per sample); used by transforms.</summary>
    public Dataset WithFeatures(float[] features, string? name = null) =>
        new(features, Labels, FeatureCount, ClassCount, Shape, name ?? Name);

    /// <summary>A copy of the samples at <paramref name="indices"/>, in that order (repeats allowed).</summary>
    public Dataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        int f = FeatureCount;
        var features = new float[indices.Length * f];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int src = indices[i];
            if ((uint)src >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), src, $"Index {src} is outside data set '{Name}' of {Count} samples.");
            Array.Copy(Features, (long)src * f, features, (long)i * f, f);
            labels[i] = Labels[src];
        }
        return new Dataset(features, labels, f, ClassCount, Shape, name ?? Name);
    }

    /// <summary>A copy of the contiguous samples [start, start + count).</summary>
    public Dataset Subset(int start, int count, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + (long)count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"Samples [{start}, {start + (long)count}) exceed data set '{Name}' of {Count} samples.");
        return new Dataset(
            Features.AsSpan(start * FeatureCount, count * FeatureCount).ToArray(),
            Labels.AsSpan(start, count).ToArray(),
            FeatureCount, ClassCount, Shape, name ?? Name);
    }

    /// <summary>
    /// Splits into <c>Train</c> (a <paramref name="trainFraction"/> share of the samples) and <c>Test</c>
    /// (the rest). Deterministic for a given <paramref name="seed"/>; both parts keep the original order.
    /// </summary>
    /// <param name="trainFraction">Share for the first part, in (0, 1).</param>
    /// <param name="seed">Seed of the shuffle that decides membership.</param>
    /// <param name="stratified">
    /// Keep each class's proportion in both parts (per-class shuffles; the per-class shares are rounded
    /// with largest remainders, so the first part has exactly round(Count·fraction) samples either way).
    /// </param>
    public DataSplit Split(double trainFraction, ulong seed, bool stratified = true) =>
        SplitCore(trainFraction, seed, stratified, "/train", "/test");

    /// <summary>
    /// Holds out a <paramref name="validationFraction"/> share of these (training) samples for validation: <c>Train</c>
    /// is named <c>…/train</c>, <c>Test</c> (the validation part) <c>…/validation</c>. Same rules as <see cref="Split(double, ulong, bool)"/>.
    /// </summary>
    public DataSplit ValidationSplit(double validationFraction, ulong seed, bool stratified = true)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must lie strictly between 0 and 1.");
        return SplitCore(1 - validationFraction, seed, stratified, "/train", "/validation");
    }

    private DataSplit SplitCore(double trainFraction, ulong seed, bool stratified, string firstSuffix, string secondSuffix)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "The train fraction must lie strictly between 0 and 1.");

        int total = (int)Math.Round(Count * trainFraction, MidpointRounding.AwayFromZero);
        var inFirst = new bool[Count];
        var rng = new KilnRandom(seed);

        if (!stratified)
        {
            int[] order = Identity(Count);
            Shuffle(order, ref rng);
            for (int i = 0; i < total; i++) inFirst[order[i]] = true;
        }
        else
        {
            // Group indices by class (stable), then take a largest-remainder share of each class.
            int[] counts = ClassCounts();
            var byClass = new List<int>[ClassCount];
            for (int c = 0; c < ClassCount; c++) byClass[c] = new List<int>(counts[c]);
            for (int i = 0; i < Count; i++) byClass[Labels[i]].Add(i);

            var take = new int[ClassCount];
            var remainder = new double[ClassCount];
            int assigned = 0;
            for (int c = 0; c < ClassCount; c++)
            {
                double exact = counts[c] * trainFraction;
                take[c] = (int)Math.Floor(exact);
                remainder[c] = exact - take[c];
                assigned += take[c];
            }
            int[] classOrder = Identity(ClassCount);
            // Largest remainder first; ties go to the lower class index so the result is deterministic.
            Array.Sort(classOrder, (a, b) => remainder[b] != remainder[a] ? remainder[b].CompareTo(remainder[a]) : a.CompareTo(b));
            for (int k = 0; assigned < total && k < classOrder.Length; k++)
            {
                int c = classOrder[k];
                if (take[c] < counts[c]) { take[c]++; assigned++; }
            }

            for (int c = 0; c < ClassCount; c++)
            {
                int[] members = byClass[c].ToArray();
                Shuffle(members, ref rng);
                for (int i = 0; i < take[c]; i++) inFirst[members[i]] = true;
            }
        }

        var first = new List<int>(total);
        var second = new List<int>(Count - total);
        for (int i = 0; i < Count; i++) (inFirst[i] ? first : second).Add(i);
        return new DataSplit(
            Subset(first.ToArray(), Name + firstSuffix),
            Subset(second.ToArray(), Name + secondSuffix));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{(Name.Length > 0 ? Name : "data set")}: {Count} samples × {FeatureCount} features{(Shape is { } s ? $" ({s})" : "")}, {ClassCount} classes";

    internal static int[] Identity(int n)
    {
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /// <summary>Fisher–Yates with <see cref="KilnRandom"/>, so orders are identical on every platform.</summary>
    internal static void Shuffle(Span<int> items, ref KilnRandom rng)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
