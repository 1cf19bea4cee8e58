using System;
using System.Globalization;

namespace Kiln.Schedules;

/// <summary>
/// Reduce-on-plateau: factor = inner(t) × own, where own starts at 1 and is multiplied by
/// <see cref="ReductionFactor"/> (never below <see cref="MinFactor"/>) whenever the loss reported by
/// <see cref="ObserveValidation"/> (once per epoch, by the trainer) has not improved for more than
/// <see cref="Patience"/> epochs in a row. A loss improves when loss &lt; best·(1 − threshold) (relative
/// threshold, meant for non-negative losses); it then becomes the best and the count of bad epochs
/// restarts at 0. Otherwise the count grows, and when it exceeds the patience the rate is reduced and
/// the count restarts at 0. A NaN loss counts as no improvement.
/// </summary>
public sealed class ReduceOnPlateau : LearningRateSchedule
{
    /// <param name="factor">Multiplier per reduction, in (0, 1).</param>
    /// <param name="patience">Epochs without improvement that are tolerated (≥ 0); the reduction happens on the next one.</param>
    /// <param name="threshold">Relative improvement that counts, in [0, 1).</param>
    /// <param name="minFactor">Floor of the plateau's own factor, in [0, 1].</param>
    /// <param name="inner">The schedule the plateau factor multiplies.</param>
    public ReduceOnPlateau(double factor, int patience, double threshold, double minFactor, LearningRateSchedule inner)
    {
        ScheduleChecks.Factor(nameof(ReduceOnPlateau), factor, nameof(factor), allowOne: false);
        if (patience < 0)
            throw new ArgumentOutOfRangeException(nameof(patience), patience, $"ReduceOnPlateau: patience must not be negative (got {patience}).");
        if (!(threshold >= 0 && threshold < 1))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold,
                $"ReduceOnPlateau: the relative threshold must lie in [0, 1) (got {ScheduleChecks.Format(threshold)}).");
        ScheduleChecks.MinFactor(nameof(ReduceOnPlateau), minFactor);
        ArgumentNullException.ThrowIfNull(inner);
        ReductionFactor = factor;
        Patience = patience;
        Threshold = threshold;
        MinFactor = minFactor;
        Inner = inner;
    }

    /// <summary>Multiplier per reduction.</summary>
    public double ReductionFactor { get; }
    /// <summary>Epochs without improvement tolerated before a reduction.</summary>
    public int Patience { get; }
    /// <summary>Relative improvement that counts.</summary>
    public double Threshold { get; }
    /// <summary>Floor of <see cref="PlateauFactor"/>.</summary>
    public double MinFactor { get; }
    /// <summary>The schedule multiplied by the plateau factor.</summary>
    public LearningRateSchedule Inner { get; }

    /// <summary>The plateau's own factor (1 until the first reduction).</summary>
    public double PlateauFactor { get; private set; } = 1.0;
    /// <summary>Best loss observed (+∞ before the first observation).</summary>
    public double Best { get; private set; } = double.PositiveInfinity;
    /// <summary>Consecutive observations without improvement since the last improvement or reduction.</summary>
    public int BadEpochs { get; private set; }
    /// <summary>Reductions made so far.</summary>
    public int Reductions { get; private set; }

    /// <inheritdoc/>
    public override double Factor(in ScheduleClock clock) => Inner.Factor(clock) * PlateauFactor;

    /// <inheritdoc/>
    public override void ObserveValidation(double loss)
    {
        Inner.ObserveValidation(loss);
        if (loss < Best * (1 - Threshold))
        {
            Best = loss;
            BadEpochs = 0;
            return;
        }
        BadEpochs++;
        if (BadEpochs > Patience)
        {
            PlateauFactor = Math.Max(PlateauFactor * ReductionFactor, MinFactor);
            Reductions++;
            BadEpochs = 0;
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"ReduceOnPlateau(×{ReductionFactor:G4}, patience {Patience}, threshold {Threshold:G4}, min {MinFactor:G4}) × {Inner}");
}
