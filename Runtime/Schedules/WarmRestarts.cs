using System;
using System.Globalization;

namespace Kiln.Schedules;

/// <summary>
/// SGDR, stochastic gradient descent with warm restarts (Loshchilov &amp; Hutter): a cosine from 1 down
/// to m = <see cref="MinFactor"/> within each period, then a restart at 1. The first period lasts
/// T₀ = <see cref="Epochs"/> × steps per epoch steps and each next one <see cref="Multiplier"/> times
/// longer (Tᵢ = T₀·multiplierⁱ, not rounded). Within period i, which starts at step Sᵢ = T₀ + … + Tᵢ₋₁,
/// factor = m + (1 − m)·½(1 + cos(π(t − Sᵢ)/Tᵢ)); the factor at t = Sᵢ is exactly 1.
/// </summary>
public sealed class WarmRestarts : LearningRateSchedule
{
    /// <param name="epochs">Length of the first period in epochs (&gt; 0).</param>
    /// <param name="multiplier">Growth of each next period (≥ 1; 1 keeps every period equal, 2 doubles them).</param>
    /// <param name="minFactor">m, the factor the cosine reaches at the end of each period, in [0, 1].</param>
    public WarmRestarts(int epochs, double multiplier, double minFactor)
    {
        if (epochs <= 0)
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"WarmRestarts: the first period must be a positive number of epochs (got {epochs}).");
        if (!(multiplier >= 1 && double.IsFinite(multiplier)))
            throw new ArgumentOutOfRangeException(nameof(multiplier), multiplier,
                $"WarmRestarts: the period multiplier must be finite and at least 1 (got {ScheduleChecks.Format(multiplier)}).");
        ScheduleChecks.MinFactor(nameof(WarmRestarts), minFactor);
        Epochs = epochs;
        Multiplier = multiplier;
        MinFactor = minFactor;
    }

    /// <summary>Length of the first period in epochs.</summary>
    public int Epochs { get; }
    /// <summary>Growth factor of each next period.</summary>
    public double Multiplier { get; }
    /// <summary>The factor at the end of each period.</summary>
    public double MinFactor { get; }

    /// <summary>The period containing the clock's step: its 0-based index, first step and length in steps.</summary>
    public (int Index, double Start, double Length) PeriodAt(in ScheduleClock clock)
    {
        ScheduleChecks.Step(nameof(WarmRestarts), clock);
        double length = (double)Epochs * ScheduleChecks.StepsPerEpoch(nameof(WarmRestarts), clock);
        double t = clock.Step;
        if (Multiplier == 1)
        {
            double index = Math.Floor(t / length);
            return ((int)Math.Min(index, int.MaxValue), index * length, length);
        }
        int i = 0;
        double start = 0;
        // Periods grow geometrically, so this loop runs O(log t) times.
        while (t >= start + length)
        {
            start += length;
            length *= Multiplier;
            i++;
        }
        return (i, start, length);
    }

    /// <inheritdoc/>
    public override double Factor(in ScheduleClock clock)
    {
        (_, double start, double length) = PeriodAt(clock);
        double within = Math.Min(clock.Step - start, length);
        return MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * within / length));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"WarmRestarts(T0 = {Epochs} epochs, ×{Multiplier:G4}, min {MinFactor:G4})");
}
