using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Orleans;
using Orleans.Runtime;

namespace Kiln.Orleans;

/// <summary>The stored state of a search (see <see cref="ISearchGrain"/>).</summary>
[GenerateSerializer]
internal sealed class SearchState
{
    /// <summary>What the first client said the search is; later clients must say the same.</summary>
    [Id(0)] public string Description { get; set; } = "";

    /// <summary>Every trial, by id.</summary>
    [Id(1)] public Dictionary<int, TrialState> Trials { get; set; } = new();

    /// <summary>The last lease id handed out.</summary>
    [Id(2)] public long LastLease { get; set; }

    [Id(3)] public int Requeued { get; set; }

    [Id(4)] public int DuplicatesDropped { get; set; }
}

/// <summary>One trial of a stored search.</summary>
[GenerateSerializer]
internal sealed class TrialState
{
    [Id(0)] public string TrialJson { get; set; } = "";
    [Id(1)] public string Runner { get; set; } = "";
    /// <summary>The recorded result, or null.</summary>
    [Id(2)] public string? ResultJson { get; set; }
    /// <summary>The lease now out (0: none).</summary>
    [Id(3)] public long LeaseId { get; set; }
    [Id(4)] public string? LeaseSiloAddress { get; set; }
    [Id(5)] public string? SiloName { get; set; }
    [Id(6)] public int Attempts { get; set; }
    [Id(7)] public int ResumedFromSave { get; set; }
    /// <summary>When the lease now out was handed out (UTC ticks).</summary>
    [Id(8)] public long LeasedAt { get; set; }

    public bool Recorded => ResultJson is not null;
    public bool Waiting => ResultJson is null && LeaseId == 0;
    public bool Leased => ResultJson is null && LeaseId != 0;
}

/// <summary>
/// A search's queue and results. Every change is written to grain storage before the call returns, so the grain can be
/// re-activated on any silo (after its own silo died) and a client can resume the search after a restart. Leases held by
/// a silo the cluster has declared dead are taken back whenever a worker or the client calls, and the trial goes to the
/// next worker that asks.
/// </summary>
internal sealed class SearchGrain(
    [PersistentState("search", KilnOrleans.StorageName)] IPersistentState<SearchState> state,
    IClusterMembershipService membership) : Grain, ISearchGrain
{
    /// <summary>How long a lease held by a silo this silo's membership view does not list is trusted (a silo that just joined).</summary>
    private static readonly TimeSpan UnknownSiloGrace = TimeSpan.FromSeconds(5);

    private DateTime _announced = DateTime.MinValue;

    private SearchState S => state.State;

    public override async Task OnActivateAsync(System.Threading.CancellationToken cancellationToken)
    {
        // A re-activation follows the death of the silo that held this grain, a restart of the cluster, or an idle
        // deactivation: leases held by silos that are not active members now will never be completed.
        await TakeBackDeadLeases(onActivation: true);
        // The directory may have lost the search (its silo died too): list it again.
        if (S.Trials.Values.Any(t => !t.Recorded)) await Announce(force: true);
    }

    public async Task Submit(string description, string runner, string[] trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentException.ThrowIfNullOrWhiteSpace(runner);
        description ??= "";
        if (S.Description.Length > 0 && description.Length > 0 && S.Description != description)
            throw new ArgumentException(
                $"The search '{this.GetPrimaryKeyString()}' is stored as \"{S.Description}\" but this client describes it as \"{description}\": " +
                "give a changed search a new name.", nameof(description));
        var added = new List<(int Id, string Json)>();
        foreach (string json in trials)
        {
            int id = Kiln.Tuning.SearchResults.TrialFromJson(json).Id;
            if (S.Trials.TryGetValue(id, out TrialState? known))
            {
                if (known.TrialJson != json)
                    throw new ArgumentException(
                        $"The search '{this.GetPrimaryKeyString()}' already holds trial {id} as {known.TrialJson}, not {json}: " +
                        "the same name must be used for the same search (space, seed and stages), or the stored search cleared.", nameof(trials));
                continue;
            }
            added.Add((id, json));
        }
        if (S.Description.Length == 0 && description.Length > 0) S.Description = description;
        foreach ((int id, string json) in added) S.Trials[id] = new TrialState { TrialJson = json, Runner = runner };
        await state.WriteStateAsync();
        if (S.Trials.Values.Any(t => !t.Recorded)) await Announce(force: true);
    }

    public async Task<TrialLease?> Lease(string siloAddress, string siloName)
    {
        await TakeBackDeadLeases();
        TrialState? next = null;
        int nextId = int.MaxValue;
        foreach ((int id, TrialState t) in S.Trials)
            if (t.Waiting && id < nextId) (next, nextId) = (t, id);
        if (next is null) return null;
        next.LeaseId = ++S.LastLease;
        next.LeaseSiloAddress = siloAddress;
        next.SiloName = siloName;
        next.Attempts++;
        next.LeasedAt = DateTime.UtcNow.Ticks;
        await state.WriteStateAsync();
        return new TrialLease(this.GetPrimaryKeyString(), nextId, next.TrialJson, next.Runner, next.LeaseId, next.Attempts);
    }

    public async Task<bool> Complete(long leaseId, int trialId, string siloName, string resultJson, int resumedFromSave)
    {
        ArgumentNullException.ThrowIfNull(resultJson);
        if (!S.Trials.TryGetValue(trialId, out TrialState? t)) return false; // withdrawn
        if (t.Recorded)
        {
            S.DuplicatesDropped++;
            await state.WriteStateAsync();
            return false;
        }
        // The first result wins, whichever lease produced it: a trial's result depends on the trial alone.
        t.ResultJson = resultJson;
        t.SiloName = siloName;
        t.ResumedFromSave = resumedFromSave;
        t.LeaseId = 0;
        t.LeaseSiloAddress = null;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<ITrialCheckpointGrain>(KilnOrleans.CheckpointKey(this.GetPrimaryKeyString(), trialId)).Clear();
        if (S.Trials.Values.All(x => x.Recorded)) await GrainFactory.GetGrain<ISearchDirectoryGrain>(0).Close(this.GetPrimaryKeyString());
        return true;
    }

    public async Task Abandon(long leaseId, int trialId)
    {
        if (S.Trials.TryGetValue(trialId, out TrialState? t) && t.Leased && t.LeaseId == leaseId)
        {
            Requeue(t);
            await state.WriteStateAsync();
        }
    }

    public async Task<SearchProgress> Progress(int[] trialIds)
    {
        ArgumentNullException.ThrowIfNull(trialIds);
        await TakeBackDeadLeases();
        var completed = new List<TrialOutcome>();
        var unknown = new List<int>();
        foreach (int id in trialIds)
        {
            if (!S.Trials.TryGetValue(id, out TrialState? t)) unknown.Add(id);
            else if (t.Recorded) completed.Add(Outcome(id, t));
        }
        int waiting = S.Trials.Values.Count(t => t.Waiting), running = S.Trials.Values.Count(t => t.Leased);
        if (waiting > 0) await Announce(force: false);
        return new SearchProgress(completed.ToArray(), unknown.ToArray(), waiting, running);
    }

    public async Task Withdraw(int[] trialIds)
    {
        ArgumentNullException.ThrowIfNull(trialIds);
        bool changed = false;
        foreach (int id in trialIds)
            if (S.Trials.TryGetValue(id, out TrialState? t) && !t.Recorded) changed |= S.Trials.Remove(id);
        if (!changed) return;
        await state.WriteStateAsync();
        if (S.Trials.Values.All(x => x.Recorded)) await GrainFactory.GetGrain<ISearchDirectoryGrain>(0).Close(this.GetPrimaryKeyString());
    }

    public Task<TrialOutcome[]> Outcomes() =>
        Task.FromResult(S.Trials.Where(p => p.Value.Recorded).OrderBy(p => p.Key).Select(p => Outcome(p.Key, p.Value)).ToArray());

    public Task<RunningTrial[]> Running() =>
        Task.FromResult(S.Trials.Where(p => p.Value.Leased).OrderBy(p => p.Key)
            .Select(p => new RunningTrial(p.Key, p.Value.LeaseSiloAddress ?? "", p.Value.SiloName ?? "")).ToArray());

    public Task<SearchCounters> Counters() => Task.FromResult(new SearchCounters(
        S.Trials.Count, S.Trials.Values.Count(t => t.Recorded), S.Trials.Values.Count(t => t.Waiting),
        S.Trials.Values.Count(t => t.Leased), S.Requeued, S.DuplicatesDropped));

    private static TrialOutcome Outcome(int id, TrialState t) => new(id, t.ResultJson!, t.SiloName ?? "", t.Attempts, t.ResumedFromSave);

    /// <summary>
    /// Re-queues the trials leased to silos the cluster has declared dead, and to silos it does not list (a silo of an earlier
    /// run of the cluster) once the lease is older than <see cref="UnknownSiloGrace"/>. On activation, every lease whose silo
    /// is not an active member is taken back.
    /// </summary>
    private async Task TakeBackDeadLeases(bool onActivation = false)
    {
        ClusterMembershipSnapshot snapshot = membership.CurrentSnapshot;
        long now = DateTime.UtcNow.Ticks;
        bool changed = false;
        foreach (TrialState t in S.Trials.Values)
        {
            if (!t.Leased) continue;
            SiloStatus status = t.LeaseSiloAddress is null ? SiloStatus.None : snapshot.GetSiloStatus(SiloAddress.FromParsableString(t.LeaseSiloAddress));
            bool dead = status == SiloStatus.Dead
                || (onActivation && status != SiloStatus.Active)
                || (status == SiloStatus.None && now - t.LeasedAt > UnknownSiloGrace.Ticks);
            if (!dead) continue;
            Requeue(t);
            changed = true;
        }
        if (changed)
        {
            await state.WriteStateAsync();
            if (!onActivation) await Announce(force: true);
        }
    }

    private void Requeue(TrialState t)
    {
        t.LeaseId = 0;
        t.LeaseSiloAddress = null;
        S.Requeued++;
    }

    /// <summary>Lists the search in the directory (at most every 2 s unless forced: the call is idempotent).</summary>
    private async Task Announce(bool force)
    {
        if (!force && DateTime.UtcNow - _announced < TimeSpan.FromSeconds(2)) return;
        await GrainFactory.GetGrain<ISearchDirectoryGrain>(0).Open(this.GetPrimaryKeyString());
        _announced = DateTime.UtcNow;
    }
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

/// <summary>The stored checkpoint of a trial.</summary>
[GenerateSerializer]
internal sealed class CheckpointState
{
    [Id(0)] public byte[]? State { get; set; }
    [Id(1)] public int Saves { get; set; }
}

/// <summary>See <see cref="ITrialCheckpointGrain"/>.</summary>
internal sealed class TrialCheckpointGrain(
    [PersistentState("checkpoint", KilnOrleans.StorageName)] IPersistentState<CheckpointState> state) : Grain, ITrialCheckpointGrain
{
    public async Task Save(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        state.State.State = data;
        state.State.Saves++;
        await state.WriteStateAsync();
    }

    public Task<StoredCheckpoint?> Load() =>
        Task.FromResult(state.State.State is { } data ? new StoredCheckpoint(data, state.State.Saves) : null);

    public async Task Clear()
    {
        if (state.State.State is null && state.State.Saves == 0) return;
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }
}
