using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Orleans;
using Kiln.Tuning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Spectre.Console;

namespace Kiln.Samples.DistributedSearch;

/// <summary>
/// The recipe's coarse → fine search (Samples/Recipe) on an Orleans cluster: this process starts N silo processes of
/// itself on localhost (or joins silos already running), connects as a client, runs the search with
/// <see cref="OrleansTrialScheduler"/>, and prints each trial with the silo that ran it. <c>--kill-one</c> kills a silo
/// mid-search; its trials are re-run on the others and the search completes with the same results.
/// </summary>
public static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The client's settings.</summary>
    private sealed record Settings(int Silos, bool KillOne, int CoarseTrials, int CoarseEpochs, int FineTrials, int FineEpochs, int Slots, ulong Seed,
        string Storage, string RedisEndpoint, string? SearchName, int Noop);

    public static int Main(string[] args)
    {
        Option<int> Count(string name, int fallback, string description, int min = 1)
        {
            var option = new Option<int>(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => fallback };
            option.Validators.Add(r => { if (r.GetValueOrDefault<int>() < min) r.AddError($"{name} must be at least {min}."); });
            return option;
        }
        Option<int> silos = Count("--silos", 3, "Silo processes to start on this machine (0: join silos already running; needs Redis).", min: 0);
        var killOne = new Option<bool>("--kill-one") { Description = "Kill one silo in the middle of the coarse stage." };
        Option<int> coarse = Count("--coarse", 32, "Coarse random-search trials."), coarseEpochs = Count("--coarse-epochs", 3, "Epochs per coarse trial.");
        Option<int> fine = Count("--fine", 16, "Fine random-search trials."), fineEpochs = Count("--fine-epochs", 10, "Epochs per fine trial.");
        Option<int> slots = Count("--slots", 0, "Trials at a time per silo (default: this machine's cores shared among the silos).", min: 0);
        var seed = new Option<ulong>("--seed") { Description = "Search seed.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var storage = new Option<string>("--storage") { Description = "redis, memory, or auto (Redis when one answers or redis-server is installed).", DefaultValueFactory = _ => "auto" };
        storage.AcceptOnlyFromAmong("auto", "redis", "memory");
        var redis = new Option<string>("--redis") { Description = "Redis endpoint for clustering and storage.", HelpName = "HOST:PORT", DefaultValueFactory = _ => "127.0.0.1:6379" };
        var name = new Option<string?>("--search") { Description = "The search's name in storage: run again with the same name to resume it (default: a new name).", HelpName = "NAME" };
        Option<int> noop = Count("--noop", 0, "Instead of the recipe, run N trials that do nothing (measures the scheduling cost per trial).", min: 0);
        var root = new RootCommand("The recipe's coarse → fine hyper-parameter search on a localhost Orleans cluster, each trial on some silo's core.")
        {
            silos, killOne, coarse, coarseEpochs, fine, fineEpochs, slots, seed, storage, redis, name, noop,
        };
        root.SetAction(parse => RunAsync(new Settings(parse.GetValue(silos), parse.GetValue(killOne), parse.GetValue(coarse), parse.GetValue(coarseEpochs),
            parse.GetValue(fine), parse.GetValue(fineEpochs), parse.GetValue(slots), parse.GetValue(seed), parse.GetValue(storage)!,
            parse.GetValue(redis)!, parse.GetValue(name), parse.GetValue(noop))).GetAwaiter().GetResult());

        // The silo processes this program starts (and that other machines start by hand) run the same executable.
        var index = new Option<int>("--index") { Description = "This silo's number (its ports: 11111 + N and 30000 + N).", HelpName = "N" };
        var cluster = new Option<string>("--cluster") { Description = "The cluster id (the same for every silo of a cluster).", DefaultValueFactory = _ => "kiln" };
        var siloRedis = new Option<string?>("--redis") { Description = "Redis endpoint for clustering and storage (none: localhost clustering, memory storage).", HelpName = "HOST:PORT" };
        Option<int> siloSlots = Count("--slots", Environment.ProcessorCount, "Trials at a time on this silo (default: the cores).");
        Option<int> siloCoarse = Count("--coarse-epochs", 3, "Epochs per coarse trial."), siloFine = Count("--fine-epochs", 10, "Epochs per fine trial.");
        var silo = new Command("silo", "Run one silo with the recipe's trial runner until stopped (Ctrl+C).") { index, cluster, siloRedis, siloSlots, siloCoarse, siloFine };
        silo.SetAction((parse, stop) => Silo.RunAsync(new SiloSettings(parse.GetValue(index), parse.GetValue(siloSlots), parse.GetValue(siloCoarse), parse.GetValue(siloFine),
            new ClusterSettings(parse.GetValue(siloRedis), parse.GetValue(cluster)!)), stop));
        root.Subcommands.Add(silo);
        return root.Parse(args).Invoke();
    }

    private static async Task<int> RunAsync(Settings settings)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        using var redisServer = settings.Storage == "memory" ? null : RedisServer.Find(settings.RedisEndpoint, start: settings.Storage == "auto" || settings.Storage == "redis");
        if (settings.Storage == "redis" && redisServer is null)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]No Redis answers at {settings.RedisEndpoint} and redis-server is not installed (apt-get install -y redis-server).[/]");
            return 1;
        }
        if (settings.Silos == 0 && redisServer is null)
        {
            AnsiConsole.MarkupLine("[red]--silos 0 joins a running cluster through Redis, and no Redis was found.[/]");
            return 1;
        }
        var cluster = new ClusterSettings(redisServer?.Endpoint, settings.Silos == 0 ? "kiln" : "kiln-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", Inv));
        int slots = settings.Slots > 0 ? settings.Slots : Math.Max(1, Environment.ProcessorCount / Math.Max(1, settings.Silos));
        AnsiConsole.MarkupLine($"[bold]Distributed hyper-parameter search[/] on Orleans: {settings.Silos} silo process(es) × {slots} trial slot(s), {Environment.ProcessorCount} cores here");
        AnsiConsole.MarkupLine(redisServer is null
            ? "storage: [yellow]memory[/] (Redis not found: localhost clustering, state in the silos' memory — a search cannot be resumed once the cluster stops, and silo-0 holds the membership table)"
            : $"storage: Redis at {redisServer.Endpoint}{(redisServer.Started ? " (started by this sample, data in " + redisServer.Directory + ")" : "")}: clustering and search state");

        var silos = new List<SiloProcess>();
        try
        {
            for (int i = 0; i < settings.Silos; i++)
                silos.Add(SiloProcess.Start(i, slots, settings.CoarseEpochs, settings.FineEpochs, cluster));
            foreach (SiloProcess s in silos) s.WaitReady(TimeSpan.FromSeconds(60));
            if (silos.Count > 0) Line($"started {string.Join(", ", silos.Select(s => $"{s.Name} (pid {s.Process.Id})"))}");

            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.UseOrleansClient(client => cluster.ConfigureClient(client, settings.Silos));
            using IHost host = builder.Build();
            await host.StartAsync();
            IClusterClient grains = host.Services.GetRequiredService<IClusterClient>();
            int result = settings.Noop > 0 ? RunNoop(grains, settings, slots) : RunSearch(grains, settings, slots, silos);
            await host.StopAsync();
            return result;
        }
        finally
        {
            foreach (SiloProcess s in silos) s.Dispose();
        }
    }

    private static int RunSearch(IClusterClient grains, Settings settings, int slots, List<SiloProcess> silos)
    {
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).LogUniform("weight_decay", 1e-6, 1e-2);
        string searchName = settings.SearchName ?? "recipe-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", Inv);
        var scheduler = new OrleansTrialScheduler(grains, searchName)
        {
            Description = $"{space} seed {settings.Seed} coarse {settings.CoarseTrials}×{settings.CoarseEpochs} fine {settings.FineTrials}×{settings.FineEpochs}",
        };
        Line($"search '{searchName}' (run again with --search {searchName} to resume it)");

        var sinceStart = Stopwatch.StartNew();
        var progress = new Progress(result =>
        {
            TrialOutcome? where = scheduler.Outcomes.GetValueOrDefault(result.Trial.Id);
            if (where?.Attempts > 1 && KilledAt is { } killedAt)
                AnsiConsole.MarkupLineInterpolated($"[green]trial {result.Trial.Id}, lost with the killed silo, recorded {(sinceStart.Elapsed - killedAt).TotalSeconds:F1} s after the kill[/]");
            AnsiConsole.MarkupLineInterpolated($"[grey]  trial {result.Trial.Id,3} {result.Trial.Stage,-6} {result.Status.ToString().ToLowerInvariant(),-9} score {result.Score.ToString("G4", Inv),-8} on {where?.Silo ?? "?"}{(where?.Attempts > 1 ? $" (run {where.Attempts}: the first was lost)" : "")}[/]");
        });
        // The trials run on the silos' registered runner; this client never runs one.
        var notHere = new DelegateTrialRunner((t, _) => throw new InvalidOperationException($"{t} should run on a silo."));
        var search = new HyperparameterSearch(space, notHere, scheduler, settings.Seed) { TrialFinished = progress };

        Step($"coarse: {settings.CoarseTrials} trials × {settings.CoarseEpochs} epochs, lr and weight decay log-uniform");
        var clock = Stopwatch.StartNew();
        SearchResults coarse = search.Random(settings.CoarseTrials, "coarse");
        double coarseSeconds = clock.Elapsed.TotalSeconds;
        Report(coarse, scheduler, coarseSeconds, settings.Silos * slots);

        Step($"fine: {settings.FineTrials} trials × {settings.FineEpochs} epochs around the best 4{(settings.KillOne ? "; a silo will be killed while it runs a trial" : "")}");
        clock.Restart();
        using var stageDone = new CancellationTokenSource();
        Task killer = settings.KillOne ? Task.Run(() => KilledAt = KillOne(scheduler, silos, stageDone.Token) ? sinceStart.Elapsed : null) : Task.CompletedTask;
        SearchResults fine = search.Refine(coarse, settings.FineTrials, topK: 4, stage: "fine");
        double fineSeconds = clock.Elapsed.TotalSeconds;
        stageDone.Cancel();
        killer.Wait();
        if (KilledAt is { } kill)
            Line($"the stage finished {(sinceStart.Elapsed - kill).TotalSeconds:F1} s after the kill, with every trial recorded once");
        Line($"{fine.Space}");
        Report(fine, scheduler, fineSeconds, settings.Silos * slots);

        SearchCounters counters = scheduler.Search.Counters().GetAwaiter().GetResult();
        Step("search");
        Line($"{counters.Recorded} trials recorded once each; {counters.Requeued} trial(s) queued again after their run was lost with a silo, {counters.DuplicatesDropped} duplicate result(s) dropped");
        if (counters.Recorded < search.Results.Trials.Count)
            AnsiConsole.MarkupLineInterpolated($"[yellow]the storage holds {counters.Recorded} of the {search.Results.Trials.Count} results: memory storage lost what the killed silo held (the client re-submitted what the search forgot and has every result)[/]");
        Line($"best: {SearchResults.Describe(search.Results.Best!)}");
        Line($"total {coarseSeconds + fineSeconds:F2} s of search on {settings.Silos} silo(s) × {slots} slot(s)");
        return 0;
    }

    /// <summary>
    /// Kills the first silo (not silo-0, which holds the membership table in localhost clustering) seen running a trial
    /// (the fine stage's trials are the longest, so the kill lands mid-trial).
    /// </summary>
    private static bool KillOne(OrleansTrialScheduler scheduler, List<SiloProcess> silos, CancellationToken stageDone)
    {
        // A trial seen running for a while is mid-run (most fine trials take 50–300 ms here): kill its silo then.
        var firstSeen = new Dictionary<(string Silo, int Trial), Stopwatch>();
        while (!stageDone.IsCancellationRequested)
        {
            RunningTrial[] running = scheduler.Search.Running().GetAwaiter().GetResult();
            foreach (SiloProcess s in silos.Skip(1).Where(s => !s.Process.HasExited))
            {
                foreach (RunningTrial r in running.Where(r => r.SiloName == s.Name))
                {
                    Stopwatch seen = firstSeen.TryGetValue((s.Name, r.TrialId), out Stopwatch? w) ? w : firstSeen[(s.Name, r.TrialId)] = Stopwatch.StartNew();
                    if (seen.ElapsedMilliseconds < 20) continue;
                    s.Process.Kill(entireProcessTree: true);
                    AnsiConsole.MarkupLineInterpolated($"[red]killed {s.Name} (pid {s.Process.Id}) while it ran trial {r.TrialId}: once the cluster declares it dead, the trial runs elsewhere[/]");
                    return true;
                }
            }
            Thread.Sleep(5);
        }
        return false;
    }

    /// <summary>When the silo was killed (search clock), or null.</summary>
    private static TimeSpan? KilledAt;

    /// <summary>Trials that do nothing: the wall time per trial is the scheduler's cost alone.</summary>
    private static int RunNoop(IClusterClient grains, Settings settings, int slots)
    {
        var scheduler = new OrleansTrialScheduler(grains, "noop-" + Guid.NewGuid().ToString("N")) { Runner = Silo.NoopRunner, PollInterval = TimeSpan.FromMilliseconds(10) };
        var space = new SearchSpace().Uniform("x", 0, 1);
        var search = new HyperparameterSearch(space, new DelegateTrialRunner((t, _) => TrialResult.Completed(t, t.Id)), scheduler);
        var clock = Stopwatch.StartNew();
        search.Random(settings.Noop, "noop");
        double seconds = clock.Elapsed.TotalSeconds;
        Line($"{settings.Noop} no-op trials on {settings.Silos} silo(s) × {slots} slot(s): {seconds:F2} s, {seconds / settings.Noop * 1000:F2} ms per trial, {settings.Noop / seconds:F0} trials/s");
        return 0;
    }

    private static void Report(SearchResults results, OrleansTrialScheduler scheduler, double seconds, int slots)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string c in results.Columns.Append("silo"))
            table.AddColumn(new TableColumn(c) { Alignment = c is "stage" or "status" or "note" or "silo" ? Justify.Left : Justify.Right });
        var rows = results.Rows();
        for (int i = 0; i < rows.Count; i++)
        {
            TrialOutcome? where = scheduler.Outcomes.GetValueOrDefault(results.Ranked[i].Trial.Id);
            string silo = where is null ? "" : where.Silo + (where.Attempts > 1 ? $" (run {where.Attempts}{(where.ResumedFromSave > 0 ? $", from checkpoint {where.ResumedFromSave}" : "")})" : "");
            table.AddRow(rows[i].Append(silo).Select(c => new Text(c)).ToArray());
        }
        AnsiConsole.Write(table);
        double busy = results.Trials.Sum(t => t.Seconds);
        int n = results.Trials.Count;
        double idle = Math.Max(0, seconds * slots - busy) / n * 1000;
        Line($"{n} trials in {seconds:F2} s wall ({n / seconds:F2} trials/s, {n / seconds / slots:F2} per slot), {busy:F2} s of trial time on {slots} slots ({busy / seconds:F2}× parallel); idle slot time per trial {idle:F0} ms");
        Line($"best: {SearchResults.Describe(results.Best!)}");
    }

    private static void Step(string title)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule(Markup.Escape(title)).LeftJustified());
    }

    private static void Line(FormattableString text) => AnsiConsole.WriteLine(text.ToString(Inv));

    /// <summary>Reports on the calling thread (the scheduler's), unlike <see cref="Progress{T}"/>.</summary>
    private sealed class Progress(Action<TrialResult> report) : IProgress<TrialResult>
    {
        public void Report(TrialResult value) => report(value);
    }
}
