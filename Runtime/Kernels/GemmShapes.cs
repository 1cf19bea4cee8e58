using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

// Compile-time tile shapes. A micro-kernel is generic over a row count and a column-vector count;
// for struct type arguments the JIT specialises the method and folds `TR.Value > 2` to a constant,
// so one kernel body yields every register-blocked shape (6×4, 3×1, masked tails, ...) with only the
// accumulators that shape needs, and no per-iteration branches.

/// <summary>Rows of a micro-tile (rows of A / C held in registers).</summary>
internal interface ITileRows { static abstract int Value { get; } }

/// <summary>Column vectors of a micro-tile; <see cref="Masked"/> means the last vector is partial.</summary>
internal interface ITileCols
{
    static abstract int Vectors { get; }
    static abstract bool Masked { get; }
}

internal readonly struct R1 : ITileRows { public static int Value => 1; }
internal readonly struct R2 : ITileRows { public static int Value => 2; }
internal readonly struct R3 : ITileRows { public static int Value => 3; }
internal readonly struct R4 : ITileRows { public static int Value => 4; }
internal readonly struct R5 : ITileRows { public static int Value => 5; }
internal readonly struct R6 : ITileRows { public static int Value => 6; }
// Taller tiles for kernels with one vector per row (ShallowConv: up to 16 pixels × one vector of output channels).
internal readonly struct R7 : ITileRows { public static int Value => 7; }
internal readonly struct R8 : ITileRows { public static int Value => 8; }
internal readonly struct R9 : ITileRows { public static int Value => 9; }
internal readonly struct R10 : ITileRows { public static int Value => 10; }
internal readonly struct R11 : ITileRows { public static int Value => 11; }
internal readonly struct R12 : ITileRows { public static int Value => 12; }
internal readonly struct R13 : ITileRows { public static int Value => 13; }
internal readonly struct R14 : ITileRows { public static int Value => 14; }
internal readonly struct R15 : ITileRows { public static int Value => 15; }
internal readonly struct R16 : ITileRows { public static int Value => 16; }

internal readonly struct V1 : ITileCols { public static int Vectors => 1; public static bool Masked => false; }
internal readonly struct V2 : ITileCols { public static int Vectors => 2; public static bool Masked => false; }
internal readonly struct V3 : ITileCols { public static int Vectors => 3; public static bool Masked => false; }
internal readonly struct V4 : ITileCols { public static int Vectors => 4; public static bool Masked => false; }
// Wide single-row (GEMV) strips: whole multiples of four vectors, never partial.
internal readonly struct V8 : ITileCols { public static int Vectors => 8; public static bool Masked => false; }
internal readonly struct V12 : ITileCols { public static int Vectors => 12; public static bool Masked => false; }
internal readonly struct V16 : ITileCols { public static int Vectors => 16; public static bool Masked => false; }
internal readonly struct V1M : ITileCols { public static int Vectors => 1; public static bool Masked => true; }
internal readonly struct V2M : ITileCols { public static int Vectors => 2; public static bool Masked => true; }
internal readonly struct V3M : ITileCols { public static int Vectors => 3; public static bool Masked => true; }
internal readonly struct V4M : ITileCols { public static int Vectors => 4; public static bool Masked => true; }

/// <summary>One ISA's GEMM micro-kernels; <see cref="GemmDriver{TK}"/> tiles the matrices over them.</summary>
internal unsafe interface IGemmKernel
{
    /// <summary>Whether the hardware runs this kernel natively.</summary>
    static abstract bool IsSupported { get; }
    /// <summary>Floats per vector.</summary>
    static abstract int Lanes { get; }
    /// <summary>Rows of the main micro-tile (at most 6).</summary>
    static abstract int TileRows { get; }
    /// <summary>Column vectors of the main micro-tile (at most 4).</summary>
    static abstract int TileVectors { get; }

    /// <summary>
    /// C[m, 0..cols) (+)= Σ_p A(m, p)·B[p, 0..cols) for m &lt; mr, p &lt; kc, where A(m, p) = a[m·ars + p·acs],
    /// B row p starts at b + p·ldb, C row m at c + m·ldc, and cols = (nv − 1)·Lanes + last.
    /// With <paramref name="accumulate"/> the old C is added; with <paramref name="applyEpi"/> the
    /// epilogue (first column <paramref name="col0"/>) is applied before the store.
    /// </summary>
    static abstract void Tile<TEpi>(int mr, int nv, int last, float* a, nint ars, nint acs, float* b, nint ldb,
        float* c, nint ldc, int kc, int col0, bool accumulate, bool applyEpi, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct;

    /// <summary>Most vectors a wide single-row strip may have (a multiple of 4, at least 8).</summary>
    static abstract int GemvWideVectors { get; }

    /// <summary>Single-row product c[0..nv·Lanes) = Σ_p x[p]·B[p, ·] for nv ∈ {8, 12, 16} (up to GemvWideVectors); no epilogue.</summary>
    static abstract void GemvWide(int nv, float* x, float* b, nint ldb, float* c, int k);

    /// <summary>Single-row product c[0..cols) = epi(Σ_p x[p]·B[p, 0..cols)) with two interleaved k chains.</summary>
    static abstract void Gemv<TEpi>(int nv, int last, float* x, float* b, nint ldb, float* c, int k, int col0, bool applyEpi, ref TEpi epi)
        where TEpi : IEpilogue, allows ref struct;

    /// <summary>out[i] = Σ_j v[j]·m[i·n + j] for i &lt; count (dot products with the rows of m).</summary>
    static abstract void DotRows(float* v, float* m, int n, float* result, int count);
}

internal static class TileDispatch
{
    /// <summary>Vectors and valid lanes of the last vector for a strip of <paramref name="cols"/> columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Split(int cols, int lanes, out int nv, out int last)
    {
        nv = (cols + lanes - 1) / lanes;
        last = cols - (nv - 1) * lanes;
    }
}
