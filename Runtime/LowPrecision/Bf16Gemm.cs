using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.LowPrecision;

/// <summary>
/// Y[m, o] = Σ_k X[m, k]·W[k, o] with W held as bfloat16 and every product and sum in float32 (FMA). The CPU's
/// AVX512-BF16 dot product (vdpbf16ps) is not exposed by .NET 10, so the kernels widen bf16 to float32 with integer
/// ops, which is exact: a bf16 is the top 16 bits of a float32.
/// <para>
/// Packing: the outputs are padded to groups of 32; a group's 32 weights of one k are 16 uint lanes, lane j holding
/// output j in its low half and output 16 + j in its high half. <c>lane &lt;&lt; 16</c> is then outputs 0–15 as floats
/// and <c>lane &amp; 0xFFFF0000</c> outputs 16–31: one load and two single-cycle ops widen 32 weights, with no shuffle.
/// A 256-bit half of the group gives outputs 0–7 / 16–23 (first half) and 8–15 / 24–31 (second half).
/// </para>
/// </summary>
internal static class Bf16Gemm
{
    /// <summary>Outputs per packed group.</summary>
    public const int Group = 32;

    /// <summary>k per block of the batched AVX-512 kernel: 128 × 64 bytes of weights, an eighth of L1.</summary>
    private const int KBlock = 128;

    private static unsafe Vector512<float> Start(float* y, bool first) => first ? Vector512<float>.Zero : Avx512F.LoadVector512(y);

    /// <summary>Rounds a float to the nearest bfloat16 (ties to even); NaN stays a quiet NaN.</summary>
    public static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>The float32 a bfloat16 stands for (exact).</summary>
    public static float FromBf16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Padded output count (a multiple of <see cref="Group"/>).</summary>
    public static int PaddedOutputs(int outputs) => (outputs + Group - 1) / Group * Group;

    /// <summary>Packs a [K, O] float matrix (row-major, as Kiln's Dense weights and the exported Gemm) as bf16 groups.</summary>
    public static uint[] Pack(ReadOnlySpan<float> w, int k, int o)
    {
        int op = PaddedOutputs(o);
        var packed = new uint[k * op / 2];
        for (int kk = 0; kk < k; kk++)
            for (int g = 0; g < op; g += Group)
                for (int j = 0; j < Group / 2; j++)
                {
                    int lo = g + j, hi = g + Group / 2 + j;
                    uint a = lo < o ? ToBf16(w[kk * o + lo]) : 0u, b = hi < o ? ToBf16(w[kk * o + hi]) : 0u;
                    packed[(kk * op + g) / 2 + j] = a | (b << 16);
                }
        return packed;
    }

    /// <summary>The bf16 weight W[k, o] of a packed matrix, as float.</summary>
    public static float Weight(ReadOnlySpan<uint> packed, int op, int k, int o)
    {
        int g = o / Group * Group, j = o - g;
        uint lane = packed[(k * op + g) / 2 + (j % (Group / 2))];
        return BitConverter.UInt32BitsToSingle(j < Group / 2 ? lane << 16 : lane & 0xFFFF0000u);
    }

    /// <summary>Y (m × op, row-major) = X (m × k, row stride <paramref name="ldx"/>) · W on the given path.</summary>
    public static void Multiply(LowPrecisionPath path, ReadOnlySpan<float> x, int ldx, ReadOnlySpan<uint> w, Span<float> y, int m, int k, int op)
    {
        if (x.Length < (m - 1) * ldx + k || w.Length < k * op / 2 || y.Length < m * op)
            throw new ArgumentException("Bf16Gemm.Multiply: a buffer is too small for its shape.");
        switch (path)
        {
            case LowPrecisionPath.Avx512 when Avx512F.IsSupported: Avx512(x, ldx, w, y, m, k, op); break;
            case LowPrecisionPath.Avx2 when Avx2.IsSupported && Fma.IsSupported: Avx256(x, ldx, w, y, m, k, op); break;
            case LowPrecisionPath.Portable: Portable(x, ldx, w, y, m, k, op); break;
            default: throw new PlatformNotSupportedException($"The bf16 kernel has no {path} path on this CPU.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    private static void Portable(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<uint> w, Span<float> y, int m, int k, int op)
    {
        y[..(m * op)].Clear();
        for (int r = 0; r < m; r++)
        {
            Span<float> yr = y.Slice(r * op, op);
            for (int kk = 0; kk < k; kk++)
            {
                float xv = x[r * ldx + kk];
                ReadOnlySpan<uint> row = w.Slice(kk * op / 2, op / 2);
                for (int g = 0; g < op; g += Group)
                    for (int j = 0; j < Group / 2; j++)
                    {
                        uint lane = row[g / 2 + j];
                        yr[g + j] = MathF.FusedMultiplyAdd(xv, BitConverter.UInt32BitsToSingle(lane << 16), yr[g + j]);
                        yr[g + Group / 2 + j] = MathF.FusedMultiplyAdd(xv, BitConverter.UInt32BitsToSingle(lane & 0xFFFF0000u), yr[g + Group / 2 + j]);
                    }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    private static unsafe void Avx512(ReadOnlySpan<float> xs, int ldx, ReadOnlySpan<uint> ws, Span<float> ys, int m, int k, int op)
    {
        var mask = Vector512.Create(0xFFFF0000u);
        fixed (float* x0 = xs, y0 = ys)
        fixed (uint* w0 = ws)
        {
            int r = 0;
            if (m >= 4)
            {
                // Four rows share each weight load (8 accumulators). The k loop is cut into blocks whose weight panel
                // (KBlock × 64 bytes) stays in L1 while every row tile of the batch reads it; partial sums go through Y.
                int tiles = m / 4 * 4;
                for (int g = 0; g < op; g += Group)
                    for (int kb = 0; kb < k; kb += KBlock)
                    {
                        int kEnd = Math.Min(k, kb + KBlock);
                        bool first = kb == 0;
                        for (int t = 0; t < tiles; t += 4)
                        {
                            float* y = y0 + t * op + g;
                            Vector512<float> a0 = Start(y, first), b0 = Start(y + 16, first), a1 = Start(y + op, first), b1 = Start(y + op + 16, first);
                            Vector512<float> a2 = Start(y + 2 * op, first), b2 = Start(y + 2 * op + 16, first), a3 = Start(y + 3 * op, first), b3 = Start(y + 3 * op + 16, first);
                            float* x = x0 + t * ldx;
                            uint* w = w0 + (kb * op + g) / 2;
                            for (int kk = kb; kk < kEnd; kk++, w += op / 2)
                            {
                                Vector512<uint> lane = Avx512F.LoadVector512(w);
                                Vector512<float> lo = Avx512F.ShiftLeftLogical(lane, 16).AsSingle(), hi = Avx512F.And(lane, mask).AsSingle();
                                var v0 = Vector512.Create(x[kk]); a0 = Avx512F.FusedMultiplyAdd(v0, lo, a0); b0 = Avx512F.FusedMultiplyAdd(v0, hi, b0);
                                var v1 = Vector512.Create(x[ldx + kk]); a1 = Avx512F.FusedMultiplyAdd(v1, lo, a1); b1 = Avx512F.FusedMultiplyAdd(v1, hi, b1);
                                var v2 = Vector512.Create(x[2 * ldx + kk]); a2 = Avx512F.FusedMultiplyAdd(v2, lo, a2); b2 = Avx512F.FusedMultiplyAdd(v2, hi, b2);
                                var v3 = Vector512.Create(x[3 * ldx + kk]); a3 = Avx512F.FusedMultiplyAdd(v3, lo, a3); b3 = Avx512F.FusedMultiplyAdd(v3, hi, b3);
                            }
                            Avx512F.Store(y, a0); Avx512F.Store(y + 16, b0);
                            Avx512F.Store(y + op, a1); Avx512F.Store(y + op + 16, b1);
                            Avx512F.Store(y + 2 * op, a2); Avx512F.Store(y + 2 * op + 16, b2);
                            Avx512F.Store(y + 3 * op, a3); Avx512F.Store(y + 3 * op + 16, b3);
                        }
                        for (int t = tiles; t < m; t++)
                        {
                            float* y = y0 + t * op + g;
                            Vector512<float> a0 = Start(y, first), b0 = Start(y + 16, first);
                            float* x = x0 + t * ldx;
                            uint* w = w0 + (kb * op + g) / 2;
                            for (int kk = kb; kk < kEnd; kk++, w += op / 2)
                            {
                                var v = Vector512.Create(x[kk]);
                                Vector512<uint> l0 = Avx512F.LoadVector512(w);
                                a0 = Avx512F.FusedMultiplyAdd(v, Avx512F.ShiftLeftLogical(l0, 16).AsSingle(), a0);
                                b0 = Avx512F.FusedMultiplyAdd(v, Avx512F.And(l0, mask).AsSingle(), b0);
                            }
                            Avx512F.Store(y, a0); Avx512F.Store(y + 16, b0);
                        }
                    }
                return;
            }
            // Batch 1 to 3: single rows, two groups at a time so four independent FMA chains hide the latency.
            for (; r < m; r++)
            {
                float* x = x0 + r * ldx;
                int g = 0;
                for (; g + 2 * Group <= op; g += 2 * Group)
                {
                    Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default;
                    uint* w = w0 + g / 2;
                    for (int kk = 0; kk < k; kk++, w += op / 2)
                    {
                        var v = Vector512.Create(x[kk]);
                        Vector512<uint> l0 = Avx512F.LoadVector512(w), l1 = Avx512F.LoadVector512(w + Group / 2);
                        a0 = Avx512F.FusedMultiplyAdd(v, Avx512F.ShiftLeftLogical(l0, 16).AsSingle(), a0);
                        b0 = Avx512F.FusedMultiplyAdd(v, Avx512F.And(l0, mask).AsSingle(), b0);
                        a1 = Avx512F.FusedMultiplyAdd(v, Avx512F.ShiftLeftLogical(l1, 16).AsSingle(), a1);
                        b1 = Avx512F.FusedMultiplyAdd(v, Avx512F.And(l1, mask).AsSingle(), b1);
                    }
                    float* y = y0 + r * op + g;
                    Avx512F.Store(y, a0); Avx512F.Store(y + 16, b0); Avx512F.Store(y + 32, a1); Avx512F.Store(y + 48, b1);
                }
                for (; g < op; g += Group)
                {
                    Vector512<float> a0 = default, b0 = default;
                    uint* w = w0 + g / 2;
                    for (int kk = 0; kk < k; kk++, w += op / 2)
                    {
                        var v = Vector512.Create(x[kk]);
                        Vector512<uint> l0 = Avx512F.LoadVector512(w);
                        a0 = Avx512F.FusedMultiplyAdd(v, Avx512F.ShiftLeftLogical(l0, 16).AsSingle(), a0);
                        b0 = Avx512F.FusedMultiplyAdd(v, Avx512F.And(l0, mask).AsSingle(), b0);
                    }
                    Avx512F.Store(y0 + r * op + g, a0); Avx512F.Store(y0 + r * op + g + 16, b0);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    private static unsafe void Avx256(ReadOnlySpan<float> xs, int ldx, ReadOnlySpan<uint> ws, Span<float> ys, int m, int k, int op)
    {
        var mask = Vector256.Create(0xFFFF0000u);
        fixed (float* x0 = xs, y0 = ys)
        fixed (uint* w0 = ws)
        {
            // One row by one 32-output group: the group's two 256-bit halves give four accumulators.
            for (int r = 0; r < m; r++)
            {
                float* x = x0 + r * ldx;
                for (int g = 0; g < op; g += Group)
                {
                    Vector256<float> a0 = default, b0 = default, a1 = default, b1 = default;
                    uint* w = w0 + g / 2;
                    for (int kk = 0; kk < k; kk++, w += op / 2)
                    {
                        var v = Vector256.Create(x[kk]);
                        Vector256<uint> l0 = Avx.LoadVector256(w), l1 = Avx.LoadVector256(w + 8);
                        a0 = Fma.MultiplyAdd(v, Avx2.ShiftLeftLogical(l0, 16).AsSingle(), a0); // outputs 0–7
                        b0 = Fma.MultiplyAdd(v, Avx2.And(l0, mask).AsSingle(), b0);           // outputs 16–23
                        a1 = Fma.MultiplyAdd(v, Avx2.ShiftLeftLogical(l1, 16).AsSingle(), a1); // outputs 8–15
                        b1 = Fma.MultiplyAdd(v, Avx2.And(l1, mask).AsSingle(), b1);           // outputs 24–31
                    }
                    float* y = y0 + r * op + g;
                    Avx.Store(y, a0); Avx.Store(y + 8, a1); Avx.Store(y + 16, b0); Avx.Store(y + 24, b1);
                }
            }
        }
    }
}
