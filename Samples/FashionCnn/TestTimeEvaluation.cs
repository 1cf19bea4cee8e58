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

/// <summary>Test-time augmentation views (CATALOGUE §8) that <c>--tta</c> selects.</summary>
internal enum TtaMode
{
    None,
    /// <summary>The image and its mirror: 2 views.</summary>
    Flip,
    /// <summary>The image and four 2-pixel corner shifts, each also mirrored: 10 views.</summary>
    FlipShift,
}

/// <summary>One line of the after-training report: a model or ensemble, scored plainly and, with <c>--tta</c>, under TTA.</summary>
internal sealed record Scored(string Label, EvaluationResult Plain, EvaluationResult? Tta);

/// <summary>
/// The evaluations after training: checkpoint snapshots alone and averaged (<see cref="Ensemble"/>), and test-time
/// augmentation (<see cref="TestTimeAugmentation"/>) of the final model and of each ensemble. The test split is only
/// scored here, never used to choose anything.
/// </summary>
internal static class TestTimeEvaluation
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Name(TtaMode mode) => mode switch { TtaMode.Flip => "flip", TtaMode.FlipShift => "flip-shift", _ => "none" };

    public static int Views(TtaMode mode) => mode switch
    {
        TtaMode.Flip => TestTimeAugmentation.ViewCount(flip: true, shift: 0),
        TtaMode.FlipShift => TestTimeAugmentation.ViewCount(flip: true, shift: 2),
        _ => 1,
    };

    /// <summary>Mean probabilities of <paramref name="model"/> over the TTA views, test.Count × OutputSize.</summary>
    public static float[] TtaProbabilities(IKilnModel model, Dataset test, ImageShape shape, TtaMode mode)
    {
        var probabilities = new float[test.Count * model.OutputSize];
        TestTimeAugmentation.Predict(model, test.Features.AsSpan(0, test.Count * test.FeatureCount), probabilities, test.Count, shape,
            flip: true, shift: mode == TtaMode.FlipShift ? 2 : 0);
        return probabilities;
    }

    /// <summary>Accuracy (arg-max) and mean −ln p(label) (p floored at 1e-7, as <see cref="Ensemble.Evaluate(Dataset)"/>) of probability rows.</summary>
    public static EvaluationResult Score(ReadOnlySpan<float> probabilities, Dataset test, int classes)
    {
        double loss = 0;
        for (int r = 0; r < test.Count; r++) loss -= Math.Log(Math.Max(1e-7, probabilities[r * classes + test.Labels[r]]));
        return new EvaluationResult(loss / test.Count, Classification.Accuracy(probabilities, test.Labels, test.Count, classes), test.Count);
    }

    /// <summary>The final model, each snapshot alone and each requested snapshot ensemble, plainly and (unless <paramref name="tta"/> is None) under TTA.</summary>
    public static (Scored Final, IReadOnlyList<(int Epoch, Scored Score)> Snapshots, IReadOnlyList<(int[] Epochs, Scored Score)> Ensembles) Evaluate(
        IKilnModel final, IReadOnlyDictionary<int, IKilnModel> snapshots, IReadOnlyList<int[]> ensembles, Dataset test, ImageShape shape, TtaMode tta)
    {
        int classes = final.OutputSize;
        var ttaCache = new Dictionary<IKilnModel, float[]>(ReferenceEqualityComparer.Instance);
        float[] TtaOf(IKilnModel m) => ttaCache.TryGetValue(m, out float[]? p) ? p : ttaCache[m] = TtaProbabilities(m, test, shape, tta);
        EvaluationResult? TtaScore(IReadOnlyList<IKilnModel> members)
        {
            if (tta == TtaMode.None) return null;
            var mean = new float[test.Count * classes];
            foreach (IKilnModel m in members) TensorPrimitives.Add(mean, TtaOf(m), mean);
            TensorPrimitives.Multiply(mean, 1f / members.Count, mean);
            return Score(mean, test, classes);
        }

        var finalScore = new Scored("final model", final.Evaluate(test.Features, test.Labels, test.Count), TtaScore([final]));
        var alone = snapshots.OrderBy(s => s.Key)
            .Select(s => (s.Key, new Scored($"epoch {s.Key} snapshot", s.Value.Evaluate(test.Features, test.Labels, test.Count), TtaScore([s.Value]))))
            .ToList();
        var averaged = new List<(int[], Scored)>();
        foreach (int[] epochs in ensembles)
        {
            IKilnModel[] members = epochs.Select(e => snapshots[e]).ToArray();
            EvaluationResult plain = new Ensemble(members).Evaluate(test);
            averaged.Add((epochs, new Scored($"ensemble of epochs {string.Join(",", epochs)} (mean probabilities)", plain, TtaScore(members))));
        }
        return (finalScore, alone, averaged);
    }

    public static void Print(Scored final, IReadOnlyList<(int Epoch, Scored Score)> snapshots, IReadOnlyList<(int[] Epochs, Scored Score)> ensembles, TtaMode tta)
    {
        var table = new Table().Title("Test accuracy after training");
        table.AddColumn("model");
        table.AddColumn(new TableColumn("test loss").RightAligned());
        table.AddColumn(new TableColumn("test acc").RightAligned());
        if (tta != TtaMode.None)
        {
            table.AddColumn(new TableColumn($"TTA {Name(tta)} loss").RightAligned());
            table.AddColumn(new TableColumn($"TTA {Name(tta)} acc").RightAligned());
        }
        foreach (Scored s in new[] { final }.Concat(snapshots.Select(x => x.Score)).Concat(ensembles.Select(x => x.Score)))
        {
            var cells = new List<string> { Markup.Escape(s.Label), s.Plain.Loss.ToString("F4", Inv), Percent(s.Plain.Accuracy) };
            if (s.Tta is { } t) cells.AddRange([t.Loss.ToString("F4", Inv), Percent(t.Accuracy)]);
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        // Plain lines, easy to grep, as after the training table.
        if (final.Tta is { } ft) Console.WriteLine(string.Create(Inv, $"TTA ({Name(tta)}, {Views(tta)} views) test accuracy {ft.Accuracy * 100:F2}%, test loss {ft.Loss:F4}"));
        foreach ((int[] epochs, Scored s) in ensembles)
        {
            Console.WriteLine(string.Create(Inv, $"snapshot ensemble {string.Join(",", epochs)} test accuracy {s.Plain.Accuracy * 100:F2}%, test loss {s.Plain.Loss:F4}"));
            if (s.Tta is { } t)
                Console.WriteLine(string.Create(Inv, $"snapshot ensemble {string.Join(",", epochs)} + TTA ({Name(tta)}) test accuracy {t.Accuracy * 100:F2}%, test loss {t.Loss:F4}"));
        }
    }

    /// <summary>The extra metrics-JSON keys (added next to the unchanged ones of the MLP sample's format).</summary>
    public static void AddTo(JsonObject json, string? augment, Scored final, IReadOnlyList<(int Epoch, Scored Score)> snapshots,
        IReadOnlyList<(int[] Epochs, Scored Score)> ensembles, TtaMode tta)
    {
        json["train_augmentation"] = augment ?? "none";
        json["tta"] = Name(tta);
        if (tta != TtaMode.None)
        {
            json["tta_views"] = Views(tta);
            json["tta_test_accuracy"] = final.Tta!.Value.Accuracy;
            json["tta_test_loss"] = final.Tta!.Value.Loss;
        }
        if (snapshots.Count > 0)
            json["snapshots"] = new JsonArray(snapshots.Select(s => (JsonNode)Entry(new JsonObject { ["epoch"] = s.Epoch }, s.Score)).ToArray());
        if (ensembles.Count > 0)
            json["snapshot_ensembles"] = new JsonArray(ensembles.Select(e =>
                (JsonNode)Entry(new JsonObject { ["epochs"] = new JsonArray(e.Epochs.Select(x => (JsonNode)JsonValue.Create(x)).ToArray()) }, e.Score)).ToArray());
    }

    private static JsonObject Entry(JsonObject o, Scored s)
    {
        o["test_accuracy"] = s.Plain.Accuracy;
        o["test_loss"] = s.Plain.Loss;
        if (s.Tta is { } t)
        {
            o["tta_test_accuracy"] = t.Accuracy;
            o["tta_test_loss"] = t.Loss;
        }
        return o;
    }

    private static string Percent(double accuracy) => (accuracy * 100).ToString("F2", Inv) + "%";
}
