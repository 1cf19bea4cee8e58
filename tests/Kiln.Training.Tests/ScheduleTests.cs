using System;
using Kiln.Schedules;

namespace Kiln.Training.Tests;

/// <summary>
/// Every schedule against its formula, written out here in double (docs/techniques.md#schedules). Expected values are
/// computed independently of the implementation: closed forms, or the period bookkeeping done by hand.
/// </summary>
public class ScheduleTests
{
    private const double Tol = 1e-12;

    private static ScheduleClock At(long step, int epoch = 0, int stepsPerEpoch = 0) => new(step, epoch, stepsPerEpoch);

    private static double Cos(double m, double t, double T) => m + (1 - m) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(t, T) / T));

    [Fact]
    public void Constant_is_one_everywhere()
    {
        var s = new ConstantSchedule();
        foreach (long t in new long[] { 0, 1, 17, 1_000_000 })
            Assert.Equal(1.0, s.Factor(At(t, (int)(t / 10), 10)));
        s.ObserveValidation(3.0);   // ignored
        Assert.Equal(1.0, s.Factor(At(5)));
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(2, 1.0)]
    [InlineData(3, 0.5)]
    [InlineData(5, 0.5)]
    [InlineData(6, 0.25)]
    [InlineData(10, 0.125)]
    public void StepDecay_every_n_epochs(int epoch, double expected)
    {
        var s = new StepDecay(0.5, 3);
        Assert.Equal(expected, s.Factor(At(epoch * 7L + 3, epoch, 7)), Tol);
        Assert.Equal(Math.Pow(0.5, epoch / 3), s.Factor(At(0, epoch, 7)), Tol);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(29, 0)]
    [InlineData(30, 1)]
    [InlineData(59, 1)]
    [InlineData(60, 2)]
    [InlineData(89, 2)]
    [InlineData(90, 3)]
    [InlineData(500, 3)]
    public void StepDecay_milestones_like_ResNet(int epoch, int decays)
    {
        var s = new StepDecay(0.1, [30, 60, 90]);
        Assert.Equal(Math.Pow(0.1, decays), s.Factor(At(epoch * 100L, epoch, 100)), Tol);
        Assert.Equal(decays, s.DecaysAt(epoch));
    }

    [Fact]
    public void StepDecay_copies_its_milestones()
    {
        int[] milestones = [2, 4];
        var s = new StepDecay(0.5, milestones);
        milestones[0] = 100;
        Assert.Equal(0.5, s.Factor(At(0, 2, 1)), Tol);
        Assert.Equal([2, 4], s.Milestones.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(250)]
    [InlineData(500)]
    [InlineData(777)]
    [InlineData(999)]
    [InlineData(1000)]
    [InlineData(5000)]
    public void Cosine_in_steps(long t)
    {
        var s = new CosineDecay(steps: 1000, epochs: 0, minFactor: 0.1);
        Assert.Equal(Cos(0.1, t, 1000), s.Factor(At(t)), Tol);
    }

    [Fact]
    public void Cosine_landmarks()
    {
        var s = new CosineDecay(steps: 1000, epochs: 0, minFactor: 0);
        Assert.Equal(1.0, s.Factor(At(0)), Tol);
        Assert.Equal(0.5 + Math.Sqrt(2) / 4, s.Factor(At(250)), Tol);   // ½(1 + cos π/4)
        Assert.Equal(0.5, s.Factor(At(500)), Tol);
        Assert.Equal(0.0, s.Factor(At(1000)), Tol);
        Assert.Equal(0.0, s.Factor(At(1001)), Tol);
        var floor = new CosineDecay(steps: 1000, epochs: 0, minFactor: 0.2);
        Assert.Equal(0.2 + 0.8 * 0.5, floor.Factor(At(500)), Tol);
        Assert.Equal(0.2, floor.Factor(At(4000)), Tol);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(150)]
    [InlineData(299)]
    [InlineData(300)]
    [InlineData(900)]
    public void Cosine_in_epochs_uses_steps_per_epoch(long t)
    {
        var s = new CosineDecay(steps: 0, epochs: 3, minFactor: 0.05);
        Assert.Equal(Cos(0.05, t, 300), s.Factor(At(t, (int)(t / 100), 100)), Tol);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(100, 0.75)]
    [InlineData(200, 0.5)]
    [InlineData(300, 0.25)]
    [InlineData(320, 0.2)]
    [InlineData(399, 0.2)]
    [InlineData(10_000, 0.2)]
    public void Linear_in_steps(long t, double expected)
    {
        var s = new LinearDecay(steps: 400, epochs: 0, minFactor: 0.2);
        Assert.Equal(expected, s.Factor(At(t)), Tol);
        Assert.Equal(Math.Max(0.2, 1 - t / 400.0), s.Factor(At(t)), Tol);
    }

    [Fact]
    public void Linear_in_epochs_reaches_zero_at_T()
    {
        var s = new LinearDecay(steps: 0, epochs: 4, minFactor: 0);
        Assert.Equal(1 - 10 / 40.0, s.Factor(At(10, 1, 10)), Tol);
        Assert.Equal(1 - 33 / 40.0, s.Factor(At(33, 3, 10)), Tol);
        Assert.Equal(0.0, s.Factor(At(40, 4, 10)), Tol);
        Assert.Equal(0.0, s.Factor(At(55, 5, 10)), Tol);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(1, 1.0)]
    [InlineData(4, 0.5)]
    [InlineData(16, 0.25)]
    [InlineData(100, 0.1)]
    [InlineData(10_000, 0.01)]
    [InlineData(12_345, -1)]
    public void Inverse_square_root(long t, double expected)
    {
        var s = new InverseSqrtDecay();
        if (expected < 0) expected = 1 / Math.Sqrt(t);
        Assert.Equal(expected, s.Factor(At(t)), Tol);
    }

    [Theory]
    // epochs 2 × 10 steps, multiplier 2: periods [0, 20), [20, 60), [60, 140), [140, 300).
    [InlineData(0, 0, 20)]
    [InlineData(7, 0, 20)]
    [InlineData(10, 0, 20)]
    [InlineData(19, 0, 20)]
    [InlineData(20, 20, 40)]
    [InlineData(40, 20, 40)]
    [InlineData(59, 20, 40)]
    [InlineData(60, 60, 80)]
    [InlineData(100, 60, 80)]
    [InlineData(139, 60, 80)]
    [InlineData(140, 140, 160)]
    [InlineData(299, 140, 160)]
    public void Warm_restarts_doubling_periods(long t, double start, double length)
    {
        var s = new WarmRestarts(epochs: 2, multiplier: 2, minFactor: 0.05);
        var clock = At(t, (int)(t / 10), 10);
        Assert.Equal(Cos(0.05, t - start, length), s.Factor(clock), Tol);
        (_, double pStart, double pLength) = s.PeriodAt(clock);
        Assert.Equal(start, pStart);
        Assert.Equal(length, pLength);
    }

    [Fact]
    public void Warm_restarts_restart_at_one_and_reach_the_minimum_at_each_period_end()
    {
        var s = new WarmRestarts(epochs: 2, multiplier: 2, minFactor: 0.05);
        foreach (long restart in new long[] { 0, 20, 60, 140 })
            Assert.Equal(1.0, s.Factor(At(restart, 0, 10)), Tol);
        Assert.Equal(0.05 + 0.95 * 0.5, s.Factor(At(10, 1, 10)), Tol);    // middle of the first period
        Assert.Equal(0.05 + 0.95 * 0.5, s.Factor(At(40, 4, 10)), Tol);    // middle of the second
        Assert.True(s.Factor(At(59, 5, 10)) < 0.06);
        Assert.Equal(2, s.PeriodAt(At(100, 10, 10)).Index);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(25, 25)]
    [InlineData(50, 0)]
    [InlineData(1234, 34)]
    public void Warm_restarts_equal_periods(long t, double within)
    {
        var s = new WarmRestarts(epochs: 1, multiplier: 1, minFactor: 0);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * within / 50)), s.Factor(At(t, (int)(t / 50), 50)), Tol);
    }

    [Fact]
    public void Warm_restarts_fractional_multiplier()
    {
        // 20, 30, 45 steps: periods start at 0, 20, 50, 95.
        var s = new WarmRestarts(epochs: 2, multiplier: 1.5, minFactor: 0);
        Assert.Equal(Cos(0, 15, 30), s.Factor(At(35, 3, 10)), Tol);
        Assert.Equal(1.0, s.Factor(At(50, 5, 10)), Tol);
        Assert.Equal(Cos(0, 44, 45), s.Factor(At(94, 9, 10)), Tol);
        Assert.Equal(1.0, s.Factor(At(95, 9, 10)), Tol);
    }

    [Theory]
    [InlineData(0, 0.01)]
    [InlineData(1, 0.02)]
    [InlineData(49, 0.5)]
    [InlineData(98, 0.99)]
    [InlineData(99, 1.0)]
    [InlineData(100, 1.0)]
    [InlineData(5000, 1.0)]
    public void Warmup_is_linear_to_the_inner_rate(long t, double expected)
    {
        var s = Warmup.Linear(100);
        Assert.Equal(expected, s.Factor(At(t)), Tol);
        Assert.Equal(Math.Min(1.0, (t + 1) / 100.0), Warmup.Ramp(t, 100), Tol);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(49)]
    [InlineData(99)]
    [InlineData(100)]
    [InlineData(600)]
    [InlineData(1000)]
    public void Warmup_composes_with_cosine_on_the_same_clock(long t)
    {
        var s = new Warmup(100, new CosineDecay(steps: 1000, epochs: 0, minFactor: 0));
        double expected = Math.Min(1.0, (t + 1) / 100.0) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(t, 1000) / 1000));
        Assert.Equal(expected, s.Factor(At(t)), Tol);
    }

    [Fact]
    public void Warmup_of_zero_steps_is_the_inner_schedule()
    {
        var inner = new InverseSqrtDecay();
        var s = new Warmup(0, inner);
        foreach (long t in new long[] { 0, 1, 9, 400 })
            Assert.Equal(inner.Factor(At(t)), s.Factor(At(t)), Tol);
    }

    [Fact]
    public void Reduce_on_plateau_follows_a_scripted_validation_sequence()
    {
        // factor 0.5, patience 2, relative threshold 1%, floor 0.1.
        var s = new ReduceOnPlateau(0.5, 2, 0.01, 0.1, new ConstantSchedule());
        (double Loss, double Factor, int Bad, double Best)[] script =
        [
            (1.000, 1.0, 0, 1.000),     // first observation: best
            (0.900, 1.0, 0, 0.900),     // improved by 10%
            (0.895, 1.0, 1, 0.900),     // 0.895 ≥ 0.900·0.99 = 0.891: not an improvement
            (0.893, 1.0, 2, 0.900),     // second bad epoch = patience: still tolerated
            (0.892, 0.5, 0, 0.900),     // third bad epoch > patience: ×0.5, count restarts
            (0.800, 0.5, 0, 0.800),     // improvement
            (0.800, 0.5, 1, 0.800),
            (0.810, 0.5, 2, 0.800),
            (0.790, 0.5, 0, 0.790),     // 0.790 < 0.800·0.99 = 0.792: improvement resets the count
            (double.NaN, 0.5, 1, 0.790),    // NaN never improves
            (double.NaN, 0.5, 2, 0.790),
            (double.NaN, 0.25, 0, 0.790),
            (0.790, 0.25, 1, 0.790),
            (0.790, 0.25, 2, 0.790),
            (0.790, 0.125, 0, 0.790),
            (0.790, 0.125, 1, 0.790),
            (0.790, 0.125, 2, 0.790),
            (0.790, 0.1, 0, 0.790),     // 0.0625 is floored at the minimum factor 0.1
            (0.790, 0.1, 1, 0.790),
            (0.790, 0.1, 2, 0.790),
            (0.790, 0.1, 0, 0.790),     // stays at the floor
        ];
        for (int i = 0; i < script.Length; i++)
        {
            s.ObserveValidation(script[i].Loss);
            Assert.True(Math.Abs(script[i].Factor - s.Factor(At(i))) < Tol, $"epoch {i}: factor {s.Factor(At(i))}, expected {script[i].Factor}");
            Assert.Equal(script[i].Bad, s.BadEpochs);
            Assert.Equal(script[i].Best, s.Best, Tol);
        }
        Assert.Equal(5, s.Reductions);
    }

    [Fact]
    public void Reduce_on_plateau_with_zero_patience_reduces_on_every_bad_epoch()
    {
        var s = new ReduceOnPlateau(0.1, 0, 0, 0, new ConstantSchedule());
        s.ObserveValidation(1);
        s.ObserveValidation(1);          // equal is not better (threshold 0: strictly lower)
        Assert.Equal(0.1, s.PlateauFactor, Tol);
        s.ObserveValidation(0.5);
        Assert.Equal(0.1, s.PlateauFactor, Tol);
        s.ObserveValidation(0.6);
        Assert.Equal(0.01, s.PlateauFactor, Tol);
    }

    [Fact]
    public void Generated_composition_warmup_plateau_cosine()
    {
        // What the generator emits for [Warmup(Steps = 500), ReduceOnPlateau, CosineDecay(Epochs = 30)] (defaults of ReduceOnPlateau).
        var s = new Warmup(500, new ReduceOnPlateau(0.1, 10, 1e-4, 0.0, new CosineDecay(steps: 0, epochs: 30, minFactor: 0.0)));
        const int spe = 100;
        double Cosine(long t) => 0.5 * (1 + Math.Cos(Math.PI * Math.Min(t, 3000) / 3000.0));
        Assert.Equal(1 / 500.0 * Cosine(0), s.Factor(At(0, 0, spe)), Tol);
        Assert.Equal(250 / 500.0 * Cosine(249), s.Factor(At(249, 2, spe)), Tol);
        Assert.Equal(Cosine(700), s.Factor(At(700, 7, spe)), Tol);

        // Eleven epochs without improvement after the first: the plateau multiplies by 0.1, through the warm-up wrapper.
        s.ObserveValidation(1.0);
        for (int i = 0; i < 11; i++) s.ObserveValidation(1.0);
        Assert.Equal(0.1 * Cosine(1200), s.Factor(At(1200, 12, spe)), Tol);
        Assert.Equal(0.1 * (100 / 500.0) * Cosine(99), s.Factor(At(99, 0, spe)), Tol);
    }

    [Fact]
    public void Batch_size_rule_scales_linearly()
    {
        Assert.Equal(0.4, BatchSizeScaling.Scale(0.1, 256, 1024), Tol);
        Assert.Equal(5e-4, BatchSizeScaling.Scale(1e-3, 64, 32), Tol);
        Assert.Equal(0.1 * 8, BatchSizeScaling.Scale(0.1, 32, 256), Tol);
        Assert.Equal(3e-3, BatchSizeScaling.Scale(3e-3, 128, 128), Tol);
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchSizeScaling.Scale(0, 64, 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchSizeScaling.Scale(double.NaN, 64, 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchSizeScaling.Scale(0.1, 0, 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchSizeScaling.Scale(0.1, 64, -1));
    }

    [Fact]
    public void Bad_arguments_are_clear_errors()
    {
        Assert.Contains("every", Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(1.5, 10));
        Assert.Throws<ArgumentException>(() => new StepDecay(0.1, Array.Empty<int>()));
        Assert.Contains("increasing", Assert.Throws<ArgumentException>(() => new StepDecay(0.1, [60, 30])).Message);
        Assert.Throws<ArgumentException>(() => new StepDecay(0.1, [0, 30]));
        Assert.Throws<ArgumentNullException>(() => new StepDecay(0.1, (int[])null!));

        Assert.Contains("exactly one", Assert.Throws<ArgumentException>(() => new CosineDecay(0, 0, 0)).Message);
        Assert.Contains("exactly one", Assert.Throws<ArgumentException>(() => new CosineDecay(100, 3, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(-1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(100, 0, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearDecay(100, 0, -0.1));
        Assert.Throws<ArgumentException>(() => new LinearDecay(0, 0, 0));

        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmRestarts(0, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmRestarts(10, 0.5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmRestarts(10, double.PositiveInfinity, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmRestarts(10, 2, 2));

        Assert.Throws<ArgumentOutOfRangeException>(() => new Warmup(-1, new ConstantSchedule()));
        Assert.Throws<ArgumentNullException>(() => new Warmup(10, null!));

        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(1.0, 10, 1e-4, 0, new ConstantSchedule()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(0.1, -1, 1e-4, 0, new ConstantSchedule()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(0.1, 10, 1, 0, new ConstantSchedule()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(0.1, 10, 1e-4, -1, new ConstantSchedule()));
        Assert.Throws<ArgumentNullException>(() => new ReduceOnPlateau(0.1, 10, 1e-4, 0, null!));

        // Epoch-based lengths need the clock's steps per epoch.
        Assert.Contains("StepsPerEpoch", Assert.Throws<InvalidOperationException>(() => new CosineDecay(0, 3, 0).Factor(At(5))).Message);
        Assert.Throws<InvalidOperationException>(() => new WarmRestarts(3, 2, 0).Factor(At(5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InverseSqrtDecay().Factor(At(-1)));
    }

    [Fact]
    public void Schedules_describe_themselves()
    {
        var s = new Warmup(500, new ReduceOnPlateau(0.1, 10, 1e-4, 0.0, new CosineDecay(steps: 0, epochs: 30, minFactor: 0.0)));
        Assert.Equal("Warmup(500 steps) → ReduceOnPlateau(×0.1, patience 10, threshold 0.0001, min 0) × Cosine(T = 30 epochs, min 0)", s.ToString());
        Assert.Equal("StepDecay(×0.1 at epochs 30, 60, 90)", new StepDecay(0.1, [30, 60, 90]).ToString());
    }
}
