using System.Globalization;

namespace Kiln.Schedules;

/// <summary>
/// A decay from 1 toward <see cref="MinFactor"/> over a length T given in steps or in epochs
/// (T = epochs × steps per epoch); subclasses give the shape of the curve.
/// </summary>
public abstract class DecayOverLength : LearningRateSchedule
{
    private readonly string _name;

    /// <param name="name">Schedule name for errors and <see cref="ToString"/>.</param>
    /// <param name="steps">T in steps; 0 when <paramref name="epochs"/> is used.</param>
    /// <param name="epochs">T in epochs; 0 when <paramref name="steps"/> is used.</param>
    /// <param name="minFactor">m, in [0, 1].</param>
    private protected DecayOverLength(string name, int steps, int epochs, double minFactor)
    {
        ScheduleChecks.Length(name, steps, epochs);
        ScheduleChecks.MinFactor(name, minFactor);
        _name = name;
        Steps = steps;
        Epochs = epochs;
        MinFactor = minFactor;
    }

    /// <summary>T in steps (0 when measured in epochs).</summary>
    public int Steps { get; }
    /// <summary>T in epochs (0 when measured in steps).</summary>
    public int Epochs { get; }
    /// <summary>The factor the decay ends at (or is floored at).</summary>
    public double MinFactor { get; }

    /// <inheritdoc/>
    public sealed override double Factor(in ScheduleClock clock)
    {
        ScheduleChecks.Step(_name, clock);
        double period = ScheduleChecks.Period(_name, Steps, Epochs, clock);
        return Shape(clock.Step, period);
    }

    /// <summary>The factor at step <paramref name="t"/> of a decay of length <paramref name="period"/> steps.</summary>
    private protected abstract double Shape(long t, double period);

    /// <summary>The short name shown by <see cref="ToString"/>.</summary>
    private protected abstract string DisplayName { get; }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{DisplayName}(T = {(Steps > 0 ? $"{Steps} steps" : $"{Epochs} epochs")}, min {MinFactor:G4})");
}
