using System;

namespace Kiln.Kernels.Tests;

/// <summary>The speed-proportional split of small-batch inference stages.</summary>
public sealed class AdaptiveSplitTests
{
    [Fact]
    public void Ranges_tile_the_units_for_any_shares()
    {
        var rnd = new Random(3);
        foreach (int parts in new[] { 1, 2, 3, 8 })
        {
            var split = new AdaptiveSplit(parts);
            for (int round = 0; round < 20; round++)
            {
                foreach (int total in new[] { 0, 1, 7, 49, 196, 1000 })
                {
                    int next = 0;
                    for (int p = 0; p < parts; p++)
                    {
                        (int start, int end) = split.Range(total, p, parts);
                        Assert.Equal(next, start);
                        Assert.True(end >= start, $"{parts} parts, total {total}: part {p} is [{start}, {end})");
                        next = end;
                    }
                    Assert.Equal(total, next);
                }
                // Random speeds move the shares; the ranges must still tile.
                for (int p = 0; p < parts; p++) split.Record(p, 10 + rnd.Next(100), 1 + rnd.Next(1000));
                split.Learn();
                double sum = 0;
                for (int p = 0; p < parts; p++)
                {
                    Assert.True(split.Share(p) >= split.MinShare - 1e-12, $"share {split.Share(p)} below the floor {split.MinShare}");
                    sum += split.Share(p);
                }
                Assert.Equal(1.0, sum, 12);
            }
        }
    }

    [Fact]
    public void Shares_move_towards_the_split_that_balances_the_measured_speeds()
    {
        var split = new AdaptiveSplit(2);
        Assert.Equal(0.5, split.Share(0));
        Assert.Equal((0, 25), split.Range(49, 0, 2));
        // Part 1 needed three times as long per unit as part 0: balanced, part 0 would take 3/4 of the units.
        split.Record(0, 25, 100);
        split.Record(1, 24, 288);
        split.Learn();
        Assert.Equal(0.5 + AdaptiveSplit.Rate * (0.75 - 0.5), split.Share(0), 9);
        for (int round = 0; round < 60; round++)
        {
            (int s0, int e0) = split.Range(100, 0, 2);
            (int s1, int e1) = split.Range(100, 1, 2);
            split.Record(0, e0 - s0, 4L * (e0 - s0));     // 4 ticks per unit
            split.Record(1, e1 - s1, 12L * (e1 - s1));    // 12 ticks per unit
            split.Learn();
        }
        Assert.Equal(0.75, split.Share(0), 2);
        Assert.Equal((0, 75), split.Range(100, 0, 2));
    }

    [Fact]
    public void A_part_that_stalls_keeps_its_floor_and_missing_timings_change_nothing()
    {
        var split = new AdaptiveSplit(2);
        for (int round = 0; round < 100; round++)
        {
            split.Record(0, 40, 40);
            split.Record(1, 9, 1_000_000);
            split.Learn();
        }
        Assert.Equal(split.MinShare, split.Share(1), 6);
        Assert.Equal(0.1, split.MinShare, 12);

        double before = split.Share(0);
        split.Record(0, 40, 40);                          // part 1 did not report this round (an empty range, say)
        split.Learn();
        Assert.Equal(before, split.Share(0));

        // A stage run with a different part count splits evenly and leaves the shares alone.
        Assert.Equal((0, 16), split.Range(49, 0, 3));
        Assert.Equal((32, 49), split.Range(49, 2, 3));
    }
}
