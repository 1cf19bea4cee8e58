using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;
using Kiln;
using Kiln.Training;
using Kiln.Tuning;

namespace Kiln.Tuning.Tests;

/// <summary>Random, grid and coarse-to-fine search on objectives with a known optimum; determinism; the results table.</summary>
public class SearchTests
{
    private const double Optimum = 3e-3;

    /// <summary>Squared distance in decades from the optimum learning rate: minimal (0) at 3e-3.</summary>
    private static double Objective(HyperParameters hp) => Math.Pow(Math.Log10(hp.GetDouble("lr")) - Math.Log10(Optimum), 2);

    private static double DecadesOff(TrialResult r) => Math.Abs(Math.Log10(r.Trial.Parameters.GetDouble("lr")) - Math.Log10(Optimum));

    private static readonly SearchSpace LrSpace = new SearchSpace().LogUniform("lr", 1e-6, 1);

    [Fact]
    public void Random_search_finds_the_optimum_and_refinement_tightens_it()
    {
        var search = new HyperparameterSearch(LrSpace, DelegateTrialRunner.FromObjective(Objective), new SequentialTrialScheduler(), seed: 11);
        SearchResults coarse = search.Random(30, "coarse");
        TrialResult coarseBest = coarse.Best!;
        // 30 log-uniform draws over 6 decades: the nearest lies within a quarter decade.
        Assert.True(DecadesOff(coarseBest) < 0.25, $"coarse best {coarseBest.Trial.Parameters} is {DecadesOff(coarseBest):F3} decades off");

        SearchResults fine = search.Refine(coarse, trials: 20, topK: 5, stage: "fine");
        SearchDimension refined = fine.Space["lr"];
        double coarseWidth = Math.Log10(1) - Math.Log10(1e-6), fineWidth = Math.Log10(refined.High) - Math.Log10(refined.Low);
        Assert.True(fineWidth < coarseWidth / 2, $"the refined range [{refined.Low}, {refined.High}] is not much narrower");
        Assert.InRange(Optimum, refined.Low, refined.High);
        Assert.All(fine.Trials, t => Assert.InRange(t.Trial.Parameters.GetDouble("lr"), refined.Low, refined.High));
        // The fine trials concentrate around the optimum: their median distance is far below the coarse trials'.
        double Median(SearchResults r) => r.Trials.Select(DecadesOff).Order().ElementAt(r.Trials.Count / 2);
        Assert.True(Median(fine) < Median(coarse) / 3, $"median distance: fine {Median(fine):F3}, coarse {Median(coarse):F3} decades");
        Assert.True(DecadesOff(search.Results.Best!) < 0.05, $"best is {DecadesOff(search.Results.Best!):F3} decades off");

        // The whole search keeps both stages with consecutive ids.
        Assert.Equal(Enumerable.Range(0, 50), search.Results.Trials.Select(t => t.Trial.Id));
        Assert.Equal(["coarse", "fine"], search.Results.Stages);
    }

    [Fact]
    public void Grid_search_runs_every_grid_point_once()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("weight_decay", 0.0, 1e-4, 1e-3);
        var search = new HyperparameterSearch(space, DelegateTrialRunner.FromObjective(Objective), new SequentialTrialScheduler());
        SearchResults grid = search.Grid(4);
        Assert.Equal(12, grid.Trials.Count);
        Assert.Equal(space.Grid(4).ToArray(), grid.Trials.Select(t => t.Trial.Parameters).ToArray());
        // Grid points 1e-4, 1e-3, 1e-2, 1e-1: 3e-3 is 0.477 decades from 1e-3 and 0.523 from 1e-2. Ties (the weight decays
        // do not matter here) go to the lowest id.
        Assert.Equal(1e-3, grid.Best!.Trial.Parameters.GetDouble("lr"), 1e-15);
        Assert.Equal(0.0, grid.Best!.Trial.Parameters.GetDouble("weight_decay"));
    }

    [Fact]
    public void A_seed_fixes_every_trial()
    {
        var space = LrSpace.Choice("units", 32, 64).OneMinusLogUniform("momentum", 0.8, 0.999);
        SearchResults Run(ulong seed) =>
            new HyperparameterSearch(space, DelegateTrialRunner.FromObjective(Objective), new SequentialTrialScheduler(), seed).Random(12);
        SearchResults a = Run(5), b = Run(5), c = Run(6);
        Assert.Equal(a.Trials.Select(t => t.Trial), b.Trials.Select(t => t.Trial));
        Assert.All(a.Trials.Zip(b.Trials), p => Assert.True(p.First.SameOutcome(p.Second)));
        Assert.NotEqual(a.Trials.Select(t => t.Trial.Parameters), c.Trials.Select(t => t.Trial.Parameters));
        Assert.Equal(12, a.Trials.Select(t => t.Trial.Seed).Distinct().Count());
    }

    [Fact]
    public void Parallel_and_sequential_schedulers_give_the_same_results()
    {
        var space = LrSpace.LogUniform("weight_decay", 1e-6, 1e-2);
        var runner = new DelegateTrialRunner((trial, _) =>
        {
            // Work that depends on the trial seed too, so a mixed-up trial would show.
            var random = new KilnRandom(trial.Seed);
            double noise = random.NextDouble() * 1e-3;
            return TrialResult.Completed(trial, Objective(trial.Parameters) + noise, new KeyValuePair<string, double>("noise", noise));
        });
        SearchResults sequential = new HyperparameterSearch(space, runner, new SequentialTrialScheduler(), seed: 3).Random(40);
        SearchResults parallel = new HyperparameterSearch(space, runner, new LocalParallelTrialScheduler(4), seed: 3).Random(40);
        Assert.Equal(sequential.Trials.Count, parallel.Trials.Count);
        for (int i = 0; i < sequential.Trials.Count; i++)
            Assert.True(sequential.Trials[i].SameOutcome(parallel.Trials[i]), $"trial {i} differs");
        Assert.Equal(sequential.Ranked.Select(r => r.Trial.Id), parallel.Ranked.Select(r => r.Trial.Id));
    }

    [Fact]
    public void Runner_exceptions_become_failed_trials_and_cancellation_stops_the_search()
    {
        var runner = new DelegateTrialRunner((trial, _) =>
            trial.Id == 2 ? throw new InvalidOperationException("boom") : TrialResult.Completed(trial, trial.Id));
        foreach (ITrialScheduler scheduler in new ITrialScheduler[] { new SequentialTrialScheduler(), new LocalParallelTrialScheduler(3) })
        {
            SearchResults results = new HyperparameterSearch(LrSpace, runner, scheduler).Random(5);
            TrialResult failed = results.Trials[2];
            Assert.Equal(TrialStatus.Failed, failed.Status);
            Assert.Contains("boom", failed.Note);
            Assert.Equal(failed, results.Ranked[^1]);

            using var cts = new CancellationTokenSource();
            cts.Cancel();
            var cancelled = new HyperparameterSearch(LrSpace, runner, scheduler) { Cancellation = cts.Token };
            Assert.ThrowsAny<OperationCanceledException>(() => cancelled.Random(5));
        }
    }

    [Fact]
    public void The_table_ranks_completed_then_aborted_then_failed()
    {
        Trial T(int id) => new(id, "s", SamplingTests.Point("lr", 1e-3 * (id + 1)), (ulong)id);
        TrialResult[] results =
        [
            TrialResult.Completed(T(0), 0.5, new KeyValuePair<string, double>("val_acc", 0.8)),
            TrialResult.Failed(T(1), new InvalidOperationException("bad")),
            TrialResult.Completed(T(2), 0.1, new KeyValuePair<string, double>("val_acc", 0.9)),
            TrialResult.Aborted(T(3), "exploded"),
            TrialResult.Completed(T(4), double.NaN),
            TrialResult.Completed(T(5), 0.1),
            TrialResult.Completed(T(6), 0.3),
        ];
        var min = new SearchResults(LrSpace, SearchGoal.Minimize, results);
        Assert.Equal([2, 5, 6, 0, 4, 3, 1], min.Ranked.Select(r => r.Trial.Id));
        Assert.Equal(2, min.Best!.Trial.Id);
        Assert.Equal([2, 5, 6], min.Top(3).Select(r => r.Trial.Id));
        Assert.Equal(4, min.Top(10).Count); // only completed trials with finite scores

        var max = new SearchResults(LrSpace, SearchGoal.Maximize, results);
        Assert.Equal([0, 6, 2, 5, 4, 3, 1], max.Ranked.Select(r => r.Trial.Id));

        // Text: a header, a rule, a row per trial, the best line; ranks 1..4 then "-".
        string[] lines = min.ToTable().TrimEnd().Split('\n');
        Assert.Equal(2 + 7 + 1, lines.Length);
        Assert.StartsWith("rank", lines[0]);
        Assert.Equal(["1", "2", "3", "4", "-", "-", "-"], lines.Skip(2).Take(7).Select(l => l.TrimStart().Split(' ')[0]));
        Assert.StartsWith("best: trial 2", lines[^1]);

        // CSV: header plus a row per trial, parameters at full precision.
        string[] csv = min.ToCsv().TrimEnd().Split('\n');
        Assert.Equal(8, csv.Length);
        Assert.Equal("rank,trial,stage,status,score (min),lr,val_acc,seconds,note", csv[0].TrimEnd('\r'));
        Assert.StartsWith("1,2,s,completed,0.1,0.003,0.9,", csv[1]);

        // JSON: the same order and the best id.
        using JsonDocument json = JsonDocument.Parse(min.ToJson());
        Assert.Equal(2, json.RootElement.GetProperty("best_trial").GetInt32());
        Assert.Equal([2, 5, 6, 0, 4, 3, 1], json.RootElement.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        Assert.Equal("NaN", json.RootElement.GetProperty("trials")[4].GetProperty("score").GetString());
    }

    [Fact]
    public void A_trial_survives_a_trip_through_json()
    {
        var trial = new Trial(7, "fine", SamplingTests.Point(("lr", 0.1 + 0.2), ("units", 64), ("act", "relu"), ("bn", true)), ulong.MaxValue - 3);
        Trial back = SearchResults.TrialFromJson(SearchResults.TrialToJson(trial));
        Assert.Equal(trial, back);
        Assert.IsType<int>(back.Parameters["units"]);
    }

    [Fact]
    public void The_best_at_the_edge_of_a_range_is_reported()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).LogUniform("weight_decay", 1e-6, 1e-2);
        Trial t = new(0, "s", SamplingTests.Point(("lr", 1.05e-4), ("weight_decay", 1e-4)), 0);
        var results = new SearchResults(space, SearchGoal.Minimize, [TrialResult.Completed(t, 1)]);
        IReadOnlyList<string> edges = results.BestAtEdge(space);
        Assert.Single(edges);
        Assert.Contains("lr", edges[0]);
        Assert.Contains("low end", edges[0]);
    }

    [Fact]
    public void The_hopeless_guard_trips_on_three_times_the_initial_loss_or_nan()
    {
        var guard = new HopelessTrialGuard();
        Assert.False(guard.Observe(2.3));
        Assert.False(guard.Observe(6.8));
        Assert.True(guard.Observe(7.0));
        Assert.Contains("exceeded", guard.Reason);
        Assert.True(guard.Observe(0.1)); // stays tripped

        var nan = new HopelessTrialGuard();
        nan.Observe(2.3);
        Assert.True(nan.Observe(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HopelessTrialGuard(1));

        // As an observer: per step, and reset by a new run.
        ITrainingObserver observer = guard;
        observer.OnRunStart(null!, new TrainerOptions());
        Assert.Null(guard.Reason);
        Assert.Equal(ObserverVerdict.Continue, observer.OnStep(null!, new StepRecord(0, 1, 2f, 0.1f)));
        Assert.Equal(ObserverVerdict.Continue, observer.OnStep(null!, new StepRecord(1, 1, 5.9f, 0.1f)));
        Assert.Equal(ObserverVerdict.Stop, observer.OnStep(null!, new StepRecord(2, 1, 6.1f, 0.1f)));
    }
}
