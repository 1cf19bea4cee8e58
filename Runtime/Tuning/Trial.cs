using System;
using System.Collections.Generic;
using System.Threading;

namespace Kiln.Tuning;

/// <summary>
/// One point of a search to evaluate: everything a runner needs, fixed before any trial runs, so the result depends only
/// on the trial and not on which thread, process or machine runs it, nor in what order.
/// </summary>
/// <param name="Id">0-based number, unique within a <see cref="HyperparameterSearch"/> (stages continue the numbering).</param>
/// <param name="Stage">The search stage that made it, such as <c>coarse</c> or <c>fine</c>.</param>
/// <param name="Parameters">The hyper-parameters to train with.</param>
/// <param name="Seed">A seed for the trial's own randomness (data order, dropout), derived from the search seed and <paramref name="Id"/>.</param>
public sealed record Trial(int Id, string Stage, HyperParameters Parameters, ulong Seed)
{
    /// <inheritdoc/>
    public override string ToString() => $"trial {Id} ({Stage}): {Parameters}";
}

/// <summary>How a trial ended.</summary>
public enum TrialStatus
{
    /// <summary>Ran to the end; <see cref="TrialResult.Score"/> is its objective value.</summary>
    Completed,
    /// <summary>Stopped early as hopeless (loss exploded or became NaN, docs/techniques.md#hyper-parameters); ranked after every completed trial.</summary>
    Aborted,
    /// <summary>The runner threw; <see cref="TrialResult.Note"/> holds the message. Ranked last.</summary>
    Failed,
}

/// <summary>Whether a lower or a higher score is better.</summary>
public enum SearchGoal
{
    /// <summary>Lower is better (a loss or an error rate).</summary>
    Minimize,
    /// <summary>Higher is better (an accuracy).</summary>
    Maximize,
}

/// <summary>What a trial produced.</summary>
public sealed record TrialResult
{
    /// <summary>The trial that ran.</summary>
    public required Trial Trial { get; init; }

    /// <summary>Whether the trial completed, was aborted as hopeless, or failed.</summary>
    public TrialStatus Status { get; init; }

    /// <summary>The objective value the search ranks by (NaN when the trial produced none).</summary>
    public double Score { get; init; } = double.NaN;

    /// <summary>Further named numbers (validation accuracy, training loss, epochs run...), in a fixed order for tables.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Metrics { get; init; } = [];

    /// <summary>Why a trial was aborted, or the exception message of a failed one.</summary>
    public string? Note { get; init; }

    /// <summary>Wall time of the trial (the one field that differs between two runs of the same trial).</summary>
    public double Seconds { get; init; }

    /// <summary>A completed trial.</summary>
    public static TrialResult Completed(Trial trial, double score, params KeyValuePair<string, double>[] metrics) =>
        new() { Trial = trial, Status = TrialStatus.Completed, Score = score, Metrics = metrics };

    /// <summary>A trial stopped early, with the score it had reached (or NaN).</summary>
    public static TrialResult Aborted(Trial trial, string reason, double score = double.NaN, params KeyValuePair<string, double>[] metrics) =>
        new() { Trial = trial, Status = TrialStatus.Aborted, Score = score, Metrics = metrics, Note = reason };

    /// <summary>A trial whose runner threw <paramref name="error"/>.</summary>
    public static TrialResult Failed(Trial trial, Exception error) =>
        new() { Trial = trial, Status = TrialStatus.Failed, Note = $"{error.GetType().Name}: {error.Message}" };

    /// <summary>A metric by name, or NaN.</summary>
    public double Metric(string name)
    {
        foreach (KeyValuePair<string, double> m in Metrics)
            if (m.Key == name) return m.Value;
        return double.NaN;
    }

    /// <summary>Equal apart from <see cref="Seconds"/>: what "the same result" means for a re-run or a parallel run.</summary>
    public bool SameOutcome(TrialResult other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Trial != other.Trial || Status != other.Status || Note != other.Note) return false;
        if (!Score.Equals(other.Score) || Metrics.Count != other.Metrics.Count) return false;
        for (int i = 0; i < Metrics.Count; i++)
            if (Metrics[i].Key != other.Metrics[i].Key || !Metrics[i].Value.Equals(other.Metrics[i].Value)) return false;
        return true;
    }
}

/// <summary>
/// Runs one trial: builds a model from the trial's hyper-parameters, trains and scores it. An implementation must make the
/// result a function of the trial alone (use <see cref="Trial.Seed"/> for all randomness), must be safe to call from several
/// threads at once for different trials, and should return <see cref="TrialStatus.Aborted"/> for hopeless trials rather than
/// throw. A distributed engine only needs to ship the <see cref="Trial"/> (see <see cref="SearchResults.TrialToJson"/>)
/// to a worker holding the same runner.
/// </summary>
public interface ITrialRunner
{
    /// <summary>Runs <paramref name="trial"/>; <paramref name="cancellation"/> fires when the whole search is cancelled.</summary>
    TrialResult Run(Trial trial, CancellationToken cancellation);
}

/// <summary>Decides where and when trials run: on this thread, on local threads, or (later) on other machines.</summary>
public interface ITrialScheduler
{
    /// <summary>
    /// Runs every trial through <paramref name="runner"/> and returns their results in the order of <paramref name="trials"/>,
    /// whatever order they finished in. A runner exception becomes a <see cref="TrialStatus.Failed"/> result; cancellation
    /// throws <see cref="OperationCanceledException"/> once the trials in flight have returned.
    /// </summary>
    /// <param name="trials">The trials to run.</param>
    /// <param name="runner">What runs one trial.</param>
    /// <param name="finished">Told each result as it finishes, possibly from several threads at once (the call itself is serialised).</param>
    /// <param name="cancellation">Stops dispatching new trials.</param>
    IReadOnlyList<TrialResult> Run(IReadOnlyList<Trial> trials, ITrialRunner runner, IProgress<TrialResult>? finished = null, CancellationToken cancellation = default);
}

/// <summary>An <see cref="ITrialRunner"/> from a function.</summary>
public sealed class DelegateTrialRunner : ITrialRunner
{
    private readonly Func<Trial, CancellationToken, TrialResult> _run;

    /// <summary>A runner that calls <paramref name="run"/> for each trial.</summary>
    public DelegateTrialRunner(Func<Trial, CancellationToken, TrialResult> run) => _run = run ?? throw new ArgumentNullException(nameof(run));

    /// <summary>A runner for a plain objective: the function's value is the score of a completed trial.</summary>
    public static DelegateTrialRunner FromObjective(Func<HyperParameters, double> objective)
    {
        ArgumentNullException.ThrowIfNull(objective);
        return new DelegateTrialRunner((trial, _) => TrialResult.Completed(trial, objective(trial.Parameters)));
    }

    /// <inheritdoc/>
    public TrialResult Run(Trial trial, CancellationToken cancellation) => _run(trial, cancellation);
}
