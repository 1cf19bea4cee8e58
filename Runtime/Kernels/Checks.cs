using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

/// <summary>Argument validation done once at kernel entry, so the loops can run on unchecked refs.</summary>
internal static class Checks
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Length(int actual, long expected, string name)
    {
        if (actual < expected) ThrowLength(actual, expected, name);
    }

    /// <summary>An optional span (mask, bias, state): empty is fine, otherwise it needs <paramref name="expected"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Optional(int actual, long expected, string name)
    {
        if (actual != 0 && actual < expected) ThrowOptional(actual, expected, name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NonNegative(int value, string name)
    {
        if (value < 0) ThrowNegative(value, name);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Range(int start, int end, int limit, string startName, string endName)
    {
        if (start < 0 || start > end || end > limit) ThrowRange(start, end, limit, startName, endName);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLength(int actual, long expected, string name) =>
        throw new ArgumentException($"'{name}' has length {actual}; expected at least {expected}.", name);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOptional(int actual, long expected, string name) =>
        throw new ArgumentException($"'{name}' has length {actual}; expected empty or at least {expected}.", name);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNegative(int value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, $"'{name}' must not be negative.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowRange(int start, int end, int limit, string startName, string endName) =>
        throw new ArgumentOutOfRangeException(startName, $"Range [{startName}={start}, {endName}={end}) must satisfy 0 ≤ {startName} ≤ {endName} ≤ {limit}.");
}
