using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kiln.Tuning;

/// <summary>
/// The results of a search stage (or of a whole search), ranked: completed trials by score (best first, ties by trial id),
/// then aborted trials, then failed ones. Text, CSV and JSON forms for reports; samples print it with Spectre.Console.
/// </summary>
public sealed class SearchResults
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Results of <paramref name="trials"/> drawn from <paramref name="space"/>, ranked by <paramref name="goal"/>.</summary>
    public SearchResults(SearchSpace space, SearchGoal goal, IEnumerable<TrialResult> trials)
    {
        Space = space ?? throw new ArgumentNullException(nameof(space));
        ArgumentNullException.ThrowIfNull(trials);
        Goal = goal;
        Trials = trials.OrderBy(t => t.Trial.Id).ToArray();
        Ranked = Trials.OrderBy(t => t, new RankComparer(goal)).ToArray();
    }

    /// <summary>The space the trials were drawn from (for a refined stage, the narrowed space).</summary>
    public SearchSpace Space { get; }

    /// <summary>What the ranking optimises.</summary>
    public SearchGoal Goal { get; }

    /// <summary>Every trial, by id.</summary>
    public IReadOnlyList<TrialResult> Trials { get; }

    /// <summary>Every trial, best first.</summary>
    public IReadOnlyList<TrialResult> Ranked { get; }

    /// <summary>The stage names present, in order of first trial.</summary>
    public IReadOnlyList<string> Stages => Trials.Select(t => t.Trial.Stage).Distinct().ToArray();

    /// <summary>The best completed trial with a finite score, or null.</summary>
    public TrialResult? Best => Top(1).FirstOrDefault();

    /// <summary>Up to <paramref name="k"/> best completed trials with finite scores.</summary>
    public IReadOnlyList<TrialResult> Top(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return Ranked.Where(IsRankable).Take(k).ToArray();
    }

    private static bool IsRankable(TrialResult r) => r.Status == TrialStatus.Completed && double.IsFinite(r.Score);

    /// <summary>
    /// Dimensions whose best value lies within <paramref name="fraction"/> of an end of the declared range (in the search
    /// coordinate): the optimum may lie outside, so widen that range before refining (a classic search mistake).
    /// </summary>
    public IReadOnlyList<string> BestAtEdge(SearchSpace declared, double fraction = 0.05)
    {
        ArgumentNullException.ThrowIfNull(declared);
        TrialResult? best = Best;
        if (best is null) return [];
        var edges = new List<string>();
        foreach (SearchDimension d in declared.Dimensions)
        {
            if (d.Scale == SearchScale.Choice || d.Scale == SearchScale.Integer) continue;
            if (!best.Trial.Parameters.TryGetValue(d.Name, out object? v)) continue;
            double position = d.RelativePosition(v);
            if (position <= fraction) edges.Add($"{d.Name} = {Format(v)} is at the low end of [{Format(d.Low)}, {Format(d.High)}]");
            else if (position >= 1 - fraction) edges.Add($"{d.Name} = {Format(v)} is at the high end of [{Format(d.Low)}, {Format(d.High)}]");
        }
        return edges;
    }

    /// <summary>The parameter names of the trials, in order of first appearance.</summary>
    public IReadOnlyList<string> ParameterNames => Trials.SelectMany(t => t.Trial.Parameters.Keys).Distinct().ToArray();

    /// <summary>The metric names of the trials, in order of first appearance.</summary>
    public IReadOnlyList<string> MetricNames => Trials.SelectMany(t => t.Metrics.Select(m => m.Key)).Distinct().ToArray();

    /// <summary>
    /// The ranked rows as text cells: rank, trial, stage, status, score, each parameter, each metric, seconds, note.
    /// <see cref="ToTable"/>, <see cref="ToCsv"/> and the samples' Spectre tables all print these.
    /// </summary>
    public IReadOnlyList<string[]> Rows(int? maxRows = null)
    {
        IReadOnlyList<string> parameters = ParameterNames, metrics = MetricNames;
        var rows = new List<string[]>();
        int rank = 0;
        foreach (TrialResult r in Ranked.Take(maxRows ?? int.MaxValue))
        {
            var row = new List<string>
            {
                IsRankable(r) ? (++rank).ToString(Inv) : "-",
                r.Trial.Id.ToString(Inv),
                r.Trial.Stage,
                r.Status.ToString().ToLowerInvariant(),
                Number(r.Score),
            };
            foreach (string p in parameters) row.Add(r.Trial.Parameters.TryGetValue(p, out object? v) ? Format(v) : "");
            foreach (string m in metrics) row.Add(Number(r.Metric(m)));
            row.Add(r.Seconds.ToString("F2", Inv));
            row.Add(r.Note ?? "");
            rows.Add(row.ToArray());
        }
        return rows;
    }

    /// <summary>The column names of <see cref="Rows"/>.</summary>
    public IReadOnlyList<string> Columns =>
        new[] { "rank", "trial", "stage", "status", Goal == SearchGoal.Minimize ? "score (min)" : "score (max)" }
            .Concat(ParameterNames).Concat(MetricNames).Concat(new[] { "seconds", "note" }).ToArray();

    /// <summary>A fixed-width text table of the ranked trials (all, or the best <paramref name="maxRows"/>).</summary>
    public string ToTable(int? maxRows = null)
    {
        IReadOnlyList<string> columns = Columns;
        IReadOnlyList<string[]> rows = Rows(maxRows);
        var widths = new int[columns.Count];
        for (int c = 0; c < columns.Count; c++)
            widths[c] = Math.Max(columns[c].Length, rows.Count == 0 ? 0 : rows.Max(r => r[c].Length));
        var sb = new StringBuilder();
        AppendLine(sb, columns, widths);
        sb.AppendLine(string.Join(" ", widths.Select(w => new string('-', w))).TrimEnd());
        foreach (string[] row in rows) AppendLine(sb, row, widths);
        if (Best is { } best) sb.Append("best: ").AppendLine(Describe(best));
        else sb.AppendLine("best: none (no trial completed with a finite score)");
        return sb.ToString();

        static void AppendLine(StringBuilder sb, IReadOnlyList<string> cells, int[] widths)
        {
            for (int c = 0; c < cells.Count; c++)
            {
                if (c > 0) sb.Append(' ');
                // Numbers right-aligned, text left-aligned.
                bool numeric = double.TryParse(cells[c], NumberStyles.Float, Inv, out _);
                sb.Append(numeric ? cells[c].PadLeft(widths[c]) : cells[c].PadRight(widths[c]));
            }
            sb.Length = sb.ToString().TrimEnd().Length;
            sb.AppendLine();
        }
    }

    /// <summary>One line: "trial 7 (coarse): lr=0.0031, weight_decay=1E-05 → score 0.1234 (val_acc 0.9611)".</summary>
    public static string Describe(TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string metrics = string.Join(", ", result.Metrics.Select(m => $"{m.Key} {Number(m.Value)}"));
        return $"trial {result.Trial.Id} ({result.Trial.Stage}): {Parameters(result.Trial.Parameters)} → score {Number(result.Score)}"
            + (metrics.Length > 0 ? $" ({metrics})" : "");
    }

    /// <summary>The parameters with numbers shortened to 4 significant digits.</summary>
    public static string Parameters(HyperParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return string.Join(", ", parameters.Select(p => $"{p.Key}={Format(p.Value)}"));
    }

    /// <summary>RFC 4180 CSV of <see cref="Rows"/> with a header line; full-precision numbers.</summary>
    public string ToCsv()
    {
        IReadOnlyList<string> parameters = ParameterNames, metrics = MetricNames;
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", Columns.Select(Quote)));
        int rank = 0;
        foreach (TrialResult r in Ranked)
        {
            var cells = new List<string>
            {
                IsRankable(r) ? (++rank).ToString(Inv) : "",
                r.Trial.Id.ToString(Inv), r.Trial.Stage, r.Status.ToString().ToLowerInvariant(), r.Score.ToString("R", Inv),
            };
            foreach (string p in parameters) cells.Add(r.Trial.Parameters.TryGetValue(p, out object? v) ? Exact(v) : "");
            foreach (string m in metrics) cells.Add(r.Metric(m).ToString("R", Inv));
            cells.Add(r.Seconds.ToString("R", Inv));
            cells.Add(r.Note ?? "");
            sb.AppendLine(string.Join(",", cells.Select(Quote)));
        }
        return sb.ToString();

        static string Quote(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
    }

    /// <summary>JSON: goal, space, best trial id, and every trial (ranked) with parameters, score, status, metrics, seconds, note.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("goal", Goal.ToString().ToLowerInvariant());
            json.WriteString("space", Space.ToString());
            if (Best is { } best) json.WriteNumber("best_trial", best.Trial.Id);
            else json.WriteNull("best_trial");
            json.WriteStartArray("trials");
            foreach (TrialResult r in Ranked)
            {
                json.WriteStartObject();
                WriteTrial(json, r.Trial);
                json.WriteString("status", r.Status.ToString().ToLowerInvariant());
                WriteNumber(json, "score", r.Score);
                json.WriteStartObject("metrics");
                foreach (KeyValuePair<string, double> m in r.Metrics) WriteNumber(json, m.Key, m.Value);
                json.WriteEndObject();
                json.WriteNumber("seconds", r.Seconds);
                if (r.Note is not null) json.WriteString("note", r.Note);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// A trial as JSON (id, stage, seed, typed parameters) — what a distributed scheduler sends to a worker;
    /// <see cref="TrialFromJson"/> reads it back equal.
    /// </summary>
    public static string TrialToJson(Trial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            WriteTrial(json, trial);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads a trial written by <see cref="TrialToJson"/>.</summary>
    public static Trial TrialFromJson(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        using JsonDocument doc = JsonDocument.Parse(text);
        JsonElement root = doc.RootElement;
        int id = root.GetProperty("id").GetInt32();
        string stage = root.GetProperty("stage").GetString() ?? throw new JsonException("The trial has no stage.");
        ulong seed = ulong.Parse(root.GetProperty("seed").GetString() ?? "", NumberStyles.None, Inv);
        var items = new List<KeyValuePair<string, object>>();
        foreach (JsonElement p in root.GetProperty("parameters").EnumerateArray())
        {
            string name = p.GetProperty("name").GetString() ?? throw new JsonException("A parameter has no name.");
            JsonElement v = p.GetProperty("value");
            object value = p.GetProperty("type").GetString() switch
            {
                "double" => v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!, NumberStyles.Float, Inv) : v.GetDouble(),
                "int" => v.GetInt32(),
                "bool" => v.GetBoolean(),
                "string" => v.GetString() ?? "",
                var t => throw new JsonException($"Parameter '{name}' has the unknown type '{t}'."),
            };
            items.Add(new(name, value));
        }
        return new Trial(id, stage, new HyperParameters(items.ToArray()), seed);
    }

    private static void WriteTrial(Utf8JsonWriter json, Trial trial)
    {
        json.WriteNumber("id", trial.Id);
        json.WriteString("stage", trial.Stage);
        json.WriteString("seed", trial.Seed.ToString(Inv)); // as text: JSON readers often parse numbers as doubles
        json.WriteStartArray("parameters");
        foreach (KeyValuePair<string, object> p in trial.Parameters)
        {
            json.WriteStartObject();
            json.WriteString("name", p.Key);
            switch (p.Value)
            {
                case double d: json.WriteString("type", "double"); WriteNumber(json, "value", d); break;
                case int i: json.WriteString("type", "int"); json.WriteNumber("value", i); break;
                case bool b: json.WriteString("type", "bool"); json.WriteBoolean("value", b); break;
                default: json.WriteString("type", "string"); json.WriteString("value", Convert.ToString(p.Value, Inv)); break;
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteString(name, value.ToString(Inv)); // NaN and ±∞ as text, as RunSummary does
    }

    private static string Number(double v) => double.IsNaN(v) ? "-" : v.ToString("G4", Inv);

    private static string Format(object v) => v is double d ? d.ToString("G4", Inv) : Convert.ToString(v, Inv) ?? "";

    private static string Exact(object v) => v is double d ? d.ToString("R", Inv) : Convert.ToString(v, Inv) ?? "";

    /// <inheritdoc/>
    public override string ToString() => ToTable();

    /// <summary>Completed (finite score, by score in the goal's direction, then id), then completed without a finite score, aborted, failed.</summary>
    private sealed class RankComparer(SearchGoal goal) : IComparer<TrialResult>
    {
        public int Compare(TrialResult? a, TrialResult? b)
        {
            if (ReferenceEquals(a, b)) return 0;
            if (a is null) return 1;
            if (b is null) return -1;
            int ga = Group(a), gb = Group(b);
            if (ga != gb) return ga.CompareTo(gb);
            if (ga == 0)
            {
                int c = goal == SearchGoal.Minimize ? a.Score.CompareTo(b.Score) : b.Score.CompareTo(a.Score);
                if (c != 0) return c;
            }
            return a.Trial.Id.CompareTo(b.Trial.Id);
        }

        private static int Group(TrialResult r) => r.Status switch
        {
            TrialStatus.Completed => double.IsFinite(r.Score) ? 0 : 1,
            TrialStatus.Aborted => 2,
            _ => 3,
        };
    }
}
