using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using Kiln.Tuning;

namespace Kiln.Orleans;

/// <summary>
/// A trial result without its trial, as JSON, with every number written as its shortest round-trip text ("R"), so the
/// score, metrics and seconds come back bit for bit (NaN and infinities included) through any grain storage.
/// </summary>
internal static class TrialResultJson
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Write(TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("trial", result.Trial.Id);
            json.WriteString("status", result.Status.ToString());
            json.WriteString("score", result.Score.ToString("R", Inv));
            json.WriteStartArray("metrics");
            foreach (KeyValuePair<string, double> m in result.Metrics)
            {
                json.WriteStartArray();
                json.WriteStringValue(m.Key);
                json.WriteStringValue(m.Value.ToString("R", Inv));
                json.WriteEndArray();
            }
            json.WriteEndArray();
            if (result.Note is not null) json.WriteString("note", result.Note);
            json.WriteString("seconds", result.Seconds.ToString("R", Inv));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads a result written by <see cref="Write"/> for <paramref name="trial"/>.</summary>
    public static TrialResult Read(string text, Trial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        using JsonDocument doc = JsonDocument.Parse(text);
        JsonElement root = doc.RootElement;
        int id = root.GetProperty("trial").GetInt32();
        if (id != trial.Id) throw new InvalidDataException($"The stored result belongs to trial {id}, not to trial {trial.Id}.");
        var metrics = new List<KeyValuePair<string, double>>();
        foreach (JsonElement m in root.GetProperty("metrics").EnumerateArray())
            metrics.Add(new(m[0].GetString() ?? "", Number(m[1])));
        return new TrialResult
        {
            Trial = trial,
            Status = Enum.Parse<TrialStatus>(root.GetProperty("status").GetString() ?? ""),
            Score = Number(root.GetProperty("score")),
            Metrics = metrics.ToArray(),
            Note = root.TryGetProperty("note", out JsonElement note) ? note.GetString() : null,
            Seconds = Number(root.GetProperty("seconds")),
        };
    }

    private static double Number(JsonElement e) => double.Parse(e.GetString() ?? "", NumberStyles.Float, Inv);
}
