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

    /// <summary>
    /// Two stages of a batch-1 Predict: the second reads the first's output. On two threads each is fast when the data sits
    /// where its part runs: the second stage's wide run is slow after a narrow first stage (its worker pulls the whole
    /// input across), and the first wide batch after a stretch of narrow ones pays a transition (the worker's caches).
    /// </summary>
    private sealed class ChainedStages : IParallelStages
    {
        private long _now;
        public long Narrow = 100, Wide = 60, WideAfterNarrow = 150, Transition = 200;
        public bool FirstWasWide, LastBatchWide = true;
        public int MixedBatches, WideBatches, NarrowBatches;

        public long Now() => Volatile.Read(ref _now);

        public void RunStage(int stage, int part, int parts)
        {
            if (part != 0) return;
            bool wide = parts > 1;
            long cost = !wide ? Narrow : stage == 1 && !FirstWasWide ? WideAfterNarrow : Wide;
            if (stage == 0)
            {
                if (wide && !LastBatchWide) cost += Transition;
                FirstWasWide = wide;
            }
            else
            {
                if (wide != FirstWasWide) MixedBatches++;
                else if (wide) WideBatches++;
                else NarrowBatches++;
                LastBatchWide = wide;
            }
            Interlocked.Add(ref _now, cost);
        }
    }

    private static void InferenceBatches(StageScheduler s, ChainedStages body, int count, int rows = 1)
    {
        for (int i = 0; i < count; i++)
        {
            s.BeginInferenceBatch(rows);
            s.Execute(body, 0, Work);
            s.Execute(body, 1, Work);
            s.EndBatch();
        }
    }

    [Fact]
    public void AnInferenceBatchRunsEveryStageOnOneArmAndStaysWideWhileThatIsFaster()
    {
        using var pool = new WorkerPool(2);
        var body = new ChainedStages();
        var s = new StageScheduler(pool, body.Now);
        InferenceBatches(s, body, 400);
        Assert.Equal(0, body.MixedBatches);
        Assert.False(s.IsJointNarrow(1), s.Describe());
        Assert.Equal(0, s.JointStateOf(1).Switches);
        Assert.True(body.NarrowBatches > 0, "never measured the 1-thread arm");
        // Per-stage state is left alone: the stages were decided jointly.
        Assert.Equal(0, s.StateOf(0).WideSamples + s.StateOf(0).NarrowSamples);
    }

    [Fact]
    public void AnInferenceBatchFallsBackAndReturnsAlthoughItsFirstWideBatchPaysTheTransition()
    {
        using var pool = new WorkerPool(2);
        var body = new ChainedStages();
        var s = new StageScheduler(pool, body.Now);
        InferenceBatches(s, body, 50);
        Assert.False(s.IsJointNarrow(1));

        // The slow phase: two threads take three times as long as one.
        body.Wide = body.WideAfterNarrow = 300;
        int batches = 0;
        while (!s.IsJointNarrow(1) && batches < 100) { InferenceBatches(s, body, 1); batches++; }
        Assert.True(s.IsJointNarrow(1), "still on two threads 100 batches into the slow phase");
        Assert.True(batches <= 20, $"took {batches} batches to fall back");
        InferenceBatches(s, body, 500);
        Assert.True(s.IsJointNarrow(1));

        // The phase ends. An exploration's first wide batch costs 60 + 60 + 200 (more than the 200 of the narrow arm);
        // only its second batch, 120, is what staying wide would cost, and that is the one measured.
        body.Wide = 60;
        body.WideAfterNarrow = 150;
        batches = 0;
        while (s.IsJointNarrow(1) && batches < 1000) { InferenceBatches(s, body, 1); batches++; }
        Assert.False(s.IsJointNarrow(1), $"did not return to two threads after the slow phase\n{s.Describe()}");
        Assert.True(batches <= 200, $"took {batches} batches to return\n{s.Describe()}");
        Assert.Equal(0, body.MixedBatches);
    }

    [Fact]
    public void InferenceBatchSizesDecideSeparatelyAndTrainingBatchesPerStage()
    {
        using var pool = new WorkerPool(2);
        var small = new ChainedStages();
        var large = new ChainedStages { Wide = 180, WideAfterNarrow = 180, Transition = 0 };
        var training = new FakeStage { Narrow = 100, Wide = 60 };
        long Clock() => small.Now() + large.Now() + training.Now();
        var s = new StageScheduler(pool, Clock);
        for (int i = 0; i < 300; i++)
        {
            InferenceBatches(s, small, 1, rows: 1);
            InferenceBatches(s, large, 1, rows: 200);
            s.BeginBatch();
            s.Execute(training, Stage, Work);
            s.EndBatch();
        }
        Assert.False(s.IsJointNarrow(1));
        Assert.True(s.IsJointNarrow(200), s.Describe());
        Assert.True(s.IsJointNarrow(128));   // 128–255 rows share one decision
        Assert.False(s.IsNarrow(Stage));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(16, 16)]
    [InlineData(17, 17)]
    [InlineData(31, 17)]
    [InlineData(32, 18)]
    [InlineData(255, 20)]
    [InlineData(256, 21)]
    public void JointKeysAreExactForSmallBatchesThenOnePerPowerOfTwo(int rows, int key) =>
        Assert.Equal(key, StageScheduler.JointKey(rows));

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
        InferenceBatches(s, new ChainedStages(), 3);
        Assert.Contains("inference, 1 row (every stage)", s.Describe());
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
