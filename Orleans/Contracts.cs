using System.Threading.Tasks;
using Orleans;

namespace Kiln.Orleans;

/// <summary>
/// One search, keyed by its name: its trials (as <see cref="Kiln.Tuning.SearchResults.TrialToJson"/> text, in grain storage),
/// the queue of trials waiting, which silo runs which, and the results (each stored in its <see cref="ITrialGrain"/>).
/// Workers lease trials from it and report results to it; the client (<see cref="OrleansTrialScheduler"/>) submits stages
/// and collects results from it.
/// </summary>
public interface ISearchGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds trials to run with the runner registered as <paramref name="runner"/>. Idempotent: a trial already known
    /// (same id, same text) is left as it is — with its result when it has one — which is what makes a re-run of the
    /// same search resume; a known id with different text is an error.
    /// </summary>
    /// <param name="description">What the client says the search is (space, seed); must match the stored one when both are set.</param>
    /// <param name="runner">The name the silos registered the runner under.</param>
    /// <param name="trials">The trials as JSON.</param>
    Task Submit(string description, string runner, string[] trials);

    /// <summary>Hands the waiting trial with the lowest id to a worker on <paramref name="siloAddress"/>, or null when none waits.</summary>
    /// <param name="siloAddress">The worker's silo (<c>SiloAddress.ToParsableString()</c>): its trials are re-queued when the cluster declares it dead.</param>
    /// <param name="siloName">The silo's name, recorded with the result.</param>
    Task<TrialLease?> Lease(string siloAddress, string siloName);

    /// <summary>
    /// A worker reports a trial's result, after recording it in the trial's <see cref="ITrialGrain"/> (which keeps the first
    /// result to arrive). <paramref name="recorded"/> false: another run's result was recorded first; <paramref name="outcome"/>
    /// is then that recorded result, and the report counts as a dropped duplicate.
    /// </summary>
    Task Complete(long leaseId, TrialOutcome outcome, bool recorded);

    /// <summary>Puts a leased trial back in the queue (its worker is shutting down).</summary>
    Task Abandon(long leaseId, int trialId);

    /// <summary>
    /// The trial leased under <paramref name="leaseId"/> is already running on another live silo (leased before this grain
    /// was re-activated): the search records that run's lease instead, and nothing runs twice.
    /// </summary>
    Task RunningElsewhere(long leaseId, int trialId, long runningLeaseId, string siloAddress, string siloName);

    /// <summary>The recorded results among <paramref name="trialIds"/>, the ids the search does not know, and the queue's size.</summary>
    Task<SearchProgress> Progress(int[] trialIds);

    /// <summary>Removes the unfinished trials among <paramref name="trialIds"/> (a cancelled stage); results already recorded stay.</summary>
    Task Withdraw(int[] trialIds);

    /// <summary>Every recorded result, by trial id.</summary>
    Task<TrialOutcome[]> Outcomes();

    /// <summary>The trials running now (id and silo address).</summary>
    Task<RunningTrial[]> Running();

    /// <summary>Counts for monitoring and tests.</summary>
    Task<SearchCounters> Counters();
}

/// <summary>The cluster's list of searches with trials waiting or running, which idle workers poll. Key 0.</summary>
public interface ISearchDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Lists a search as having work.</summary>
    Task Open(string search);

    /// <summary>Removes a search whose trials have all been recorded.</summary>
    Task Close(string search);

    /// <summary>The searches with work, oldest first.</summary>
    Task<string[]> Searches();
}

/// <summary>
/// One trial of a search, key "search/trial": its recorded result (written once, the first to arrive) and its last
/// checkpoint, in grain storage, so a result is never recorded twice and a re-run on another silo resumes. Placed on the
/// silo of the worker that starts it, so the worker's calls stay local.
/// </summary>
public interface ITrialGrain : IGrainWithStringKey
{
    /// <summary>
    /// A worker starts the trial under lease <paramref name="leaseId"/>: counts the attempt and records where it runs (so a
    /// re-activated search knows the trial is running), and returns the checkpoint to resume from — unless the trial has a
    /// result already, or runs under another lease on a silo the cluster lists as active, which the answer says instead.
    /// </summary>
    Task<TrialStart> Begin(long leaseId, string siloAddress, string siloName);

    /// <summary>Records <paramref name="outcome"/> unless a result is recorded already; returns whether it was recorded. Drops the checkpoint.</summary>
    Task<bool> Record(TrialOutcome outcome);

    /// <summary>The recorded result, or where the trial runs now, and how many times it was started.</summary>
    Task<TrialStatusReport> Status();

    /// <summary>Replaces the trial's checkpoint with <paramref name="state"/> (ignored once a result is recorded).</summary>
    Task SaveCheckpoint(byte[] state);

    /// <summary>Deletes the trial's stored state (its stage was withdrawn before it finished).</summary>
    Task Forget();
}

/// <summary>A trial handed to a worker.</summary>
/// <param name="Search">The search's name.</param>
/// <param name="TrialId">The trial's id.</param>
/// <param name="TrialJson">The trial as <see cref="Kiln.Tuning.SearchResults.TrialToJson"/> text.</param>
/// <param name="Runner">The registered runner's name.</param>
/// <param name="LeaseId">Identifies this hand-out (a re-queued trial gets a new one).</param>
[GenerateSerializer, Immutable]
public sealed record TrialLease(
    [property: Id(0)] string Search,
    [property: Id(1)] int TrialId,
    [property: Id(2)] string TrialJson,
    [property: Id(3)] string Runner,
    [property: Id(4)] long LeaseId);

/// <summary>What <see cref="ITrialGrain.Begin"/> answers.</summary>
/// <param name="Attempt">1 for the trial's first start, 2 after its first run was lost, and so on.</param>
/// <param name="Checkpoint">The checkpoint to resume from, or null.</param>
/// <param name="Outcome">The trial's recorded result when it has one already (its worker died after recording it): nothing to run.</param>
/// <param name="RunningElsewhere">The trial's current run on another live silo, when there is one: nothing to run.</param>
[GenerateSerializer, Immutable]
public sealed record TrialStart(
    [property: Id(0)] int Attempt,
    [property: Id(1)] StoredCheckpoint? Checkpoint,
    [property: Id(2)] TrialOutcome? Outcome,
    [property: Id(3)] TrialStatusReport? RunningElsewhere);

/// <summary>What <see cref="ITrialGrain.Status"/> answers.</summary>
/// <param name="Outcome">The recorded result, or null.</param>
/// <param name="Attempts">How many times the trial was started.</param>
/// <param name="LeaseId">The lease of the last start (0: never started).</param>
/// <param name="SiloAddress">The silo of the last start, or null.</param>
/// <param name="SiloName">Its name, or null.</param>
[GenerateSerializer, Immutable]
public sealed record TrialStatusReport(
    [property: Id(0)] TrialOutcome? Outcome,
    [property: Id(1)] int Attempts,
    [property: Id(2)] long LeaseId,
    [property: Id(3)] string? SiloAddress,
    [property: Id(4)] string? SiloName);

/// <summary>A recorded result and where it ran.</summary>
/// <param name="TrialId">The trial's id.</param>
/// <param name="ResultJson">The result (without its trial) as written by the worker.</param>
/// <param name="Silo">The name of the silo whose result was recorded.</param>
/// <param name="Attempts">How many times the trial was started (more than 1 when a run was lost with its silo).</param>
/// <param name="ResumedFromSave">The number of checkpoint saves the recorded run started from (0: from the start; -1: the runner does not checkpoint).</param>
[GenerateSerializer, Immutable]
public sealed record TrialOutcome(
    [property: Id(0)] int TrialId,
    [property: Id(1)] string ResultJson,
    [property: Id(2)] string Silo,
    [property: Id(3)] int Attempts,
    [property: Id(4)] int ResumedFromSave);

/// <summary>What <see cref="ISearchGrain.Progress"/> answers.</summary>
/// <param name="Completed">The recorded results among the ids asked about.</param>
/// <param name="Unknown">The ids asked about that the search does not hold (never submitted, withdrawn, or storage lost).</param>
/// <param name="Waiting">Trials of the search waiting for a worker.</param>
/// <param name="Running">Trials of the search leased to a worker.</param>
[GenerateSerializer, Immutable]
public sealed record SearchProgress(
    [property: Id(0)] TrialOutcome[] Completed,
    [property: Id(1)] int[] Unknown,
    [property: Id(2)] int Waiting,
    [property: Id(3)] int Running);

/// <summary>A trial leased to a worker.</summary>
/// <param name="TrialId">The trial's id.</param>
/// <param name="SiloAddress">The worker's silo address (parsable form).</param>
/// <param name="SiloName">The worker's silo name.</param>
[GenerateSerializer, Immutable]
public sealed record RunningTrial([property: Id(0)] int TrialId, [property: Id(1)] string SiloAddress, [property: Id(2)] string SiloName);

/// <summary>A search's counters.</summary>
/// <param name="Trials">Trials held.</param>
/// <param name="Recorded">Trials with a recorded result.</param>
/// <param name="Waiting">Trials waiting for a worker.</param>
/// <param name="Running">Trials leased to a worker.</param>
/// <param name="Requeued">Trials queued again because their run was lost: their silo was declared dead, their worker stopped, or they were running when the search's own grain was re-activated elsewhere.</param>
/// <param name="DuplicatesDropped">Results that arrived for a trial already recorded, and were dropped.</param>
[GenerateSerializer, Immutable]
public sealed record SearchCounters(
    [property: Id(0)] int Trials,
    [property: Id(1)] int Recorded,
    [property: Id(2)] int Waiting,
    [property: Id(3)] int Running,
    [property: Id(4)] int Requeued,
    [property: Id(5)] int DuplicatesDropped);

/// <summary>A trial's last checkpoint.</summary>
/// <param name="State">The bytes the runner saved.</param>
/// <param name="Saves">How many saves the trial had made (this one included).</param>
[GenerateSerializer, Immutable]
public sealed record StoredCheckpoint([property: Id(0)] byte[] State, [property: Id(1)] int Saves);
