using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Tuning;
using Orleans;

namespace Kiln.Orleans;

/// <summary>
/// Runs a search's trials on an Orleans cluster: each stage is stored in the search's grain (<see cref="ISearchGrain"/>,
/// named <see cref="SearchName"/>), every silo runs as many trials at once as it has slots (its cores by default), each
/// model single-threaded, and the results come back in trial order, as <see cref="LocalParallelTrialScheduler"/> returns
/// them — bit for bit the same results, because a trial's result depends only on the trial.
/// </summary>
/// <remarks>
/// <para>
/// The trials run on the silos, through the runner each silo registered with
/// <see cref="KilnOrleans.AddKilnTrialRunner(global::Orleans.Hosting.ISiloBuilder, string, Func{IServiceProvider, ITrialRunner}, Action{KilnWorkerOptions}?)"/>
/// under <see cref="Runner"/>; the <c>runner</c> passed to <see cref="Run"/> is not shipped (only the trials are, as
/// <see cref="SearchResults.TrialToJson"/> text) and is not called.
/// </para>
/// <para>
/// A silo that dies mid-trial loses nothing: once the cluster declares it dead, its trials go back in the queue and run on
/// another silo, from their last checkpoint when the runner is an <see cref="ICheckpointingTrialRunner"/>; a trial's result
/// is recorded once, the first to arrive. Submitting a stage is idempotent, so running the same search again under the same
/// name — after the client restarted — returns the recorded results at once and runs only the trials that have none.
/// </para>
/// </remarks>
public sealed class OrleansTrialScheduler : ITrialScheduler
{
    private readonly IGrainFactory _grains;
    private readonly ConcurrentDictionary<int, TrialOutcome> _outcomes = new();

    /// <param name="grains">The cluster client (or a silo's grain factory).</param>
    /// <param name="searchName">The search's name: the key its state is stored under. Use one name per search; reuse it to resume.</param>
    public OrleansTrialScheduler(IGrainFactory grains, string searchName)
    {
        _grains = grains ?? throw new ArgumentNullException(nameof(grains));
        ArgumentException.ThrowIfNullOrWhiteSpace(searchName);
        if (searchName.Contains('/', StringComparison.Ordinal)) throw new ArgumentException($"A search name cannot contain '/': '{searchName}'.", nameof(searchName));
        SearchName = searchName;
    }

    /// <summary>The search's name.</summary>
    public string SearchName { get; }

    /// <summary>The name the silos registered the runner under (default <see cref="KilnOrleans.DefaultRunner"/>).</summary>
    public string Runner { get; init; } = KilnOrleans.DefaultRunner;

    /// <summary>
    /// What the search is (e.g. the declared space and the seed); stored with the search, and a later client that describes
    /// the same name differently gets an error instead of another search's results. Empty: not checked.
    /// </summary>
    public string Description { get; init; } = "";

    /// <summary>How often the scheduler asks the search for finished trials (default 100 ms).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Where each trial this scheduler has returned ran: silo name, hand-outs, and the checkpoint it resumed from.</summary>
    public IReadOnlyDictionary<int, TrialOutcome> Outcomes => _outcomes;

    /// <summary>The search's grain (counters, running trials, every recorded result).</summary>
    public ISearchGrain Search => _grains.GetGrain<ISearchGrain>(SearchName);

    /// <summary>
    /// Submits the trials, waits for their results (reporting each to <paramref name="finished"/> as it arrives) and returns
    /// them in the order of <paramref name="trials"/>. <paramref name="runner"/> is not used: the silos' registered runner is.
    /// Cancelling withdraws the trials not yet finished and throws <see cref="OperationCanceledException"/> without waiting
    /// for the running ones.
    /// </summary>
    /// <param name="trials">The trials to run (ids unique).</param>
    /// <param name="runner">Ignored (see the class remarks); the local schedulers' argument.</param>
    /// <param name="finished">Told each result as it arrives, on the calling thread.</param>
    /// <param name="cancellation">Stops waiting and withdraws the unfinished trials.</param>
    public IReadOnlyList<TrialResult> Run(IReadOnlyList<Trial> trials, ITrialRunner runner, IProgress<TrialResult>? finished = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(trials);
        var index = new Dictionary<int, int>();
        for (int i = 0; i < trials.Count; i++)
        {
            Trial t = trials[i] ?? throw new ArgumentException($"Trial {i} of the list is null.", nameof(trials));
            if (!index.TryAdd(t.Id, i)) throw new ArgumentException($"Trial id {t.Id} appears twice in the list (positions {index[t.Id]} and {i}).", nameof(trials));
        }
        ISearchGrain search = Search;
        string[] json = trials.Select(SearchResults.TrialToJson).ToArray();
        Retry.Call(() => search.Submit(Description, Runner, json), cancellation);

        var results = new TrialResult?[trials.Count];
        int received = 0;
        while (received < trials.Count)
        {
            if (cancellation.IsCancellationRequested)
            {
                int[] unfinished = trials.Where((_, i) => results[i] is null).Select(t => t.Id).ToArray();
                Retry.Call(() => search.Withdraw(unfinished), CancellationToken.None);
                throw new OperationCanceledException("The search was cancelled.", cancellation);
            }
            int[] missing = trials.Where((_, i) => results[i] is null).Select(t => t.Id).ToArray();
            SearchProgress progress = Retry.Call(() => search.Progress(missing), cancellation);
            foreach (TrialOutcome outcome in progress.Completed.OrderBy(o => o.TrialId))
            {
                int i = index[outcome.TrialId];
                if (results[i] is not null) continue;
                results[i] = TrialResultJson.Read(outcome.ResultJson, trials[i]);
                _outcomes[outcome.TrialId] = outcome;
                received++;
                finished?.Report(results[i]!);
            }
            if (progress.Unknown.Length > 0)
            {
                // The search lost these trials (storage that did not survive a silo): submit them again.
                string[] again = progress.Unknown.Select(id => json[index[id]]).ToArray();
                Retry.Call(() => search.Submit(Description, Runner, again), cancellation);
            }
            if (received < trials.Count) cancellation.WaitHandle.WaitOne(PollInterval);
        }
        return results!;
    }
}
