using System;
using System.Linq;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The fused BatchNorm2D → activation → 2×2 max-pool kernels (forward: one pass writing the pooled output and argmax;
/// backward: pool scatter, activation derivative and the BatchNorm sums in one pass) on every ISA path, against a
/// straightforward double implementation of BN → f → max-pool forward and backward, and against the unfused kernels
/// they replace (NormalizeRows + MaxForward, MaxBackward + BlockBackwardSums): same outputs, argmax and g bit for bit,
/// the same sums up to the order of addition. Odd heights and widths (a row/column no window reads), channel tails,
/// ties in the max (duplicated values, and ReLU's zeros), and block splits that must not change any bit.
/// </summary>
public sealed class BatchNormPoolTests
{
    private static double Derivative(string name, double u) => name switch
    {
        "Identity" => 1,
        "Relu" => u > 0 ? 1 : 0,
        _ => 1 - Math.Tanh(u) * Math.Tanh(u),
    };

    [Theory, MemberData(nameof(BatchNormSplitTests.Cases), MemberType = typeof(BatchNormSplitTests))]
    public void Fused_forward_and_backward_match_double_reference_and_unfused_kernels(IsaPath path, string activation)
    {
        Reference.Activation a = Reference.Find(activation);
        Isa.Invoke(this, nameof(Core), new[] { Isa.Marker(path), a.Type }, a);
    }

    private void Core<TIsa, TAct>(Reference.Activation a) where TIsa : struct, ISimdPath where TAct : struct, IActivation
    {
        var act = (TAct)a.Instance;
        var rnd = new Random(23);
        // (samples, height, width, channels, samples per block): the benchmark CNN's two shapes, odd sizes, channel tails.
        foreach ((int n, int h, int w, int cols, int blockSamples) in new[]
                 { (3, 28, 28, 16, 1), (4, 14, 14, 32, 2), (5, 7, 7, 32, 2), (4, 5, 6, 5, 3), (3, 3, 5, 37, 1), (2, 2, 2, 1, 1), (3, 4, 3, 24, 2) })
        {
            var g = new PoolGeometry(cols, h, w, 2, 2, 2, 2, 0, 0);
            int inSize = g.InputSize, outSize = g.OutputSize;
            string ctx = $"{typeof(TIsa).Name} {a.Name} {n}×{h}×{w}×{cols}";
            float[] z = Data.Uniform(rnd, n * inSize, -2, 3);
            // Ties: in every third window the second element repeats the first (the max, if it is one, goes to the first).
            for (int s = 0; s < n; s++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox += 3)
                        for (int c = 0; c < cols; c++)
                        {
                            int i00 = s * inSize + ((2 * oy) * w + 2 * ox) * cols + c;
                            z[i00 + cols] = z[i00];
                        }
            float[] gamma = Data.Uniform(rnd, cols, 0.5, 1.5), beta = Data.Uniform(rnd, cols, -0.5, 0.5);
            float[] mean = Data.Uniform(rnd, cols, -0.2, 0.8), invStd = Data.Uniform(rnd, cols, 0.6, 1.4);
            float[] dy = Data.Uniform(rnd, n * outSize, -1, 1);

            // Fused forward, without and with the full-size activations.
            float[] pooled = new float[n * outSize], y = Data.Filled(n * inSize, float.NaN);
            int[] argmax = new int[n * outSize];
            BatchNorm.NormalizeMaxPool2x2<TIsa, TAct>(z, gamma, beta, mean, invStd, default, pooled, argmax, g, 0, n, act);
            float[] pooled2 = new float[n * outSize];
            int[] argmax2 = new int[n * outSize];
            // Two calls over sample ranges, the second first.
            BatchNorm.NormalizeMaxPool2x2<TIsa, TAct>(z, gamma, beta, mean, invStd, y, pooled2, argmax2, g, n / 2, n, act);
            BatchNorm.NormalizeMaxPool2x2<TIsa, TAct>(z, gamma, beta, mean, invStd, y, pooled2, argmax2, g, 0, n / 2, act);
            Assert.Equal(pooled, pooled2);
            Assert.Equal(argmax, argmax2);

            // Unfused: normalise + activation, then max pool.
            float[] yRef = new float[n * inSize], pooledRef = new float[n * outSize];
            int[] argmaxRef = new int[n * outSize];
            BatchNorm.NormalizeRows<TIsa, TAct>(z, gamma, beta, mean, invStd, default, yRef, n * h * w, cols, act);
            Pooling.MaxForward<TIsa>(yRef, pooledRef, argmaxRef, g, 0, n);
            // Piecewise-linear activations give the same bits; a transcendental one may round its last bit differently
            // where the JIT inlines it (its polynomial uses fused multiply-add estimates), so it is compared to float rounding.
            bool exact = a.Name != "Tanh";
            if (exact)
            {
                Assert.Equal(yRef, y);
                Assert.Equal(pooledRef, pooled);
                Assert.Equal(argmaxRef, argmax);
            }
            else
            {
                for (int i = 0; i < y.Length; i++) Near.Check(y[i], yRef[i], 1e-6, 1e-6, $"{ctx} activations[{i}] against NormalizeRows");
                for (int i = 0; i < pooled.Length; i++) Near.Check(pooled[i], pooledRef[i], 1e-6, 1e-6, $"{ctx} pooled[{i}] against MaxForward");
            }

            // Double reference of the forward.
            var u = new double[n * inSize];
            var ad = new double[n * inSize];
            for (int i = 0; i < u.Length; i++)
            {
                int c = i % cols;
                u[i] = (double)gamma[c] * ((double)z[i] - mean[c]) * invStd[c] + beta[c];
                ad[i] = a.Forward(u[i]);
            }
            for (int s = 0; s < n; s++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                        for (int c = 0; c < cols; c++)
                        {
                            int o = s * outSize + (oy * g.OutWidth + ox) * cols + c;
                            int[] window = { ((2 * oy) * w + 2 * ox) * cols + c, ((2 * oy) * w + 2 * ox + 1) * cols + c, ((2 * oy + 1) * w + 2 * ox) * cols + c, ((2 * oy + 1) * w + 2 * ox + 1) * cols + c };
                            double[] v = window.Select(i => ad[s * inSize + i]).ToArray();
                            double max = v.Max();
                            int first = window[Array.IndexOf(v, max)];
                            Near.Check(pooled[o], max, 2e-6, 2e-6, $"{ctx} pooled[{o}]");
                            double second = v.Where((x, k) => window[k] != first).Max();
                            if (max - second > 1e-5)
                                Assert.True(first == argmax[o], $"{ctx} argmax[{o}] = {argmax[o]}, reference {first}");
                            else
                                Assert.True(Array.IndexOf(window, argmax[o]) >= 0 && ad[s * inSize + argmax[o]] >= max - 1e-5, $"{ctx} argmax[{o}] = {argmax[o]} is not a maximum of its window");
                            // Exact ties (equal z) go to the first in window order.
                            if (z[s * inSize + window[0]] == z[s * inSize + window[1]] && ad[s * inSize + window[0]] == max)
                                Assert.Equal(window[0], argmax[o]);
                        }

            // Fused backward, blocks split into parts run last first.
            int blocks = BatchNorm.BlockCount(n, blockSamples);
            foreach (int parts in new[] { 1, 2, 3 })
            {
                float[] gFused = Data.Filled(n * inSize, float.NaN);
                double[] sums = new double[2 * blocks * cols];
                for (int p = parts - 1; p >= 0; p--)
                {
                    (int b0, int b1) = Partition.Range(blocks, p, parts, 1);
                    BatchNorm.MaxPool2x2BackwardSums<TIsa, TAct>(z, dy, argmax, gamma, beta, mean, invStd, gFused, sums, g, n, blockSamples, b0, b1, act);
                }

                // Unfused: scatter, then BlockBackwardSums (g into its own buffer).
                float[] scattered = new float[n * inSize], gRef = new float[n * inSize];
                double[] sumsRef = new double[2 * blocks * cols];
                Pooling.MaxBackward<TIsa>(dy, argmax, scattered, g, 0, n);
                BatchNorm.BlockBackwardSums<TIsa, TAct>(z, scattered, default, gamma, beta, mean, invStd, gRef, sumsRef, n * h * w, cols, blockSamples * h * w, 0, blocks, act);
                if (exact) Assert.Equal(gRef, gFused);
                else for (int i = 0; i < gRef.Length; i++) Near.Check(gFused[i], gRef[i], 1e-6, 1e-6, $"{ctx} g[{i}] against the unfused kernels");
                for (int i = 0; i < sums.Length; i++) Near.Check(sums[i], sumsRef[i], 1e-9, 1e-9, $"{ctx} {parts} parts: sums[{i}] against the unfused kernels");

                // Double reference of the backward.
                var gd = new double[n * inSize];
                for (int s = 0; s < n; s++)
                    for (int o = 0; o < outSize; o++)
                    {
                        int i = s * inSize + argmax[s * outSize + o];
                        gd[i] = dy[s * outSize + o] * Derivative(a.Name, u[i]);
                    }
                for (int i = 0; i < gd.Length; i++) Near.Check(gFused[i], gd[i], 1e-5, 1e-5, $"{ctx} g[{i}]");
                for (int b = 0; b < blocks; b++)
                    for (int c = 0; c < cols; c++)
                    {
                        double sg = 0, sgx = 0, sgAbs = 0;
                        for (int s = b * blockSamples; s < Math.Min(n, (b + 1) * blockSamples); s++)
                            for (int p = 0; p < h * w; p++)
                            {
                                int i = s * inSize + p * cols + c;
                                double xh = ((double)z[i] - mean[c]) * invStd[c];
                                sg += gd[i];
                                sgx += gd[i] * xh;
                                sgAbs += Math.Abs(gd[i]) * (1 + Math.Abs(xh));
                            }
                        Near.Check(sums[2 * b * cols + c], sg, 1e-5 * (1 + sgAbs), 0, $"{ctx} Σg block {b} channel {c}");
                        Near.Check(sums[(2 * b + 1) * cols + c], sgx, 1e-5 * (1 + sgAbs), 0, $"{ctx} Σg·x̂ block {b} channel {c}");
                    }
            }
        }
    }

    [Fact]
    public void Fused_kernels_refuse_a_pool_they_do_not_handle()
    {
        var g = new PoolGeometry(4, 6, 6, 3, 3, 2, 2, 0, 0);
        Assert.False(BatchNorm.FusesWithPool(g));
        Assert.True(BatchNorm.FusesWithPool(new PoolGeometry(4, 6, 6, 2, 2, 2, 2, 0, 0)));
        var e = Assert.Throws<ArgumentException>(() => BatchNorm.NormalizeMaxPool2x2<PortablePath, Relu>(new float[144], new float[4], new float[4], new float[4], new float[4],
            default, new float[g.OutputSize], new int[g.OutputSize], g, 0, 1, default));
        Assert.Contains("2×2 window with stride 2", e.Message);
    }
}
