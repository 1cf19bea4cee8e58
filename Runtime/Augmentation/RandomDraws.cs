using System;
using Kiln.Data;

namespace Kiln.Augmentation;

/// <summary>Distributions drawn from <see cref="KilnRandom"/> (so every draw repeats exactly for a seed), and batch checks.</summary>
internal static class RandomDraws
{
    /// <summary>Uniform in [lo, hi).</summary>
    public static double Uniform(ref KilnRandom rng, double lo, double hi) => lo + (hi - lo) * rng.NextDouble();

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public static bool Bernoulli(ref KilnRandom rng, double p) => p >= 1 || (p > 0 && rng.NextDouble() < p);

    /// <summary>Standard normal by Box–Muller (one of the pair; the other is discarded to keep the stream simple).</summary>
    public static double Normal(ref KilnRandom rng)
    {
        double u1 = 1.0 - rng.NextDouble();   // (0, 1]: the logarithm is finite
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>
    /// log of a Gamma(shape, 1) draw: Marsaglia–Tsang for shape ≥ 1; for shape &lt; 1, Gamma(shape + 1)·U^(1/shape),
    /// kept in logs because U^(1/shape) underflows for small shapes (mixup's α = 0.1 … 0.4).
    /// </summary>
    public static double LogGamma(ref KilnRandom rng, double shape)
    {
        if (shape < 1)
        {
            double u = 1.0 - rng.NextDouble();
            return LogGamma(ref rng, shape + 1) + Math.Log(u) / shape;
        }
        double d = shape - 1.0 / 3.0, c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = Normal(ref rng);
            double v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1.0 - rng.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return Math.Log(d * v);
        }
    }

    /// <summary>Beta(a, b) as X/(X + Y) with X ~ Gamma(a), Y ~ Gamma(b), computed as 1/(1 + e^(log Y − log X)).</summary>
    public static double Beta(ref KilnRandom rng, double a, double b)
    {
        double lx = LogGamma(ref rng, a), ly = LogGamma(ref rng, b);
        return 1.0 / (1.0 + Math.Exp(ly - lx));
    }

    /// <summary>Checks a batch of image samples and returns the floats it covers.</summary>
    public static int CheckBatch(ReadOnlySpan<float> inputs, int batch, int featuresPerSample, string who)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        long need = (long)batch * featuresPerSample;
        if (inputs.Length < need)
            throw new ArgumentException($"{who}: {batch} samples of {featuresPerSample} features need {need} values; the inputs hold {inputs.Length}.", nameof(inputs));
        return (int)need;
    }

    public static void CheckShape(ImageShape shape, string who)
    {
        if (shape.Channels <= 0 || shape.Height <= 0 || shape.Width <= 0)
            throw new ArgumentOutOfRangeException(nameof(shape), shape, $"{who}: the image shape must be positive in every dimension.");
    }
}
