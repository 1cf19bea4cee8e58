using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Kiln.Doctor;
using Kiln.Training;

namespace Kiln.Reports;

/// <summary>
/// Writes a training report as one self-contained HTML page: inline CSS and inline SVG charts, no scripts, no
/// external fonts, images or style sheets, so it opens offline and can be attached to a CI run. The page is also
/// well-formed XML. Sections: summary, findings, loss per step (raw and moving average), loss and accuracy per
/// epoch (train vs validation), learning rate, update/weight ratio per trainable tensor, per-layer activation
/// mean/std and histograms at the start and the end, and the epoch table.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const int WideChart = 1090;

    /// <summary>The page's title for a model.</summary>
    public static string Title(string modelName) => "Training report: " + modelName;

    /// <summary>Renders the report.</summary>
    public static string Render(TrainingReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        RunSummary s = report.Summary;
        var sb = new StringBuilder(64 * 1024);
        sb.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        sb.Append("<title>").Append(Html.Escape(Title(s.ModelName))).Append("</title>\n");
        sb.Append("<style>").Append(Css).Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(Html.Escape(Title(s.ModelName))).Append("</h1>\n");
        if (!string.IsNullOrEmpty(report.Note)) sb.Append("<p class=\"note\">").Append(Html.Escape(report.Note)).Append("</p>\n");

        AppendSummary(sb, s);
        AppendFindings(sb, report.Findings);
        AppendCurves(sb, report);
        AppendUpdateRatios(sb, report.UpdateRatios);
        AppendActivations(sb, report.Activations);
        AppendEpochTable(sb, s);
        sb.Append("<footer>Written by Kiln ").Append(Html.Escape(typeof(HtmlReport).Assembly.GetName().Version?.ToString() ?? ""))
          .Append(" at ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", Inv)).Append(" UTC.</footer>\n");
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="Render"/> to <paramref name="path"/> (UTF-8), creating its directory.</summary>
    public static void Write(string path, TrainingReport report)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, Render(report), new UTF8Encoding(false));
    }

    /// <summary>Trailing moving average over <paramref name="window"/> values, skipping non-finite ones (NaN until one finite value is seen).</summary>
    public static double[] MovingAverage(IReadOnlyList<double> values, int window)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var result = new double[values.Count];
        double sum = 0;
        int count = 0;
        for (int i = 0; i < values.Count; i++)
        {
            if (double.IsFinite(values[i])) { sum += values[i]; count++; }
            int drop = i - window;
            if (drop >= 0 && double.IsFinite(values[drop])) { sum -= values[drop]; count--; }
            result[i] = count > 0 ? sum / count : double.NaN;
        }
        return result;
    }

    /// <summary>The moving-average window the report uses for <paramref name="steps"/> steps: about 1/25 of the run, 1 to 200.</summary>
    public static int WindowFor(int steps) => Math.Clamp(steps / 25, 1, 200);

    private static void AppendSummary(StringBuilder sb, RunSummary s)
    {
        sb.Append("<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"kv\">\n");
        Row(sb, "model", $"{s.ModelName} (ISA {s.Isa})");
        Row(sb, "training data", $"{s.TrainDataset}, {s.TrainSamples:N0} samples, batch {s.BatchSize}, shuffle seed {s.Seed}");
        if (s.ValidationDataset is not null) Row(sb, "validation data", $"{s.ValidationDataset}, {s.ValidationSamples:N0} samples");
        Row(sb, "epochs", $"{s.History.Count} of {s.EpochsRequested} requested");
        string stop = s.StopReason.ToString();
        if (s.StoppedBy is not null) stop += " by " + s.StoppedBy;
        if (s.StopMessage is not null) stop += ": " + s.StopMessage;
        Row(sb, "ended", stop, s.StopReason is StopReason.Diverged ? "bad" : null);
        if (s.BestEpoch is int best) Row(sb, "best epoch", string.Create(Inv, $"{best} ({MetricName(s.BestMetric)} {s.BestValue:G6})"));
        if (s.RestoredState is not null) Row(sb, "model holds", s.RestoredState);
        Row(sb, "learning rate", string.Create(Inv, $"base {s.BaseLearningRate:G4}{(s.Schedule.Length > 0 ? " × " + s.Schedule : "")}; last {s.LearningRate:G4}"));
        Row(sb, "final train loss", Num(s.FinalTrainLoss));
        if (s.FinalValidationLoss is { } vl) Row(sb, "final validation", $"loss {Num(vl)}, accuracy {Pct(s.FinalValidationAccuracy)}");
        Row(sb, "time", string.Create(Inv, $"{s.TotalSeconds:F1} s in all, {s.TrainSeconds:F1} s in training steps ({s.SamplesPerSecond:N0} samples/s)"));
        sb.Append("</table>\n</section>\n");
    }

    private static void AppendFindings(StringBuilder sb, IReadOnlyList<Finding> findings)
    {
        sb.Append("<section id=\"findings\">\n<h2>Findings</h2>\n");
        if (findings.Count == 0)
        {
            sb.Append("<p class=\"muted\">No findings were reported for this run.</p>\n</section>\n");
            return;
        }
        sb.Append("<ul class=\"findings\">\n");
        // Most serious first, keeping the given order within a severity.
        for (int level = (int)Severity.Error; level >= (int)Severity.Info; level--)
            foreach (Finding f in findings)
            {
                if ((int)f.Severity != level) continue;
                string cls = f.Severity.ToString().ToLowerInvariant();
                sb.Append("<li class=\"finding ").Append(cls).Append("\"><span class=\"badge\">").Append(cls).Append("</span> <strong>")
                  .Append(Html.Escape(f.Code)).Append("</strong>");
                if (!string.IsNullOrEmpty(f.Layer)) sb.Append(" <code>").Append(Html.Escape(f.Layer)).Append("</code>");
                sb.Append("<p>").Append(Html.Escape(f.Message)).Append("</p>");
                if (!string.IsNullOrEmpty(f.Fix)) sb.Append("<p class=\"fix\">Fix: ").Append(Html.Escape(f.Fix)).Append("</p>");
                sb.Append("</li>\n");
            }
        sb.Append("</ul>\n</section>\n");
    }

    private static void AppendCurves(StringBuilder sb, TrainingReport report)
    {
        RunSummary s = report.Summary;
        sb.Append("<section id=\"curves\">\n<h2>Curves</h2>\n<div class=\"grid\">\n");

        int n = report.Steps.Count;
        var stepX = new double[n];
        var loss = new double[n];
        var rate = new double[n];
        for (int i = 0; i < n; i++)
        {
            stepX[i] = report.Steps[i].Step;
            loss[i] = report.Steps[i].Loss;
            rate[i] = report.Steps[i].LearningRate;
        }
        int window = WindowFor(n);
        Figure(sb, new LineChart("Training loss per step", "step", "loss",
        [
            new ChartLine("raw", stepX, loss, SvgChart.Palette[0]) { StrokeWidth = 1, Opacity = 0.35 },
            new ChartLine($"moving average ({window} steps)", stepX, MovingAverage(loss, window), SvgChart.Palette[0]) { StrokeWidth = 2.2 },
        ]) { LogY = WantsLog(loss) });

        int e = s.History.Count;
        var epochX = new double[e];
        double[] trainLoss = new double[e], valLoss = new double[e], trainEval = new double[e], trainAcc = new double[e], valAcc = new double[e];
        bool anyTrainAcc = false, anyValAcc = false, anyTrainEval = false, anyValLoss = false;
        for (int i = 0; i < e; i++)
        {
            EpochMetrics m = s.History[i];
            epochX[i] = m.Epoch;
            trainLoss[i] = m.TrainLoss;
            valLoss[i] = m.ValidationLoss ?? double.NaN;
            trainEval[i] = m.TrainEvalLoss ?? double.NaN;
            trainAcc[i] = m.TrainAccuracy ?? double.NaN;
            valAcc[i] = m.ValidationAccuracy ?? double.NaN;
            anyTrainAcc |= m.TrainAccuracy is not null;
            anyValAcc |= m.ValidationAccuracy is not null;
            anyTrainEval |= m.TrainEvalLoss is not null;
            anyValLoss |= m.ValidationLoss is not null;
        }
        var lossLines = new List<ChartLine> { new("train (training mode, mean of steps)", epochX, trainLoss, SvgChart.Palette[0]) { Markers = true } };
        if (anyTrainEval) lossLines.Add(new ChartLine("train (eval mode, subset)", epochX, trainEval, SvgChart.Palette[0]) { Markers = true, Dashed = true });
        if (anyValLoss) lossLines.Add(new ChartLine("validation", epochX, valLoss, SvgChart.Palette[1]) { Markers = true });
        ChartMarker[] best = s.BestEpoch is int b ? [new ChartMarker(b, "best")] : [];
        Figure(sb, new LineChart("Loss per epoch", "epoch", "loss", lossLines) { IntegerX = true, Markers = best });

        var accLines = new List<ChartLine>();
        if (anyTrainAcc) accLines.Add(new ChartLine("train", epochX, Percent(trainAcc), SvgChart.Palette[0]) { Markers = true });
        if (anyValAcc) accLines.Add(new ChartLine("validation", epochX, Percent(valAcc), SvgChart.Palette[1]) { Markers = true });
        string? accNote = anyTrainAcc ? null : "Training accuracy was not measured (set TrainerOptions.TrainAccuracySamples).";
        Figure(sb, new LineChart("Accuracy per epoch", "epoch", "accuracy (%)", accLines) { IntegerX = true, Markers = best }, accNote);

        Figure(sb, new LineChart("Learning rate", "step", "learning rate", [new ChartLine("learning rate", stepX, rate, SvgChart.Palette[4])]));
        sb.Append("</div>\n</section>\n");
    }

    private static void AppendUpdateRatios(StringBuilder sb, IReadOnlyList<UpdateRatioSeries> ratios)
    {
        sb.Append("<section id=\"update-ratios\">\n<h2>Update/weight ratio</h2>\n");
        sb.Append("<p class=\"muted\">‖Δw‖/‖w‖ of each trainable tensor for the update of the sampled step. About 1e-3 is healthy; far below, the layer barely learns (learning rate too low); far above, the updates are too large.</p>\n");
        var lines = new List<ChartLine>();
        for (int i = 0; i < ratios.Count; i++)
        {
            var x = new double[ratios[i].Steps.Length];
            for (int k = 0; k < x.Length; k++) x[k] = ratios[i].Steps[k];
            lines.Add(new ChartLine(ratios[i].Tensor, x, ratios[i].Ratios, SvgChart.Palette[i % SvgChart.Palette.Length]) { Dashed = i >= SvgChart.Palette.Length });
        }
        Figure(sb, new LineChart("Update/weight ratio per tensor", "step", "‖Δw‖ / ‖w‖", lines)
        {
            LogY = true,
            Width = WideChart,
            Height = 360,
            Bands = [new ChartBand(1e-4, 1e-2, "#59a14f", "healthy range 1e-4 … 1e-2")],
        });
        sb.Append("</section>\n");
    }

    private static void AppendActivations(StringBuilder sb, IReadOnlyList<ActivationProbe> probes)
    {
        sb.Append("<section id=\"activations\">\n<h2>Layer outputs</h2>\n");
        if (probes.Count == 0)
        {
            sb.Append("<p class=\"muted\">No layer outputs were probed (the model lists no layers, or the probe was turned off).</p>\n</section>\n");
            return;
        }
        sb.Append(Inv, $"<p class=\"muted\">Outputs of every layer for a fixed batch of training samples (training mode), at the start and the end of the run, as in the initialisation experiments (docs/techniques.md#gradient-checking): a standard deviation shrinking towards 0 layer after layer means collapsing activations, a pile-up at the ends of the range means saturation. Bar heights are square-root scaled.</p>\n");

        if (probes[0].OverwrittenInPlace.Count > 0)
            sb.Append("<p class=\"muted\">Not shown, because the next layer computes in place in their output buffer so their own output is not kept: ")
              .Append(Html.Escape(string.Join(", ", probes[0].OverwrittenInPlace))).Append(".</p>\n");

        // Mean and standard deviation per layer, one line per probe.
        var lines = new List<ChartLine>();
        for (int p = 0; p < probes.Count; p++)
        {
            IReadOnlyList<LayerActivationStats> layers = probes[p].Layers;
            var x = new double[layers.Count];
            var mean = new double[layers.Count];
            var std = new double[layers.Count];
            for (int i = 0; i < layers.Count; i++) { x[i] = i + 1; mean[i] = layers[i].Mean; std[i] = layers[i].Std; }
            string color = SvgChart.Palette[p % SvgChart.Palette.Length];
            lines.Add(new ChartLine($"std ({probes[p].Label}, step {probes[p].Step})", x, std, color) { Markers = true });
            lines.Add(new ChartLine($"mean ({probes[p].Label})", x, mean, color) { Markers = true, Dashed = true });
        }
        Figure(sb, new LineChart("Layer output mean and standard deviation", "layer (forward order, see the table)", "value", lines) { Width = WideChart, IntegerX = true });

        sb.Append("<table class=\"layers\">\n<thead><tr><th>#</th><th>layer</th>");
        foreach (ActivationProbe p in probes) sb.Append("<th>").Append(Html.Escape(p.Label)).Append(Inv, $" (step {p.Step})</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        int rows = 0;
        foreach (ActivationProbe p in probes) rows = Math.Max(rows, p.Layers.Count);
        for (int i = 0; i < rows; i++)
        {
            LayerActivationStats? first = null;
            foreach (ActivationProbe p in probes) if (i < p.Layers.Count) { first = p.Layers[i]; break; }
            sb.Append(Inv, $"<tr><td>{i + 1}</td><td><code>{Html.Escape(first!.Layer)}</code><br/><span class=\"muted\">{Html.Escape(first.Kind)}</span></td>");
            for (int k = 0; k < probes.Count; k++)
            {
                sb.Append("<td>");
                if (i < probes[k].Layers.Count)
                {
                    LayerActivationStats a = probes[k].Layers[i];
                    string subtitle = string.Create(Inv, $"mean {a.Mean:G3}, std {a.Std:G3}, zeros {a.ZeroFraction * 100:F0}%")
                        + (a.NonFinite > 0 ? string.Create(Inv, $", {a.NonFinite} non-finite") : "");
                    sb.Append(SvgChart.Histogram($"{a.Layer} ({probes[k].Label})", subtitle, a.HistogramMin, a.HistogramMax, a.Histogram,
                        SvgChart.Palette[k % SvgChart.Palette.Length]));
                }
                sb.Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void AppendEpochTable(StringBuilder sb, RunSummary s)
    {
        sb.Append("<section id=\"epochs\">\n<h2>Epochs</h2>\n<table class=\"epochs\">\n<thead><tr>");
        foreach (string h in new[] { "epoch", "steps", "train loss", "train acc", "val loss", "val acc", "lr", "seconds", "samples/s" })
            sb.Append("<th>").Append(h).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (EpochMetrics m in s.History)
        {
            string cls = m.Epoch == s.BestEpoch ? " class=\"best\"" : "";
            sb.Append(Inv, $"<tr{cls}><td>{m.Epoch}</td><td>{m.Batches}</td><td>{Num(m.TrainLoss)}</td><td>{Pct(m.TrainAccuracy)}</td><td>{Num(m.ValidationLoss)}</td><td>{Pct(m.ValidationAccuracy)}</td><td>{m.LearningRate:G4}</td><td>{m.Seconds:F2}</td><td>{m.SamplesPerSecond:N0}</td></tr>\n");
        }
        sb.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void Figure(StringBuilder sb, LineChart chart, string? caption = null)
    {
        sb.Append("<figure>").Append(SvgChart.Render(chart));
        if (caption is not null) sb.Append("<figcaption>").Append(Html.Escape(caption)).Append("</figcaption>");
        sb.Append("</figure>\n");
    }

    private static void Row(StringBuilder sb, string key, string value, string? cls = null) =>
        sb.Append("<tr><th>").Append(Html.Escape(key)).Append("</th><td").Append(cls is null ? "" : " class=\"" + cls + "\"").Append('>')
          .Append(Html.Escape(value)).Append("</td></tr>\n");

    /// <summary>A log axis when every finite value is positive and they span more than a factor of 30.</summary>
    private static bool WantsLog(double[] values)
    {
        double lo = double.PositiveInfinity, hi = 0;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            if (v <= 0) return false;
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        return hi > 0 && hi / lo > 30;
    }

    private static double[] Percent(double[] values)
    {
        var r = new double[values.Length];
        for (int i = 0; i < r.Length; i++) r[i] = values[i] * 100;
        return r;
    }

    private static string MetricName(TrainingMetric? metric) => metric is { } m ? MetricTracker.Name(m) : "";
    private static string Num(double? v) => v is { } x ? (double.IsFinite(x) ? x.ToString("F4", Inv) : x.ToString(Inv)) : "–";
    private static string Pct(double? v) => v is { } x ? (x * 100).ToString("F2", Inv) + "%" : "–";

    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI","DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;background:#f7f7f5;margin:0 auto;padding:18px 28px;max-width:1200px}
        h1{font-size:22px;margin:4px 0 10px}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:6px 16px 12px;margin-bottom:14px}
        .note,.muted{color:#666;font-size:13px}code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
        table{border-collapse:collapse;font-size:13px}th,td{padding:3px 10px;text-align:left;vertical-align:top}
        table.kv th{color:#555;font-weight:600;white-space:nowrap}td.bad{color:#b3261e;font-weight:600}
        table.epochs td,table.epochs th{text-align:right;border-bottom:1px solid #eee}tr.best{background:#eef6e8}
        table.layers td{border-bottom:1px solid #eee}
        .grid{display:flex;flex-wrap:wrap;gap:10px}figure{margin:6px 0}figcaption{font-size:12px;color:#777;max-width:560px}
        ul.findings{list-style:none;padding:0;margin:0}li.finding{border-left:4px solid #999;padding:4px 10px;margin:8px 0;background:#fafafa}
        li.finding p{margin:3px 0;font-size:13.5px}li.error{border-color:#d93025}li.warning{border-color:#f29900}li.info{border-color:#4e79a7}
        .badge{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#fff;background:#999;border-radius:3px;padding:1px 5px}
        li.error .badge{background:#d93025}li.warning .badge{background:#e08600}li.info .badge{background:#4e79a7}.fix{color:#1a5e20}
        footer{color:#888;font-size:12px;margin:10px 0 30px}
        """;
}
