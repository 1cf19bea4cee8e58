using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Reports;

namespace Kiln.Training;

/// <summary>
/// Writes <see cref="TrainerOptions.RunDirectory"/> (layout in docs/training.md): step rows are formatted as UTF-8
/// into preallocated buffers and written when a buffer fills and at every epoch end, so recording a step allocates
/// nothing; epoch rows, checkpoints, the summary and the report are written at epoch and run ends.
/// </summary>
internal sealed class RunDirectoryWriter : ITrainingObserver, IDisposable
{
    public const string StepsCsv = "metrics.csv";
    public const string EpochsCsv = "epochs.csv";
    public const string MetricsJsonLines = "metrics.jsonl";
    public const string MetricsJson = "metrics.json";
    public const string BestCheckpoint = "best.safetensors";
    public const string LastCheckpoint = "last.safetensors";
    public const string SummaryJson = "summary.json";
    public const string ReportHtml = "report.html";

    public const string StepsHeader = "step,epoch,loss,learning_rate,elapsed_seconds";
    public const string EpochsHeader =
        "epoch,steps,samples,train_loss,train_accuracy,train_eval_loss,validation_loss,validation_accuracy,learning_rate,seconds,train_seconds,samples_per_second,best";

    private readonly string _dir;
    private readonly TrainerOptions _options;
    private readonly TrainingReportRecorder _recorder;
    private readonly MetricTracker _best;
    private readonly Utf8Rows _csvRows = new(), _jsonRows = new();
    private FileStream? _csv, _epochs, _json;
    private long _start;

    /// <param name="directory">The run directory.</param>
    /// <param name="model">The model trained.</param>
    /// <param name="train">Training data; its first samples are the report's probe batch.</param>
    /// <param name="validatedEveryEpoch">A validation set is evaluated after every epoch.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="stepCapacity">Steps the run can take (buffers for the report).</param>
    public RunDirectoryWriter(string directory, IKilnModel model, Dataset train, bool validatedEveryEpoch, TrainerOptions options, long stepCapacity)
    {
        _dir = Path.GetFullPath(directory);
        _options = options;
        int probe = Math.Min(Math.Min(options.ProbeSamples, model.MaxBatch), train.Count);
        _recorder = new TrainingReportRecorder(train.Features.AsSpan(0, probe * train.FeatureCount), train.Labels.AsSpan(0, probe),
            stepCapacity, options.UpdateRatioEverySteps);
        // best.safetensors follows early stopping's metric; without it, validation accuracy (docs/techniques.md#regularisation) or the training loss.
        TrainingMetric metric = options.EarlyStopping?.Metric
            ?? (validatedEveryEpoch ? TrainingMetric.ValidationAccuracy : TrainingMetric.TrainLoss);
        MetricMode mode = options.EarlyStopping?.EffectiveMode ?? (metric == TrainingMetric.ValidationAccuracy ? MetricMode.Max : MetricMode.Min);
        _best = new MetricTracker(metric, mode, options.EarlyStopping?.MinDelta ?? 0);
    }

    public string Name => "run directory";

    public void OnRunStart(IKilnModel model, TrainerOptions options)
    {
        Directory.CreateDirectory(_dir);
        foreach (string stale in Directory.GetFiles(_dir, "epoch-*.safetensors")) File.Delete(stale);
        foreach (string name in new[] { BestCheckpoint, LastCheckpoint, SummaryJson, ReportHtml, MetricsJson })
            if (File.Exists(Path.Combine(_dir, name))) File.Delete(Path.Combine(_dir, name));
        _csv = Create(StepsCsv, StepsHeader + "\n");
        _epochs = Create(EpochsCsv, EpochsHeader + "\n");
        _json = Create(MetricsJsonLines, "");
        _start = Stopwatch.GetTimestamp();
        _recorder.OnRunStart(model, options);
    }

    public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
    {
        _recorder.OnStep(model, step);
        double elapsed = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        _csvRows.Int(step.Step).Raw(","u8).Int(step.Epoch).Raw(","u8).Float(step.Loss, json: false).Raw(","u8)
            .Float(step.LearningRate, json: false).Raw(","u8).Seconds(elapsed).Raw("\n"u8);
        _jsonRows.Raw("{\"kind\":\"step\",\"step\":"u8).Int(step.Step).Raw(",\"epoch\":"u8).Int(step.Epoch)
            .Raw(",\"loss\":"u8).Float(step.Loss, json: true).Raw(",\"learning_rate\":"u8).Float(step.LearningRate, json: true)
            .Raw(",\"elapsed_seconds\":"u8).Seconds(elapsed).Raw("}\n"u8);
        if (_csvRows.NearlyFull) _csvRows.WriteTo(_csv!);
        if (_jsonRows.NearlyFull) _jsonRows.WriteTo(_json!);
        return ObserverVerdict.Continue;
    }

    public ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics m)
    {
        _csvRows.WriteTo(_csv!);
        bool improved = _best.Observe(m);
        var inv = CultureInfo.InvariantCulture;
        string csv = string.Join(",",
            m.Epoch.ToString(inv), m.Batches.ToString(inv), m.Samples.ToString(inv), Csv(m.TrainLoss), Csv(m.TrainAccuracy), Csv(m.TrainEvalLoss),
            Csv(m.ValidationLoss), Csv(m.ValidationAccuracy), m.LearningRate.ToString("R", inv), Csv(m.Seconds), Csv(m.TrainSeconds),
            Csv(m.SamplesPerSecond), improved ? "1" : "0") + "\n";
        _epochs!.Write(Encoding.UTF8.GetBytes(csv));
        string json = "{\"kind\":\"epoch\"," + string.Join(",",
            $"\"epoch\":{m.Epoch.ToString(inv)}", $"\"steps\":{m.Batches.ToString(inv)}", $"\"samples\":{m.Samples.ToString(inv)}",
            $"\"train_loss\":{Json(m.TrainLoss)}", $"\"train_accuracy\":{Json(m.TrainAccuracy)}", $"\"train_eval_loss\":{Json(m.TrainEvalLoss)}",
            $"\"validation_loss\":{Json(m.ValidationLoss)}", $"\"validation_accuracy\":{Json(m.ValidationAccuracy)}",
            $"\"learning_rate\":{m.LearningRate.ToString("R", inv)}", $"\"seconds\":{Json(m.Seconds)}", $"\"train_seconds\":{Json(m.TrainSeconds)}",
            $"\"samples_per_second\":{Json(m.SamplesPerSecond)}", $"\"best\":{(improved ? "true" : "false")}") + "}\n";
        _jsonRows.WriteTo(_json!);
        _json!.Write(Encoding.UTF8.GetBytes(json));
        _csv!.Flush();
        _epochs.Flush();
        _json.Flush();

        // A diverged epoch's mean loss is NaN, or its tensors are: its state is never saved (Checkpoint.Save would refuse it),
        // so last.safetensors stays the last good one.
        if (DataGuard.FindNonFinite(model) is not null) return ObserverVerdict.Continue;
        if (double.IsFinite(m.TrainLoss))
        {
            Save(model, LastCheckpoint, m.Epoch);
            if (_options.CheckpointEveryEpochs > 0 && m.Epoch % _options.CheckpointEveryEpochs == 0)
                Save(model, string.Create(inv, $"epoch-{m.Epoch:D4}.safetensors"), m.Epoch);
        }
        if (improved) Save(model, BestCheckpoint, m.Epoch);
        return ObserverVerdict.Continue;
    }

    public void OnRunEnd(IKilnModel model, RunSummary summary)
    {
        // After a divergence the trainer has put back the last finite state: keep it as the last checkpoint.
        if (summary.StopReason == StopReason.Diverged && summary.RestoredState is not null && DataGuard.FindNonFinite(model) is null)
            Save(model, LastCheckpoint, summary.History.Count);
        Dispose();
        summary.WriteJson(Path.Combine(_dir, SummaryJson));
        WriteMetricsJson(summary);
        _recorder.OnRunEnd(model, summary);
        TrainingReport report = _recorder.BuildReport(_options.ReportFindings?.Invoke(), note: _dir);
        HtmlReport.Write(Path.Combine(_dir, ReportHtml), report);
    }

    /// <summary>Writes what is buffered and closes the files (idempotent).</summary>
    public void Dispose()
    {
        if (_csv is not null) { _csvRows.WriteTo(_csv); _csv.Dispose(); _csv = null; }
        if (_json is not null) { _jsonRows.WriteTo(_json); _json.Dispose(); _json = null; }
        _epochs?.Dispose();
        _epochs = null;
    }

    /// <summary>metrics.json: the steps and epochs of metrics.jsonl as one document, written once at the end.</summary>
    private void WriteMetricsJson(RunSummary summary)
    {
        using var stream = new FileStream(Path.Combine(_dir, MetricsJson), FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        using var json = new System.Text.Json.Utf8JsonWriter(stream, new System.Text.Json.JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteString("model_name", summary.ModelName);
        json.WriteString("stop_reason", summary.StopReason.ToString());
        json.WriteStartArray("steps");
        foreach (StepRecord step in _recorder.Steps)
        {
            json.WriteStartObject();
            json.WriteNumber("step", step.Step);
            json.WriteNumber("epoch", step.Epoch);
            Number(json, "loss", step.Loss);
            json.WriteNumber("learning_rate", step.LearningRate);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("epochs");
        foreach (EpochMetrics m in summary.History)
        {
            json.WriteStartObject();
            json.WriteNumber("epoch", m.Epoch);
            json.WriteNumber("steps", m.Batches);
            json.WriteNumber("samples", m.Samples);
            Number(json, "train_loss", m.TrainLoss);
            Number(json, "train_accuracy", m.TrainAccuracy);
            Number(json, "train_eval_loss", m.TrainEvalLoss);
            Number(json, "validation_loss", m.ValidationLoss);
            Number(json, "validation_accuracy", m.ValidationAccuracy);
            json.WriteNumber("learning_rate", m.LearningRate);
            Number(json, "seconds", m.Seconds);
            Number(json, "train_seconds", m.TrainSeconds);
            Number(json, "samples_per_second", m.SamplesPerSecond);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();

        static void Number(System.Text.Json.Utf8JsonWriter json, string name, double? value)
        {
            if (value is not double v) json.WriteNull(name);
            else if (double.IsFinite(v)) json.WriteNumber(name, v);
            else json.WriteString(name, v.ToString(CultureInfo.InvariantCulture));   // "NaN", "Infinity", as in summary.json
        }
    }

    private FileStream Create(string name, string header)
    {
        var stream = new FileStream(Path.Combine(_dir, name), FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        stream.Write(Encoding.UTF8.GetBytes(header));
        return stream;
    }

    private void Save(IKilnModel model, string name, int epoch)
    {
        var meta = new CheckpointMetadata();
        meta.Entries["epoch"] = epoch.ToString(CultureInfo.InvariantCulture);
        meta.Entries["best_metric"] = MetricTracker.Name(_best.Metric);
        if (_best.BestValue is double v) meta.Entries["best_value"] = v.ToString("R", CultureInfo.InvariantCulture);
        Checkpoint.Save(model, Path.Combine(_dir, name), meta);
    }

    private static string Csv(double? v) => v is double x ? x.ToString("R", CultureInfo.InvariantCulture) : "";

    // Named literals in quotes, as RunSummary's JSON writes them (plain JSON has no NaN).
    private static string Json(double? v) => v is not double x ? "null"
        : double.IsFinite(x) ? x.ToString("R", CultureInfo.InvariantCulture) : "\"" + x.ToString(CultureInfo.InvariantCulture) + "\"";

    /// <summary>A byte buffer of UTF-8 rows, formatted without allocating.</summary>
    private sealed class Utf8Rows
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _length;

        /// <summary>Less room left than the longest row needs.</summary>
        public bool NearlyFull => _length > _buffer.Length - 512;

        public Utf8Rows Raw(ReadOnlySpan<byte> text)
        {
            text.CopyTo(_buffer.AsSpan(_length));
            _length += text.Length;
            return this;
        }

        public Utf8Rows Int(long value)
        {
            value.TryFormat(_buffer.AsSpan(_length), out int n, default, CultureInfo.InvariantCulture);
            _length += n;
            return this;
        }

        public Utf8Rows Float(float value, bool json)
        {
            if (json && !float.IsFinite(value))
                return Raw(float.IsNaN(value) ? "\"NaN\""u8 : value > 0 ? "\"Infinity\""u8 : "\"-Infinity\""u8);
            if (!float.IsFinite(value)) return Raw(float.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8);
            value.TryFormat(_buffer.AsSpan(_length), out int n, default, CultureInfo.InvariantCulture);  // shortest round-trip
            _length += n;
            return this;
        }

        public Utf8Rows Seconds(double value)
        {
            value.TryFormat(_buffer.AsSpan(_length), out int n, "F4", CultureInfo.InvariantCulture);
            _length += n;
            return this;
        }

        public void WriteTo(Stream stream)
        {
            stream.Write(_buffer, 0, _length);
            _length = 0;
        }
    }
}
