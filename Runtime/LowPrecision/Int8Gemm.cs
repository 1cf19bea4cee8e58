using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.LowPrecision;

/// <summary>
/// Acc[m, o] = Σ_k Xq[m, k]·Wq[k, o] exactly in int32, with Xq and Wq signed 8-bit values in [−127, 127].
/// <para>
/// Packing: k is padded to a multiple of 4 and the outputs to a multiple of 16; the bytes are [k/4][o][4], so 32
/// bytes hold 8 outputs × 4 consecutive k — the operand layout of vpdpbusd, which adds four u8·s8 products into each
/// int32 lane. Paths:
/// </para>
/// <list type="bullet">
/// <item><see cref="LowPrecisionPath.AvxVnni"/>: vpdpbusd on 256 bits (.NET 10 exposes VNNI as <c>AvxVnni</c> only; it
/// has no 512-bit AVX512-VNNI class). vpdpbusd multiplies unsigned by signed bytes, so X is offset to u8 (x + 128) and
/// 128·Σ_k Wq[k, o] is subtracted after: the result is the same exact integer.</item>
/// <item><see cref="LowPrecisionPath.Avx512"/>: AVX-512BW without VNNI: each 16-bit lane of the packed bytes is split
/// into its sign-extended low and high byte (shifts), and vpmaddwd multiplies them by X's matching bytes: 64
/// products per 64-byte load, no saturation (vpmaddubsw would saturate).</item>
/// <item><see cref="LowPrecisionPath.Portable"/>: scalar.</item>
/// </list>
/// </summary>
internal static class Int8Gemm
{
    /// <summary>Outputs per group (one 512-bit, two 256-bit vectors).</summary>
    public const int Group = 16;

    /// <summary>k padded to a multiple of 4.</summary>
    public static int PaddedDepth(int k) => (k + 3) / 4 * 4;

    /// <summary>Outputs padded to a multiple of <see cref="Group"/>.</summary>
    public static int PaddedOutputs(int o) => (o + Group - 1) / Group * Group;

    /// <summary>Packs Wq [K, O] (row-major) into [Kp/4][Op][4].</summary>
    public static sbyte[] Pack(ReadOnlySpan<sbyte> wq, int k, int o)
    {
        int kp = PaddedDepth(k), op = PaddedOutputs(o);
        var packed = new sbyte[kp * op];
        for (int kk = 0; kk < k; kk++)
            for (int oo = 0; oo < o; oo++)
                packed[(kk / 4 * op + oo) * 4 + kk % 4] = wq[kk * o + oo];
        return packed;
    }

    /// <summary>Σ_k Wq[k, o] per padded output (the u8 offset's correction).</summary>
    public static int[] ColumnSums(ReadOnlySpan<sbyte> packed, int kp, int op)
    {
        var sums = new int[op];
        for (int q = 0; q < kp / 4; q++)
            for (int oo = 0; oo < op; oo++)
                for (int j = 0; j < 4; j++) sums[oo] += packed[(q * op + oo) * 4 + j];
        return sums;
    }

    /// <summary>
    /// Acc (m × op) = Xq (m × kp, rows padded with zeros) · W on the given path. <paramref name="columnSums"/> is
    /// <see cref="ColumnSums"/> of the same packing.
    /// </summary>
    public static void Multiply(LowPrecisionPath path, ReadOnlySpan<sbyte> x, ReadOnlySpan<sbyte> w, ReadOnlySpan<int> columnSums,
        Span<int> acc, int m, int kp, int op, Workspace ws)
    {
        if (kp % 4 != 0 || op % Group != 0 || x.Length < m * kp || w.Length < kp * op || acc.Length < m * op || columnSums.Length < op)
            throw new ArgumentException("Int8Gemm.Multiply: a buffer or a padded size does not match its shape.");
        switch (path)
        {
            case LowPrecisionPath.AvxVnni when AvxVnni.IsSupported: Vnni(x, w, columnSums, acc, m, kp, op, ws.Packed(m * kp / 4)); break;
            case LowPrecisionPath.Avx512 when Avx512BW.IsSupported: Avx512(x, w, acc, m, kp, op, ws.Packed(m * kp / 2)); break;
            case LowPrecisionPath.Portable: Portable(x, w, acc, m, kp, op); break;
            default: throw new PlatformNotSupportedException($"The int8 kernel has no {path} path on this CPU.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    private static void Portable(ReadOnlySpan<sbyte> x, ReadOnlySpan<sbyte> w, Span<int> acc, int m, int kp, int op)
    {
        for (int r = 0; r < m; r++)
            for (int oo = 0; oo < op; oo++)
            {
                int sum = 0;
                for (int q = 0; q < kp / 4; q++)
                {
                    int wb = (q * op + oo) * 4, xb = r * kp + q * 4;
                    sum += x[xb] * w[wb] + x[xb + 1] * w[wb + 1] + x[xb + 2] * w[wb + 2] + x[xb + 3] * w[wb + 3];
                }
                acc[r * op + oo] = sum;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    private static unsafe void Vnni(ReadOnlySpan<sbyte> xs, ReadOnlySpan<sbyte> ws, ReadOnlySpan<int> sums, Span<int> accs, int m, int kp, int op, Span<int> xu)
    {
        int kq = kp / 4;
        // X offset to unsigned bytes, four at a time as one int32 to broadcast.
        fixed (sbyte* x = xs)
            for (int i = 0; i < m * kq; i++) xu[i] = *(int*)(x + 4 * i) ^ unchecked((int)0x80808080);
        fixed (int* xu0 = xu, acc0 = accs, s0 = sums)
        fixed (sbyte* w0 = ws)
        {
            int r = 0;
            // Four rows by one 16-output group: 8 accumulators, within VEX's 16 registers.
            for (; r + 4 <= m; r += 4)
                for (int g = 0; g < op; g += Group)
                {
                    Vector256<int> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
                    int* x = xu0 + r * kq;
                    sbyte* w = w0 + g * 4;
                    for (int q = 0; q < kq; q++, w += op * 4)
                    {
                        Vector256<sbyte> lo = Avx.LoadVector256(w), hi = Avx.LoadVector256(w + 32);
                        Vector256<byte> v0 = Vector256.Create(x[q]).AsByte(), v1 = Vector256.Create(x[kq + q]).AsByte();
                        Vector256<byte> v2 = Vector256.Create(x[2 * kq + q]).AsByte(), v3 = Vector256.Create(x[3 * kq + q]).AsByte();
                        a0 = AvxVnni.MultiplyWideningAndAdd(a0, v0, lo); b0 = AvxVnni.MultiplyWideningAndAdd(b0, v0, hi);
                        a1 = AvxVnni.MultiplyWideningAndAdd(a1, v1, lo); b1 = AvxVnni.MultiplyWideningAndAdd(b1, v1, hi);
                        a2 = AvxVnni.MultiplyWideningAndAdd(a2, v2, lo); b2 = AvxVnni.MultiplyWideningAndAdd(b2, v2, hi);
                        a3 = AvxVnni.MultiplyWideningAndAdd(a3, v3, lo); b3 = AvxVnni.MultiplyWideningAndAdd(b3, v3, hi);
                    }
                    Vector256<int> c0 = Avx.LoadVector256(s0 + g) << 7, c1 = Avx.LoadVector256(s0 + g + 8) << 7;
                    int* acc = acc0 + r * op + g;
                    Avx.Store(acc, a0 - c0); Avx.Store(acc + 8, b0 - c1);
                    Avx.Store(acc + op, a1 - c0); Avx.Store(acc + op + 8, b1 - c1);
                    Avx.Store(acc + 2 * op, a2 - c0); Avx.Store(acc + 2 * op + 8, b2 - c1);
                    Avx.Store(acc + 3 * op, a3 - c0); Avx.Store(acc + 3 * op + 8, b3 - c1);
                }
            // Single rows: up to four groups (8 accumulators) per pass over k.
            for (; r < m; r++)
            {
                int* x = xu0 + r * kq;
                int g = 0;
                for (; g + 4 * Group <= op; g += 4 * Group)
                {
                    Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    sbyte* w = w0 + g * 4;
                    for (int q = 0; q < kq; q++, w += op * 4)
                    {
                        Vector256<byte> v = Vector256.Create(x[q]).AsByte();
                        a0 = AvxVnni.MultiplyWideningAndAdd(a0, v, Avx.LoadVector256(w));
                        a1 = AvxVnni.MultiplyWideningAndAdd(a1, v, Avx.LoadVector256(w + 32));
                        a2 = AvxVnni.MultiplyWideningAndAdd(a2, v, Avx.LoadVector256(w + 64));
                        a3 = AvxVnni.MultiplyWideningAndAdd(a3, v, Avx.LoadVector256(w + 96));
                        a4 = AvxVnni.MultiplyWideningAndAdd(a4, v, Avx.LoadVector256(w + 128));
                        a5 = AvxVnni.MultiplyWideningAndAdd(a5, v, Avx.LoadVector256(w + 160));
                        a6 = AvxVnni.MultiplyWideningAndAdd(a6, v, Avx.LoadVector256(w + 192));
                        a7 = AvxVnni.MultiplyWideningAndAdd(a7, v, Avx.LoadVector256(w + 224));
                    }
                    int* acc = acc0 + r * op + g;
                    int* s = s0 + g;
                    Avx.Store(acc, a0 - (Avx.LoadVector256(s) << 7)); Avx.Store(acc + 8, a1 - (Avx.LoadVector256(s + 8) << 7));
                    Avx.Store(acc + 16, a2 - (Avx.LoadVector256(s + 16) << 7)); Avx.Store(acc + 24, a3 - (Avx.LoadVector256(s + 24) << 7));
                    Avx.Store(acc + 32, a4 - (Avx.LoadVector256(s + 32) << 7)); Avx.Store(acc + 40, a5 - (Avx.LoadVector256(s + 40) << 7));
                    Avx.Store(acc + 48, a6 - (Avx.LoadVector256(s + 48) << 7)); Avx.Store(acc + 56, a7 - (Avx.LoadVector256(s + 56) << 7));
                }
                for (; g < op; g += Group)
                {
                    Vector256<int> a0 = default, a1 = default;
                    sbyte* w = w0 + g * 4;
                    for (int q = 0; q < kq; q++, w += op * 4)
                    {
                        Vector256<byte> v = Vector256.Create(x[q]).AsByte();
                        a0 = AvxVnni.MultiplyWideningAndAdd(a0, v, Avx.LoadVector256(w));
                        a1 = AvxVnni.MultiplyWideningAndAdd(a1, v, Avx.LoadVector256(w + 32));
                    }
                    int* acc = acc0 + r * op + g;
                    Avx.Store(acc, a0 - (Avx.LoadVector256(s0 + g) << 7)); Avx.Store(acc + 8, a1 - (Avx.LoadVector256(s0 + g + 8) << 7));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    private static unsafe void Avx512(ReadOnlySpan<sbyte> xs, ReadOnlySpan<sbyte> ws, Span<int> accs, int m, int kp, int op, Span<int> pairs)
    {
        int kq = kp / 4;
        // Per row and k-quad: X's bytes 0 and 2 as a pair of int16 (for the packed bytes' low halves), 1 and 3 (high halves).
        fixed (sbyte* x = xs)
            for (int i = 0; i < m * kq; i++)
            {
                sbyte* b = x + 4 * i;
                pairs[2 * i] = (b[0] & 0xFFFF) | (b[2] << 16);
                pairs[2 * i + 1] = (b[1] & 0xFFFF) | (b[3] << 16);
            }
        fixed (int* p0 = pairs, acc0 = accs)
        fixed (sbyte* w0 = ws)
        {
            for (int r = 0; r < m; r++)
            {
                int* p = p0 + r * kq * 2;
                int g = 0;
                for (; g + 4 * Group <= op; g += 4 * Group)
                {
                    Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
                    sbyte* w = w0 + g * 4;
                    for (int q = 0; q < kq; q++, w += op * 4)
                    {
                        Vector512<short> lo = Vector512.Create(p[2 * q]).AsInt16(), hi = Vector512.Create(p[2 * q + 1]).AsInt16();
                        a0 = Step(a0, Avx512BW.LoadVector512(w).AsInt16(), lo, hi);
                        a1 = Step(a1, Avx512BW.LoadVector512(w + 64).AsInt16(), lo, hi);
                        a2 = Step(a2, Avx512BW.LoadVector512(w + 128).AsInt16(), lo, hi);
                        a3 = Step(a3, Avx512BW.LoadVector512(w + 192).AsInt16(), lo, hi);
                    }
                    int* acc = acc0 + r * op + g;
                    Avx512F.Store(acc, a0); Avx512F.Store(acc + 16, a1); Avx512F.Store(acc + 32, a2); Avx512F.Store(acc + 48, a3);
                }
                for (; g < op; g += Group)
                {
                    Vector512<int> a0 = default;
                    sbyte* w = w0 + g * 4;
                    for (int q = 0; q < kq; q++, w += op * 4)
                        a0 = Step(a0, Avx512BW.LoadVector512(w).AsInt16(), Vector512.Create(p[2 * q]).AsInt16(), Vector512.Create(p[2 * q + 1]).AsInt16());
                    Avx512F.Store(acc0 + r * op + g, a0);
                }
            }
        }
    }

    /// <summary>
    /// One k-quad of 16 outputs: the int16 lanes of <paramref name="w"/> are the byte pairs (k0, k1) and (k2, k3) of
    /// each output; their low bytes (k0, k2) pair with <paramref name="lo"/> and their high bytes (k1, k3) with
    /// <paramref name="hi"/> in vpmaddwd, each int32 lane then holding one output's sum.
    /// </summary>
    private static Vector512<int> Step(Vector512<int> acc, Vector512<short> w, Vector512<short> lo, Vector512<short> hi)
    {
        Vector512<short> low = Avx512BW.ShiftRightArithmetic(Avx512BW.ShiftLeftLogical(w, 8), 8);
        Vector512<short> high = Avx512BW.ShiftRightArithmetic(w, 8);
        return acc + Avx512BW.MultiplyAddAdjacent(low, lo) + Avx512BW.MultiplyAddAdjacent(high, hi);
    }
}
