using System;
using System.Globalization;
using System.Linq;

namespace Kiln.Schedules;

/// <summary>
/// Step decay, measured in epochs (docs/techniques.md#schedules): factor^⌊epoch / every⌋ with <c>every</c>, or
/// factor^(number of milestones ≤ epoch) with milestones (multi-step; ResNet: 0.1 at 30, 60, 90).
/// The epoch is 0-based, so with milestones { 30 } epochs 0..29 run at the base rate and epoch 30 (the
/// 31st) is the first at factor × base. The rate is constant within an epoch.
/// </summary>
public sealed class StepDecay : LearningRateSchedule
{
    private readonly int[]? _milestones;

    /// <summary>Multiplies the rate by <paramref name="factor"/> every <paramref name="every"/> epochs.</summary>
    /// <param name="factor">Multiplier per decay, in (0, 1] (0.1 is usual).</param>
    /// <param name="every">Epochs between decays (&gt; 0).</param>
    public StepDecay(double factor, int every)
    {
        ScheduleChecks.Factor(nameof(StepDecay), factor, nameof(factor));
        if (every <= 0)
            throw new ArgumentOutOfRangeException(nameof(every), every, $"StepDecay: every must be a positive number of epochs (got {every}).");
        DecayFactor = factor;
        Every = every;
    }

    /// <summary>Multiplies the rate by <paramref name="factor"/> at each epoch in <paramref name="milestones"/>.</summary>
    /// <param name="factor">Multiplier per milestone, in (0, 1].</param>
    /// <param name="milestones">0-based epochs at which a decay takes effect: positive and strictly increasing (copied).</param>
    public StepDecay(double factor, int[] milestones)
    {
        ScheduleChecks.Factor(nameof(StepDecay), factor, nameof(factor));
        ArgumentNullException.ThrowIfNull(milestones);
        if (milestones.Length == 0)
            throw new ArgumentException("StepDecay: give at least one milestone epoch.", nameof(milestones));
        for (int i = 0; i < milestones.Length; i++)
        {
            if (milestones[i] <= 0)
                throw new ArgumentException($"StepDecay: milestone epochs must be positive (milestone {i} is {milestones[i]}).", nameof(milestones));
            if (i > 0 && milestones[i] <= milestones[i - 1])
                throw new ArgumentException(
                    $"StepDecay: milestones must be strictly increasing (got {milestones[i - 1]} then {milestones[i]}).", nameof(milestones));
        }
        DecayFactor = factor;
        _milestones = (int[])milestones.Clone();
    }

    /// <summary>The multiplier applied at each decay.</summary>
    public double DecayFactor { get; }

    /// <summary>Epochs between decays (0 when milestones are used).</summary>
    public int Every { get; }

    /// <summary>The milestone epochs (empty when <see cref="Every"/> is used).</summary>
    public ReadOnlySpan<int> Milestones => _milestones;

    /// <summary>Decays that have taken effect by <paramref name="epoch"/> (0-based).</summary>
    public int DecaysAt(int epoch)
    {
        if (epoch < 0) return 0;
        if (_milestones is null) return epoch / Every;
        int n = 0;
        while (n < _milestones.Length && _milestones[n] <= epoch) n++;
        return n;
    }

    /// <inheritdoc/>
    public override double Factor(in ScheduleClock clock) => Math.Pow(DecayFactor, DecaysAt(clock.Epoch));

    /// <inheritdoc/>
    public override string ToString() => _milestones is null
        ? string.Create(CultureInfo.InvariantCulture, $"StepDecay(×{DecayFactor:G4} every {Every} epochs)")
        : string.Create(CultureInfo.InvariantCulture, $"StepDecay(×{DecayFactor:G4} at epochs {string.Join(", ", _milestones.Select(m => m.ToString(CultureInfo.InvariantCulture)))})");
}
