using System;

namespace Kiln.Schedules;

/// <summary>
/// Inverse square root (docs/techniques.md#schedules): factor = 1/sqrt(max(t, 1)), t the step number, so steps 0 and 1
/// run at the base rate, step 4 at half of it, step 100 at a tenth. Usually combined with
/// <see cref="Warmup"/> (the Transformer schedule).
/// </summary>
public sealed class InverseSqrtDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule (it has no parameters).</summary>
    public InverseSqrtDecay() { }

    /// <inheritdoc/>
    public override double Factor(in ScheduleClock clock)
    {
        ScheduleChecks.Step(nameof(InverseSqrtDecay), clock);
        return 1 / Math.Sqrt(Math.Max(clock.Step, 1));
    }

    /// <inheritdoc/>
    public override string ToString() => "InverseSqrt";
}
