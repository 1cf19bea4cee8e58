using System;
using System.Threading;
using Kiln.Benchmarks;

namespace Kiln.Benchmarks.Tests;

/// <summary>
/// The run-queue wait fraction every benchmark side reports (MachineProbes.SchedTotals): the share of the process's
/// runnable time spent without a CPU, which no count of threads can push past 1.
/// </summary>
public class RunQueueWaitTests
{
    [Fact]
    public void Parse_reads_run_and_wait_nanoseconds()
    {
        Assert.Equal(new SchedTotals(123456, 7890), SchedTotals.Parse("123456 7890 42\n"));
        Assert.Equal(default, SchedTotals.Parse(""));
        Assert.Equal(default, SchedTotals.Parse("garbage"));
    }

    [Fact]
    public void The_fraction_is_the_share_of_runnable_time_spent_waiting()
    {
        // Three threads always runnable on two cores for 1 s: 2 s run, 1 s waited. wait / (wall × threads) would give
        // 0.5 with 2 configured threads and 1.0 with 1; the share of the time they wanted a CPU is one third.
        Assert.Equal(1.0 / 3, SchedTotals.WaitFraction(new(0, 0), new(2_000_000_000, 1_000_000_000)), 12);
        // Any number of waiting threads: never above 1.
        Assert.InRange(SchedTotals.WaitFraction(new(5, 5), new(6, 5_000_000_005)), 0.99, 1.0);
        Assert.Equal(0.0, SchedTotals.WaitFraction(new(10, 3), new(20, 3)));
        Assert.Equal(new SchedTotals(3, 7), new SchedTotals(1, 2) + new SchedTotals(2, 5));
    }

    [Fact]
    public void An_interval_where_nothing_ran_or_a_thread_vanished_has_no_fraction()
    {
        Assert.True(double.IsNaN(SchedTotals.WaitFraction(new(10, 3), new(10, 3))));
        Assert.True(double.IsNaN(SchedTotals.WaitFraction(new(10, 30), new(20, 3))));
    }

    [Fact]
    public void This_process_reads_a_fraction_between_0_and_1()
    {
        if (!OperatingSystem.IsLinux()) return;
        SchedTotals before = MachineProbes.ReadSchedTotals();
        // Work on this thread and on a second one, so that the sum covers more than one task.
        double sink = 0;
        var other = new Thread(() => { for (int i = 0; i < 3_000_000; i++) Volatile.Write(ref sink, sink + i); });
        other.Start();
        for (int i = 0; i < 3_000_000; i++) sink += Math.Sqrt(i);
        other.Join();
        SchedTotals after = MachineProbes.ReadSchedTotals();
        Assert.True(after.RunNs > before.RunNs, $"run time did not grow: {before} → {after}");
        Assert.InRange(SchedTotals.WaitFraction(before, after), 0.0, 1.0);
    }
}
