using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>KLN0212: Bernoulli masks in user-written layer code, with and without the 1/p scale.</summary>
public class HandWrittenDropoutTests
{
    [Fact]
    public Task KLN0212_unscaled_masks() => Verify.AnalyzerAsync<UnscaledDropoutCodeAnalyzer>("""
        public sealed class MyDropout
        {
            private readonly float _keep = 0.8f;
            private readonly Random _random = new(1);

            public void Forward(float[] h)
            {
                for (int i = 0; i < h.Length; i++)
                    h[i] *= [|_random.NextSingle() < _keep ? 1f : 0f|];        // multiplied in, never rescaled
            }
        }

        public sealed class HandDropout
        {
            public double Rate = 0.5;

            public void Apply(double[] activations, Random rng)
            {
                for (int i = 0; i < activations.Length; i++)
                    if ([|rng.NextDouble() < Rate|]) activations[i] = 0;         // zeroed, the rest kept as is
            }
        }

        public sealed class Layer
        {
            public void Forward(double[] x, Random rng, double keep)
            {
                for (int i = 0; i < x.Length; i++)
                    x[i] = [|rng.NextDouble() < keep ? x[i] : 0.0|];          // dropped in place
            }
        }

        public sealed class Masked
        {
            public void Forward(float[] x, float[] y, float[] mask, Random random, float dropRate)
            {
                for (int i = 0; i < x.Length; i++)
                {
                    mask[i] = [|random.NextSingle() >= dropRate ? 1f : 0f|];
                    y[i] = x[i] * mask[i];
                }
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0212_near_misses() => Verify.NoDiagnosticsAsync<UnscaledDropoutCodeAnalyzer>("""
        public sealed class InvertedDropout
        {
            public void Forward(float[] h, float[] mask, Random random, float keep)
            {
                for (int i = 0; i < h.Length; i++)
                {
                    mask[i] = random.NextSingle() < keep ? 1f / keep : 0f;       // inverted: kept values scaled
                    h[i] *= mask[i];
                }
            }
        }

        public sealed class VanillaDropout
        {
            private readonly float _keep = 0.8f;
            private readonly Random _random = new(1);

            public void Train(float[] h)
            {
                for (int i = 0; i < h.Length; i++) h[i] *= _random.NextSingle() < _keep ? 1f : 0f;
            }

            public void Predict(float[] h)
            {
                for (int i = 0; i < h.Length; i++) h[i] *= _keep;                // ×p at test: vanilla dropout
            }
        }

        public sealed class ScaledElse
        {
            public double Rate = 0.5;

            public void Apply(double[] a, Random rng)
            {
                for (int i = 0; i < a.Length; i++)
                    if (rng.NextDouble() < Rate) a[i] = 0; else a[i] /= 1 - Rate;
            }
        }

        public sealed class Augmenter
        {
            public int Flip(Random rng) => rng.NextDouble() < 0.5 ? 1 : 0;      // a coin flip, not a mask
        }

        public sealed class Doubled
        {
            public double Apply(double x, Random rng) => x * (rng.NextDouble() < 0.5 ? 2.0 : 0.0); // 1/p written out
        }

        public sealed class Threshold
        {
            public float Step(float value, float threshold) => value < threshold ? 1f : 0f;     // no random draw
        }
        """, generate: false);
}
