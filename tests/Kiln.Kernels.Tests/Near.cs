using System;

namespace Kiln.Kernels.Tests;

/// <summary>Tolerance checks with a readable failure: |actual − expected| ≤ atol + rtol·|expected|.</summary>
internal static class Near
{
    public static void Check(double actual, double expected, double atol, double rtol, string context)
    {
        if (double.IsNaN(actual) || double.IsInfinity(actual) || Math.Abs(actual - expected) > atol + rtol * Math.Abs(expected))
            Assert.Fail($"{context}: got {actual:R}, expected {expected:R} (|diff| = {Math.Abs(actual - expected):E3}, allowed {atol + rtol * Math.Abs(expected):E3})");
    }

    public static void All(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double atol, double rtol, string context)
    {
        Assert.True(actual.Length >= expected.Length, $"{context}: output too short");
        for (int i = 0; i < expected.Length; i++) Check(actual[i], expected[i], atol, rtol, $"{context} [{i}]");
    }

    /// <summary>Element-wise tolerance scaled by a per-element magnitude (for sums: Σ|terms|).</summary>
    public static void Scaled(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, ReadOnlySpan<double> scale, double atol, double rel, string context)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double allowed = atol + rel * scale[i];
            double diff = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(actual[i]) || diff > allowed)
                Assert.Fail($"{context} [{i}]: got {actual[i]:R}, expected {expected[i]:R} (|diff| = {diff:E3}, allowed {allowed:E3})");
        }
    }
}

internal static class Data
{
    public static float[] Uniform(Random r, int n, double lo, double hi)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * r.NextDouble());
        return a;
    }

    public static float[] Filled(int n, float value)
    {
        var a = new float[n];
        Array.Fill(a, value);
        return a;
    }

    /// <summary>Dropout-like mask: 0 or <paramref name="scale"/>.</summary>
    public static float[] Mask(Random r, int n, double keep, float scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.NextDouble() < keep ? scale : 0f;
        return a;
    }
}
