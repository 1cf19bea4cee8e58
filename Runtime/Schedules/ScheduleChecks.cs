using System;
using System.Globalization;

namespace Kiln.Schedules;

/// <summary>Argument checks shared by the schedules: every message names the schedule and the argument.</summary>
internal static class ScheduleChecks
{
    public static void Factor(string schedule, double value, string paramName, bool allowOne = true)
    {
        if (!(value > 0 && (allowOne ? value <= 1 : value < 1)))
            throw new ArgumentOutOfRangeException(paramName, value,
                $"{schedule}: {paramName} must lie in (0, {(allowOne ? "1]" : "1)")} (got {Format(value)}).");
    }

    public static void MinFactor(string schedule, double value, string paramName = "minFactor")
    {
        if (!(value >= 0 && value <= 1))
            throw new ArgumentOutOfRangeException(paramName, value, $"{schedule}: {paramName} must lie in [0, 1] (got {Format(value)}).");
    }

    /// <summary>Exactly one of steps/epochs positive, the other zero.</summary>
    public static void Length(string schedule, int steps, int epochs)
    {
        if (steps < 0)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{schedule}: steps must not be negative (got {steps}).");
        if (epochs < 0)
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"{schedule}: epochs must not be negative (got {epochs}).");
        if ((steps > 0) == (epochs > 0))
            throw new ArgumentException(
                $"{schedule}: give the length T either in steps or in epochs, exactly one of them positive (got steps = {steps}, epochs = {epochs}).",
                steps > 0 ? nameof(epochs) : nameof(steps));
    }

    /// <summary>T in steps: <paramref name="steps"/>, or <paramref name="epochs"/> × the clock's steps per epoch.</summary>
    public static double Period(string schedule, int steps, int epochs, in ScheduleClock clock)
    {
        if (steps > 0) return steps;
        return (double)epochs * StepsPerEpoch(schedule, clock);
    }

    public static int StepsPerEpoch(string schedule, in ScheduleClock clock)
    {
        if (clock.StepsPerEpoch <= 0)
            throw new InvalidOperationException(
                $"{schedule} is measured in epochs, but the clock says {clock.StepsPerEpoch} steps per epoch; pass a ScheduleClock with StepsPerEpoch > 0.");
        return clock.StepsPerEpoch;
    }

    public static void Step(string schedule, in ScheduleClock clock)
    {
        if (clock.Step < 0)
            throw new ArgumentOutOfRangeException(nameof(clock), clock.Step, $"{schedule}: the clock's step must not be negative (got {clock.Step}).");
    }

    public static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
