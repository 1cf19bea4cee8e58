using System;
using System.Threading;
using Kiln.Kernels;
using Xunit;

namespace Kiln.Kernels.Tests;

/// <summary>
/// The per-stage thread-count policy (<see cref="StageScheduler"/>) on a fake clock: a stage's body advances the clock by
/// what the test says a 1-part or a 2-part run costs, so every decision is deterministic.
/// </summary>
public sealed class StageSchedulerTests
{
    /// <summary>A stage whose runs cost <see cref="Narrow"/> ticks on one part and <see cref="Wide"/> on two (part 0 advances the clock).</summary>
    private sealed class FakeStage : IParallelStages
    {
        private long _now;
        public long Narrow = 100, Wide = 60;
        public int NarrowRuns, WideRuns;
        public long Spike;   // added to the next wide run, then cleared

        public long Now() => Volatile.Read(ref _now);

        public void RunStage(int stage, int part, int parts)
        {
            if (part != 0) return;
            if (parts == 1) { NarrowRuns++; Interlocked.Add(ref _now, Narrow); }
            else { WideRuns++; Interlocked.Add(ref _now, Wide + Spike); Spike = 0; }
        }
    }

    private const int Stage = 3;
    private const long Work = 1000;

    private static void Batches(StageScheduler s, FakeStage body, int count)
    {
        for (int i = 0; i < count; i++)
        {
            s.BeginBatch();
            s.Execute(body, Stage, Work);
        }
    }

    [Fact]
    public void StaysOnTwoThreadsWhileTheyAreFaster()
    {
        using var pool = new WorkerPool(2);
        var body = new FakeStage { Narrow = 100, Wide = 60 };
        var s = new StageScheduler(pool, body.Now);
        Batches(s, body, 400);
        Assert.False(s.IsNarrow(Stage));
        Assert.Equal(0, s.StateOf(Stage).Switches);
        // Exploring the 1-thread arm costs 40 ticks a time against ~60 of work a batch: the budget keeps it rare.
        Assert.True(body.NarrowRuns > 0, "never measured the 1-thread arm");
        Assert.True(body.NarrowRuns * 40.0 <= 0.05 * body.WideRuns * 60, $"{body.NarrowRuns} explorations in 400 batches");
    }

    [Fact]
    public void FallsBackToOneThreadWhenTwoAreSlowerAndReturnsWhenThePhaseEnds()
    {
        using var pool = new WorkerPool(2);
        var body = new FakeStage { Narrow = 100, Wide = 60 };
        var s = new StageScheduler(pool, body.Now);
        Batches(s, body, 50);
        Assert.False(s.IsNarrow(Stage));

        // The slow phase: two threads take twice as long as one.
        body.Wide = 200;
        int batches = 0;
        while (!s.IsNarrow(Stage) && batches < 100) { Batches(s, body, 1); batches++; }
        Assert.True(s.IsNarrow(Stage), "still on two threads 100 batches into the slow phase");
        Assert.True(batches <= 20, $"took {batches} batches to fall back");

        // While it lasts, two threads are only tried within the exploration budget (2% of the time).
        int wideBefore = body.WideRuns;
        Batches(s, body, 1000);
        Assert.True(s.IsNarrow(Stage));
        long extra = (body.WideRuns - wideBefore) * (200 - 100);
        Assert.True(extra <= 0.03 * 1000 * 100, $"{body.WideRuns - wideBefore} two-thread tries in 1000 slow-phase batches");
        Assert.True(body.WideRuns > wideBefore, "never re-probed two threads");

        // The phase ends: back on two threads within a few explorations.
        body.Wide = 60;
        batches = 0;
        while (s.IsNarrow(Stage) && batches < 1000) { Batches(s, body, 1); batches++; }
        Assert.False(s.IsNarrow(Stage), "did not return to two threads after the slow phase");
        Assert.True(batches <= 200, $"took {batches} batches to return\n{s.Describe()}");
    }

    [Fact]
    public void EquallyFastArmsDoNotFlap()
    {
        using var pool = new WorkerPool(2);
        var body = new FakeStage { Narrow = 100, Wide = 100 };
        var s = new StageScheduler(pool, body.Now);
        Batches(s, body, 500);
        Assert.True(s.StateOf(Stage).Switches <= 1, $"{s.StateOf(Stage).Switches} switches between equal arms");
        // Within the hysteresis band whichever arm is in use stays.
        body.Wide = 102;
        bool narrow = s.IsNarrow(Stage);
        long switches = s.StateOf(Stage).Switches;
        Batches(s, body, 500);
        Assert.Equal(narrow, s.IsNarrow(Stage));
        Assert.Equal(switches, s.StateOf(Stage).Switches);
    }

    [Fact]
    public void OneDescheduledCallDoesNotFlipTheDecision()
    {
        using var pool = new WorkerPool(2);
        var body = new FakeStage { Narrow = 100, Wide = 60 };
        var s = new StageScheduler(pool, body.Now);
        Batches(s, body, 50);
        for (int i = 0; i < 20; i++)
        {
            body.Spike = 100_000; // a few ms lost to the OS on one call in ten
            Batches(s, body, 10);
            Assert.False(s.IsNarrow(Stage), $"a single spike moved the stage to one thread (round {i})");
        }
    }

    [Fact]
    public void StagesDecideIndependently()
    {
        using var pool = new WorkerPool(2);
        var fast = new FakeStage { Narrow = 100, Wide = 60 };
        var slow = new FakeStage { Narrow = 100, Wide = 180 };
        long Clock() => fast.Now() + slow.Now();
        var s = new StageScheduler(pool, Clock);
        for (int i = 0; i < 200; i++)
        {
            s.BeginBatch();
            s.Execute(fast, 0, Work);
            s.Execute(slow, 1, Work);
        }
        Assert.False(s.IsNarrow(0));
        Assert.True(s.IsNarrow(1));
    }

    [Fact]
    public void WithoutAdaptationEveryStageRunsWide()
    {
        using var pool = new WorkerPool(2);
        var body = new FakeStage { Narrow = 100, Wide = 500 };
        var s = new StageScheduler(pool, body.Now, adapt: false);
        Batches(s, body, 100);
        Assert.Equal(100, body.WideRuns);
        Assert.Equal(0, body.NarrowRuns);
    }

    [Fact]
    public void OnOneThreadEveryStageRunsInline()
    {
        using var pool = new WorkerPool(1);
        var body = new FakeStage();
        var s = new StageScheduler(pool, body.Now);
        Batches(s, body, 20);
        Assert.Equal(20, body.NarrowRuns);
    }

    [Fact]
    public void TheOverrideChoosesTheArm()
    {
        using var pool = new WorkerPool(2);
        var body = new FakeStage { Narrow = 100, Wide = 500 };
        var s = new StageScheduler(pool, body.Now) { Override = (stage, batch) => batch % 2 == 0 };
        Batches(s, body, 10);
        Assert.Equal(5, body.WideRuns);
        Assert.Equal(5, body.NarrowRuns);
        Assert.False(s.IsNarrow(Stage)); // the policy does not decide while overridden
    }

    [Fact]
    public void TheTraceTableNamesEveryStage()
    {
        using var pool = new WorkerPool(2);
        var body = new FakeStage();
        var s = new StageScheduler(pool, body.Now, traceName: "Fake");
        Batches(s, body, 20);
        string table = s.Describe();
        Assert.Contains("Fake after 20 batches", table);
        Assert.Contains($"  {Stage}  ", table);
    }
}

/// <summary>The diagnostics probes give finite, positive timings (their values are the machine's, not asserted).</summary>
public sealed class PoolProbeTests
{
    [Fact]
    public void ProbesMeasureSomething()
    {
        using var pool = new WorkerPool(2);
        foreach (ProbeTiming t in new[]
        {
            PoolProbe.CacheLinePingPong(samples: 20, tripsPerSample: 20),
            PoolProbe.BlockingWakeUp(samples: 10),
            PoolProbe.YieldingWakeUp(samples: 10),
            PoolProbe.EmptyStage(pool, samples: 20, stagesPerSample: 10),
        })
        {
            Assert.True(t.Samples > 0);
            Assert.True(t.MedianUs > 0 && double.IsFinite(t.MaxUs), t.ToString());
            Assert.True(t.MedianUs <= t.P90Us && t.P90Us <= t.MaxUs, t.ToString());
        }
        Assert.Contains("cache-line round trip", PoolProbe.Report(pool));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoolProbe.BlockingWakeUp(0));
    }

    [Fact]
    public void NudgedWorkersPollAgainAndAStageAfterASleepSaysSo()
    {
        using var pool = new WorkerPool(2, TimeSpan.FromMilliseconds(300), WorkerPool.DefaultStealDelay);
        var body = new Nop();
        pool.Run(body, 0);
        WaitFor(() => pool.Sleepers == 1); // past the spin time: the worker sleeps
        Assert.Equal(WorkerPool.RunKind.SharedAfterWake, pool.RunMeasured(body, 0));
        WaitFor(() => pool.Sleepers == 1);
        pool.Nudge();                      // awake again, polling for 300 ms
        WaitFor(() => pool.Sleepers == 0);
        Assert.Equal(WorkerPool.RunKind.Shared, pool.RunMeasured(body, 0));
        Assert.True(pool.ColdStages >= 1);
    }

    private static void WaitFor(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the worker did not get there within 10 s");
            Thread.Sleep(1);
        }
    }

    [Fact]
    public void PauseTimeIsPartOfTheSpinTime()
    {
        Assert.Equal("KILN_PAUSE_US", WorkerPool.PauseEnvironmentVariable);
        using var pool = new WorkerPool(2, TimeSpan.FromMicroseconds(20));
        Assert.Equal(TimeSpan.FromMicroseconds(20), pool.PauseTime);
        using var other = new WorkerPool(2);
        Assert.Equal(WorkerPool.DefaultPauseTime, other.PauseTime);
    }

    private sealed class Nop : IParallelStages
    {
        public void RunStage(int stage, int part, int parts) { }
    }
}
