using System;

namespace Kiln.Schedules;

/// <summary>
/// Linear decay (docs/techniques.md#schedules): factor = max(m, 1 − t/T), t the step number (0 for the first step),
/// m = <see cref="DecayOverLength.MinFactor"/>, T in steps or in epochs (T = epochs × steps per epoch).
/// </summary>
public sealed class LinearDecay : DecayOverLength
{
    /// <param name="steps">T in steps; 0 when <paramref name="epochs"/> is used.</param>
    /// <param name="epochs">T in epochs; 0 when <paramref name="steps"/> is used.</param>
    /// <param name="minFactor">m, the floor of the factor, in [0, 1].</param>
    public LinearDecay(int steps, int epochs, double minFactor) : base(nameof(LinearDecay), steps, epochs, minFactor) { }

    private protected override string DisplayName => "Linear";

    private protected override double Shape(long t, double period) => Math.Max(MinFactor, 1 - t / period);
}
