using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Tuning;
using Orleans.TestingHost;

namespace Kiln.Orleans.Tests;

public sealed class DistributedSearchTests
{
    /// <summary>A coarse stage and a refined one, as the recipe runs them.</summary>
    private static SearchResults RunRecipe(ITrialRunner runner, ITrialScheduler scheduler, ulong seed = 11)
    {
        var search = new HyperparameterSearch(Runners.Space, runner, scheduler, seed);
        SearchResults coarse = search.Random(6, "coarse");
        search.Refine(coarse, trials: 3, topK: 2, stage: "fine");
        return search.Results;
    }

    private static void AssertSame(SearchResults expected, SearchResults actual)
    {
        Assert.Equal(expected.Trials.Count, actual.Trials.Count);
        for (int i = 0; i < expected.Trials.Count; i++)
            Assert.True(expected.Trials[i].SameOutcome(actual.Trials[i]),
                $"trial {expected.Trials[i].Trial.Id}: expected {SearchResults.Describe(expected.Trials[i])}, got {SearchResults.Describe(actual.Trials[i])}");
        Assert.Equal(expected.Ranked.Select(r => r.Trial.Id), actual.Ranked.Select(r => r.Trial.Id));
    }

    [Fact]
    public async Task A_search_on_three_two_and_one_silos_matches_the_sequential_scheduler_bit_for_bit()
    {
        SharedMemoryStorage.Clear();
        SearchResults expected = RunRecipe(Runners.CreateModelRunner(), new SequentialTrialScheduler());
        Assert.Contains(expected.Trials, t => t.Status == TrialStatus.Completed);
        TestCluster cluster = await Clusters.StartAsync(3);
        try
        {
            foreach (int silos in new[] { 3, 2, 1 })
            {
                if (cluster.Silos.Count > silos) await cluster.StopSiloAsync(cluster.SecondarySilos[^1]);
                Assert.Equal(silos, cluster.Silos.Count);
                var scheduler = new OrleansTrialScheduler(cluster.Client, $"determinism-{silos}") { Runner = Runners.Model };
                SearchResults actual = RunRecipe(Runners.CreateModelRunner(), scheduler);
                AssertSame(expected, actual);
                SearchCounters counters = await scheduler.Search.Counters();
                Assert.Equal(expected.Trials.Count, counters.Recorded);
                Assert.Equal(0, counters.DuplicatesDropped);
                if (silos == 3)
                {
                    // The trials really were spread: more than one silo recorded results.
                    Assert.True(scheduler.Outcomes.Values.Select(o => o.Silo).Distinct().Count() > 1,
                        "every trial ran on one silo: " + string.Join(", ", scheduler.Outcomes.Values.Select(o => o.Silo)));
                }
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_silo_killed_mid_trial_loses_no_trial_and_duplicates_none_and_the_trial_resumes_from_its_checkpoint()
    {
        SharedMemoryStorage.Clear();
        SteppingRunner stepping = Runners.SharedStepping;
        stepping.StepDelayMs = 0;
        SearchResults expected = RunRecipe(stepping, new SequentialTrialScheduler());
        stepping.Finished.Clear();
        stepping.StepsRun.Clear();
        stepping.StepDelayMs = 40;
        TestCluster cluster = await Clusters.StartAsync(3);
        try
        {
            var scheduler = new OrleansTrialScheduler(cluster.Client, "kill") { Runner = Runners.Stepping };
            Task<SearchResults> run = Task.Run(() => RunRecipe(stepping, scheduler));

            // Wait for a trial that runs on a secondary silo and has saved a few checkpoints, then kill that silo.
            var clock = Stopwatch.StartNew();
            SiloHandle? victim = null;
            int victimTrial = -1;
            while (victim is null)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "no trial ran on a secondary silo");
                foreach (RunningTrial r in await scheduler.Search.Running())
                {
                    SiloHandle? silo = cluster.SecondarySilos.FirstOrDefault(s => s.SiloAddress.ToParsableString() == r.SiloAddress);
                    if (silo is not null && stepping.StepsRun.GetValueOrDefault(r.TrialId) >= 3) (victim, victimTrial) = (silo, r.TrialId);
                }
                await Task.Delay(10);
            }
            await cluster.KillSiloAsync(victim);

            SearchResults actual = await run.WaitAsync(TimeSpan.FromSeconds(90));
            AssertSame(expected, actual);
            SearchCounters counters = await scheduler.Search.Counters();
            Assert.Equal(expected.Trials.Count, counters.Recorded);
            Assert.True(counters.Requeued >= 1, "the killed silo's trial was not taken back");
            Assert.True(counters.DuplicatesDropped == 0,
                $"{counters.DuplicatesDropped} duplicate result(s); runs finished per trial: {string.Join(", ", stepping.Finished.OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}"))}; killed trial {victimTrial}");
            // Every trial finished exactly once (the killed run was cancelled, not finished)...
            Assert.Equal(expected.Trials.Select(t => t.Trial.Id).Order(), stepping.Finished.Keys.Order());
            Assert.All(stepping.Finished, p => Assert.Equal(1, p.Value));
            // ...and is recorded exactly once, the killed one after a second hand-out that resumed from its checkpoint.
            TrialOutcome[] outcomes = await scheduler.Search.Outcomes();
            Assert.Equal(expected.Trials.Select(t => t.Trial.Id), outcomes.Select(o => o.TrialId));
            TrialOutcome resumed = outcomes.Single(o => o.TrialId == victimTrial);
            Assert.True(resumed.Attempts >= 2, $"trial {victimTrial} was handed out {resumed.Attempts} time(s)");
            Assert.True(resumed.ResumedFromSave >= 3, $"trial {victimTrial} resumed from save {resumed.ResumedFromSave}");
            Assert.NotEqual(victim.Name, resumed.Silo);
            // Resuming skipped the steps already done: fewer than two full runs of steps.
            Assert.True(stepping.StepsRun[victimTrial] < 2 * SteppingRunner.Steps, $"{stepping.StepsRun[victimTrial]} steps for trial {victimTrial}");
        }
        finally
        {
            stepping.StepDelayMs = 0;
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_restarted_client_resumes_a_search_from_storage_and_reruns_no_recorded_trial()
    {
        SharedMemoryStorage.Clear();
        SteppingRunner stepping = Runners.SharedStepping;
        stepping.StepDelayMs = 0;
        SearchResults expected = RunRecipe(stepping, new SequentialTrialScheduler(), seed: 23);
        stepping.Finished.Clear();
        stepping.StepsRun.Clear();

        // First client: the coarse stage completes; the client dies during the fine stage (after one fine result).
        TestCluster first = await Clusters.StartAsync(2);
        int fineSeenBeforeCrash;
        int[] recordedBefore;
        try
        {
            var scheduler = new OrleansTrialScheduler(first.Client, "resume") { Runner = Runners.Stepping, Description = Runners.Space.ToString() };
            int fine = 0;
            var search = new HyperparameterSearch(Runners.Space, stepping, scheduler, seed: 23)
            {
                TrialFinished = new CrashAfter(r => r.Trial.Stage == "fine" && ++fine == 1),
            };
            SearchResults coarse = search.Random(6, "coarse");
            Assert.Throws<ClientCrash>(() => search.Refine(coarse, trials: 3, topK: 2, stage: "fine"));
            fineSeenBeforeCrash = fine;
            recordedBefore = (await scheduler.Search.Outcomes()).Select(o => o.TrialId).ToArray();
        }
        finally
        {
            // The whole cluster goes too: only storage remembers the search.
            await first.DisposeAsync();
        }
        Assert.Equal(1, fineSeenBeforeCrash);
        var finishedBefore = new Dictionary<int, int>(stepping.Finished);
        Assert.True(recordedBefore.Length >= 7, $"{recordedBefore.Length} trials recorded before the crash");

        // A new client on a new cluster runs the same search under the same name.
        TestCluster second = await Clusters.StartAsync(2);
        try
        {
            var scheduler = new OrleansTrialScheduler(second.Client, "resume") { Runner = Runners.Stepping, Description = Runners.Space.ToString() };
            SearchResults actual = RunRecipe(stepping, scheduler, seed: 23);
            AssertSame(expected, actual);
            // Trials recorded before the crash were not run again; every other trial ran.
            foreach (int id in recordedBefore) Assert.Equal(finishedBefore[id], stepping.Finished[id]);
            Assert.All(expected.Trials, t => Assert.True(stepping.Finished.ContainsKey(t.Trial.Id), $"trial {t.Trial.Id} never ran"));
            Assert.Equal(expected.Trials.Count, (await scheduler.Search.Counters()).Recorded);

            // A client that describes the stored search differently is told so.
            var other = new OrleansTrialScheduler(second.Client, "resume") { Runner = Runners.Stepping, Description = "another space" };
            ArgumentException error = Assert.Throws<ArgumentException>(() => RunRecipe(stepping, other, seed: 23));
            Assert.Contains("'resume'", error.Message);
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    private sealed class ClientCrash : Exception;

    /// <summary>Throws from the progress callback (the client "crashes") once <paramref name="when"/> says so.</summary>
    private sealed class CrashAfter(Func<TrialResult, bool> when) : IProgress<TrialResult>
    {
        public void Report(TrialResult value)
        {
            if (when(value)) throw new ClientCrash();
        }
    }
}
