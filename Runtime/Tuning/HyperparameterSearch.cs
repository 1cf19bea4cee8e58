using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace Kiln.Tuning;

/// <summary>
/// Hyper-parameter search (docs/techniques.md#hyper-parameters): random search over a <see cref="SearchSpace"/>, grid search, and coarse-to-fine
/// refinement around the best trials, with the trials run by an <see cref="ITrialScheduler"/> (in parallel on all cores by
/// default). Every trial's parameters and seed are fixed from the search seed before anything runs, so a search is
/// reproducible and its results do not depend on the scheduler.
/// </summary>
/// <example>
/// <code>
/// var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).LogUniform("weight_decay", 1e-6, 1e-2);
/// var search = new HyperparameterSearch(space, runner, seed: 1);
/// SearchResults coarse = search.Random(16, "coarse");
/// SearchResults fine = search.Refine(coarse, trials: 8, topK: 3, stage: "fine");
/// Console.WriteLine(search.Results.ToTable());
/// </code>
/// </example>
public sealed class HyperparameterSearch
{
    private readonly List<TrialResult> _all = new();
    private int _nextId;
    private int _stages;

    /// <param name="space">The declared space.</param>
    /// <param name="runner">Runs one trial.</param>
    /// <param name="scheduler">Where trials run; null: <see cref="LocalParallelTrialScheduler"/> on all cores.</param>
    /// <param name="seed">Seed of the sampling and of every trial's seed.</param>
    /// <param name="goal">Whether lower (default) or higher scores are better.</param>
    public HyperparameterSearch(SearchSpace space, ITrialRunner runner, ITrialScheduler? scheduler = null, ulong seed = 0, SearchGoal goal = SearchGoal.Minimize)
    {
        Space = space ?? throw new ArgumentNullException(nameof(space));
        if (space.Dimensions.Count == 0) throw new ArgumentException("The search space has no dimensions.", nameof(space));
        Runner = runner ?? throw new ArgumentNullException(nameof(runner));
        Scheduler = scheduler ?? new LocalParallelTrialScheduler();
        Seed = seed;
        Goal = goal;
    }

    /// <summary>The declared space (refined spaces are carried by each stage's <see cref="SearchResults.Space"/>).</summary>
    public SearchSpace Space { get; }
    /// <summary>Trains and scores one trial.</summary>
    public ITrialRunner Runner { get; }
    /// <summary>Decides how many trials run at once.</summary>
    public ITrialScheduler Scheduler { get; }
    /// <summary>Seed of the sampled configurations (the same seed gives the same trials).</summary>
    public ulong Seed { get; }
    /// <summary>Whether the objective is minimised (a loss) or maximised (an accuracy).</summary>
    public SearchGoal Goal { get; }

    /// <summary>Told every trial result as it finishes (from the scheduler's threads).</summary>
    public IProgress<TrialResult>? TrialFinished { get; init; }

    /// <summary>Cancels the search between trials (and is passed to the runner).</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Every trial of every stage so far, ranked.</summary>
    public SearchResults Results => new(Space, Goal, _all);

    /// <summary>Random search: <paramref name="trials"/> points drawn independently from <paramref name="space"/> (default: the declared space).</summary>
    public SearchResults Random(int trials, string stage = "random", SearchSpace? space = null)
    {
        if (trials < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, "A random search needs at least one trial.");
        space ??= Space;
        var random = new KilnRandom(Mix(Seed, 0x5A3B_1E5E_A4C4_0000UL + (ulong)_stages));
        var points = new HyperParameters[trials];
        for (int i = 0; i < trials; i++) points[i] = space.Sample(ref random);
        return Evaluate(points, stage, space);
    }

    /// <summary>Grid search over the declared space (prefer <see cref="Random"/> with three or more dimensions).</summary>
    public SearchResults Grid(int pointsPerContinuousAxis, string stage = "grid") =>
        Evaluate(Space.Grid(pointsPerContinuousAxis), stage, Space);

    /// <summary>
    /// Coarse to fine: the <paramref name="topK"/> best completed trials of <paramref name="previous"/> narrow its space
    /// (<see cref="SearchSpace.Refine"/>: each numeric range shrinks around them, in log space for log dimensions), and
    /// <paramref name="trials"/> new points are drawn from the narrowed space.
    /// </summary>
    public SearchResults Refine(SearchResults previous, int trials, int topK = 3, string stage = "fine", double margin = 0.5, double minimumFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(previous);
        if (topK < 1) throw new ArgumentOutOfRangeException(nameof(topK), topK, "Refining needs at least one best trial.");
        IReadOnlyList<TrialResult> best = previous.Top(topK);
        if (best.Count == 0) throw new InvalidOperationException($"No trial of the '{string.Join(", ", previous.Stages)}' stage completed with a score: nothing to refine around.");
        SearchSpace narrowed = previous.Space.Refine(best.Select(r => r.Trial.Parameters), margin, minimumFraction);
        return Random(trials, stage, narrowed);
    }

    /// <summary>Runs the given points as one stage (for a hand-made list, or another search strategy).</summary>
    public SearchResults Evaluate(IEnumerable<HyperParameters> points, string stage, SearchSpace? space = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        var trials = new List<Trial>();
        foreach (HyperParameters p in points)
        {
            int id = _nextId++;
            trials.Add(new Trial(id, stage, p, Mix(Seed, (ulong)id)));
        }
        _stages++;
        IReadOnlyList<TrialResult> results = Scheduler.Run(trials, Runner, TrialFinished, Cancellation);
        if (results.Count != trials.Count)
            throw new InvalidOperationException($"The scheduler returned {results.Count} results for {trials.Count} trials.");
        _all.AddRange(results);
        return new SearchResults(space ?? Space, Goal, results);
    }

    /// <summary>SplitMix64 of a seed and an index: independent, well-mixed seeds for consecutive ids.</summary>
    internal static ulong Mix(ulong seed, ulong index)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (index + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
