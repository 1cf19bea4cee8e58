using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace Kiln.Kernels;

/// <summary>Work split into parts that run on the pool's threads.</summary>
public interface IParallelStages
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> of stage <paramref name="stage"/>.</summary>
    void RunStage(int stage, int part, int parts);
}

/// <summary>
/// A fixed set of worker threads (ProcessorCount − 1, or KILN_THREADS − 1) that wait politely for a while (1 ms, or
/// KILN_SPIN_US: spinning for the first <see cref="DefaultPauseTime"/>, then yielding the core on every poll) then sleep.
/// Run executes parts 0..Parallelism−1 of a stage and returns when all are done; the caller runs part 0 and
/// worker k part k, and a thread that finishes early runs any part nobody has started within 50 µs (a worker
/// the OS has not scheduled). It allocates nothing. When the pool is busy with another caller, Run executes every part
/// inline. Exceptions in a part are rethrown on the caller.
/// </summary>
/// <remarks>
/// A training step is a chain of short stages (tens of µs), so waking sleeping threads through the OS
/// on every stage would cost as much as the work: workers and the caller first poll a counter for
/// <see cref="SpinTime"/> and only then block on a monitor. Only the first <see cref="PauseTime"/> of that poll is a busy
/// spin; after it every poll calls <see cref="Thread.Yield"/>, so that a waiting thread never holds a core that another
/// runnable thread — the pool thread it is waiting for, descheduled on a loaded machine — could use (docs/threads.md).
/// The hand-off is lock-free on the fast path (one interlocked increment to publish a stage, one compare-exchange to
/// claim and one increment to finish each part); the monitors are touched only when somebody actually sleeps.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    /// <summary>The environment variable that sets the shared pool's thread count (caller included).</summary>
    public const string EnvironmentVariable = "KILN_THREADS";

    /// <summary>How long a thread that has finished its own part waits for another thread to claim its part before running it.</summary>
    public static readonly TimeSpan DefaultStealDelay = TimeSpan.FromMicroseconds(50);

    /// <summary>The environment variable that sets the shared pool's spin time in microseconds (0 = block at once).</summary>
    public const string SpinEnvironmentVariable = "KILN_SPIN_US";

    /// <summary>Spin time when <see cref="SpinEnvironmentVariable"/> is not set: 1 ms.</summary>
    /// <remarks>
    /// Waking a blocked thread through the OS costs tens of µs on a virtual machine — as much as a
    /// stage — and a training step or a batch-1 Predict has serial gaps of a few to a few hundred µs
    /// between its parallel stages. Spinning through them is what OpenMP runtimes do too (their
    /// defaults are 0.2 ms to 200 ms); measured on the benchmark CNN (2 cores), 10 µs → 1 ms took
    /// training at batch 64 from 5,800 to 6,700 samples/s and batch-1 Predict from 102 to 74 µs.
    /// </remarks>
    public static readonly TimeSpan DefaultSpinTime = TimeSpan.FromMicroseconds(1000);

    /// <summary>The environment variable that sets the shared pool's busy-spin time in microseconds, the part of the spin time before waits start yielding the core.</summary>
    public const string PauseEnvironmentVariable = "KILN_PAUSE_US";

    /// <summary>Busy-spin time when <see cref="PauseEnvironmentVariable"/> is not set: 50 µs.</summary>
    /// <remarks>
    /// Long enough to cover the imbalance of a stage's parts and the serial gap between two stages without a system
    /// call; beyond it a waiting thread yields its core on every poll (a sched_yield costs ~1 µs, and returns at once when
    /// nothing else wants the core), so a spinning waiter does not fight the thread doing the work for a vCPU.
    /// </remarks>
    public static readonly TimeSpan DefaultPauseTime = TimeSpan.FromMicroseconds(50);

    /// <summary>The shared pool's busy-spin time: <see cref="PauseEnvironmentVariable"/> when it is a non-negative integer, else <see cref="DefaultPauseTime"/>.</summary>
    public static TimeSpan SharedPauseTime => ResolveMicroseconds(Environment.GetEnvironmentVariable(PauseEnvironmentVariable), DefaultPauseTime);

    /// <summary>The shared pool's spin time: <see cref="SpinEnvironmentVariable"/> when it is a non-negative integer, else <see cref="DefaultSpinTime"/>.</summary>
    public static TimeSpan SharedSpinTime => ResolveSpinTime(Environment.GetEnvironmentVariable(SpinEnvironmentVariable));

    internal static TimeSpan ResolveSpinTime(string? microseconds) => ResolveMicroseconds(microseconds, DefaultSpinTime);

    internal static TimeSpan ResolveMicroseconds(string? microseconds, TimeSpan fallback) =>
        int.TryParse(microseconds, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int us) && us >= 0
            ? TimeSpan.FromMicroseconds(us)
            : fallback;

    private readonly Thread[] _threads;
    private readonly Exception?[] _errors;
    private readonly object _wakeGate = new();
    private readonly object _doneGate = new();
    private readonly long _spinTicks;
    private readonly long _pauseTicks;
    private readonly long _stealDelayTicks;
    private readonly bool _isShared;

    private IParallelStages? _body;
    private int _stage;
    private int _generation;     // bumped once per stage (and on dispose); workers wait for a change
    // Per part: the generation of the stage that last claimed it, at _claims[(part + 1)·ClaimStride]. Each part's claim sits on
    // its own cache line: the caller and the workers claim their own parts at the start of every stage, and on one
    // shared line each claim would first pull the line from the core that made the last one.
    private readonly int[] _claims;
    private const int ClaimStride = 16;
    private int _finished;       // parts of the current stage finished (by anyone)
    private int _sleepers;       // workers blocked on _wakeGate
    private int _callerSleeping; // 1 while the caller is blocked on _doneGate
    private int _busy;           // 1 while a caller owns the workers
    private int _nudges;         // bumped by Nudge: sleeping workers wake up and poll again
    private long _stolenParts;   // parts run by a thread other than their owner (all threads add)
    private volatile bool _disposed;

    /// <summary>The process-wide pool, sized by <see cref="DefaultParallelism"/>; disposing it does nothing.</summary>
    public static WorkerPool Shared => SharedHolder.Pool;

    // Created on first use (class-initialisation laziness, no Lazy<T> check on every access).
    private static class SharedHolder
    {
        public static readonly WorkerPool Pool = new(DefaultParallelism, SharedSpinTime, DefaultStealDelay, isShared: true, SharedPauseTime);
    }

    [ThreadStatic] private static WorkerPool? t_current;

    /// <summary>
    /// The pool a model constructed on this thread runs its stages on: the one of the innermost open
    /// <see cref="UseOnThisThread"/> scope, otherwise <see cref="Shared"/>. A model keeps the pool it was constructed with.
    /// </summary>
    public static WorkerPool Current => t_current ?? Shared;

    /// <summary>
    /// Makes <paramref name="pool"/> the <see cref="Current"/> pool of this thread until the returned scope is disposed, so
    /// that models constructed meanwhile run on it (a given thread count in one process, e.g. to check that training
    /// gives the same bits on 1 and 2 threads). The caller keeps ownership of the pool.
    /// </summary>
    public static Scope UseOnThisThread(WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var scope = new Scope(t_current);
        t_current = pool;
        return scope;
    }

    /// <summary>Restores the previous <see cref="Current"/> pool of the thread when disposed (see <see cref="UseOnThisThread"/>).</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly WorkerPool? _previous;

        internal Scope(WorkerPool? previous) => _previous = previous;

        /// <summary>Makes the pool that was current before the scope current again.</summary>
        public void Dispose() => t_current = _previous;
    }

    /// <summary>KILN_THREADS when it is a positive integer, otherwise <see cref="Environment.ProcessorCount"/>.</summary>
    public static int DefaultParallelism => ResolveParallelism(Environment.GetEnvironmentVariable(EnvironmentVariable), Environment.ProcessorCount);

    internal static int ResolveParallelism(string? value, int processorCount) =>
        int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= 1
            ? n
            : Math.Max(1, processorCount);

    /// <summary>A pool of <paramref name="parallelism"/> parts (the caller and parallelism − 1 worker threads) with the default spin time.</summary>
    public WorkerPool(int parallelism) : this(parallelism, DefaultSpinTime, isShared: false) { }

    /// <summary>A pool whose waiting threads spin for <paramref name="spinTime"/> before blocking.</summary>
    public WorkerPool(int parallelism, TimeSpan spinTime) : this(parallelism, spinTime, isShared: false) { }

    private WorkerPool(int parallelism, TimeSpan spinTime, bool isShared) : this(parallelism, spinTime, DefaultStealDelay, isShared) { }

    /// <summary>
    /// A pool with a chosen steal delay (tests: 0 makes a finished thread take an unclaimed part at once) and busy-spin time
    /// (null: <see cref="DefaultPauseTime"/>; <see cref="TimeSpan.MaxValue"/>: busy-spin for the whole spin time, never yield).
    /// </summary>
    internal WorkerPool(int parallelism, TimeSpan spinTime, TimeSpan stealDelay, bool isShared = false, TimeSpan? pauseTime = null)
    {
        _stealDelayTicks = (long)(stealDelay.TotalSeconds * Stopwatch.Frequency);
        if (parallelism < 1) throw new ArgumentOutOfRangeException(nameof(parallelism), parallelism, "A pool needs at least one thread (the caller).");
        if (spinTime < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(spinTime), spinTime, "The spin time must not be negative.");
        Parallelism = parallelism;
        SpinTime = spinTime;
        _spinTicks = (long)(spinTime.TotalSeconds * Stopwatch.Frequency);
        TimeSpan pause = pauseTime ?? DefaultPauseTime;
        if (pause < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(pauseTime), pause, "The busy-spin time must not be negative.");
        PauseTime = pause > spinTime ? spinTime : pause;
        _pauseTicks = pause >= spinTime ? _spinTicks : (long)(pause.TotalSeconds * Stopwatch.Frequency);
        _isShared = isShared;
        _errors = new Exception?[parallelism];
        _claims = new int[(parallelism + 1) * ClaimStride];
        _threads = new Thread[parallelism - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int part = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(part)) { IsBackground = true, Name = $"Kiln worker {part}" };
            _threads[i].Start();
        }
    }

    /// <summary>Parts per stage: the worker threads plus the caller.</summary>
    public int Parallelism { get; }

    /// <summary>How long a waiting thread spins before it blocks.</summary>
    public TimeSpan SpinTime { get; }

    /// <summary>How much of <see cref="SpinTime"/> a waiting thread busy-spins before it starts yielding its core on every poll.</summary>
    public TimeSpan PauseTime { get; }

    /// <summary>Stages this pool has split across its threads (tests: a thread-count comparison must really share work).</summary>
    internal long ParallelStages { get; private set; }

    /// <summary>Stages that found a worker asleep and had to wake it through the OS (caller-side count).</summary>
    internal long ColdStages { get; private set; }

    /// <summary>Stages whose caller, after its own part, had to block on the OS for the workers to finish.</summary>
    internal long CallerBlocks { get; private set; }

    /// <summary>Stopwatch ticks the caller spent waiting for the workers after running its parts, over all stages.</summary>
    internal long CallerWaitTicks { get; private set; }

    /// <summary>Workers blocked on the OS right now (tests).</summary>
    internal int Sleepers => Volatile.Read(ref _sleepers);

    /// <summary>Parts run by a thread other than their owner: a worker the OS had not scheduled within the steal delay.</summary>
    internal long StolenParts => Interlocked.Read(ref _stolenParts);

    /// <summary>How <see cref="RunMeasured"/> ran a stage.</summary>
    internal enum RunKind
    {
        /// <summary>Shared across the pool's threads, every worker awake (polling) when the stage was published.</summary>
        Shared,
        /// <summary>Shared across the pool's threads, but at least one worker was asleep and had to be woken through the OS.</summary>
        SharedAfterWake,
        /// <summary>Every part ran on the caller: one thread, a nested call or another caller owned the workers.</summary>
        Inline,
    }

    /// <summary>
    /// Wakes sleeping workers without giving them a stage, so that they poll again for <see cref="SpinTime"/>: a caller
    /// about to time a few shared stages after a stretch of single-threaded ones (<see cref="StageScheduler"/>) calls it
    /// first, so that the timings measure the stages and not the OS's wake-up.
    /// </summary>
    /// <returns>Whether every worker was awake within <paramref name="wait"/> (the caller yields its core meanwhile).</returns>
    internal bool Nudge(TimeSpan wait = default)
    {
        if (Volatile.Read(ref _sleepers) == 0) return true;
        Interlocked.Increment(ref _nudges);
        lock (_wakeGate) Monitor.PulseAll(_wakeGate);
        long deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        while (Volatile.Read(ref _sleepers) != 0)
        {
            if (Stopwatch.GetTimestamp() >= deadline) return false;
            Thread.Yield();
        }
        return true;
    }

    /// <summary>Runs <paramref name="body"/>'s stage <paramref name="stage"/> on every part of the pool, the caller included, and returns when every part has finished.</summary>
    public void Run(IParallelStages body, int stage) => RunMeasured(body, stage);

    /// <summary><see cref="Run"/>, saying whether the stage was shared and whether a sleeping worker had to be woken for it.</summary>
    internal RunKind RunMeasured(IParallelStages body, int stage)
    {
        ArgumentNullException.ThrowIfNull(body);
        ObjectDisposedException.ThrowIf(_disposed, this);
        int parts = Parallelism;
        // One thread, a nested call from inside a part, or another caller already using the workers:
        // run every part here. Never waits for the pool, so it cannot deadlock.
        if (parts == 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int part = 0; part < parts; part++) body.RunStage(stage, part, parts);
            return RunKind.Inline;
        }
        bool cold = false;
        try
        {
            ParallelStages++;
            _body = body;
            _stage = stage;
            _finished = 0;
            int generation = Interlocked.Increment(ref _generation); // publishes the fields above (full fence)
            if (Volatile.Read(ref _sleepers) != 0)
            {
                cold = true;
                ColdStages++;
                lock (_wakeGate) Monitor.PulseAll(_wakeGate);
            }
            RunParts(generation, 0);
            WaitForWorkers();
            _body = null;
            ThrowErrors();
            return cold ? RunKind.SharedAfterWake : RunKind.Shared;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>
    /// Claims and runs parts of stage <paramref name="generation"/>: <paramref name="own"/> first (each thread has its
    /// part, so a sample range — or a slice of W — stays on the core that holds its data from stage to stage), then
    /// any part nobody has claimed within <see cref="DefaultStealDelay"/> after this thread's own part is done. A worker that
    /// the OS has not scheduled (another process on the core) thus holds the caller up for at most that long: the
    /// caller runs the worker's part itself, and the worker finds nothing left when it wakes.
    /// </summary>
    private void RunParts(int generation, int own)
    {
        int parts = Parallelism;
        long deadline = 0;
        for (int i = 0; i < parts; i++)
        {
            int part = own + i < parts ? own + i : own + i - parts;
            if (i > 0)
            {
                // Give the owner a moment first: a part run on the wrong core drags its data across (on this VM
                // at 5–18 GB/s), and taking a slice of W every other call would move it back and forth.
                if (deadline == 0) deadline = Stopwatch.GetTimestamp() + _stealDelayTicks;
                while (Volatile.Read(ref _claims[(part + 1) * ClaimStride]) == generation - 1 && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(4);
            }
            // Every part is claimed exactly once per stage: from the previous generation to this one.
            if (Interlocked.CompareExchange(ref _claims[(part + 1) * ClaimStride], generation, generation - 1) != generation - 1) continue;
            if (i > 0) Interlocked.Increment(ref _stolenParts);
            try
            {
                _body!.RunStage(_stage, part, parts);
            }
            catch (Exception e)
            {
                _errors[part] = e;
            }
            if (Interlocked.Increment(ref _finished) == parts && Volatile.Read(ref _callerSleeping) != 0)
            {
                lock (_doneGate) Monitor.Pulse(_doneGate);
            }
        }
    }

    /// <summary>Stops the workers once the stage in progress (if any) has finished. Disposing <see cref="Shared"/> does nothing.</summary>
    public void Dispose()
    {
        if (_isShared || _disposed) return;
        // Take the pool as a caller would, so that workers never quit in the middle of a stage (the
        // caller would wait for them forever). It is never released: later Runs throw or run inline.
        var spin = new SpinWait();
        while (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) spin.SpinOnce();
        _disposed = true;
        Interlocked.Increment(ref _generation);
        lock (_wakeGate) Monitor.PulseAll(_wakeGate);
    }

    private void WorkerLoop(int part)
    {
        int seen = 0;
        while (true)
        {
            seen = WaitForStage(seen);
            if (_disposed) return;
            RunParts(seen, part);
        }
    }

    /// <summary>Polls (<see cref="Poll"/>), then sleeps, until the generation differs from <paramref name="seen"/>; returns the new one.</summary>
    private int WaitForStage(int seen)
    {
        int g = Volatile.Read(ref _generation);
        if (g != seen) return g;
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            while (Poll(start))
            {
                g = Volatile.Read(ref _generation);
                if (g != seen) return g;
            }
            int nudges = Volatile.Read(ref _nudges);
            lock (_wakeGate)
            {
                // Announce the sleep before the last check; Run bumps the generation (and Nudge the nudges) before it reads
                // _sleepers, so one of the two always sees the other (both are full fences).
                Interlocked.Increment(ref _sleepers);
                while ((g = Volatile.Read(ref _generation)) == seen && Volatile.Read(ref _nudges) == nudges) Monitor.Wait(_wakeGate);
                Interlocked.Decrement(ref _sleepers);
            }
            if (g != seen) return g;
            // Nudged: poll again for a stage that is about to come.
        }
    }

    /// <summary>
    /// One poll of a wait that began at <paramref name="start"/>: a short busy spin during the first <see cref="PauseTime"/>,
    /// then a <see cref="Thread.Yield"/> (the core goes to any other runnable thread on it, the one this wait is for
    /// included); false once <see cref="SpinTime"/> has passed and the caller should block instead.
    /// </summary>
    private bool Poll(long start)
    {
        long elapsed = Stopwatch.GetTimestamp() - start;
        if (elapsed >= _spinTicks) return false;
        if (elapsed < _pauseTicks) Thread.SpinWait(4);
        else Thread.Yield();
        return true;
    }

    /// <summary>Polls, then sleeps, until every part of the stage has finished (parts claimed by workers included).</summary>
    private void WaitForWorkers()
    {
        int parts = Parallelism;
        if (Volatile.Read(ref _finished) == parts) return;
        long start = Stopwatch.GetTimestamp();
        try
        {
            while (Poll(start))
                if (Volatile.Read(ref _finished) == parts) return;
            CallerBlocks++;
            lock (_doneGate)
            {
                Interlocked.Exchange(ref _callerSleeping, 1);
                while (Volatile.Read(ref _finished) != parts) Monitor.Wait(_doneGate);
                Volatile.Write(ref _callerSleeping, 0);
            }
        }
        finally
        {
            CallerWaitTicks += Stopwatch.GetTimestamp() - start;
        }
    }

    private void ThrowErrors()
    {
        Exception? first = null;
        List<Exception>? all = null;
        for (int i = 0; i < _errors.Length; i++)
        {
            Exception? e = _errors[i];
            if (e is null) continue;
            _errors[i] = null;
            if (first is null) first = e;
            else (all ??= new List<Exception> { first }).Add(e);
        }
        if (all is not null) throw new AggregateException(all);
        if (first is not null) ExceptionDispatchInfo.Capture(first).Throw();
    }
}
