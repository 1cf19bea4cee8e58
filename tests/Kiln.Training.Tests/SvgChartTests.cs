using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using Kiln.Samples.OptimizerZoo;

namespace Kiln.Training.Tests;

/// <summary>The OptimizerZoo sample's SVG writer (compiled in from Samples/OptimizerZoo/SvgChart.cs).</summary>
public class SvgChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static List<(double, double)> Curve(int n, Func<int, double> f) => Enumerable.Range(0, n).Select(i => ((double)i, f(i))).ToList();

    [Fact]
    public void Writes_well_formed_svg_with_one_polyline_per_series()
    {
        var panels = new[]
        {
            new ChartPanel("Mini-batch", "step", "loss",
            [
                new ChartSeries("SGD", Curve(200, i => 2.3 * Math.Exp(-i / 150.0)), SvgChart.Palette[0]),
                new ChartSeries("Momentum", Curve(200, i => 2.3 * Math.Exp(-i / 40.0)), SvgChart.Palette[1]),
                new ChartSeries("Adam & <friends> \"quoted\"", Curve(200, i => 2.3 * Math.Exp(-i / 20.0)), SvgChart.Palette[2], Dashed: true),
            ]),
            new ChartPanel("Full batch", "iteration", "loss", [new ChartSeries("L-BFGS", Curve(30, i => Math.Pow(10, -i / 4.0)), SvgChart.Palette[3])]),
            new ChartPanel("Linear axis", "x", "y", [new ChartSeries("line", Curve(10, i => 3 - 0.5 * i), "#000000")], LogY: false),
        };
        string svg = SvgChart.Render("Optimiser zoo & co", panels, "subtitle <with> markup characters");

        XDocument doc = XDocument.Parse(svg);   // throws if not well-formed
        XElement root = doc.Root!;
        Assert.Equal(Svg + "svg", root.Name);
        Assert.Equal("1800", root.Attribute("width")!.Value);

        XElement[] polylines = root.Descendants(Svg + "polyline").ToArray();
        Assert.Equal(5, polylines.Length);
        Assert.Equal(new[] { "SGD", "Momentum", "Adam & <friends> \"quoted\"", "L-BFGS", "line" },
            polylines.Select(p => p.Element(Svg + "title")!.Value));
        Assert.Equal(new[] { 200, 200, 200, 30, 10 }, polylines.Select(p => p.Attribute("points")!.Value.Split(' ').Length));
        Assert.Equal("6 4", polylines[2].Attribute("stroke-dasharray")!.Value);
        Assert.Null(polylines[0].Attribute("stroke-dasharray"));

        // Every point lies inside its panel's plot area (x in pixels, panel width 600).
        for (int p = 0; p < polylines.Length; p++)
        {
            int panel = p < 3 ? 0 : p - 2;
            foreach (string pair in polylines[p].Attribute("points")!.Value.Split(' '))
            {
                double[] xy = pair.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                Assert.InRange(xy[0], panel * 600 + 60, panel * 600 + 590);
                Assert.InRange(xy[1], 80, 450);
            }
        }

        // Decreasing data go down the page (SVG y grows downwards).
        double FirstY(XElement e) => double.Parse(e.Attribute("points")!.Value.Split(' ')[0].Split(',')[1], CultureInfo.InvariantCulture);
        double LastY(XElement e) => double.Parse(e.Attribute("points")!.Value.Split(' ')[^1].Split(',')[1], CultureInfo.InvariantCulture);
        Assert.All(polylines, e => Assert.True(LastY(e) > FirstY(e)));

        // Legend entries and titles are escaped text.
        string[] texts = root.Descendants(Svg + "text").Select(t => t.Value).ToArray();
        Assert.Contains("Adam & <friends> \"quoted\"", texts);
        Assert.Contains("Optimiser zoo & co", texts);
        Assert.Contains("loss (log scale)", texts);
        Assert.Contains("y", texts);
    }

    [Fact]
    public void Skips_points_a_log_axis_cannot_show()
    {
        var points = new List<(double, double)> { (0, 1.0), (1, double.NaN), (2, 0.0), (3, -1), (4, 0.5), (double.PositiveInfinity, 0.2), (5, 0.25) };
        string svg = SvgChart.Render("t", [new ChartPanel("p", "x", "y", [new ChartSeries("s", points, "#123456")])]);
        XElement polyline = XDocument.Parse(svg).Root!.Descendants(Svg + "polyline").Single();
        Assert.Equal(3, polyline.Attribute("points")!.Value.Split(' ').Length);
        Assert.DoesNotContain("NaN", svg);
        Assert.DoesNotContain("Infinity", svg);
    }

    [Fact]
    public void Empty_series_still_make_a_valid_document()
    {
        string svg = SvgChart.Render("t", [new ChartPanel("p", "x", "y", [new ChartSeries("none", [], "#000")])]);
        XElement polyline = XDocument.Parse(svg).Root!.Descendants(Svg + "polyline").Single();
        Assert.Equal("", polyline.Attribute("points")!.Value);
        Assert.Throws<ArgumentException>(() => SvgChart.Render("t", []));
    }

    [Fact]
    public void Write_creates_the_directory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kiln-svg-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "images", "chart.svg");
            SvgChart.Write(path, "t", [new ChartPanel("p", "x", "y", [new ChartSeries("s", Curve(5, i => i + 1.0), "#000")])]);
            XDocument doc = XDocument.Load(path);
            Assert.Single(doc.Root!.Descendants(Svg + "polyline"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
