using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using Kiln.Data;
using Kiln.Reports;
using Kiln.Runtime.Tests;

namespace Kiln.Training.Tests;

/// <summary>The report's SVG charts, its recorder (update ratios, activation probes) and the HTML page.</summary>
public class ReportTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";

    private static DataSplit StandardisedDigits()
    {
        DataSplit s = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(s.Train);
        return new DataSplit(st.Transform(s.Train), st.Transform(s.Test));
    }

    private static double[] Seq(int n, Func<int, double> f) => Enumerable.Range(0, n).Select(f).ToArray();

    private static List<(double X, double Y)> Points(XElement polyline) =>
        polyline.Attribute("points")!.Value.Split(' ').Select(p =>
        {
            string[] xy = p.Split(',');
            return (double.Parse(xy[0], CultureInfo.InvariantCulture), double.Parse(xy[1], CultureInfo.InvariantCulture));
        }).ToList();

    // ------------------------------------------------------------------ charts

    [Fact]
    public void Line_chart_is_well_formed_with_axes_ticks_labels_and_legend()
    {
        var chart = new LineChart("Loss & <friends>", "step", "loss",
        [
            new ChartLine("raw \"loss\"", Seq(300, i => i), Seq(300, i => 2.3 * Math.Exp(-i / 80.0)), "#123456"),
            new ChartLine("second", Seq(300, i => i), Seq(300, i => 1.0), "#654321") { Dashed = true },
        ]);
        XElement svg = XElement.Parse(SvgChart.Render(chart));
        Assert.Equal(Svg + "svg", svg.Name);
        Assert.Equal("Loss & <friends>", svg.Element(Svg + "title")!.Value);
        XElement[] lines = svg.Descendants(Svg + "polyline").ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Equal(300, Points(lines[0]).Count);
        Assert.Equal("6 4", lines[1].Attribute("stroke-dasharray")!.Value);
        string[] texts = svg.Descendants(Svg + "text").Select(t => t.Value).ToArray();
        Assert.Contains("Loss & <friends>", texts);
        Assert.Contains("raw \"loss\"", texts);
        Assert.Contains("step", texts);
        Assert.Contains("loss", texts);
        Assert.Contains("0", texts);        // a tick at 0 on both axes
        Assert.Contains("100", texts);

        // Inside the plot frame, and decreasing data go down the page.
        XElement frame = svg.Elements(Svg + "rect").Single(r => (string?)r.Attribute("fill") == "none");
        double fx = double.Parse(frame.Attribute("x")!.Value, CultureInfo.InvariantCulture), fy = double.Parse(frame.Attribute("y")!.Value, CultureInfo.InvariantCulture);
        double fw = double.Parse(frame.Attribute("width")!.Value, CultureInfo.InvariantCulture), fh = double.Parse(frame.Attribute("height")!.Value, CultureInfo.InvariantCulture);
        foreach ((double x, double y) in lines.SelectMany(Points))
        {
            Assert.InRange(x, fx - 0.01, fx + fw + 0.01);
            Assert.InRange(y, fy - 0.01, fy + fh + 0.01);
        }
        List<(double X, double Y)> first = Points(lines[0]);
        Assert.True(first[^1].Y > first[0].Y);
        Assert.True(first[^1].X > first[0].X);
    }

    [Fact]
    public void Control_characters_and_markup_in_names_keep_the_svg_well_formed()
    {
        string svg = SvgChart.Render(new LineChart("bell\u0007 & <tag> 'q'", "x\u0001", "y", [new ChartLine("a\u001fb", [1.0, 2.0], [1.0, 2.0], "#000")]));
        XElement root = XElement.Parse(svg);
        Assert.Equal("bell & <tag> 'q'", root.Element(Svg + "title")!.Value);
        Assert.Contains(root.Descendants(Svg + "text"), t => t.Value == "ab");
    }

    [Fact]
    public void Non_finite_values_break_the_line_and_lone_points_become_dots()
    {
        double[] y = [1, 2, double.NaN, 3, 4, 5, double.PositiveInfinity, 6, double.NegativeInfinity, 7, 8];
        XElement svg = XElement.Parse(SvgChart.Render(new LineChart("t", "x", "y", [new ChartLine("s", Seq(y.Length, i => i), y, "#000")])));
        Assert.Equal(new[] { 2, 3, 2 }, svg.Descendants(Svg + "polyline").Select(p => Points(p).Count).ToArray());
        Assert.Single(svg.Descendants(Svg + "circle"));      // the 6 between ∞ and −∞
        string text = svg.ToString();
        Assert.DoesNotContain("NaN", text);
        Assert.DoesNotContain("Infinity", text);
    }

    [Fact]
    public void Single_point_constant_empty_and_all_nan_series_still_render()
    {
        XElement one = XElement.Parse(SvgChart.Render(new LineChart("one", "x", "y", [new ChartLine("s", [3.0], [0.25], "#000")])));
        XElement dot = one.Descendants(Svg + "circle").Single();
        Assert.True(double.IsFinite(double.Parse(dot.Attribute("cx")!.Value, CultureInfo.InvariantCulture)));
        Assert.Contains(one.Descendants(Svg + "text"), t => t.Value is "3" or "3.0");   // the x axis is centred on the point

        XElement constant = XElement.Parse(SvgChart.Render(new LineChart("c", "x", "y", [new ChartLine("s", Seq(5, i => i), Seq(5, _ => 2.0), "#000")])));
        Assert.Equal(5, Points(constant.Descendants(Svg + "polyline").Single()).Count);

        foreach (LineChart empty in new[]
        {
            new LineChart("e", "x", "y", []),
            new LineChart("n", "x", "y", [new ChartLine("s", [1.0, 2.0], [double.NaN, double.NaN], "#000")]),
            new LineChart("l", "x", "y", [new ChartLine("s", [1.0, 2.0], [0.0, -1.0], "#000")]) { LogY = true },
        })
        {
            XElement svg = XElement.Parse(SvgChart.Render(empty));
            Assert.Empty(svg.Descendants(Svg + "polyline"));
            Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "no data");
        }
        Assert.Throws<ArgumentException>(() => SvgChart.Render(new LineChart("bad", "x", "y", [new ChartLine("s", [1.0], [1.0, 2.0], "#000")])));
    }

    [Fact]
    public void Log_axis_has_decade_ticks_and_skips_non_positive_values()
    {
        double[] y = [1e-4, 1e-3, 0, 1e-2, -1, 1e-1];
        XElement svg = XElement.Parse(SvgChart.Render(new LineChart("r", "step", "ratio", [new ChartLine("s", Seq(y.Length, i => i), y, "#000")]) { LogY = true }));
        string[] texts = svg.Descendants(Svg + "text").Select(t => t.Value).ToArray();
        Assert.Contains("1e-4", texts);
        Assert.Contains("0.01", texts);
        Assert.Contains("0.1", texts);
        Assert.Contains("ratio (log scale)", texts);
        // 1e-4 and 1e-3 make a line; 1e-2 and 1e-1 sit alone between gaps (0 and −1 cannot be shown), so they are dots.
        List<(double X, double Y)> p = Points(svg.Descendants(Svg + "polyline").Single());
        double[] dots = svg.Descendants(Svg + "circle").Select(c => double.Parse(c.Attribute("cy")!.Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, dots.Length);
        // Every decade is the same height on a log axis.
        Assert.Equal(p[0].Y - p[1].Y, dots[0] - dots[1], 1);
        Assert.Equal(p[0].Y - p[1].Y, p[1].Y - dots[0], 1);
    }

    [Fact]
    public void Long_series_are_thinned_but_keep_their_last_point()
    {
        int n = 10_001;
        XElement svg = XElement.Parse(SvgChart.Render(new LineChart("long", "x", "y", [new ChartLine("s", Seq(n, i => i), Seq(n, i => i), "#000")])));
        List<(double X, double Y)> p = Points(svg.Descendants(Svg + "polyline").Single());
        Assert.InRange(p.Count, 1000, SvgChart.MaxPointsPerLine + 1);
        XElement frame = svg.Elements(Svg + "rect").Single(r => (string?)r.Attribute("fill") == "none");
        double right = double.Parse(frame.Attribute("x")!.Value, CultureInfo.InvariantCulture) + double.Parse(frame.Attribute("width")!.Value, CultureInfo.InvariantCulture);
        Assert.Equal(right, p[^1].X, 1);
    }

    [Fact]
    public void Histogram_draws_a_bar_per_non_empty_bin()
    {
        XElement svg = XElement.Parse(SvgChart.Histogram("h", "sub", -1, 3, [0, 5, 10, 0, 1], "#abc"));
        Assert.Equal(3, svg.Descendants(Svg + "rect").Count(r => (string?)r.Attribute("fill") == "#abc"));
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "0");    // the zero line is labelled
        Assert.DoesNotContain(svg.Descendants(Svg + "text"), t => t.Value == "no finite values");
        XElement empty = XElement.Parse(SvgChart.Histogram("h", "sub", double.NaN, double.NaN, [0, 0], "#abc"));
        Assert.Contains(empty.Descendants(Svg + "text"), t => t.Value == "no finite values");
    }

    // ------------------------------------------------------------------ recorder

    [Fact]
    public void Moving_average_matches_a_direct_trailing_mean()
    {
        double[] v = [1, 2, double.NaN, 4, 8, 16, 32];
        double[] ma = HtmlReport.MovingAverage(v, 3);
        for (int i = 0; i < v.Length; i++)
        {
            double[] window = v.Skip(Math.Max(0, i - 2)).Take(Math.Min(3, i + 1)).Where(double.IsFinite).ToArray();
            Assert.Equal(window.Average(), ma[i], 12);
        }
        Assert.True(double.IsNaN(HtmlReport.MovingAverage([double.NaN, 1], 1)[0]));
    }

    [Fact]
    public void Describe_matches_straightforward_statistics()
    {
        var rng = new Random(3);
        float[] values = Enumerable.Range(0, 1000).Select(i => i % 4 == 0 ? 0f : (float)(rng.NextDouble() * 6 - 2)).Append(float.NaN).ToArray();
        LayerActivationStats s = ActivationProbes.Describe("relu0", "relu", values);
        double[] finite = values.Where(float.IsFinite).Select(v => (double)v).ToArray();
        double mean = finite.Average();
        Assert.Equal(1000, s.Count);
        Assert.Equal(1, s.NonFinite);
        Assert.Equal(mean, s.Mean, 9);
        Assert.Equal(Math.Sqrt(finite.Select(v => (v - mean) * (v - mean)).Average()), s.Std, 6);
        Assert.Equal(finite.Min(), s.Min);
        Assert.Equal(finite.Max(), s.Max);
        Assert.Equal(0.25, s.ZeroFraction, 12);
        Assert.Equal(1000, s.Histogram.Sum());
        double width = (s.HistogramMax - s.HistogramMin) / s.Histogram.Length;
        int expectedFirst = finite.Count(v => v < s.HistogramMin + width);
        Assert.Equal(expectedFirst, s.Histogram[0]);
    }

    /// <summary>Copies the trainable tensors before the sampled steps and computes ‖Δw‖/‖w‖ in double, independently of the recorder.</summary>
    private sealed class RatioReference(int every) : ITrainingObserver
    {
        private float[][]? _before;
        public List<(long Step, double[] Ratios)> Samples { get; } = [];
        public string Name => "reference";

        public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
        {
            TensorInfo[] trainable = model.Tensors.Where(t => t.Trainable).ToArray();
            if (_before is not null && step.Step % every == 0)
                Samples.Add((step.Step, trainable.Select((t, i) =>
                {
                    float[] now = model.TensorData(t).ToArray();
                    double diff = Math.Sqrt(now.Zip(_before[i]).Sum(p => ((double)p.First - p.Second) * ((double)p.First - p.Second)));
                    return diff / Math.Sqrt(now.Sum(v => (double)v * v));
                }).ToArray()));
            _before = (step.Step + 1) % every == 0 ? trainable.Select(t => model.TensorData(t).ToArray()).ToArray() : null;
            return ObserverVerdict.Continue;
        }
    }

    [Fact]
    public void Update_ratios_match_an_independent_computation()
    {
        DataSplit data = StandardisedDigits();
        var model = new DigitsReportMlp();
        var recorder = new TrainingReportRecorder(data.Train.Features.AsSpan(0, 32 * 64), data.Train.Labels.AsSpan(0, 32), 2 * 12, 5);
        var reference = new RatioReference(5);
        RunSummary run = Trainer.Fit(model, data.Train, null, new TrainerOptions { Epochs = 2, BatchSize = 128, Observers = [reference, recorder] });

        IReadOnlyList<UpdateRatioSeries> series = recorder.UpdateRatios();
        string[] trainable = model.Tensors.Where(t => t.Trainable).Select(t => t.Name).ToArray();
        Assert.Equal(trainable, series.Select(s => s.Tensor).ToArray());
        Assert.Equal(new long[] { 5, 10, 15, 20 }, series[0].Steps);
        Assert.Equal(reference.Samples.Select(s => s.Step), series[0].Steps);
        for (int t = 0; t < trainable.Length; t++)
            for (int k = 0; k < reference.Samples.Count; k++)
                Assert.Equal(reference.Samples[k].Ratios[t], series[t].Ratios[k], 1e-9 + 1e-6 * reference.Samples[k].Ratios[t]);
        // Adam at 1e-2 on a fresh network: updates are a sizeable fraction of the weights, but finite and positive.
        Assert.All(series.SelectMany(s => s.Ratios), r => Assert.InRange(r, 1e-6, 10.0));

        TrainingReport report = recorder.BuildReport();
        Assert.Same(run, report.Summary);
        Assert.Equal(24, report.Steps.Count);
        Assert.Equal(new[] { "start", "end" }, report.Activations.Select(a => a.Label).ToArray());   // nothing restored: the last step's state
        Assert.Equal(0, report.Activations[0].Step);
        Assert.Equal(24, report.Activations[1].Step);
    }

    [Fact]
    public void Activation_probe_reads_every_layer_and_does_not_change_the_run()
    {
        DataSplit data = StandardisedDigits();
        using var tmp = new TempDirectory();
        var plain = new DigitsReportMlp();
        var recorded = new DigitsReportMlp();
        var options = new TrainerOptions { Epochs = 2, BatchSize = 64, Seed = 9 };
        Trainer.Fit(plain, data.Train, data.Test, options);
        RunSummary run = Trainer.Fit(recorded, data.Train, data.Test, options with { RunDirectory = tmp.Path, ProbeSamples = 50 });

        // Same parameters and running statistics bit for bit: the probes restored the dropout stream and left BatchNorm's statistics alone.
        foreach (TensorInfo t in plain.Tensors)
            Assert.Equal(plain.TensorData(t).ToArray(), recorded.TensorData(t).ToArray());

        // The probe of the finished model agrees with reading LayerOutput directly after ComputeGradients on the same batch.
        ActivationProbe end = ActivationProbes.Measure(recorded, data.Train.Features.AsSpan(0, 50 * 64), data.Train.Labels.AsSpan(0, 50), 50, "end");
        // A layer left out as overwritten in place shows exactly the next measured layer's values (the generated
        // BatchNorm + ReLU pair computes the ReLU in the BatchNorm's buffer).
        string[] measured = recorded.Layers.Where(l => l.Kind is not "dropout" and not "flatten").Select(l => l.Name).ToArray();
        foreach (string gone in end.OverwrittenInPlace)
        {
            string next = measured[Array.IndexOf(measured, gone) + 1];
            Assert.Equal(recorded.LayerOutput(next).ToArray(), recorded.LayerOutput(gone).ToArray());
        }
        string[] expectedLayers = measured.Except(end.OverwrittenInPlace).ToArray();
        Assert.Equal(expectedLayers, end.Layers.Select(l => l.Layer).ToArray());
        Assert.Contains(end.Layers, l => l.Kind == "dense");
        foreach (LayerActivationStats l in end.Layers)
        {
            LayerInfo info = recorded.Layers.Single(x => x.Name == l.Layer);
            float[] output = recorded.LayerOutput(l.Layer).Slice(0, 50 * info.OutputShape.Aggregate(1, (a, b) => a * b)).ToArray();
            Assert.Equal(output.Length, l.Count);
            Assert.Equal(output.Average(v => (double)v), l.Mean, 9);
        }
        // ReLU outputs are never negative; BatchNorm outputs are standardised per unit in training mode (mean ≈ 0).
        Assert.All(end.Layers.Where(l => l.Kind == "relu"), l => Assert.True(l.Min >= 0 && l.ZeroFraction > 0));
        Assert.All(end.Layers.Where(l => l.Kind == "batchnorm"), l => Assert.InRange(l.Mean, -0.5, 0.5));

        string html = File.ReadAllText(tmp.File("report.html"));
        XDocument doc = XDocument.Parse(html.Replace("<!DOCTYPE html>", ""));
        XElement activations = doc.Descendants(Xhtml + "section").Single(s => (string?)s.Attribute("id") == "activations");
        Assert.Equal(2 * expectedLayers.Length, activations.Descendants(Svg + "svg").Count(s => (string?)s.Attribute("class") == "histogram"));
        XElement ratios = doc.Descendants(Xhtml + "section").Single(s => (string?)s.Attribute("id") == "update-ratios");
        Assert.Equal(recorded.Tensors.Count(t => t.Trainable), ratios.Descendants(Svg + "polyline").Count());
        Assert.Equal(run.StopReason, RunSummary.FromJson(File.ReadAllText(tmp.File("summary.json"))).StopReason);
    }
}
