using System;
using System.Globalization;

namespace Kiln.Schedules;

/// <summary>
/// Cosine decay (CATALOGUE §7): factor = m + (1 − m)·½(1 + cos(π·min(t, T)/T)), where t is the step
/// number (0 for the first step), m = <see cref="MinFactor"/> and T is given in steps or in epochs
/// (T = epochs × steps per epoch). The factor is 1 at t = 0, m at t ≥ T, and stays at m afterwards.
/// </summary>
public sealed class CosineDecay : LearningRateSchedule
{
    /// <param name="steps">T in steps; 0 when <paramref name="epochs"/> is used.</param>
    /// <param name="epochs">T in epochs; 0 when <paramref name="steps"/> is used.</param>
    /// <param name="minFactor">m, the final factor, in [0, 1].</param>
    public CosineDecay(int steps, int epochs, double minFactor)
    {
        ScheduleChecks.Length(nameof(CosineDecay), steps, epochs);
        ScheduleChecks.MinFactor(nameof(CosineDecay), minFactor);
        Steps = steps;
        Epochs = epochs;
        MinFactor = minFactor;
    }

    /// <summary>T in steps (0 when measured in epochs).</summary>
    public int Steps { get; }
    /// <summary>T in epochs (0 when measured in steps).</summary>
    public int Epochs { get; }
    /// <summary>The factor at and after T.</summary>
    public double MinFactor { get; }

    /// <inheritdoc/>
    public override double Factor(in ScheduleClock clock)
    {
        ScheduleChecks.Step(nameof(CosineDecay), clock);
        double period = ScheduleChecks.Period(nameof(CosineDecay), Steps, Epochs, clock);
        double t = Math.Min(clock.Step, period);
        return MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * t / period));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"Cosine(T = {(Steps > 0 ? $"{Steps} steps" : $"{Epochs} epochs")}, min {MinFactor:G4})");
}
