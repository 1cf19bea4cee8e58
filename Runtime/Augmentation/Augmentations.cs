using System;
using Kiln.Data;

namespace Kiln.Augmentation;

/// <summary>Mirrors each C×H×W sample left–right with probability <see cref="Probability"/>.</summary>
public sealed class HorizontalFlip : IBatchAugmentation
{
    private readonly ImageShape _shape;

    /// <param name="shape">Sample shape.</param>
    /// <param name="probability">Chance that a sample is flipped (default ½).</param>
    public HorizontalFlip(ImageShape shape, double probability = 0.5)
    {
        RandomDraws.CheckShape(shape, nameof(HorizontalFlip));
        if (!(probability >= 0 && probability <= 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "The probability must lie in [0, 1].");
        _shape = shape;
        Probability = probability;
    }

    /// <summary>Probability of flipping each image, in [0, 1].</summary>
    public double Probability { get; }
    /// <inheritdoc/>
    public bool ProducesSoftTargets => false;

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        RandomDraws.CheckBatch(inputs, batch, _shape.Size, nameof(HorizontalFlip));
        for (int i = 0; i < batch; i++)
            if (RandomDraws.Bernoulli(ref rng, Probability)) ImageOps.FlipHorizontal(inputs.Slice(i * _shape.Size, _shape.Size), _shape);
    }
}

/// <summary>
/// Random crop with padding: each sample is padded by <see cref="Padding"/> pixels of <see cref="Fill"/> on every side and
/// cropped back to H×W at a uniform offset, i.e. shifted by (dy, dx) with dy, dx uniform in [−Padding, Padding].
/// </summary>
public sealed class RandomCrop : IBatchAugmentation
{
    private readonly ImageShape _shape;
    private readonly float[] _scratch;

    /// <summary>Random crops of <paramref name="shape"/> images: each image is padded by <paramref name="padding"/> pixels on every side (filled with <paramref name="fill"/>) and a window of the original size is cut at a random offset.</summary>
    public RandomCrop(ImageShape shape, int padding, float fill = 0)
    {
        RandomDraws.CheckShape(shape, nameof(RandomCrop));
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        _shape = shape;
        Padding = padding;
        Fill = fill;
        _scratch = new float[shape.Size];
    }

    /// <summary>Pixels of padding on each side; the crop moves by at most this many pixels.</summary>
    public int Padding { get; }
    /// <summary>Value of the padding pixels (in the units of the batch, i.e. after any standardisation).</summary>
    public float Fill { get; }
    /// <inheritdoc/>
    public bool ProducesSoftTargets => false;

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        RandomDraws.CheckBatch(inputs, batch, _shape.Size, nameof(RandomCrop));
        int size = _shape.Size, span = 2 * Padding + 1;
        for (int i = 0; i < batch; i++)
        {
            int dy = rng.NextInt(span) - Padding, dx = rng.NextInt(span) - Padding;
            Span<float> sample = inputs.Slice(i * size, size);
            sample.CopyTo(_scratch);
            ImageOps.Translate(_scratch, sample, _shape, dy, dx, Fill);
        }
    }
}

/// <summary>
/// Random scale and crop (random-resized-crop, the ResNet/Inception scheme): a window covering a uniform
/// [<see cref="MinScale"/>, <see cref="MaxScale"/>] share of the image area, with a log-uniform aspect ratio in
/// [<see cref="MinAspect"/>, <see cref="MaxAspect"/>] at a uniform position, is resized back to H×W bilinearly.
/// After 10 windows that do not fit, the whole image is kept.
/// </summary>
public sealed class RandomResizedCrop : IBatchAugmentation
{
    private readonly ImageShape _shape;
    private readonly float[] _scratch;

    /// <summary>Random resized crops of <paramref name="shape"/> images: a window covering a uniform share in [<paramref name="minScale"/>, <paramref name="maxScale"/>] of the area, with a log-uniform aspect ratio in [<paramref name="minAspect"/>, <paramref name="maxAspect"/>], resized bilinearly back to the full image.</summary>
    public RandomResizedCrop(ImageShape shape, double minScale = 0.5, double maxScale = 1, double minAspect = 3.0 / 4, double maxAspect = 4.0 / 3)
    {
        RandomDraws.CheckShape(shape, nameof(RandomResizedCrop));
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(minScale), $"Scales must satisfy 0 < minScale ≤ maxScale ≤ 1; found [{minScale}, {maxScale}].");
        if (!(minAspect > 0 && minAspect <= maxAspect && double.IsFinite(maxAspect)))
            throw new ArgumentOutOfRangeException(nameof(minAspect), $"Aspect ratios must satisfy 0 < minAspect ≤ maxAspect; found [{minAspect}, {maxAspect}].");
        _shape = shape;
        (MinScale, MaxScale, MinAspect, MaxAspect) = (minScale, maxScale, minAspect, maxAspect);
        _scratch = new float[shape.Size];
    }

    /// <summary>Smallest fraction of the image area a crop covers.</summary>
    public double MinScale { get; }
    /// <summary>Largest fraction of the image area a crop covers.</summary>
    public double MaxScale { get; }
    /// <summary>Smallest width/height ratio of a crop.</summary>
    public double MinAspect { get; }
    /// <summary>Largest width/height ratio of a crop.</summary>
    public double MaxAspect { get; }
    /// <inheritdoc/>
    public bool ProducesSoftTargets => false;

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        RandomDraws.CheckBatch(inputs, batch, _shape.Size, nameof(RandomResizedCrop));
        int size = _shape.Size, h = _shape.Height, w = _shape.Width;
        double logMin = Math.Log(MinAspect), logMax = Math.Log(MaxAspect);
        for (int i = 0; i < batch; i++)
        {
            double cropH = h, cropW = w, top = 0, left = 0;
            for (int attempt = 0; attempt < 10; attempt++)
            {
                double area = RandomDraws.Uniform(ref rng, MinScale, MaxScale) * h * w;
                double aspect = Math.Exp(RandomDraws.Uniform(ref rng, logMin, logMax));   // width / height
                double cw = Math.Sqrt(area * aspect), ch = Math.Sqrt(area / aspect);
                if (cw > w || ch > h) continue;
                (cropH, cropW) = (ch, cw);
                top = RandomDraws.Uniform(ref rng, 0, h - ch);
                left = RandomDraws.Uniform(ref rng, 0, w - cw);
                break;
            }
            Span<float> sample = inputs.Slice(i * size, size);
            sample.CopyTo(_scratch);
            ImageOps.ResizeCrop(_scratch, sample, _shape, (float)top, (float)left, (float)cropH, (float)cropW);
        }
    }
}

/// <summary>
/// Brightness and contrast jitter, per sample: x' = (x − m_c)·k + m_c + b, with m_c the sample's mean of channel c,
/// contrast k uniform in [1 − <see cref="Contrast"/>, 1 + <see cref="Contrast"/>] and brightness b uniform in
/// [−<see cref="Brightness"/>, <see cref="Brightness"/>] (in the units of the data).
/// </summary>
public sealed class BrightnessContrastJitter : IBatchAugmentation
{
    private readonly ImageShape _shape;

    /// <summary>Brightness and contrast jitter for <paramref name="shape"/> images: each image's values are shifted by up to ±<paramref name="brightness"/> and scaled around its channel means by a factor in [1 − <paramref name="contrast"/>, 1 + <paramref name="contrast"/>].</summary>
    public BrightnessContrastJitter(ImageShape shape, float brightness, float contrast)
    {
        RandomDraws.CheckShape(shape, nameof(BrightnessContrastJitter));
        if (!(brightness >= 0) || !float.IsFinite(brightness)) throw new ArgumentOutOfRangeException(nameof(brightness), brightness, "Brightness must be finite and ≥ 0.");
        if (!(contrast >= 0 && contrast <= 1)) throw new ArgumentOutOfRangeException(nameof(contrast), contrast, "Contrast must lie in [0, 1].");
        _shape = shape;
        Brightness = brightness;
        Contrast = contrast;
    }

    /// <summary>Largest additive brightness shift.</summary>
    public float Brightness { get; }
    /// <summary>Largest relative change of contrast (0.2 scales by a factor in [0.8, 1.2]).</summary>
    public float Contrast { get; }
    /// <inheritdoc/>
    public bool ProducesSoftTargets => false;

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        RandomDraws.CheckBatch(inputs, batch, _shape.Size, nameof(BrightnessContrastJitter));
        int plane = _shape.Height * _shape.Width;
        for (int i = 0; i < batch; i++)
        {
            float k = (float)RandomDraws.Uniform(ref rng, 1 - Contrast, 1 + Contrast);
            float b = (float)RandomDraws.Uniform(ref rng, -Brightness, Brightness);
            for (int c = 0; c < _shape.Channels; c++)
            {
                Span<float> p = inputs.Slice(i * _shape.Size + c * plane, plane);
                double sum = 0;
                foreach (float v in p) sum += v;
                float m = (float)(sum / plane);
                for (int j = 0; j < p.Length; j++) p[j] = (p[j] - m) * k + m + b;
            }
        }
    }
}

/// <summary>
/// Small random rotations: each sample turns by an angle uniform in [−<see cref="MaxDegrees"/>, <see cref="MaxDegrees"/>]
/// about its centre, bilinearly resampled; corners that come from outside the image get <see cref="Fill"/>.
/// </summary>
public sealed class RandomRotation : IBatchAugmentation
{
    private readonly ImageShape _shape;
    private readonly float[] _scratch;

    /// <summary>Random rotations of <paramref name="shape"/> images by an angle drawn uniformly in ±<paramref name="maxDegrees"/>, bilinear, with pixels from outside the image set to <paramref name="fill"/>.</summary>
    public RandomRotation(ImageShape shape, float maxDegrees, float fill = 0)
    {
        RandomDraws.CheckShape(shape, nameof(RandomRotation));
        if (!(maxDegrees >= 0 && maxDegrees <= 180)) throw new ArgumentOutOfRangeException(nameof(maxDegrees), maxDegrees, "The angle must lie in [0, 180] degrees.");
        _shape = shape;
        MaxDegrees = maxDegrees;
        Fill = fill;
        _scratch = new float[shape.Size];
    }

    /// <summary>Largest rotation angle, in degrees.</summary>
    public float MaxDegrees { get; }
    /// <summary>Value of pixels rotated in from outside the image.</summary>
    public float Fill { get; }
    /// <inheritdoc/>
    public bool ProducesSoftTargets => false;

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        RandomDraws.CheckBatch(inputs, batch, _shape.Size, nameof(RandomRotation));
        int size = _shape.Size;
        for (int i = 0; i < batch; i++)
        {
            double degrees = RandomDraws.Uniform(ref rng, -MaxDegrees, MaxDegrees);
            Span<float> sample = inputs.Slice(i * size, size);
            sample.CopyTo(_scratch);
            ImageOps.Rotate(_scratch, sample, _shape, degrees * Math.PI / 180, Fill);
        }
    }
}

/// <summary>
/// Cutout (DeVries and Taylor, 2017): a <see cref="Size"/>×<see cref="Size"/> square centred on a uniform pixel of each
/// sample is set to 0, or with <see cref="FillWithMean"/> to the sample's channel means; near the border the square is
/// clipped, so fewer pixels change.
/// </summary>
public sealed class Cutout : IBatchAugmentation
{
    private readonly ImageShape _shape;
    private readonly float[] _fill;

    /// <summary>Cutout for <paramref name="shape"/> images: one <paramref name="size"/>×<paramref name="size"/> square per image, centred at a random pixel, is set to zero (or to the image's channel means when <paramref name="fillWithMean"/> is true).</summary>
    public Cutout(ImageShape shape, int size, bool fillWithMean = false)
    {
        RandomDraws.CheckShape(shape, nameof(Cutout));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _shape = shape;
        Size = size;
        FillWithMean = fillWithMean;
        _fill = new float[shape.Channels];
    }

    /// <summary>Side of the square cut out, in pixels.</summary>
    public int Size { get; }
    /// <summary>Whether the square is filled with the image's channel means instead of zero.</summary>
    public bool FillWithMean { get; }
    /// <inheritdoc/>
    public bool ProducesSoftTargets => false;

    /// <inheritdoc/>
    public void Apply(Span<float> inputs, ReadOnlySpan<int> labels, Span<float> softTargets, int batch, int classes, ref KilnRandom rng)
    {
        RandomDraws.CheckBatch(inputs, batch, _shape.Size, nameof(Cutout));
        int size = _shape.Size, plane = _shape.Height * _shape.Width;
        for (int i = 0; i < batch; i++)
        {
            Span<float> sample = inputs.Slice(i * size, size);
            int cy = rng.NextInt(_shape.Height), cx = rng.NextInt(_shape.Width);
            for (int c = 0; c < _fill.Length; c++)
            {
                if (!FillWithMean) { _fill[c] = 0; continue; }
                double sum = 0;
                foreach (float v in sample.Slice(c * plane, plane)) sum += v;
                _fill[c] = (float)(sum / plane);
            }
            ImageOps.FillSquare(sample, _shape, cy, cx, Size, _fill);
        }
    }
}
