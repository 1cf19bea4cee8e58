using System;

namespace Kiln.Schedules;

/// <summary>
/// Cosine decay (docs/techniques.md#schedules): factor = m + (1 − m)·½(1 + cos(π·min(t, T)/T)), where t is the step
/// number (0 for the first step), m = <see cref="DecayOverLength.MinFactor"/> and T is given in steps or in
/// epochs (T = epochs × steps per epoch). The factor is 1 at t = 0, m at t ≥ T, and stays at m afterwards.
/// </summary>
public sealed class CosineDecay : DecayOverLength
{
    /// <param name="steps">T in steps; 0 when <paramref name="epochs"/> is used.</param>
    /// <param name="epochs">T in epochs; 0 when <paramref name="steps"/> is used.</param>
    /// <param name="minFactor">m, the final factor, in [0, 1].</param>
    public CosineDecay(int steps, int epochs, double minFactor) : base(nameof(CosineDecay), steps, epochs, minFactor) { }

    private protected override string DisplayName => "Cosine";

    private protected override double Shape(long t, double period) =>
        MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(t, period) / period));
}
