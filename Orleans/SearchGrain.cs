using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Orleans;
using Orleans.Runtime;

namespace Kiln.Orleans;

/// <summary>The stored part of a search: what it is and its trials. Written when stages are submitted, not per trial.</summary>
[GenerateSerializer]
internal sealed class SearchState
{
    /// <summary>What the first client said the search is; later clients must say the same.</summary>
    [Id(0)] public string Description { get; set; } = "";

    /// <summary>Every trial, by id.</summary>
    [Id(1)] public Dictionary<int, TrialDefinition> Trials { get; set; } = new();

    /// <summary>Leases taken back (written when it happens, which is rare).</summary>
    [Id(2)] public int Requeued { get; set; }

    /// <summary>Results dropped because their trial was recorded already.</summary>
    [Id(3)] public int DuplicatesDropped { get; set; }
}

/// <summary>A trial as submitted.</summary>
[GenerateSerializer]
internal sealed class TrialDefinition
{
    [Id(0)] public string TrialJson { get; set; } = "";
    [Id(1)] public string Runner { get; set; } = "";
}

/// <summary>
/// A search's queue. The trials are stored when a stage is submitted and each result in its own <see cref="ITrialGrain"/>
/// when it arrives, so a write costs the same whatever the search's size. The queue and the leases live in memory: on
/// activation (after the silo that held this grain died, or after the cluster restarted) the grain reads which trials have
/// results and queues the others — a trial that was running elsewhere at that moment may run twice, and its first result
/// is the one recorded. Leases held by a silo the cluster has declared dead are taken back whenever a worker or the client
/// calls, and the trial goes to the next worker that asks.
/// </summary>
internal sealed class SearchGrain(
    [PersistentState("search", KilnOrleans.StorageName)] IPersistentState<SearchState> state,
    IClusterMembershipService membership) : Grain, ISearchGrain
{
    /// <summary>How long a lease held by a silo this silo's membership view does not list is trusted (a silo that just joined).</summary>
    private static readonly TimeSpan UnknownSiloGrace = TimeSpan.FromSeconds(5);

    private readonly SortedSet<int> _waiting = new();
    private readonly Dictionary<int, LeaseRecord> _leases = new();
    private readonly Dictionary<int, TrialOutcome> _recorded = new();
    private long _lastLease = DateTime.UtcNow.Ticks; // unique across activations
    private DateTime _announced = DateTime.MinValue;

    private SearchState S => state.State;

    private string Name => this.GetPrimaryKeyString();

    private ITrialGrain TrialGrain(int id) => GrainFactory.GetGrain<ITrialGrain>(KilnOrleans.TrialKey(Name, id));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Rebuild the queue from the trial grains: recorded, running on a live silo (kept as leased), or waiting.
        int[] ids = S.Trials.Keys.ToArray();
        TrialStatusReport[] reports = await Task.WhenAll(ids.Select(id => TrialGrain(id).Status()));
        ClusterMembershipSnapshot snapshot = membership.CurrentSnapshot;
        bool lost = false;
        for (int i = 0; i < ids.Length; i++)
        {
            TrialStatusReport r = reports[i];
            if (r.Outcome is { } o) _recorded[ids[i]] = o;
            else if (r.SiloAddress is { } silo && snapshot.GetSiloStatus(SiloAddress.FromParsableString(silo)) == SiloStatus.Active)
                _leases[ids[i]] = new LeaseRecord(r.LeaseId, silo, r.SiloName ?? "", DateTime.UtcNow);
            else
            {
                _waiting.Add(ids[i]);
                if (r.Attempts > 0) { S.Requeued++; lost = true; }
            }
        }
        if (lost) await state.WriteStateAsync();
        if (_waiting.Count > 0) await Announce(force: true);
    }

    public async Task Submit(string description, string runner, string[] trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentException.ThrowIfNullOrWhiteSpace(runner);
        description ??= "";
        if (S.Description.Length > 0 && description.Length > 0 && S.Description != description)
            throw new ArgumentException(
                $"The search '{Name}' is stored as \"{S.Description}\" but this client describes it as \"{description}\": give a changed search a new name.",
                nameof(description));
        var added = new List<(int Id, string Json)>();
        foreach (string json in trials)
        {
            int id = Kiln.Tuning.SearchResults.TrialFromJson(json).Id;
            if (S.Trials.TryGetValue(id, out TrialDefinition? known))
            {
                if (known.TrialJson != json)
                    throw new ArgumentException(
                        $"The search '{Name}' already holds trial {id} as {known.TrialJson}, not {json}: " +
                        "the same name must be used for the same search (space, seed and stages), or another name chosen.", nameof(trials));
                continue;
            }
            added.Add((id, json));
        }
        bool describe = S.Description.Length == 0 && description.Length > 0;
        if (added.Count == 0 && !describe) return;
        if (describe) S.Description = description;
        foreach ((int id, string json) in added) S.Trials[id] = new TrialDefinition { TrialJson = json, Runner = runner };
        await state.WriteStateAsync();
        foreach ((int id, _) in added) _waiting.Add(id);
        if (_waiting.Count > 0) await Announce(force: true);
    }

    public async Task<TrialLease?> Lease(string siloAddress, string siloName)
    {
        await TakeBackDeadLeases();
        if (_waiting.Count == 0) return null;
        int id = _waiting.Min;
        _waiting.Remove(id);
        var lease = new LeaseRecord(++_lastLease, siloAddress, siloName, DateTime.UtcNow);
        _leases[id] = lease;
        TrialDefinition t = S.Trials[id];
        return new TrialLease(Name, id, t.TrialJson, t.Runner, lease.Id);
    }

    public async Task Complete(long leaseId, TrialOutcome outcome, bool recorded)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        int trialId = outcome.TrialId;
        if (!S.Trials.ContainsKey(trialId)) return; // withdrawn
        if (!recorded)
        {
            S.DuplicatesDropped++;
            await state.WriteStateAsync();
        }
        // The trial grain decided which result is the recorded one; this is a cache of it (rebuilt on activation).
        _recorded.TryAdd(trialId, outcome);
        _leases.Remove(trialId);
        _waiting.Remove(trialId);
        if (_recorded.Count == S.Trials.Count) await GrainFactory.GetGrain<ISearchDirectoryGrain>(0).Close(Name);
    }

    public Task Abandon(long leaseId, int trialId)
    {
        if (_leases.TryGetValue(trialId, out LeaseRecord? lease) && lease.Id == leaseId) Requeue(trialId);
        return Task.CompletedTask;
    }

    public Task RunningElsewhere(long leaseId, int trialId, long runningLeaseId, string siloAddress, string siloName)
    {
        if (_leases.TryGetValue(trialId, out LeaseRecord? lease) && lease.Id == leaseId)
            _leases[trialId] = new LeaseRecord(runningLeaseId, siloAddress, siloName, DateTime.UtcNow);
        return Task.CompletedTask;
    }

    public async Task<SearchProgress> Progress(int[] trialIds)
    {
        ArgumentNullException.ThrowIfNull(trialIds);
        await TakeBackDeadLeases();
        var completed = new List<TrialOutcome>();
        var unknown = new List<int>();
        foreach (int id in trialIds)
        {
            if (!S.Trials.ContainsKey(id)) unknown.Add(id);
            else if (_recorded.TryGetValue(id, out TrialOutcome? o)) completed.Add(o);
        }
        if (_waiting.Count > 0) await Announce(force: false);
        return new SearchProgress(completed.ToArray(), unknown.ToArray(), _waiting.Count, _leases.Count);
    }

    public async Task Withdraw(int[] trialIds)
    {
        ArgumentNullException.ThrowIfNull(trialIds);
        int[] gone = trialIds.Where(id => S.Trials.ContainsKey(id) && !_recorded.ContainsKey(id)).ToArray();
        if (gone.Length == 0) return;
        foreach (int id in gone)
        {
            S.Trials.Remove(id);
            _waiting.Remove(id);
            _leases.Remove(id);
        }
        await state.WriteStateAsync();
        await Task.WhenAll(gone.Select(id => TrialGrain(id).Forget()));
        if (_recorded.Count == S.Trials.Count) await GrainFactory.GetGrain<ISearchDirectoryGrain>(0).Close(Name);
    }

    public Task<TrialOutcome[]> Outcomes() => Task.FromResult(_recorded.OrderBy(p => p.Key).Select(p => p.Value).ToArray());

    public Task<RunningTrial[]> Running() =>
        Task.FromResult(_leases.OrderBy(p => p.Key).Select(p => new RunningTrial(p.Key, p.Value.SiloAddress, p.Value.SiloName)).ToArray());

    public Task<SearchCounters> Counters() =>
        Task.FromResult(new SearchCounters(S.Trials.Count, _recorded.Count, _waiting.Count, _leases.Count, S.Requeued, S.DuplicatesDropped));

    /// <summary>
    /// Re-queues the trials leased to silos the cluster has declared dead, and to silos it does not list once the lease is
    /// older than <see cref="UnknownSiloGrace"/>.
    /// </summary>
    private async Task TakeBackDeadLeases()
    {
        if (_leases.Count == 0) return;
        ClusterMembershipSnapshot snapshot = membership.CurrentSnapshot;
        DateTime now = DateTime.UtcNow;
        var dead = new List<int>();
        foreach ((int id, LeaseRecord lease) in _leases)
        {
            SiloStatus status = snapshot.GetSiloStatus(SiloAddress.FromParsableString(lease.SiloAddress));
            if (status == SiloStatus.Dead || (status == SiloStatus.None && now - lease.At > UnknownSiloGrace)) dead.Add(id);
        }
        if (dead.Count == 0) return;
        foreach (int id in dead) Requeue(id);
        await state.WriteStateAsync();
        await Announce(force: true);
    }

    private void Requeue(int id)
    {
        _leases.Remove(id);
        _waiting.Add(id);
        S.Requeued++;
    }

    /// <summary>Lists the search in the directory (at most every 2 s unless forced: the call is idempotent).</summary>
    private async Task Announce(bool force)
    {
        if (!force && DateTime.UtcNow - _announced < TimeSpan.FromSeconds(2)) return;
        await GrainFactory.GetGrain<ISearchDirectoryGrain>(0).Open(Name);
        _announced = DateTime.UtcNow;
    }

    /// <summary>A trial handed to a worker.</summary>
    private sealed record LeaseRecord(long Id, string SiloAddress, string SiloName, DateTime At);
}

/// <summary>The stored list of searches with work.</summary>
[GenerateSerializer]
internal sealed class DirectoryState
{
    [Id(0)] public List<string> Searches { get; set; } = new();
}

/// <summary>See <see cref="ISearchDirectoryGrain"/>.</summary>
internal sealed class SearchDirectoryGrain(
    [PersistentState("directory", KilnOrleans.StorageName)] IPersistentState<DirectoryState> state) : Grain, ISearchDirectoryGrain
{
    public async Task Open(string search)
    {
        if (state.State.Searches.Contains(search)) return;
        state.State.Searches.Add(search);
        await state.WriteStateAsync();
    }

    public async Task Close(string search)
    {
        if (!state.State.Searches.Remove(search)) return;
        await state.WriteStateAsync();
    }

    public Task<string[]> Searches() => Task.FromResult(state.State.Searches.ToArray());
}

/// <summary>The stored state of one trial.</summary>
[GenerateSerializer]
internal sealed class TrialGrainState
{
    [Id(0)] public TrialOutcome? Outcome { get; set; }
    [Id(1)] public byte[]? Checkpoint { get; set; }
    [Id(2)] public int Saves { get; set; }
    [Id(3)] public int Attempts { get; set; }
    [Id(4)] public long LeaseId { get; set; }
    [Id(5)] public string? SiloAddress { get; set; }
    [Id(6)] public string? SiloName { get; set; }
}

/// <summary>See <see cref="ITrialGrain"/>.</summary>
[global::Orleans.Placement.PreferLocalPlacement]
internal sealed class TrialGrain(
    [PersistentState("trial", KilnOrleans.StorageName)] IPersistentState<TrialGrainState> state,
    IClusterMembershipService membership) : Grain, ITrialGrain
{
    private TrialGrainState T => state.State;

    public async Task<TrialStart> Begin(long leaseId, string siloAddress, string siloName)
    {
        if (T.Outcome is { } recorded) return new TrialStart(T.Attempts, null, recorded, null);
        if (T.SiloAddress is { } running && T.LeaseId != leaseId && running != siloAddress
            && membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(running)) == SiloStatus.Active)
            return new TrialStart(T.Attempts, null, null, new TrialStatusReport(null, T.Attempts, T.LeaseId, running, T.SiloName));
        T.Attempts++;
        T.LeaseId = leaseId;
        T.SiloAddress = siloAddress;
        T.SiloName = siloName;
        await state.WriteStateAsync();
        return new TrialStart(T.Attempts, T.Checkpoint is { } data ? new StoredCheckpoint(data, T.Saves) : null, null, null);
    }

    public async Task<bool> Record(TrialOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (T.Outcome is not null) return T.Outcome == outcome; // the same report again is no duplicate
        T.Outcome = outcome;
        T.Checkpoint = null;
        T.SiloAddress = null;
        await state.WriteStateAsync();
        return true;
    }

    public Task<TrialStatusReport> Status() => Task.FromResult(new TrialStatusReport(T.Outcome, T.Attempts, T.LeaseId, T.SiloAddress, T.SiloName));

    public async Task SaveCheckpoint(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (T.Outcome is not null) return;
        T.Checkpoint = data;
        T.Saves++;
        await state.WriteStateAsync();
    }

    public async Task Forget()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }
}
