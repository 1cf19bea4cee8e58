using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Kiln;
using Kiln.Data;
using Kiln.Ensembles;
using Kiln.Training;
using Kiln.Tuning;
using Spectre.Console;

namespace Kiln.Samples.Recipe;

/// <summary>
/// The hyper-parameter recipe (docs/techniques.md#hyper-parameters), end to end on the embedded 8×8 digits: (1) check the initial loss against
/// ln C, (2) overfit a tiny subset, (3–4) a coarse random search of the learning rate and weight decay on a log scale, a few
/// epochs per trial, trials in parallel on every core, (5) a finer search around the best trials, then train the best
/// configuration longer, evaluate it on the test set, and ensemble the three best.
/// </summary>
public static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Settings from the command line.</summary>
    private sealed record Settings(int CoarseTrials, int CoarseEpochs, int FineTrials, int FineEpochs, int FinalEpochs, int Threads, ulong Seed, string? Out);

    public static int Main(string[] args)
    {
        Option<int> Count(string name, int fallback, string description)
        {
            var option = new Option<int>(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => fallback };
            option.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError($"{name} must be positive."); });
            return option;
        }
        Option<int> coarse = Count("--coarse", 32, "Coarse random-search trials."), coarseEpochs = Count("--coarse-epochs", 3, "Epochs per coarse trial.");
        Option<int> fine = Count("--fine", 16, "Fine random-search trials."), fineEpochs = Count("--fine-epochs", 10, "Epochs per fine trial.");
        Option<int> finalEpochs = Count("--final-epochs", 30, "Epochs for the three best configurations.");
        Option<int> threads = Count("--threads", Kiln.Kernels.WorkerPool.DefaultParallelism, "Trials at a time (default: cores, or KILN_THREADS).");
        var seed = new Option<ulong>("--seed") { Description = "Search seed.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Also write every trial as CSV and JSON (FILE.csv, FILE.json).", HelpName = "FILE" };
        var root = new RootCommand("The hyper-parameter recipe (docs/techniques.md#hyper-parameters) end to end on the embedded digits: sanity checks, coarse and fine " +
                                   "random search in parallel, the best configurations trained longer, ensembles.")
        {
            coarse, coarseEpochs, fine, fineEpochs, finalEpochs, threads, seed, output,
        };
        root.SetAction(parse => Run(new Settings(parse.GetValue(coarse), parse.GetValue(coarseEpochs), parse.GetValue(fine), parse.GetValue(fineEpochs),
            parse.GetValue(finalEpochs), parse.GetValue(threads), parse.GetValue(seed), parse.GetValue(output))));
        return root.Parse(args).Invoke();
    }

    private static int Run(Settings settings)
    {
        var clock = Stopwatch.StartNew();
        // Tables are wide: when the output goes to a file or pipe, do not wrap them at 80 columns.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;

        // Data: the test split is touched once, at the end. The search scores on a validation split of the training data,
        // and the standardiser is fitted on the training part only.
        DataSplit raw = EmbeddedData.DigitsSplit(0.8, seed: 0);
        DataSplit fit = raw.Train.Split(0.8, seed: 1);
        var standardizer = new Standardizer().Fit(fit.Train);
        Dataset train = standardizer.Transform(fit.Train), validation = standardizer.Transform(fit.Test), test = standardizer.Transform(raw.Test);
        AnsiConsole.MarkupLine($"[bold]Hyper-parameter recipe[/] (docs/techniques.md#hyper-parameters) on the 8×8 digits: {train.Count} training, {validation.Count} validation, {test.Count} test samples");
        AnsiConsole.MarkupLine($"network 64 → Dense 128 → ReLU → Dense 10 → softmax cross-entropy, Adam; {settings.Threads} trials at a time, each single-threaded");

        // (1) Initial loss: small random weights give near-uniform probabilities, so the loss should be close to ln C.
        Step("1. initial loss");
        var fresh = new RecipeNet();
        EvaluationResult initial = fresh.Evaluate(train.Features, train.Labels, train.Count);
        double expected = Math.Log(10);
        bool sane = Math.Abs(initial.Loss - expected) < 0.1 * expected;
        Line($"loss {initial.Loss:F4} vs ln 10 = {expected:F4} (ratio {initial.Loss / expected:F3}): {(sane ? "as expected" : "suspicious: check the initialisation and the loss")}");

        // (2) Overfit a tiny subset (5 mini-batches of 20) with weight decay off: a sound model reaches 100% training accuracy.
        Step("2. overfit 100 samples");
        Dataset tiny = train.Subset(0, 100, "100 training samples");
        var overfit = new RecipeNet();
        int epochsTo100 = -1;
        EvaluationResult tinyResult = default;
        for (int epoch = 1; epoch <= 200; epoch++)
        {
            Trainer.Fit(overfit, tiny, null, new TrainerOptions { Epochs = 1, BatchSize = 20, Seed = (ulong)epoch, LearningRate = 1e-2f });
            tinyResult = overfit.Evaluate(tiny.Features, tiny.Labels, tiny.Count);
            if (tinyResult.Accuracy == 1) { epochsTo100 = epoch; break; }
        }
        if (epochsTo100 > 0) Line($"100% training accuracy after {epochsTo100} epochs (loss {tinyResult.Loss:F4}): the model can learn");
        else Line($"only {tinyResult.Accuracy * 100:F1}% after 200 epochs (loss {tinyResult.Loss:F4}): the learning rate is too low or something is broken");

        // (3–4) Coarse random search, learning rate and weight decay on log scales, a few epochs per trial.
        var space = new SearchSpace()
            .LogUniform("lr", 1e-4, 1e-1)
            .LogUniform("weight_decay", 1e-6, 1e-2);
        var scheduler = new LocalParallelTrialScheduler(settings.Threads);
        // One search for both stages (one trial numbering); the stage decides how long a trial trains.
        var runner = new ModelTrialRunner(_ => new RecipeNet(), train, validation, new TrainerOptions { BatchSize = 32, ValidateEveryEpoch = false })
        {
            Configure = (trial, options) => options with { Epochs = trial.Stage == "coarse" ? settings.CoarseEpochs : settings.FineEpochs },
        };
        var search = new HyperparameterSearch(space, runner, scheduler, settings.Seed);
        Step($"3. coarse random search: {settings.CoarseTrials} trials × {settings.CoarseEpochs} epochs, lr and weight decay log-uniform");
        Line($"{space}");
        SearchResults coarse = Timed(() => search.Random(settings.CoarseTrials, "coarse"), out double coarseSeconds);
        Report(coarse, coarseSeconds, settings.Threads);
        foreach (string edge in coarse.BestAtEdge(space)) AnsiConsole.MarkupLineInterpolated($"[yellow]warning:[/] {edge}: widen the range");

        // (5) Fine search around the best four (each range shrunk around them in log space), trained longer.
        Step($"4. fine random search around the best 4 of the coarse stage: {settings.FineTrials} trials × {settings.FineEpochs} epochs");
        SearchResults fine = Timed(() => search.Refine(coarse, settings.FineTrials, topK: 4, stage: "fine"), out double fineSeconds);
        Line($"{fine.Space}");
        Report(fine, fineSeconds, settings.Threads);
        if (settings.Out is { } outPath)
        {
            string csv = System.IO.Path.ChangeExtension(outPath, ".csv"), json = System.IO.Path.ChangeExtension(outPath, ".json");
            System.IO.File.WriteAllText(csv, search.Results.ToCsv());
            System.IO.File.WriteAllText(json, search.Results.ToJson());
            Line($"every trial written to {csv} and {json}");
        }

        // Train the three best of the fine stage longer (no learning-rate decay), then evaluate once on the test set.
        Step($"5. train the 3 best configurations for {settings.FinalEpochs} epochs, evaluate on the test set, ensemble them");
        IReadOnlyList<TrialResult> top = fine.Top(3);
        var finalists = new List<(TrialResult Trial, IKilnModel Model, EvaluationResult Validation, EvaluationResult Test)>();
        foreach (TrialResult t in top)
        {
            IKilnModel? model = null;
            var longRunner = new ModelTrialRunner(_ => new RecipeNet(), train, validation, new TrainerOptions { Epochs = settings.FinalEpochs, BatchSize = 32, ValidateEveryEpoch = false })
            {
                Trained = (_, m, _) => model = m,
            };
            TrialResult result = longRunner.Run(t.Trial, default);
            if (model is null) { AnsiConsole.MarkupLineInterpolated($"[red]{SearchResults.Describe(result)}[/]"); continue; }
            finalists.Add((t, model, model.Evaluate(validation.Features, validation.Labels, validation.Count), model.Evaluate(test.Features, test.Labels, test.Count)));
        }
        var summary = new Table().Border(TableBorder.Rounded).Title($"after {settings.FinalEpochs} epochs");
        foreach (string c in new[] { "model", "lr", "weight decay", "val loss", "val acc", "test loss", "test acc" })
            summary.AddColumn(new TableColumn(c).RightAligned());
        foreach (var (trial, _, val, tst) in finalists)
            summary.AddRow(Cells($"trial {trial.Trial.Id}", G(trial.Trial.Parameters.GetDouble("lr")), G(trial.Trial.Parameters.GetDouble("weight_decay")),
                F(val.Loss), P(val.Accuracy), F(tst.Loss), P(tst.Accuracy)));
        if (finalists.Count > 1)
        {
            var ensemble = new Ensemble(finalists.Select(f => f.Model));
            EvaluationResult ev = ensemble.Evaluate(validation), et = ensemble.Evaluate(test);
            summary.AddRow(Cells($"ensemble of {finalists.Count}", "", "", F(ev.Loss), P(ev.Accuracy), F(et.Loss), P(et.Accuracy)));
        }
        if (top.Count > 0) AddCheckpointEnsemble(summary, top[0].Trial, train, validation, test, settings.FinalEpochs);
        AnsiConsole.Write(summary);

        Line($"best configuration: {SearchResults.Describe(fine.Best!)}");
        Line($"total {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>
    /// A checkpoint ensemble (docs/techniques.md#regularisation): the best configuration trained once more, saved after a third, two thirds and all
    /// of its epochs, and those three snapshots averaged. The run is the finalist's run (same seed and decay), so its last
    /// snapshot is that model.
    /// </summary>
    private static void AddCheckpointEnsemble(Table summary, Trial best, Dataset train, Dataset validation, Dataset test, int epochs)
    {
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kiln-recipe-" + Environment.ProcessId.ToString(Inv));
        int[] at = new[] { Math.Max(1, epochs / 3), Math.Max(1, 2 * epochs / 3), epochs }.Distinct().ToArray();
        var snapshots = new CheckpointSnapshots(dir, at);
        var model = new RecipeNet();
        model.ResetNoise(best.Seed);
        var options = new TrainerOptions
        {
            Epochs = epochs, BatchSize = 32, ValidateEveryEpoch = false, Seed = best.Seed, LearningRate = (float)best.Parameters.GetDouble("lr"),
            Observers = [snapshots],
        };
        Trainer.Fit(model, train, validation, options, new DecoupledWeightDecay(model, best.Parameters.GetDouble("weight_decay")));
        Ensemble ensemble = snapshots.LoadEnsemble(() => new RecipeNet());
        EvaluationResult ev = ensemble.Evaluate(validation), et = ensemble.Evaluate(test);
        summary.AddRow(Cells($"snapshots {string.Join("/", at)} of trial {best.Id}", "", "", F(ev.Loss), P(ev.Accuracy), F(et.Loss), P(et.Accuracy)));
        System.IO.Directory.Delete(dir, recursive: true);
    }

    private static T Timed<T>(Func<T> run, out double seconds)
    {
        var clock = Stopwatch.StartNew();
        T result = run();
        seconds = clock.Elapsed.TotalSeconds;
        return result;
    }

    private static void Report(SearchResults results, double seconds, int threads)
    {
        AnsiConsole.Write(ToSpectre(results));
        double busy = results.Trials.Sum(t => t.Seconds);
        int aborted = results.Trials.Count(t => t.Status == TrialStatus.Aborted);
        Line($"{results.Trials.Count} trials in {seconds:F2} s wall, {busy:F2} s of trial time on {threads} threads ({busy / seconds:F2}× parallel); {aborted} aborted as hopeless");
        Line($"best: {SearchResults.Describe(results.Best!)}");
    }

    /// <summary>The ranked rows of a search as a Spectre table (the library's own cells, so text, CSV and table agree).</summary>
    private static Table ToSpectre(SearchResults results)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string c in results.Columns) table.AddColumn(new TableColumn(c) { Alignment = c is "stage" or "status" or "note" ? Justify.Left : Justify.Right });
        foreach (string[] row in results.Rows()) table.AddRow(Cells(row));
        return table;
    }

    private static Text[] Cells(params string[] cells) => cells.Select(c => new Text(c)).ToArray();

    private static string G(double v) => v.ToString("G3", Inv);
    private static string F(double v) => v.ToString("F4", Inv);
    private static string P(double v) => (v * 100).ToString("F2", Inv) + "%";

    private static void Step(string title)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule(Markup.Escape(title)).LeftJustified());
    }

    private static void Line(FormattableString text) => AnsiConsole.WriteLine(text.ToString(Inv));
}
