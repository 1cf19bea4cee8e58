namespace Kiln.Schedules;

/// <summary>A constant learning rate: the factor is always 1 (the default when a model declares no schedule).</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    /// <summary>Creates the constant schedule.</summary>
    public ConstantSchedule() { }

    /// <inheritdoc/>
    public override double Factor(in ScheduleClock clock) => 1.0;

    /// <inheritdoc/>
    public override string ToString() => "Constant";
}
