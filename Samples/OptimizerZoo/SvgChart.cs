using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Kiln.Samples.OptimizerZoo;

/// <summary>One curve: a name for the legend, its points, a CSS colour and whether to draw it dashed (to tell apart curves that overlap).</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, string Color, bool Dashed = false);

/// <summary>One plot: axes, optional log-scale y axis, curves and a legend.</summary>
public sealed record ChartPanel(string Title, string XLabel, string YLabel, IReadOnlyList<ChartSeries> Series, bool LogY = true);

/// <summary>
/// A minimal, dependency-free SVG line-chart writer: panels side by side, each with a frame, grid, tick
/// labels, axis titles, one polyline per series and a legend. The output is a self-contained SVG 1.1
/// document (no scripts, no external fonts or styles) that renders the same in browsers and rsvg.
/// </summary>
public static class SvgChart
{
    /// <summary>Ten distinguishable colours (the "category10" palette).</summary>
    public static readonly string[] Palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    private const double PanelWidth = 600, PanelHeight = 430, Top = 58;
    private const double MarginLeft = 64, MarginRight = 16, MarginTop = 30, MarginBottom = 48;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Renders the panels side by side under <paramref name="title"/>.</summary>
    public static string Render(string title, IReadOnlyList<ChartPanel> panels, string? subtitle = null)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0) throw new ArgumentException("Give at least one panel.", nameof(panels));
        double width = PanelWidth * panels.Count, height = Top + PanelHeight + 8;
        var sb = new StringBuilder();
        sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{width:0}\" height=\"{height:0}\" viewBox=\"0 0 {width:0} {height:0}\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n");
        sb.Append(Inv, $"<title>{Escape(title)}</title>\n");
        sb.Append(Inv, $"<rect x=\"0\" y=\"0\" width=\"{width:0}\" height=\"{height:0}\" fill=\"#ffffff\"/>\n");
        sb.Append(Inv, $"<text x=\"{width / 2:0.#}\" y=\"24\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\" fill=\"#222\">{Escape(title)}</text>\n");
        if (!string.IsNullOrEmpty(subtitle))
            sb.Append(Inv, $"<text x=\"{width / 2:0.#}\" y=\"44\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">{Escape(subtitle)}</text>\n");
        for (int i = 0; i < panels.Count; i++) RenderPanel(sb, panels[i], i * PanelWidth, Top);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="Render"/> to <paramref name="path"/>, creating its directory.</summary>
    public static void Write(string path, string title, IReadOnlyList<ChartPanel> panels, string? subtitle = null)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, Render(title, panels, subtitle), new UTF8Encoding(false));
    }

    private static void RenderPanel(StringBuilder sb, ChartPanel panel, double x0, double y0)
    {
        double left = x0 + MarginLeft, right = x0 + PanelWidth - MarginRight;
        double top = y0 + MarginTop, bottom = y0 + PanelHeight - MarginBottom;

        // Data ranges (non-finite points and, on a log axis, non-positive values are skipped).
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity, yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        foreach (ChartSeries s in panel.Series)
            foreach ((double x, double y) in s.Points)
            {
                if (!Usable(x, y, panel.LogY)) continue;
                xMin = Math.Min(xMin, x); xMax = Math.Max(xMax, x);
                yMin = Math.Min(yMin, y); yMax = Math.Max(yMax, y);
            }
        if (xMin > xMax) { xMin = 0; xMax = 1; yMin = panel.LogY ? 0.1 : 0; yMax = 1; }
        if (xMax == xMin) xMax = xMin + 1;
        if (yMax == yMin) { yMax = panel.LogY ? yMin * 2 : yMin + 1; }

        Func<double, double> ty;          // value → transformed coordinate
        List<(double Value, bool Major)> yTicks;
        if (panel.LogY)
        {
            double lo = Math.Log10(yMin), hi = Math.Log10(yMax), pad = 0.04 * (hi - lo);
            lo -= pad; hi += pad;
            ty = v => Math.Log10(v);
            yTicks = LogTicks(lo, hi);
            yMin = lo; yMax = hi;
        }
        else
        {
            (yMin, yMax, double step) = NiceRange(yMin, yMax, 6);
            ty = v => v;
            yTicks = [];
            for (double v = yMin; v <= yMax + step * 1e-9; v += step) yTicks.Add((v, true));
        }
        (double xLo, double xHi, double xStep) = NiceRange(xMin, xMax, 7);
        if (xMin >= 0 && xLo < 0) xLo = 0;

        double Px(double x) => left + (x - xLo) / (xHi - xLo) * (right - left);
        double Py(double t) => bottom - (t - yMin) / (yMax - yMin) * (bottom - top);

        sb.Append(Inv, $"<g>\n<text x=\"{(left + right) / 2:0.#}\" y=\"{y0 + 16:0.#}\" text-anchor=\"middle\" font-size=\"14\" fill=\"#222\">{Escape(panel.Title)}</text>\n");
        sb.Append(Inv, $"<rect x=\"{left:0.#}\" y=\"{top:0.#}\" width=\"{right - left:0.#}\" height=\"{bottom - top:0.#}\" fill=\"#fbfbfb\" stroke=\"none\"/>\n");

        // Grid and tick labels.
        foreach ((double v, bool major) in yTicks)
        {
            double t = panel.LogY ? ty(v) : v;
            if (t < yMin - 1e-12 || t > yMax + 1e-12) continue;
            double py = Py(t);
            sb.Append(Inv, $"<line x1=\"{left:0.#}\" y1=\"{py:0.##}\" x2=\"{right:0.#}\" y2=\"{py:0.##}\" stroke=\"{(major ? "#d0d0d0" : "#ececec")}\" stroke-width=\"1\"/>\n");
            if (major)
                sb.Append(Inv, $"<text x=\"{left - 6:0.#}\" y=\"{py + 4:0.##}\" text-anchor=\"end\" font-size=\"11\" fill=\"#444\">{Escape(FormatTick(v))}</text>\n");
        }
        for (double v = xLo; v <= xHi + xStep * 1e-9; v += xStep)
        {
            double px = Px(v);
            sb.Append(Inv, $"<line x1=\"{px:0.##}\" y1=\"{top:0.#}\" x2=\"{px:0.##}\" y2=\"{bottom:0.#}\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>\n");
            sb.Append(Inv, $"<text x=\"{px:0.##}\" y=\"{bottom + 16:0.#}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">{Escape(FormatTick(v))}</text>\n");
        }

        // Axes and titles.
        sb.Append(Inv, $"<rect x=\"{left:0.#}\" y=\"{top:0.#}\" width=\"{right - left:0.#}\" height=\"{bottom - top:0.#}\" fill=\"none\" stroke=\"#555\" stroke-width=\"1\"/>\n");
        sb.Append(Inv, $"<text x=\"{(left + right) / 2:0.#}\" y=\"{bottom + 36:0.#}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222\">{Escape(panel.XLabel)}</text>\n");
        double yMid = (top + bottom) / 2, yLabelX = x0 + 16;
        sb.Append(Inv, $"<text x=\"{yLabelX:0.#}\" y=\"{yMid:0.#}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222\" transform=\"rotate(-90 {yLabelX:0.#} {yMid:0.#})\">{Escape(panel.YLabel + (panel.LogY ? " (log scale)" : ""))}</text>\n");

        // Curves, clipped to the plot area.
        string clip = $"clip{(int)x0}";
        sb.Append(Inv, $"<clipPath id=\"{clip}\"><rect x=\"{left:0.#}\" y=\"{top:0.#}\" width=\"{right - left:0.#}\" height=\"{bottom - top:0.#}\"/></clipPath>\n");
        foreach (ChartSeries s in panel.Series)
        {
            sb.Append(Inv, $"<polyline clip-path=\"url(#{clip})\" fill=\"none\" stroke=\"{Escape(s.Color)}\" stroke-width=\"1.8\" stroke-linejoin=\"round\"{Dash(s)} points=\"");
            bool first = true;
            foreach ((double x, double y) in s.Points)
            {
                if (!Usable(x, y, panel.LogY)) continue;
                if (!first) sb.Append(' ');
                sb.Append(Inv, $"{Px(x):0.#},{Py(ty(y)):0.#}");
                first = false;
            }
            sb.Append("\"><title>").Append(Escape(s.Name)).Append("</title></polyline>\n");
        }

        // Legend in the corner that covers the fewest points.
        double rowHeight = 18, legendWidth = 12;
        foreach (ChartSeries s in panel.Series) legendWidth = Math.Max(legendWidth, 7.0 * s.Name.Length);
        legendWidth += 40;
        double legendHeight = rowHeight * panel.Series.Count + 8;
        (double lx, double ly) = (right - legendWidth - 8, top + 8);
        int fewest = int.MaxValue;
        foreach ((double cx, double cy) in new[]
        {
            (right - legendWidth - 8, top + 8), (left + 8, bottom - legendHeight - 8),
            (right - legendWidth - 8, bottom - legendHeight - 8), (left + 8, top + 8),
        })
        {
            int covered = 0;
            foreach (ChartSeries s in panel.Series)
                foreach ((double x, double y) in s.Points)
                {
                    if (!Usable(x, y, panel.LogY)) continue;
                    double px = Px(x), py = Py(ty(y));
                    if (px >= cx - 4 && px <= cx + legendWidth + 4 && py >= cy - 4 && py <= cy + legendHeight + 4) covered++;
                }
            if (covered < fewest) { fewest = covered; (lx, ly) = (cx, cy); }
        }
        sb.Append(Inv, $"<rect x=\"{lx:0.#}\" y=\"{ly:0.#}\" width=\"{legendWidth:0.#}\" height=\"{legendHeight:0.#}\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n");
        for (int i = 0; i < panel.Series.Count; i++)
        {
            ChartSeries s = panel.Series[i];
            double ry = ly + 4 + rowHeight * i + rowHeight / 2;
            sb.Append(Inv, $"<line x1=\"{lx + 8:0.#}\" y1=\"{ry:0.#}\" x2=\"{lx + 30:0.#}\" y2=\"{ry:0.#}\" stroke=\"{Escape(s.Color)}\" stroke-width=\"3\"{Dash(s)}/>\n");
            sb.Append(Inv, $"<text x=\"{lx + 36:0.#}\" y=\"{ry + 4:0.#}\" font-size=\"12\" fill=\"#222\">{Escape(s.Name)}</text>\n");
        }
        sb.Append("</g>\n");
    }

    private static string Dash(ChartSeries s) => s.Dashed ? " stroke-dasharray=\"6 4\"" : "";

    private static bool Usable(double x, double y, bool logY) => double.IsFinite(x) && double.IsFinite(y) && (!logY || y > 0);

    /// <summary>A range covering [min, max] with round ends and a 1-2-5 step giving about <paramref name="target"/> intervals.</summary>
    internal static (double Lo, double Hi, double Step) NiceRange(double min, double max, int target)
    {
        double raw = (max - min) / target;
        double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = (raw / mag) switch { <= 1 => mag, <= 2 => 2 * mag, <= 5 => 5 * mag, _ => 10 * mag };
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }

    /// <summary>Ticks for a log axis spanning log10 values [lo, hi]: labelled at 1, 2, 5 × 10ᵏ (or only decades on wide ranges), grid at every integer multiple.</summary>
    private static List<(double, bool)> LogTicks(double lo, double hi)
    {
        var ticks = new List<(double, bool)>();
        bool wide = hi - lo > 3;
        for (int k = (int)Math.Floor(lo); k <= (int)Math.Ceiling(hi); k++)
        {
            double decade = Math.Pow(10, k);
            for (int m = 1; m <= 9; m++)
            {
                double v = m * decade;
                double t = Math.Log10(v);
                if (t < lo || t > hi) continue;
                if (wide && m != 1) continue;   // wide ranges: decades only, the minor lines would crowd the plot
                ticks.Add((v, m is 1 or 2 or 5));
            }
        }
        return ticks;
    }

    private static string FormatTick(double v)
    {
        if (v == 0) return "0";
        double a = Math.Abs(v);
        if (a >= 1e5 || a < 1e-3) return v.ToString("0.#e+0", Inv);
        return Math.Round(v, 10).ToString("G6", Inv);
    }

    /// <summary>Escapes text for element content and attribute values.</summary>
    internal static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                default:
                    // Control characters other than tab/newline are not allowed in XML 1.0.
                    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') sb.Append(' ');
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
