using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics.X86;
using Kiln.LowPrecision;

namespace Kiln.Runtime.Tests;

/// <summary>
/// The bf16 and int8 kernels on every path this CPU runs, against straightforward double-precision implementations of
/// the same arithmetic (bf16-rounded weights summed in double; int8 products summed in a long).
/// </summary>
public class LowPrecisionKernelTests
{
    public static TheoryData<string> Bf16Paths()
    {
        var data = new TheoryData<string> { nameof(LowPrecisionPath.Portable) };
        if (Avx2.IsSupported && Fma.IsSupported) data.Add(nameof(LowPrecisionPath.Avx2));
        if (Avx512F.IsSupported) data.Add(nameof(LowPrecisionPath.Avx512));
        return data;
    }

    public static TheoryData<string> Int8Paths()
    {
        var data = new TheoryData<string> { nameof(LowPrecisionPath.Portable) };
        if (Avx512BW.IsSupported) data.Add(nameof(LowPrecisionPath.Avx512));
        if (AvxVnni.IsSupported) data.Add(nameof(LowPrecisionPath.AvxVnni));
        return data;
    }

    private static readonly (int M, int K, int O)[] Shapes = [(1, 1, 1), (1, 7, 17), (1, 64, 70), (3, 33, 32), (4, 5, 64), (5, 64, 33), (9, 130, 100), (1, 300, 256)];

    [Fact]
    public void Bf16_rounding_is_to_nearest_even()
    {
        var rng = new Random(1);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-40, 40)));
            float r = Bf16Gemm.FromBf16(Bf16Gemm.ToBf16(x));
            // Reference: the two bf16 neighbours of x (truncation and the next one up in magnitude), in double.
            uint bits = BitConverter.SingleToUInt32Bits(x);
            double down = BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u), up = BitConverter.UInt32BitsToSingle((bits & 0xFFFF0000u) + 0x10000u);
            double dd = Math.Abs(x - down), du = Math.Abs(up - x);
            double expected = dd < du ? down : du < dd ? up : ((bits >> 16) & 1) == 0 ? down : up;
            Assert.Equal(expected, r);
        }
        Assert.Equal(1f, Bf16Gemm.FromBf16(Bf16Gemm.ToBf16(1f)));
        Assert.True(float.IsNaN(Bf16Gemm.FromBf16(Bf16Gemm.ToBf16(float.NaN))));
        Assert.Equal(float.PositiveInfinity, Bf16Gemm.FromBf16(Bf16Gemm.ToBf16(float.PositiveInfinity)));
    }

    [Theory]
    [MemberData(nameof(Bf16Paths))]
    public void Bf16_gemm_matches_a_double_reference(string pathName)
    {
        var path = Enum.Parse<LowPrecisionPath>(pathName);
        var rng = new Random(2);
        foreach (var (m, k, o) in Shapes)
        {
            int ldx = k + 3; // a row stride wider than the row, as the im2col and graph buffers may have
            float[] x = Random(rng, m * ldx), w = Random(rng, k * o);
            uint[] packed = Bf16Gemm.Pack(w, k, o);
            int op = Bf16Gemm.PaddedOutputs(o);
            var y = new float[m * op];
            y.AsSpan().Fill(float.NaN); // every padded output is written
            Bf16Gemm.Multiply(path, x, ldx, packed, y, m, k, op);
            for (int r = 0; r < m; r++)
                for (int j = 0; j < op; j++)
                {
                    double sum = 0, magnitude = 0;
                    for (int kk = 0; j < o && kk < k; kk++)
                    {
                        double wb = Bf16Gemm.FromBf16(Bf16Gemm.ToBf16(w[kk * o + j]));
                        Assert.Equal(wb, Bf16Gemm.Weight(packed, op, kk, j));
                        sum += x[r * ldx + kk] * wb;
                        magnitude += Math.Abs(x[r * ldx + kk] * wb);
                    }
                    // float32 accumulation of k products: a few ulps of the sum of magnitudes.
                    Assert.True(Math.Abs(y[r * op + j] - sum) <= 1e-6 * k * magnitude + 1e-30,
                        $"{path} m={m} k={k} o={o}: y[{r},{j}] = {y[r * op + j]}, reference {sum}");
                }
        }
    }

    [Theory]
    [MemberData(nameof(Int8Paths))]
    public void Int8_gemm_is_exact(string pathName)
    {
        var path = Enum.Parse<LowPrecisionPath>(pathName);
        var rng = new Random(3);
        foreach (var (m, k, o) in Shapes)
        {
            int kp = Int8Gemm.PaddedDepth(k), op = Int8Gemm.PaddedOutputs(o);
            var x = new sbyte[m * kp];
            var w = new sbyte[k * o];
            for (int r = 0; r < m; r++)
                for (int kk = 0; kk < k; kk++) x[r * kp + kk] = (sbyte)rng.Next(-127, 128);
            for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
            // The extremes, where a saturating or offset product would go wrong.
            x[0] = -127; w[0] = -127;
            if (k > 1) { x[1] = 127; w[o] = -127; }
            sbyte[] packed = Int8Gemm.Pack(w, k, o);
            var acc = new int[m * op];
            Int8Gemm.Multiply(path, x, packed, Int8Gemm.ColumnSums(packed, kp, op), acc, m, kp, op, new Workspace());
            for (int r = 0; r < m; r++)
                for (int j = 0; j < op; j++)
                {
                    long sum = 0;
                    for (int kk = 0; j < o && kk < k; kk++) sum += x[r * kp + kk] * (long)w[kk * o + j];
                    Assert.True(sum == acc[r * op + j], $"{path} m={m} k={k} o={o}: acc[{r},{j}] = {acc[r * op + j]}, reference {sum}");
                }
        }
    }

    [Fact]
    public void Quantization_rounds_half_to_even_and_clamps()
    {
        Assert.Equal(2, Quantization.Quantize(2.5f, 1));
        Assert.Equal(-2, Quantization.Quantize(-2.5f, 1));
        Assert.Equal(4, Quantization.Quantize(3.5f, 1));
        Assert.Equal(127, Quantization.Quantize(1000f, 1));
        Assert.Equal(-127, Quantization.Quantize(-1000f, 1));
        Assert.Equal(0, Quantization.Quantize(float.NaN, 1));
        Assert.Equal(1f, Quantization.Scale(0));
        Assert.Equal(2f, Quantization.Scale(254));
    }

    /// <summary>
    /// A whole int8 layer (input quantisation, exact product, per-output dequantisation, bias) against double
    /// arithmetic: sx = max/127, sw[o] = max_k |W[k, o]|/127, q = clamp(round(v/s), ±127), y = sx·sw[o]·Σ qx·qw + b.
    /// Inputs sit away from rounding ties, so float and double agree on every q and the tolerance is the dequantisation's
    /// float rounding; a few inputs are past the calibrated range and clamp.
    /// </summary>
    [Theory]
    [MemberData(nameof(Int8Paths))]
    public void Int8_layer_matches_a_double_reference(string pathName)
    {
        var path = Enum.Parse<LowPrecisionPath>(pathName);
        var rng = new Random(4);
        foreach (var (m, k, o) in Shapes)
        {
            const double sx = 0.125;
            var x = new float[m * k];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(sx * (rng.Next(-140, 141) + (rng.Next(2) == 0 ? 0.2 : -0.3)));
            float[] w = Random(rng, k * o), bias = Random(rng, o);
            var linear = new LowPrecisionLinear("dense0", (float[])w.Clone(), bias, k, o);
            linear.Finish(Precision.Int8, inputMaxAbs: 127 * sx);
            Assert.Equal((float)sx, linear.InputScale);
            var y = new float[m * o];
            linear.Forward(path, x, k, m, y, transposed: false, new Workspace(), calibrating: false);
            var yt = new float[m * o];
            linear.Forward(path, x, k, m, yt, transposed: true, new Workspace(), calibrating: false);
            for (int j = 0; j < o; j++)
            {
                double wmax = 0;
                for (int kk = 0; kk < k; kk++) wmax = Math.Max(wmax, Math.Abs(w[kk * o + j]));
                double sw = (float)(wmax / 127);
                Assert.Equal(sw, linear.WeightScales[j]);
                for (int r = 0; r < m; r++)
                {
                    double sum = 0;
                    int weightTies = 0;
                    for (int kk = 0; kk < k; kk++)
                    {
                        double qx = Math.Clamp(Math.Round(x[r * k + kk] / sx, MidpointRounding.ToEven), -127, 127);
                        double exact = w[kk * o + j] / sw;
                        if (Math.Abs(exact - Math.Floor(exact) - 0.5) < 1e-4) weightTies++;
                        double qw = Math.Clamp(Math.Round(exact, MidpointRounding.ToEven), -127, 127);
                        sum += qx * qw;
                    }
                    double expected = sx * sw * sum + bias[j];
                    double tolerance = 1e-5 * (Math.Abs(sx * sw * sum) + Math.Abs(bias[j])) + 1e-6 + weightTies * 127 * sx * sw;
                    Assert.True(Math.Abs(y[r * o + j] - expected) <= tolerance, $"{path} m={m} k={k} o={o}: y[{r},{j}] = {y[r * o + j]}, reference {expected}");
                    Assert.Equal(y[r * o + j], yt[j * m + r]);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Bf16Paths))]
    public void Bf16_layer_adds_the_bias_and_writes_both_layouts(string pathName)
    {
        var path = Enum.Parse<LowPrecisionPath>(pathName);
        var rng = new Random(5);
        const int m = 6, k = 40, o = 45;
        float[] x = Random(rng, m * k), w = Random(rng, k * o), bias = Random(rng, o);
        var linear = new LowPrecisionLinear("dense0", (float[])w.Clone(), bias, k, o);
        linear.Finish(Precision.BFloat16);
        var y = new float[m * o];
        var yt = new float[m * o];
        linear.Forward(path, x, k, m, y, transposed: false, new Workspace(), calibrating: false);
        linear.Forward(path, x, k, m, yt, transposed: true, new Workspace(), calibrating: false);
        for (int r = 0; r < m; r++)
            for (int j = 0; j < o; j++)
            {
                double sum = bias[j], magnitude = Math.Abs(bias[j]);
                for (int kk = 0; kk < k; kk++)
                {
                    double p = x[r * k + kk] * (double)Bf16Gemm.FromBf16(Bf16Gemm.ToBf16(w[kk * o + j]));
                    sum += p;
                    magnitude += Math.Abs(p);
                }
                Assert.True(Math.Abs(y[r * o + j] - sum) <= 1e-6 * k * magnitude, $"{path}: y[{r},{j}] = {y[r * o + j]}, reference {sum}");
                Assert.Equal(y[r * o + j], yt[j * m + r]);
            }
    }

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
