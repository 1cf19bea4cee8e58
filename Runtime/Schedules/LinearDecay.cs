using System;
using System.Globalization;

namespace Kiln.Schedules;

/// <summary>
/// Linear decay (CATALOGUE §7): factor = max(m, 1 − t/T), t the step number (0 for the first step),
/// m = <see cref="MinFactor"/>, T in steps or in epochs (T = epochs × steps per epoch).
/// </summary>
public sealed class LinearDecay : LearningRateSchedule
{
    /// <param name="steps">T in steps; 0 when <paramref name="epochs"/> is used.</param>
    /// <param name="epochs">T in epochs; 0 when <paramref name="steps"/> is used.</param>
    /// <param name="minFactor">m, the floor of the factor, in [0, 1].</param>
    public LinearDecay(int steps, int epochs, double minFactor)
    {
        ScheduleChecks.Length(nameof(LinearDecay), steps, epochs);
        ScheduleChecks.MinFactor(nameof(LinearDecay), minFactor);
        Steps = steps;
        Epochs = epochs;
        MinFactor = minFactor;
    }

    /// <summary>T in steps (0 when measured in epochs).</summary>
    public int Steps { get; }
    /// <summary>T in epochs (0 when measured in steps).</summary>
    public int Epochs { get; }
    /// <summary>The floor of the factor.</summary>
    public double MinFactor { get; }

    /// <inheritdoc/>
    public override double Factor(in ScheduleClock clock)
    {
        ScheduleChecks.Step(nameof(LinearDecay), clock);
        double period = ScheduleChecks.Period(nameof(LinearDecay), Steps, Epochs, clock);
        return Math.Max(MinFactor, 1 - clock.Step / period);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"Linear(T = {(Steps > 0 ? $"{Steps} steps" : $"{Epochs} epochs")}, min {MinFactor:G4})");
}
