using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Kiln.Kernels.Tests;

public sealed class ArenaTests
{
    [Fact]
    public unsafe void ArenasAreAlignedZeroedAndSliced()
    {
        var keep = new List<Arena>();
        foreach (int length in new[] { 0, 1, 3, 16, 17, 1000, 4099 })
            for (int rep = 0; rep < 5; rep++)
            {
                var a = new Arena(length);
                keep.Add(a); // several live arenas: different array addresses
                Assert.Equal(length, a.Length);
                Assert.Equal(length, a.Span.Length);
                fixed (float* p = a.Span)
                    if (length > 0) Assert.True(((nuint)p & 63) == 0, $"arena of {length} starts at {(nuint)p:X}");
                foreach (float v in a.Span) Assert.Equal(0f, v);
                if (length >= 3)
                {
                    a.Slice(1, 2).Fill(5f);
                    Assert.Equal(new float[] { 0, 5, 5 }, a.Span.Slice(0, 3).ToArray());
                    Assert.Throws<ArgumentOutOfRangeException>(() => a.Slice(length - 1, 2));
                }
            }
        GC.Collect();
        GC.Collect();
        // Pinned: still aligned after a collection.
        foreach (Arena a in keep)
            fixed (float* p = a.Span)
                if (a.Length > 0) Assert.True(((nuint)p & 63) == 0);
    }
}

public sealed class PartitionTests
{
    [Fact]
    public void RangesAreDisjointCoveringAlignedAndBalanced()
    {
        foreach (int total in new[] { 0, 1, 7, 10, 100, 257, 784 })
            foreach (int parts in new[] { 1, 2, 3, 8 })
                foreach (int align in new[] { 1, 4, 16 })
                {
                    int next = 0, min = int.MaxValue, max = 0;
                    for (int part = 0; part < parts; part++)
                    {
                        var (start, end) = Partition.Range(total, part, parts, align);
                        string ctx = $"total={total} parts={parts} align={align} part={part}: [{start},{end})";
                        Assert.True(start == next, ctx);
                        Assert.True(end >= start && end <= total, ctx);
                        Assert.True(start % align == 0, ctx);
                        next = end;
                        min = Math.Min(min, end - start);
                        max = Math.Max(max, end - start);
                    }
                    Assert.Equal(total, next);
                    // Near-equal: sizes differ by at most one alignment block.
                    Assert.True(max - min <= align, $"total={total} parts={parts} align={align}: sizes {min}..{max}");
                }
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Range(10, 2, 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Range(10, 0, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Partition.Range(10, 0, 1, 0));
    }
}

public sealed class WorkerPoolTests
{
    /// <summary>Counts how often each (stage, part) ran, checks the parts argument and the thread kind.</summary>
    private sealed class Counter : IParallelStages
    {
        public readonly int[] Counts;
        private readonly int _parts;
        public int BadParts;
        public int PartsOnCaller;
        public Thread? Caller;

        public Counter(int stages, int parts)
        {
            Counts = new int[stages * parts];
            _parts = parts;
        }

        public void RunStage(int stage, int part, int parts)
        {
            if (parts != _parts) Interlocked.Increment(ref BadParts);
            if (part != 0 && Thread.CurrentThread == Caller) Interlocked.Increment(ref PartsOnCaller);
            Interlocked.Increment(ref Counts[stage * _parts + part]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryPartRunsExactlyOnce(int parallelism)
    {
        using var pool = new WorkerPool(parallelism);
        Assert.Equal(parallelism, pool.Parallelism);
        const int stages = 2000;
        var c = new Counter(stages, parallelism);
        for (int s = 0; s < stages; s++) pool.Run(c, s);
        Assert.All(c.Counts, n => Assert.Equal(1, n));
        Assert.Equal(0, c.BadParts);
    }

    [Fact]
    public void CallerRunsThePartsOfAWorkerThatHasNotStarted()
    {
        // Workers that block at once need an OS wake-up (µs) for every stage, while the caller's part is empty:
        // with no steal delay the caller claims the worker's part before the worker gets to it, so a late (or
        // descheduled) worker never holds Run up. Each part still runs exactly once.
        using var pool = new WorkerPool(2, TimeSpan.Zero, stealDelay: TimeSpan.Zero);
        const int stages = 500;
        var c = new Counter(stages, 2) { Caller = Thread.CurrentThread };
        for (int s = 0; s < stages; s++) pool.Run(c, s);
        Assert.All(c.Counts, n => Assert.Equal(1, n));
        Assert.True(c.PartsOnCaller > 0, "the caller never ran a part the worker had not started");
    }

    [Fact]
    public void WorkersThatFellAsleepWakeUp()
    {
        using var pool = new WorkerPool(3, TimeSpan.Zero); // no spinning: every wait blocks
        var c = new Counter(50, 3);
        for (int s = 0; s < 50; s++)
        {
            pool.Run(c, s);
            if (s % 10 == 0) Thread.Sleep(2);
        }
        Assert.All(c.Counts, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task ConcurrentCallersEachGetEveryPartOnce()
    {
        foreach (WorkerPool pool in new[] { new WorkerPool(3), WorkerPool.Shared })
        {
            const int callers = 4, stages = 300;
            var counters = new Counter[callers];
            var tasks = new Task[callers];
            for (int t = 0; t < callers; t++)
            {
                var c = counters[t] = new Counter(stages, pool.Parallelism);
                tasks[t] = Task.Factory.StartNew(() => { for (int s = 0; s < stages; s++) pool.Run(c, s); }, TaskCreationOptions.LongRunning);
            }
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20)); // a deadlock would time out
            foreach (Counter c in counters)
            {
                Assert.All(c.Counts, n => Assert.Equal(1, n));
                Assert.Equal(0, c.BadParts);
            }
            pool.Dispose(); // a no-op for Shared
        }
        // Shared still works after Dispose.
        var again = new Counter(1, WorkerPool.Shared.Parallelism);
        WorkerPool.Shared.Run(again, 0);
        Assert.All(again.Counts, n => Assert.Equal(1, n));
    }

    private sealed class Nested : IParallelStages
    {
        public readonly WorkerPool Pool;
        public readonly Counter Inner;
        public Nested(WorkerPool pool) { Pool = pool; Inner = new Counter(pool.Parallelism, pool.Parallelism); }
        public void RunStage(int stage, int part, int parts) => Pool.Run(Inner, part); // runs inline: the pool is busy
    }

    [Fact]
    public async Task RunFromInsideAPartRunsInline()
    {
        using var pool = new WorkerPool(3);
        var n = new Nested(pool);
        await Task.Run(() => pool.Run(n, 0)).WaitAsync(TimeSpan.FromSeconds(10)); // a deadlock would time out
        Assert.All(n.Inner.Counts, c => Assert.Equal(1, c));
    }

    private sealed class Thrower : IParallelStages
    {
        public readonly HashSet<int> Failing = new();
        public readonly Exception[] Errors;
        public int Ran;
        public Thrower(int parts)
        {
            Errors = new Exception[parts];
            for (int i = 0; i < parts; i++) Errors[i] = new InvalidOperationException($"part {i}");
        }
        public void RunStage(int stage, int part, int parts)
        {
            Interlocked.Increment(ref Ran);
            if (Failing.Contains(part)) throw Errors[part];
        }
    }

    [Fact]
    public void ExceptionsInPartsReachTheCaller()
    {
        using var pool = new WorkerPool(3);
        foreach (int failing in new[] { 0, 2 })
        {
            var t = new Thrower(3);
            t.Failing.Add(failing);
            var e = Assert.Throws<InvalidOperationException>(() => pool.Run(t, 0));
            Assert.Same(t.Errors[failing], e);
            Assert.Equal(3, t.Ran); // the other parts still ran
        }
        var two = new Thrower(3);
        two.Failing.Add(1);
        two.Failing.Add(2);
        var agg = Assert.Throws<AggregateException>(() => pool.Run(two, 0));
        Assert.Equal(2, agg.InnerExceptions.Count);
        // The pool is usable afterwards, and the errors do not leak into the next stage.
        var c = new Counter(1, 3);
        pool.Run(c, 0);
        Assert.All(c.Counts, n => Assert.Equal(1, n));
    }

    private sealed class Nop : IParallelStages
    {
        public void RunStage(int stage, int part, int parts) { }
    }

    [Fact]
    public void RunAllocatesNothing()
    {
        using var pool = new WorkerPool(2);
        var body = new Nop();
        for (int i = 0; i < 200; i++) pool.Run(body, i);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 2000; i++) pool.Run(body, i);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void DisposedPoolRejectsRuns()
    {
        var pool = new WorkerPool(2);
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new Nop(), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
    }

    [Fact]
    public void ThreadCountComesFromKilnThreads()
    {
        Assert.Equal("KILN_THREADS", WorkerPool.EnvironmentVariable);
        Assert.Equal(3, WorkerPool.ResolveParallelism("3", 8));
        Assert.Equal(1, WorkerPool.ResolveParallelism(" 1 ", 8));
        Assert.Equal(8, WorkerPool.ResolveParallelism(null, 8));
        Assert.Equal(8, WorkerPool.ResolveParallelism("", 8));
        Assert.Equal(8, WorkerPool.ResolveParallelism("0", 8));
        Assert.Equal(2, WorkerPool.ResolveParallelism("many", 2));
        Assert.True(WorkerPool.Shared.Parallelism >= 1);
    }

    [Fact]
    public void SpinTimeComesFromKilnSpinUs()
    {
        Assert.Equal("KILN_SPIN_US", WorkerPool.SpinEnvironmentVariable);
        Assert.Equal(TimeSpan.FromMilliseconds(1), WorkerPool.DefaultSpinTime);
        Assert.Equal(TimeSpan.FromMicroseconds(250), WorkerPool.ResolveSpinTime("250"));
        Assert.Equal(TimeSpan.Zero, WorkerPool.ResolveSpinTime("0"));
        Assert.Equal(WorkerPool.DefaultSpinTime, WorkerPool.ResolveSpinTime(null));
        Assert.Equal(WorkerPool.DefaultSpinTime, WorkerPool.ResolveSpinTime("-5"));
        Assert.Equal(WorkerPool.DefaultSpinTime, WorkerPool.ResolveSpinTime("soon"));
        // A pool that blocks at once (spin 0) still completes every stage.
        using var pool = new WorkerPool(2, TimeSpan.Zero);
        var counter = new CountingStages();
        for (int i = 0; i < 200; i++) pool.Run(counter, 0);
        Assert.Equal(400, counter.Parts);
    }

    private sealed class CountingStages : IParallelStages
    {
        private int _parts;
        public int Parts => Volatile.Read(ref _parts);
        public void RunStage(int stage, int part, int parts) => Interlocked.Increment(ref _parts);
    }
}
