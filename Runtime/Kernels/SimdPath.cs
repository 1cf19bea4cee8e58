namespace Kiln.Kernels;

// Kernels are generic over a path marker struct. VectorPath (VectorOps.cs) is the one place that maps a marker to the
// vector operations that run it (Ops512, Ops256, Ops128); every kernel is written once over those operations. The JIT
// specialises a generic method once per struct type argument and folds the mapping to a constant, so each
// instantiation contains exactly one ISA's code: three paths from one kernel body, and the generated model code stays
// a single readable body that cannot drift between paths.

/// <summary>Marker for an ISA path type argument.</summary>
public interface ISimdPath { }

/// <summary>512-bit AVX-512 path.</summary>
public readonly struct Avx512Path : ISimdPath { }

/// <summary>256-bit AVX2 + FMA path.</summary>
public readonly struct Avx2Path : ISimdPath { }

/// <summary>Vector128 / scalar path.</summary>
public readonly struct PortablePath : ISimdPath { }
