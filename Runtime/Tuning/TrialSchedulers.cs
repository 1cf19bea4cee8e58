using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;
using Kiln.Kernels;

namespace Kiln.Tuning;

/// <summary>Runs the trials one after another on the calling thread; each model may use the whole worker pool ("panda").</summary>
public sealed class SequentialTrialScheduler : ITrialScheduler
{
    /// <inheritdoc/>
    public IReadOnlyList<TrialResult> Run(IReadOnlyList<Trial> trials, ITrialRunner runner, IProgress<TrialResult>? finished = null, CancellationToken cancellation = default)
    {
        TrialExecution.Check(trials, runner);
        var results = new TrialResult[trials.Count];
        for (int i = 0; i < trials.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            results[i] = TrialExecution.RunOne(trials[i], runner, cancellation);
            finished?.Report(results[i]);
        }
        return results;
    }
}

/// <summary>
/// "Caviar" (docs/techniques.md#hyper-parameters): <see cref="Concurrency"/> trials at once on dedicated threads, each model single-threaded, so a
/// search keeps every core busy with independent trials instead of splitting each small step across cores.
/// </summary>
/// <remarks>
/// <para>
/// Why this is safe and single-threaded by construction: generated models split their passes through
/// <see cref="WorkerPool.Shared"/>, and <see cref="WorkerPool.Run"/> executes every part inline on the caller whenever the
/// pool is already owned by another caller. The scheduler owns the shared pool for the whole search — the trial threads are
/// started and joined from inside part 0 of a pool stage — so every model stage in every trial runs inline on its trial's
/// thread, and no trial can take the pool's workers away from the others. Inline execution runs the same parts
/// (<c>part = 0..Parallelism−1</c>) as pooled execution, one after another, and each model touches only its own buffers, so a
/// trial computes bit for bit what it computes alone (the tests compare parallel and sequential searches).
/// </para>
/// <para>
/// Ownership is checked, not assumed: while another caller owns the pool, <see cref="WorkerPool.Run"/> runs the batch's
/// stage inline, part 0 sees no worker start its part and returns, and the scheduler tries again (up to 10 tries of
/// 100 ms). Only if the pool stays taken — a search started from inside a model's pass or from another search's trial —
/// do the trials run without owning it: still correct and bit-identical, but a trial could then get the workers when
/// their owner releases them.
/// </para>
/// </remarks>
public sealed class LocalParallelTrialScheduler : ITrialScheduler
{
    /// <summary>Runs <paramref name="concurrency"/> trials at a time (default: <see cref="WorkerPool.DefaultParallelism"/>, the cores or KILN_THREADS).</summary>
    public LocalParallelTrialScheduler(int? concurrency = null)
    {
        int n = concurrency ?? WorkerPool.DefaultParallelism;
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(concurrency), n, "At least one trial must run at a time.");
        Concurrency = n;
    }

    /// <summary>Trials running at once.</summary>
    public int Concurrency { get; }

    /// <inheritdoc/>
    public IReadOnlyList<TrialResult> Run(IReadOnlyList<Trial> trials, ITrialRunner runner, IProgress<TrialResult>? finished = null, CancellationToken cancellation = default)
    {
        TrialExecution.Check(trials, runner);
        var batch = new ParallelBatch(trials, runner, finished, cancellation, Math.Min(Concurrency, Math.Max(1, trials.Count)));
        // Take the shared pool. While another caller owns it, Run executes our stage inline and part 0 sees no worker
        // start: it returns without running, and we try again; after MaxAttempts the trials run anyway (still correct).
        for (int attempt = 1; !batch.Ran; attempt++)
        {
            cancellation.ThrowIfCancellationRequested();
            batch.BeginAttempt(attempt, force: attempt > MaxAttempts);
            WorkerPool.Shared.Run(batch, stage: 0);
            if (!batch.Ran) Thread.Sleep(1);
        }
        return batch.Finish();
    }

    /// <summary>Tries to own the shared pool before running without it (each try waits up to <see cref="OwnershipWait"/>).</summary>
    private const int MaxAttempts = 10;

    /// <summary>How long part 0 waits for a worker to start its part, the sign that this batch owns the pool.</summary>
    private static readonly TimeSpan OwnershipWait = TimeSpan.FromMilliseconds(100);

    /// <summary>The whole batch as a pool stage: part 0 runs the trial threads while the pool is held; other parts do nothing.</summary>
    private sealed class ParallelBatch : IParallelStages
    {
        private readonly IReadOnlyList<Trial> _trials;
        private readonly ITrialRunner _runner;
        private readonly IProgress<TrialResult>? _finished;
        private readonly CancellationToken _cancellation;
        private readonly int _threads;
        private readonly TrialResult[] _results;
        private readonly object _reportGate = new();
        private int _next = -1;
        private int _cancelled;
        private ExceptionDispatchInfo? _error;

        public ParallelBatch(IReadOnlyList<Trial> trials, ITrialRunner runner, IProgress<TrialResult>? finished, CancellationToken cancellation, int threads)
        {
            _trials = trials;
            _runner = runner;
            _finished = finished;
            _cancellation = cancellation;
            _threads = threads;
            _results = new TrialResult[trials.Count];
        }

        private int _attempt;
        private int _workerSawAttempt;
        private bool _force;

        /// <summary>True once the trials have run (inside a stage this batch owned, or forced).</summary>
        public bool Ran { get; private set; }

        public void BeginAttempt(int attempt, bool force)
        {
            Volatile.Write(ref _attempt, attempt);
            _force = force;
        }

        public void RunStage(int stage, int part, int parts)
        {
            if (part != 0)
            {
                // A worker running its part while part 0 still runs proves the pool is ours (inline parts run after part 0).
                Volatile.Write(ref _workerSawAttempt, Volatile.Read(ref _attempt));
                return;
            }
            if (parts > 1 && !_force && !WaitForWorker()) return;
            Ran = true;
            var extra = new Thread[_threads - 1];
            for (int i = 0; i < extra.Length; i++)
            {
                extra[i] = new Thread(Work) { IsBackground = true, Name = $"Kiln trial {i + 1}" };
                extra[i].Start();
            }
            Work();
            foreach (Thread t in extra) t.Join();
        }

        private bool WaitForWorker()
        {
            int attempt = Volatile.Read(ref _attempt);
            long start = Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (Volatile.Read(ref _workerSawAttempt) != attempt)
            {
                if (Stopwatch.GetElapsedTime(start) > OwnershipWait) return false;
                spin.SpinOnce();
            }
            return true;
        }

        private void Work()
        {
            try
            {
                while (Volatile.Read(ref _cancelled) == 0 && _error is null)
                {
                    if (_cancellation.IsCancellationRequested) { Volatile.Write(ref _cancelled, 1); return; }
                    int i = Interlocked.Increment(ref _next);
                    if (i >= _trials.Count) return;
                    TrialResult result = TrialExecution.RunOne(_trials[i], _runner, _cancellation);
                    _results[i] = result;
                    if (_finished is not null)
                        lock (_reportGate) _finished.Report(result);
                }
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
                Volatile.Write(ref _cancelled, 1);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
        }

        public IReadOnlyList<TrialResult> Finish()
        {
            _error?.Throw();
            if (_cancelled != 0) throw new OperationCanceledException("The search was cancelled.", _cancellation);
            return _results;
        }
    }
}

/// <summary>What every scheduler does around one trial.</summary>
internal static class TrialExecution
{
    public static void Check(IReadOnlyList<Trial> trials, ITrialRunner runner)
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentNullException.ThrowIfNull(runner);
        for (int i = 0; i < trials.Count; i++)
            if (trials[i] is null) throw new ArgumentException($"Trial {i} of the list is null.", nameof(trials));
    }

    /// <summary>Runs a trial, turning a runner exception into a failed result and timing it; search cancellation propagates.</summary>
    public static TrialResult RunOne(Trial trial, ITrialRunner runner, CancellationToken cancellation)
    {
        long start = Stopwatch.GetTimestamp();
        TrialResult result;
        try
        {
            result = runner.Run(trial, cancellation) ?? throw new InvalidOperationException($"The runner returned no result for {trial}.");
            if (result.Trial != trial)
                throw new InvalidOperationException($"The runner returned the result of {result.Trial} for {trial}.");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            result = TrialResult.Failed(trial, e);
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return result.Seconds > 0 ? result : result with { Seconds = seconds };
    }
}
