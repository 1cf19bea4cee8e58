using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Tuning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace Kiln.Orleans;

/// <summary>
/// A silo's trial workers. While no search has work it asks the directory every <see cref="KilnWorkerOptions.IdlePoll"/>;
/// once a trial is leased it runs <see cref="KilnWorkerOptions.Slots"/> slots as one <see cref="LocalParallelTrialScheduler"/>
/// batch, so each slot is one of that scheduler's trial threads: it owns the process's worker pool and every model runs
/// single-threaded on its slot's thread, exactly as in a local search. Each slot leases, runs and reports trials one after
/// another until no search has work left, then the batch ends and the silo goes back to polling.
/// </summary>
internal sealed class TrialWorker(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    TrialRunners runners,
    IOptions<KilnWorkerOptions> options,
    ILogger<TrialWorker> log) : BackgroundService
{
    private readonly KilnWorkerOptions _options = options.Value;
    private string SiloAddress => silo.SiloAddress.ToParsableString();
    private string SiloName => silo.Name;

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        if (_options.Slots < 1) throw new InvalidOperationException($"KilnWorkerOptions.Slots is {_options.Slots}: a silo needs at least one trial slot.");
        await Task.Yield();
        // Build the runners now (data loading, model factories), not inside the first trials.
        try { runners.CreateAll(); }
        catch (Exception e) { log.LogError(e, "A Kiln trial runner could not be built on {Silo}; its trials will fail: {Message}", SiloName, e.Message); }
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                TrialLease? first = await LeaseAnyAsync(stopping);
                if (first is null)
                {
                    await Task.Delay(_options.IdlePoll, stopping);
                    continue;
                }
                await Task.Factory.StartNew(() => RunSlots(first, stopping), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The silo is starting or the cluster is changing: try again (a worker must not stop its silo).
                log.LogWarning(e, "Kiln trial worker on {Silo}: {Message}", SiloName, e.Message);
                try { await Task.Delay(_options.IdlePoll, stopping); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>
    /// A trial from <paramref name="preferred"/> (the search of the slot's last trial: one call while a search has work), else
    /// from the first search in the directory that has one waiting, or null.
    /// </summary>
    private async Task<TrialLease?> LeaseAnyAsync(CancellationToken stopping, string? preferred = null)
    {
        if (preferred is not null
            && await Retry.CallAsync(() => grains.GetGrain<ISearchGrain>(preferred).Lease(SiloAddress, SiloName), stopping) is { } next)
            return next;
        string[] searches = await Retry.CallAsync(() => grains.GetGrain<ISearchDirectoryGrain>(0).Searches(), stopping);
        foreach (string name in searches)
        {
            if (name == preferred) continue;
            TrialLease? lease = await Retry.CallAsync(() => grains.GetGrain<ISearchGrain>(name).Lease(SiloAddress, SiloName), stopping);
            if (lease is not null) return lease;
        }
        return null;
    }

    /// <summary>The slots as one local batch (see the class remarks); returns when no search has work left or the silo stops.</summary>
    private void RunSlots(TrialLease first, CancellationToken stopping)
    {
        var handed = new ConcurrentQueue<TrialLease>();
        handed.Enqueue(first);
        Trial[] slots = Enumerable.Range(0, _options.Slots).Select(i => new Trial(i, "slot", new HyperParameters([]), 0)).ToArray();
        var slotRunner = new DelegateTrialRunner((slot, cancellation) =>
        {
            string? last = null;
            while (!cancellation.IsCancellationRequested)
            {
                TrialLease? lease = handed.TryDequeue(out TrialLease? l) ? l : LeaseAnyAsync(cancellation, last).GetAwaiter().GetResult();
                if (lease is null) break;
                RunLease(lease, cancellation);
                last = lease.Search;
            }
            return TrialResult.Completed(slot, 0);
        });
        try
        {
            new LocalParallelTrialScheduler(_options.Slots).Run(slots, slotRunner, null, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs one leased trial and reports it; when the silo is stopping, hands the trial back instead.</summary>
    private void RunLease(TrialLease lease, CancellationToken stopping)
    {
        ISearchGrain search = grains.GetGrain<ISearchGrain>(lease.Search);
        Trial trial = SearchResults.TrialFromJson(lease.TrialJson);
        int resumedFrom = -1, attempt = 1;
        long start = Stopwatch.GetTimestamp();
        ITrialGrain store = grains.GetGrain<ITrialGrain>(KilnOrleans.TrialKey(lease.Search, trial.Id));
        TrialResult result;
        try
        {
            ITrialRunner runner = runners.Get(lease.Runner, SiloName);
            TrialStart begun = Retry.Call(() => store.Begin(lease.LeaseId, SiloAddress, SiloName), stopping);
            if (begun.Outcome is { } done)
            {
                // Recorded by an earlier run whose worker died before telling the search: pass it on, run nothing.
                Retry.Call(() => search.Complete(lease.LeaseId, done, recorded: true), CancellationToken.None);
                return;
            }
            if (begun.RunningElsewhere is { } other)
            {
                // Leased twice across a re-activation of the search: the first run goes on, this lease yields to it.
                Retry.Call(() => search.RunningElsewhere(lease.LeaseId, trial.Id, other.LeaseId, other.SiloAddress!, other.SiloName ?? ""), CancellationToken.None);
                return;
            }
            attempt = begun.Attempt;
            if (runner is ICheckpointingTrialRunner checkpointing)
            {
                resumedFrom = begun.Checkpoint?.Saves ?? 0;
                var checkpoints = new TrialCheckpoints(begun.Checkpoint?.State, resumedFrom, state => Retry.Call(() => store.SaveCheckpoint(state), stopping));
                result = checkpointing.Run(trial, checkpoints, stopping);
            }
            else
            {
                result = runner.Run(trial, stopping);
            }
            if (result is null) throw new InvalidOperationException($"The runner returned no result for {trial}.");
            if (result.Trial != trial) throw new InvalidOperationException($"The runner returned the result of {result.Trial} for {trial}.");
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // The silo is stopping: the trial did not finish here. Hand it back (best effort: if this silo can no longer
            // call out, the search takes the lease back when the cluster declares the silo dead).
            try { search.Abandon(lease.LeaseId, lease.TrialId).Wait(TimeSpan.FromSeconds(2)); }
            catch (Exception) { }
            return;
        }
        catch (Exception e)
        {
            result = TrialResult.Failed(trial, e);
        }
        if (!(result.Seconds > 0)) result = result with { Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds };
        var outcome = new TrialOutcome(trial.Id, TrialResultJson.Write(result), SiloName, attempt, resumedFrom);
        // The trial grain keeps the first result; the search is told which one that is.
        bool recorded = Retry.Call(() => store.Record(outcome), CancellationToken.None);
        TrialOutcome kept = recorded ? outcome : Retry.Call(() => store.Status(), CancellationToken.None).Outcome ?? outcome;
        Retry.Call(() => search.Complete(lease.LeaseId, kept, recorded), CancellationToken.None);
    }
}
