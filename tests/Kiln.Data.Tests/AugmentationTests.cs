using System;
using System.Linq;
using Kiln.Augmentation;

namespace Kiln.Data.Tests;

public class AugmentationTests
{
    private static readonly ImageShape Rgb = new(3, 5, 7);

    private static float[] Ramp(int batch, ImageShape shape) =>
        Enumerable.Range(0, batch * shape.Size).Select(i => (float)(i % 97) + 0.25f * (i / shape.Size)).ToArray();

    private static float[] Run(IBatchAugmentation a, float[] x, int batch, ulong seed, int[]? labels = null, float[]? soft = null, int classes = 1)
    {
        float[] y = (float[])x.Clone();
        var rng = new KilnRandom(seed);
        a.Apply(y, labels ?? new int[batch], soft ?? [], batch, classes, ref rng);
        return y;
    }

    private static float At(float[] x, ImageShape s, int sample, int c, int y, int xx) => x[sample * s.Size + c * s.Height * s.Width + y * s.Width + xx];

    [Fact]
    public void Flip_mirrors_rows_and_twice_is_the_identity()
    {
        float[] x = Ramp(4, Rgb);
        var flip = new HorizontalFlip(Rgb, probability: 1);
        float[] once = Run(flip, x, 4, 1);
        for (int s = 0; s < 4; s++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 5; y++)
                    for (int xx = 0; xx < 7; xx++) Assert.Equal(At(x, Rgb, s, c, y, 6 - xx), At(once, Rgb, s, c, y, xx));
        Assert.Equal(x, Run(flip, once, 4, 2));
        Assert.Equal(x, Run(new HorizontalFlip(Rgb, 0), x, 4, 3));
        // p = ½ flips some samples and not others, reproducibly.
        float[] half = Run(new HorizontalFlip(Rgb), Ramp(64, Rgb), 64, 9);
        int flipped = Enumerable.Range(0, 64).Count(s => At(half, Rgb, s, 0, 0, 0) != At(Ramp(64, Rgb), Rgb, s, 0, 0, 0));
        Assert.InRange(flipped, 16, 48);
    }

    [Fact]
    public void Crop_with_zero_padding_is_the_identity_and_padding_shifts_by_at_most_the_padding()
    {
        float[] x = Ramp(3, Rgb);
        Assert.Equal(x, Run(new RandomCrop(Rgb, padding: 0), x, 3, 1));

        // Exact primitive: offset (dy, dx) reads src(y + dy, x + dx) or the fill value.
        var dst = new float[Rgb.Size];
        ImageOps.Translate(x.AsSpan(0, Rgb.Size), dst, Rgb, 0, 0, -1);
        Assert.Equal(x.AsSpan(0, Rgb.Size).ToArray(), dst);
        ImageOps.Translate(x.AsSpan(0, Rgb.Size), dst, Rgb, 1, -2, -1);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 5; y++)
                for (int xx = 0; xx < 7; xx++)
                    Assert.Equal(y + 1 < 5 && xx - 2 >= 0 ? At(x, Rgb, 0, c, y + 1, xx - 2) : -1f, dst[c * 35 + y * 7 + xx]);

        // Every output of a padding-1 crop is one of the 9 shifts, and all 9 occur.
        var ones = new float[200 * Rgb.Size];
        Array.Fill(ones, 1f);
        float[] cropped = Run(new RandomCrop(Rgb, padding: 1), ones, 200, 4);
        var seen = new System.Collections.Generic.HashSet<(int, int)>();
        for (int s = 0; s < 200; s++)
        {
            bool top = At(cropped, Rgb, s, 0, 0, 3) == 0, bottom = At(cropped, Rgb, s, 0, 4, 3) == 0;
            bool left = At(cropped, Rgb, s, 0, 2, 0) == 0, right = At(cropped, Rgb, s, 0, 2, 6) == 0;
            Assert.False(top && bottom);
            Assert.False(left && right);
            int zeros = cropped.AsSpan(s * Rgb.Size, Rgb.Size).ToArray().Count(v => v == 0);
            int rows = top || bottom ? 1 : 0, cols = left || right ? 1 : 0;
            Assert.Equal(3 * (rows * 7 + cols * 5 - rows * cols), zeros);
            seen.Add((top ? -1 : bottom ? 1 : 0, left ? -1 : right ? 1 : 0));
        }
        Assert.Equal(9, seen.Count);
    }

    [Fact]
    public void Resized_crop_of_the_whole_image_is_the_identity_and_bilinear_inside()
    {
        var square = new ImageShape(2, 6, 6);
        float[] x = Ramp(5, square);
        Assert.Equal(x, Run(new RandomResizedCrop(square, 1, 1, 1, 1), x, 5, 3));

        // A linear image stays linear under bilinear resampling: a 3×3 window at (1, 2) stretched to 6×6.
        var lin = new float[square.Size];
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 6; y++)
                for (int xx = 0; xx < 6; xx++) lin[c * 36 + y * 6 + xx] = 10 * c + 2 * y + 0.5f * xx;
        var dst = new float[square.Size];
        ImageOps.ResizeCrop(lin, dst, square, 1, 2, 3, 3);
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 6; y++)
                for (int xx = 0; xx < 6; xx++)
                {
                    double fy = 1 + (y + 0.5) * 0.5 - 0.5, fx = 2 + (xx + 0.5) * 0.5 - 0.5;
                    Assert.Equal(10 * c + 2 * fy + 0.5 * fx, dst[c * 36 + y * 6 + xx], 1e-5);
                }
        // Random windows keep values within the source range (bilinear is a convex combination).
        float[] r = Run(new RandomResizedCrop(square, 0.3, 0.9), x, 5, 8);
        Assert.NotEqual(x, r);
        Assert.All(r, v => Assert.InRange(v, x.Min(), x.Max()));
    }

    [Fact]
    public void Rotation_by_zero_is_the_identity_and_by_ninety_degrees_transposes_the_flip()
    {
        var square = new ImageShape(2, 5, 5);
        float[] x = Ramp(3, square);
        Assert.Equal(x, Run(new RandomRotation(square, 0), x, 3, 1));

        var dst = new float[square.Size];
        ImageOps.Rotate(x.AsSpan(0, square.Size), dst, square, Math.PI / 2, -1);
        // Counter-clockwise quarter turn: dst(y, x) = src(x, W − 1 − y), the transpose of the horizontal flip.
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 5; y++)
                for (int xx = 0; xx < 5; xx++) Assert.Equal(At(x, square, 0, c, xx, 4 - y), dst[c * 25 + y * 5 + xx]);

        // Small angles: the centre pixel stays (it is the pivot); something changes.
        float[] rotated = Run(new RandomRotation(square, 15), x, 3, 5);
        Assert.NotEqual(x, rotated);
        for (int s = 0; s < 3; s++) Assert.Equal(At(x, square, s, 1, 2, 2), At(rotated, square, s, 1, 2, 2), 1e-4);
    }

    [Fact]
    public void Cutout_zeroes_exactly_size_squared_pixels_per_channel_when_inside()
    {
        float[] x = Ramp(1, Rgb).Select(v => v + 1).ToArray();   // no zeros
        float[] y = (float[])x.Clone();
        int set = ImageOps.FillSquare(y, Rgb, 2, 3, 3, [0, 0, 0]);
        Assert.Equal(9, set);
        Assert.Equal(27, y.Count(v => v == 0));
        for (int c = 0; c < 3; c++)
            for (int r = 1; r <= 3; r++)
                for (int col = 2; col <= 4; col++) Assert.Equal(0, At(y, Rgb, 0, c, r, col));
        // At a corner the square is clipped.
        Assert.Equal(4, ImageOps.FillSquare((float[])x.Clone(), Rgb, 0, 0, 3, [0, 0, 0]));

        float[] batch = Ramp(50, Rgb).Select(v => v + 1).ToArray();
        float[] cut = Run(new Cutout(Rgb, 3), batch, 50, 2);
        for (int s = 0; s < 50; s++)
        {
            int zeros = cut.AsSpan(s * Rgb.Size, Rgb.Size).ToArray().Count(v => v == 0);
            Assert.InRange(zeros, 3 * 4, 3 * 9);   // the centre lies in the image: at least a 2×2 corner remains
            Assert.Equal(0, zeros % 3);
        }
        float[] mean = Run(new Cutout(Rgb, 3, fillWithMean: true), batch, 1, 2);
        double m0 = batch.Take(35).Average();
        Assert.Contains(mean.Take(35), v => Math.Abs(v - m0) < 1e-4);
    }

    [Fact]
    public void Brightness_and_contrast_follow_the_formula()
    {
        float[] x = Ramp(6, Rgb);
        Assert.Equal(x, Run(new BrightnessContrastJitter(Rgb, 0, 0), x, 6, 1).Select(v => MathF.Round(v, 3)).ToArray());
        float[] j = Run(new BrightnessContrastJitter(Rgb, 0.5f, 0.3f), x, 6, 2);
        for (int s = 0; s < 6; s++)
        {
            // Within a channel, x' is affine in x with one slope k ∈ [0.7, 1.3] (shared by the channels) and offset.
            double k0 = 0;
            for (int c = 0; c < 3; c++)
            {
                float a0 = At(x, Rgb, s, c, 0, 0), a1 = At(x, Rgb, s, c, 4, 6);
                double k = (At(j, Rgb, s, c, 4, 6) - At(j, Rgb, s, c, 0, 0)) / (a1 - a0);
                Assert.InRange(k, 0.7, 1.3);
                if (c == 0) k0 = k;
                else Assert.Equal(k0, k, 1e-3);
                // The channel mean moves by b ∈ [−0.5, 0.5].
                double before = Enumerable.Range(0, 35).Average(p => x[s * 105 + c * 35 + p]);
                double after = Enumerable.Range(0, 35).Average(p => j[s * 105 + c * 35 + p]);
                Assert.InRange(after - before, -0.5 - 1e-4, 0.5 + 1e-4);
            }
        }
    }

    [Fact]
    public void Pca_color_shift_moves_along_the_principal_colour_axis()
    {
        // Channels perfectly correlated (c = (1, 2, −1)·t): the covariance has rank 1, so every shift is parallel to (1, 2, −1).
        var shape = new ImageShape(3, 2, 2);
        var rng = new KilnRandom(3);
        var train = new float[100 * 12];
        for (int s = 0; s < 100; s++)
            for (int p = 0; p < 4; p++)
            {
                float t = rng.NextFloat();
                train[s * 12 + p] = t;
                train[s * 12 + 4 + p] = 2 * t;
                train[s * 12 + 8 + p] = -t;
            }
        var shift = new PcaColorShift(new Dataset(train, new int[100], 12, 1, shape), sigma: 0.5);
        double mt = Enumerable.Range(0, 400).Average(i => (double)train[i / 4 * 12 + i % 4]);
        double vt = Enumerable.Range(0, 400).Average(i => Math.Pow(train[i / 4 * 12 + i % 4] - mt, 2));
        Assert.Equal(6 * vt, shift.Eigenvalues[0], 1e-9);   // |(1, 2, −1)|² = 6
        Assert.Equal(0, shift.Eigenvalues[1], 1e-9);
        float[] x = new float[20 * 12];
        float[] y = Run(shift, x, 20, 4);
        for (int s = 0; s < 20; s++)
        {
            float d0 = y[s * 12], d1 = y[s * 12 + 4], d2 = y[s * 12 + 8];
            Assert.Equal(2 * d0, d1, 1e-5);
            Assert.Equal(-d0, d2, 1e-5);
            for (int p = 1; p < 4; p++) Assert.Equal(d0, y[s * 12 + p]);   // the same shift on every pixel
        }
        Assert.True(y.Select(Math.Abs).Max() > 0.01f);

        // One channel: a brightness shift with standard deviation σ·std(pixels).
        var grey = new ImageShape(1, 2, 2);
        var g = new PcaColorShift(new Dataset(train.Take(400).ToArray(), new int[100], 4, 1, grey), sigma: 1);
        float[] z = Run(g, new float[4000 * 4], 4000, 6);
        double sd = Math.Sqrt(Enumerable.Range(0, 4000).Average(s => (double)z[s * 4] * z[s * 4]));
        Assert.Equal(Math.Sqrt(g.Eigenvalues[0]), sd, 0.05 * sd);
        Assert.Throws<ArgumentException>(() => new PcaColorShift(new Dataset(new float[4], [0], 4)));
    }

    [Fact]
    public void Mixup_blends_inputs_and_targets_with_one_convex_combination()
    {
        const int batch = 12, classes = 4;
        var x = new float[batch * batch];
        for (int i = 0; i < batch; i++) x[i * batch + i] = 1;   // sample i is e_i, so its partner can be read off
        int[] labels = Enumerable.Range(0, batch).Select(i => i % classes).ToArray();
        var mix = new Mixup(batch, maxBatch: 16, alpha: 1.0);
        var soft = new float[batch * classes];
        float[] y = Run(mix, x, batch, 7, labels, soft, classes);
        float? lambda = null;
        int moved = 0;
        for (int i = 0; i < batch; i++)
        {
            Assert.Equal(1, soft.Skip(i * classes).Take(classes).Sum(), 1e-6);
            Assert.Equal(1, y.Skip(i * batch).Take(batch).Sum(), 1e-6);
            int partner = Enumerable.Range(0, batch).Where(j => j != i && y[i * batch + j] != 0).DefaultIfEmpty(i).First();
            float own = y[i * batch + i];
            if (partner == i) { Assert.Equal(1, own, 1e-6); continue; }
            moved++;
            lambda ??= own;
            Assert.Equal(lambda.Value, own, 1e-6);                         // one λ for the batch
            Assert.Equal(1 - lambda.Value, y[i * batch + partner], 1e-6);
            var expected = new float[classes];
            expected[labels[i]] += lambda.Value;
            expected[labels[partner]] += 1 - lambda.Value;
            for (int c = 0; c < classes; c++) Assert.Equal(expected[c], soft[i * classes + c], 1e-6);
        }
        Assert.True(moved >= batch / 2);
        Assert.True(new Mixup(1, 1).ProducesSoftTargets);
        Assert.Throws<ArgumentOutOfRangeException>(() => Run(mix, x, batch, 7, labels.Select(l => l + 1).ToArray(), soft, classes));
        Assert.Throws<ArgumentOutOfRangeException>(() => Run(mix, new float[17 * batch], 17, 7, new int[17], new float[17 * classes], classes));
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void Beta_draws_have_the_right_mean_and_variance(double alpha)
    {
        var rng = new KilnRandom(11);
        const int n = 40000;
        double sum = 0, sq = 0;
        for (int i = 0; i < n; i++)
        {
            double b = RandomDraws.Beta(ref rng, alpha, alpha);
            Assert.InRange(b, 0, 1);
            sum += b;
            sq += b * b;
        }
        double mean = sum / n, variance = sq / n - mean * mean;
        Assert.Equal(0.5, mean, 0.01);
        Assert.Equal(1 / (4 * (2 * alpha + 1)), variance, 0.01);
    }

    private static IBatchAugmentation[] Every(int maxBatch)
    {
        var train = new Dataset(Ramp(10, Rgb), new int[10], Rgb.Size, 1, Rgb);
        return
        [
            new HorizontalFlip(Rgb), new RandomCrop(Rgb, 2), new RandomResizedCrop(Rgb), new BrightnessContrastJitter(Rgb, 0.2f, 0.2f),
            new PcaColorShift(train), new RandomRotation(Rgb, 10), new Cutout(Rgb, 3, true), new Mixup(Rgb.Size, maxBatch, alpha: 1),
            new Compose(new HorizontalFlip(Rgb), new RandomCrop(Rgb, 1), new Mixup(Rgb.Size, maxBatch), new Cutout(Rgb, 2)),
        ];
    }

    [Fact]
    public void Same_seed_same_batch_other_seed_other_batch_and_no_allocations()
    {
        const int batch = 32, classes = 3;
        float[] x = Ramp(batch, Rgb);
        int[] labels = Enumerable.Range(0, batch).Select(i => i % classes).ToArray();
        foreach (IBatchAugmentation a in Every(batch))
        {
            var s1 = new float[batch * classes];
            var s2 = new float[batch * classes];
            var s3 = new float[batch * classes];
            float[] a1 = Run(a, x, batch, 42, labels, s1, classes);
            float[] a2 = Run(a, x, batch, 42, labels, s2, classes);
            float[] a3 = Run(a, x, batch, 43, labels, s3, classes);
            string name = a.GetType().Name;
            Assert.True(a1.SequenceEqual(a2) && s1.SequenceEqual(s2), name + ": same seed, different batch");
            Assert.False(a1.SequenceEqual(a3), name + ": other seed, same batch");
            Assert.False(x.SequenceEqual(a1), name + ": unchanged");

            float[] work = (float[])x.Clone();
            var rng = new KilnRandom(1);
            void Once() => a.Apply(work, labels, s1, batch, classes, ref rng);
            Once();
            long before = GC.GetAllocatedBytesForCurrentThread();
            Once();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Throws<ArgumentException>(() => new Compose(new Mixup(2, 2), new Mixup(2, 2)));
        Assert.True(new Compose(new HorizontalFlip(Rgb), new Mixup(2, 2)).ProducesSoftTargets);
        Assert.False(new Compose(new HorizontalFlip(Rgb)).ProducesSoftTargets);
        Assert.Throws<ArgumentException>(() => Run(new HorizontalFlip(Rgb), new float[10], 1, 1));
    }
}
