namespace Kiln.Schedules;

/// <summary>Where training stands when the next step's learning rate is chosen.</summary>
/// <param name="Step">Steps already taken (0 before the first step).</param>
/// <param name="Epoch">The 0-based epoch the next step belongs to.</param>
/// <param name="StepsPerEpoch">Steps in one epoch (for schedules whose length is given in epochs).</param>
public readonly record struct ScheduleClock(long Step, int Epoch, int StepsPerEpoch);

/// <summary>
/// A learning-rate schedule: the factor the base learning rate is multiplied by at a given step
/// (docs/techniques.md#schedules). Implementations: ConstantSchedule, StepDecay, CosineDecay, LinearDecay,
/// InverseSqrtDecay, WarmRestarts, Warmup (wraps another), ReduceOnPlateau (wraps another, driven by
/// the validation loss the trainer reports after each epoch).
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The multiplier for the step about to run.</summary>
    public abstract double Factor(in ScheduleClock clock);

    /// <summary>Told the validation loss at the end of each epoch (ReduceOnPlateau uses it).</summary>
    public virtual void ObserveValidation(double loss) { }
}
