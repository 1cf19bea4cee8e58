using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Kiln;

/// <summary>The instruction-set path a model's kernels run on.</summary>
public enum IsaPath
{
    /// <summary>Vector128 + scalar code that runs everywhere.</summary>
    Portable = 0,
    /// <summary>256-bit AVX2 with FMA.</summary>
    Avx2 = 1,
    /// <summary>512-bit AVX-512 (F, BW, VL, DQ).</summary>
    Avx512 = 2,
}

/// <summary>
/// Chooses the ISA path. The best path the hardware supports is the default; the environment
/// variable <c>KILN_ISA</c> (avx512, avx2 or portable), read once per process, forces one so that
/// every path can be exercised on one machine. A model's <c>Isa</c> property overrides it per instance.
/// </summary>
public static class KilnIsa
{
    /// <summary>The environment variable that forces a path.</summary>
    public const string EnvironmentVariable = "KILN_ISA";

    /// <summary>The best path this machine supports.</summary>
    public static IsaPath Best { get; } =
        Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported ? IsaPath.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? IsaPath.Avx2
        : IsaPath.Portable;

    /// <summary>The path new models start on: <c>KILN_ISA</c> if set, otherwise <see cref="Best"/>.</summary>
    public static IsaPath Default { get; } = ReadEnvironment();

    /// <summary>Whether this machine can run <paramref name="path"/>.</summary>
    public static bool IsSupported(IsaPath path) => path <= Best && path >= IsaPath.Portable;

    /// <summary>Throws a clear error when <paramref name="path"/> cannot run here.</summary>
    public static IsaPath Validate(IsaPath path)
    {
        if (!Enum.IsDefined(path))
            throw new ArgumentOutOfRangeException(nameof(path), path, "Unknown ISA path.");
        if (!IsSupported(path)) throw new PlatformNotSupportedException(UnsupportedMessage(path, RuntimeFeature.IsDynamicCodeCompiled));
        return path;
    }

    /// <summary>
    /// Why <paramref name="path"/> cannot run. A Native AOT build (no JIT: <paramref name="jit"/> false) sees only the
    /// instruction sets it was published for, whatever the CPU has, so the message says how to publish for more.
    /// </summary>
    internal static string UnsupportedMessage(IsaPath path, bool jit) => jit
        ? $"ISA path {path} is not supported by this CPU (best available: {Best})."
        : $"ISA path {path} is not available in this Native AOT build (best available: {Best}): a Native AOT build uses only the " +
          "instruction sets it was published for. Publish with -p:IlcInstructionSet=x86-64-v4 for AVX-512, x86-64-v3 for AVX2 or " +
          "native for the publishing machine's (docs/training.md, \"Native AOT\").";

    /// <summary>Parses avx512 / avx2 / portable (case-insensitive).</summary>
    public static IsaPath Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "avx512" or "avx-512" => IsaPath.Avx512,
        "avx2" => IsaPath.Avx2,
        "portable" or "scalar" or "vector128" => IsaPath.Portable,
        _ => throw new ArgumentException($"Unknown ISA path '{text}': expected avx512, avx2 or portable.", nameof(text)),
    };

    private static IsaPath ReadEnvironment()
    {
        string? forced = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(forced)) return Best;
        IsaPath path = Parse(forced);
        return Validate(path);
    }
}
