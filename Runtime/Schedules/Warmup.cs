using System;
using System.Globalization;

namespace Kiln.Schedules;

/// <summary>
/// Linear warm-up in front of another schedule (docs/techniques.md#schedules: prevents early loss explosions).
/// factor(t) = inner(t) × min(1, (t + 1)/<see cref="Steps"/>), t the 0-based step number: the first
/// step runs at 1/Steps of the inner rate, step Steps − 1 (the last warm-up step) at the full inner rate,
/// and every later step exactly at the inner rate. The inner schedule sees the same clock (it is not
/// shifted by the warm-up), so a cosine over T steps still ends at step T. Steps = 0 means no warm-up.
/// Validation losses are passed on to the inner schedule.
/// </summary>
public sealed class Warmup : LearningRateSchedule
{
    /// <param name="steps">Warm-up length in steps (≥ 0).</param>
    /// <param name="inner">The schedule the warm-up ramps up to.</param>
    public Warmup(int steps, LearningRateSchedule inner)
    {
        if (steps < 0)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Warmup: the warm-up length must not be negative (got {steps} steps).");
        ArgumentNullException.ThrowIfNull(inner);
        Steps = steps;
        Inner = inner;
    }

    /// <summary>A linear warm-up over <paramref name="steps"/> steps to a constant rate.</summary>
    public static Warmup Linear(int steps) => new(steps, new ConstantSchedule());

    /// <summary>The linear ramp alone: min(1, (step + 1)/steps); 1 when <paramref name="steps"/> is 0.</summary>
    public static double Ramp(long step, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return steps == 0 ? 1.0 : Math.Min(1.0, (step + 1) / (double)steps);
    }

    /// <summary>Warm-up length in steps.</summary>
    public int Steps { get; }
    /// <summary>The schedule after (and under) the warm-up.</summary>
    public LearningRateSchedule Inner { get; }

    /// <inheritdoc/>
    public override double Factor(in ScheduleClock clock)
    {
        ScheduleChecks.Step(nameof(Warmup), clock);
        return Inner.Factor(clock) * Ramp(clock.Step, Steps);
    }

    /// <inheritdoc/>
    public override void ObserveValidation(double loss) => Inner.ObserveValidation(loss);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Warmup({Steps} steps) → {Inner}");
}
