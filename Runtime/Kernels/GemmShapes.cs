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
