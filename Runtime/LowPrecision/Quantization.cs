using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.LowPrecision;

/// <summary>The kernel family a low-precision layer runs on; tests force each one.</summary>
internal enum LowPrecisionPath
{
    /// <summary>Scalar code that runs everywhere.</summary>
    Portable,
    /// <summary>256-bit AVX2 + FMA (bf16).</summary>
    Avx2,
    /// <summary>512-bit AVX-512 (bf16: F; int8: BW without VNNI).</summary>
    Avx512,
    /// <summary>256-bit AVX-VNNI vpdpbusd (int8).</summary>
    AvxVnni,
}

/// <summary>Symmetric int8 quantisation: q = clamp(round(x / s), −127, 127), x ≈ q·s.</summary>
internal static class Quantization
{
    /// <summary>The largest magnitude of a quantised value (−128 is never used, so the range is symmetric).</summary>
    public const int Levels = 127;

    /// <summary>The scale that maps <paramref name="maxAbs"/> to 127 (1 when it is zero, so that zeros stay zero).</summary>
    public static float Scale(double maxAbs) => maxAbs > 0 && double.IsFinite(maxAbs) ? (float)(maxAbs / Levels) : 1f;

    /// <summary>round-half-even(x·inverse) clamped to ±127; NaN becomes 0.</summary>
    public static sbyte Quantize(float x, float inverse)
    {
        float q = MathF.Round(x * inverse);
        return q >= Levels ? (sbyte)Levels : q <= -Levels ? (sbyte)-Levels : float.IsNaN(q) ? (sbyte)0 : (sbyte)q;
    }

    /// <summary>Quantises <paramref name="rows"/> rows of <paramref name="k"/> values (stride <paramref name="ldx"/>) into rows of <paramref name="kp"/> bytes, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: fully optimised from the first call, no tier-0 or OSR code
    public static void QuantizeRows(ReadOnlySpan<float> x, int ldx, int rows, int k, float inverse, Span<sbyte> q, int kp)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> src = x.Slice(r * ldx, k);
            Span<sbyte> dst = q.Slice(r * kp, kp);
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var scale = Vector256.Create(inverse);
                var limit = Vector256.Create((float)Levels);
                for (; i + 2 * Vector256<float>.Count <= k; i += 2 * Vector256<float>.Count)
                {
                    Vector256<int> a = Lanes(Vector256.Create(src.Slice(i)), scale, limit);
                    Vector256<int> b = Lanes(Vector256.Create(src.Slice(i + Vector256<float>.Count)), scale, limit);
                    Vector256<short> both = Vector256.Narrow(a, b); // order-preserving (not packssdw's lane interleave)
                    Vector128<sbyte> bytes = Vector128.Narrow(both.GetLower(), both.GetUpper());
                    bytes.CopyTo(dst.Slice(i));
                }
            }
            for (; i < k; i++) dst[i] = Quantize(src[i], inverse);
            dst[k..].Clear();
        }
    }

    /// <summary>One vector of <see cref="Quantize"/>: the same rounding (to even), clamp and NaN → 0.</summary>
    private static Vector256<int> Lanes(Vector256<float> x, Vector256<float> scale, Vector256<float> limit)
    {
        Vector256<float> q = Vector256.Round(x * scale);
        q = Vector256.ConditionalSelect(Vector256.Equals(q, q), q, Vector256<float>.Zero);
        q = Vector256.ConditionalSelect(Vector256.GreaterThan(q, limit), limit, q);
        q = Vector256.ConditionalSelect(Vector256.LessThan(q, -limit), -limit, q);
        return Vector256.ConvertToInt32(q);
    }

    /// <summary>The best int8 path here: <c>KILN_ISA</c> (through <see cref="KilnIsa.Default"/>) caps it.</summary>
    public static LowPrecisionPath BestInt8(IsaPath isa) => isa switch
    {
        IsaPath.Portable => LowPrecisionPath.Portable,
        _ when AvxVnni.IsSupported => LowPrecisionPath.AvxVnni,
        IsaPath.Avx512 when Avx512BW.IsSupported => LowPrecisionPath.Avx512,
        _ => LowPrecisionPath.Portable,
    };

    /// <summary>The best bf16 path for an ISA path.</summary>
    public static LowPrecisionPath BestBf16(IsaPath isa) => isa switch
    {
        IsaPath.Avx512 => LowPrecisionPath.Avx512,
        IsaPath.Avx2 => LowPrecisionPath.Avx2,
        _ => LowPrecisionPath.Portable,
    };
}
