using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Kiln.Augmentation;
using Kiln.Data;
using Kiln.Ensembles;
using Spectre.Console;

namespace Kiln.Samples.FashionCnn;

/// <summary>
/// One test-time augmentation (docs/techniques.md#augmentation) that <c>--tta</c> selects: the identity view, plus its mirror when
/// <paramref name="Flip"/>, plus the four (±Shift, ±Shift) corner shifts (each mirrored too when flipping) when Shift &gt; 0.
/// </summary>
internal sealed record TtaMode(bool Flip, int Shift)
{
    /// <summary>flip, shiftN, flip-shiftN (N pixels; "shift" and "flip-shift" mean 2).</summary>
    public static TtaMode? Parse(string text) => text switch
    {
        "flip" => new TtaMode(true, 0),
        "shift" => new TtaMode(false, 2),
        "flip-shift" => new TtaMode(true, 2),
        _ when text.StartsWith("flip-shift", StringComparison.Ordinal) && PositiveInt(text["flip-shift".Length..]) is int n => new TtaMode(true, n),
        _ when text.StartsWith("shift", StringComparison.Ordinal) && PositiveInt(text["shift".Length..]) is int n => new TtaMode(false, n),
        _ => null,
    };

    public string Name => (Flip, Shift) switch { (true, 0) => "flip", (false, _) => $"shift{Shift}", _ => $"flip-shift{Shift}" };

    public int Views => TestTimeAugmentation.ViewCount(Flip, Shift);

    private static int? PositiveInt(string s) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : null;
}

/// <summary>One line of the after-training report: a model or ensemble, scored plainly and under each <c>--tta</c> mode.</summary>
internal sealed record Scored(string Label, EvaluationResult Plain, IReadOnlyList<EvaluationResult> Tta);

/// <summary>
/// The evaluations after training: checkpoint snapshots alone and averaged (<see cref="Ensemble"/>), and test-time
/// augmentation (<see cref="TestTimeAugmentation"/>) of the final model and of each ensemble (the mean over members and
/// views). The test split is only scored here, never used to choose anything.
/// </summary>
internal static class TestTimeEvaluation
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Mean probabilities of <paramref name="model"/> over the TTA views, test.Count × OutputSize.</summary>
    public static float[] TtaProbabilities(IKilnModel model, Dataset test, ImageShape shape, TtaMode mode)
    {
        var probabilities = new float[test.Count * model.OutputSize];
        TestTimeAugmentation.Predict(model, test.Features.AsSpan(0, test.Count * test.FeatureCount), probabilities, test.Count, shape, mode.Flip, mode.Shift);
        return probabilities;
    }

    /// <summary>Accuracy (arg-max) and mean −ln p(label) (p floored at 1e-7, as <see cref="Ensemble.Evaluate(Dataset)"/>) of probability rows.</summary>
    public static EvaluationResult Score(ReadOnlySpan<float> probabilities, Dataset test, int classes)
    {
        double loss = 0;
        for (int r = 0; r < test.Count; r++) loss -= Math.Log(Math.Max(1e-7, probabilities[r * classes + test.Labels[r]]));
        return new EvaluationResult(loss / test.Count, Classification.Accuracy(probabilities, test.Labels, test.Count, classes), test.Count);
    }

    /// <summary>The final model, each snapshot alone and each requested snapshot ensemble, plainly and under each TTA mode.</summary>
    public static (Scored Final, IReadOnlyList<(int Epoch, Scored Score)> Snapshots, IReadOnlyList<(int[] Epochs, Scored Score)> Ensembles) Evaluate(
        IKilnModel final, IReadOnlyDictionary<int, IKilnModel> snapshots, IReadOnlyList<int[]> ensembles, Dataset test, ImageShape shape, IReadOnlyList<TtaMode> tta)
    {
        int classes = final.OutputSize;
        var ttaCache = new Dictionary<(IKilnModel, TtaMode), float[]>();
        float[] TtaOf(IKilnModel m, TtaMode mode) =>
            ttaCache.TryGetValue((m, mode), out float[]? p) ? p : ttaCache[(m, mode)] = TtaProbabilities(m, test, shape, mode);
        EvaluationResult[] TtaScores(IReadOnlyList<IKilnModel> members) => tta.Select(mode =>
        {
            var mean = new float[test.Count * classes];
            foreach (IKilnModel m in members) TensorPrimitives.Add(mean, TtaOf(m, mode), mean);
            TensorPrimitives.Multiply(mean, 1f / members.Count, mean);
            return Score(mean, test, classes);
        }).ToArray();

        var finalScore = new Scored("final model", final.Evaluate(test.Features, test.Labels, test.Count), TtaScores([final]));
        var alone = snapshots.OrderBy(s => s.Key)
            .Select(s => (s.Key, new Scored($"epoch {s.Key} snapshot", s.Value.Evaluate(test.Features, test.Labels, test.Count), TtaScores([s.Value]))))
            .ToList();
        var averaged = new List<(int[], Scored)>();
        foreach (int[] epochs in ensembles)
        {
            IKilnModel[] members = epochs.Select(e => snapshots[e]).ToArray();
            EvaluationResult plain = new Ensemble(members).Evaluate(test);
            averaged.Add((epochs, new Scored($"ensemble of epochs {string.Join(",", epochs)}", plain, TtaScores(members))));
        }
        return (finalScore, alone, averaged);
    }

    public static void Print(Scored final, IReadOnlyList<(int Epoch, Scored Score)> snapshots, IReadOnlyList<(int[] Epochs, Scored Score)> ensembles, IReadOnlyList<TtaMode> tta)
    {
        var table = new Table().Title("Test accuracy after training (ensembles: mean probabilities)");
        table.AddColumn("model");
        table.AddColumn(new TableColumn("test loss").RightAligned());
        table.AddColumn(new TableColumn("test acc").RightAligned());
        foreach (TtaMode mode in tta) table.AddColumn(new TableColumn($"TTA {mode.Name} acc").RightAligned());
        foreach (Scored s in new[] { final }.Concat(snapshots.Select(x => x.Score)).Concat(ensembles.Select(x => x.Score)))
            table.AddRow([Markup.Escape(s.Label), s.Plain.Loss.ToString("F4", Inv), Percent(s.Plain.Accuracy), .. s.Tta.Select(t => Percent(t.Accuracy))]);
        AnsiConsole.Write(table);
        // Plain lines, easy to grep, as after the training table.
        for (int i = 0; i < tta.Count; i++)
            Console.WriteLine(string.Create(Inv, $"TTA {tta[i].Name} ({tta[i].Views} views) test accuracy {final.Tta[i].Accuracy * 100:F2}%, test loss {final.Tta[i].Loss:F4}"));
        foreach ((int[] epochs, Scored s) in ensembles)
        {
            string name = string.Join(",", epochs);
            Console.WriteLine(string.Create(Inv, $"snapshot ensemble {name} test accuracy {s.Plain.Accuracy * 100:F2}%, test loss {s.Plain.Loss:F4}"));
            for (int i = 0; i < tta.Count; i++)
                Console.WriteLine(string.Create(Inv, $"snapshot ensemble {name} + TTA {tta[i].Name} test accuracy {s.Tta[i].Accuracy * 100:F2}%, test loss {s.Tta[i].Loss:F4}"));
        }
    }

    /// <summary>The extra metrics-JSON keys (added next to the unchanged ones of the MLP sample's format).</summary>
    public static void AddTo(JsonObject json, string? augment, Scored final, IReadOnlyList<(int Epoch, Scored Score)> snapshots,
        IReadOnlyList<(int[] Epochs, Scored Score)> ensembles, IReadOnlyList<TtaMode> tta)
    {
        json["train_augmentation"] = augment ?? "none";
        if (tta.Count > 0) json["tta"] = TtaArray(final, tta, withViews: true);
        if (snapshots.Count > 0)
            json["snapshots"] = new JsonArray(snapshots.Select(s => (JsonNode)Entry(new JsonObject { ["epoch"] = s.Epoch }, s.Score, tta)).ToArray());
        if (ensembles.Count > 0)
            json["snapshot_ensembles"] = new JsonArray(ensembles.Select(e =>
                (JsonNode)Entry(new JsonObject { ["epochs"] = new JsonArray(e.Epochs.Select(x => (JsonNode)JsonValue.Create(x)).ToArray()) }, e.Score, tta)).ToArray());
    }

    private static JsonObject Entry(JsonObject o, Scored s, IReadOnlyList<TtaMode> tta)
    {
        o["test_accuracy"] = s.Plain.Accuracy;
        o["test_loss"] = s.Plain.Loss;
        if (tta.Count > 0) o["tta"] = TtaArray(s, tta, withViews: false);
        return o;
    }

    private static JsonArray TtaArray(Scored s, IReadOnlyList<TtaMode> tta, bool withViews) => new(tta.Select((mode, i) =>
    {
        var o = new JsonObject { ["mode"] = mode.Name };
        if (withViews) o["views"] = mode.Views;
        o["test_accuracy"] = s.Tta[i].Accuracy;
        o["test_loss"] = s.Tta[i].Loss;
        return (JsonNode)o;
    }).ToArray());

    private static string Percent(double accuracy) => (accuracy * 100).ToString("F2", Inv) + "%";
}
