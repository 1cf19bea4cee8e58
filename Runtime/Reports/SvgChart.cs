using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Kiln.Reports;

/// <summary>One curve of a <see cref="LineChart"/>: y over x, drawn as polylines broken wherever a point cannot be shown.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values (same count as <paramref name="X"/>); NaN, ±∞ (and values ≤ 0 on a log axis) leave a gap.</param>
/// <param name="Color">A CSS colour.</param>
public sealed record ChartLine(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, string Color)
{
    /// <summary>Draw dashed.</summary>
    public bool Dashed { get; init; }
    /// <summary>Stroke width in pixels.</summary>
    public double StrokeWidth { get; init; } = 1.6;
    /// <summary>Opacity in (0, 1] (a faint raw curve under its moving average, for example).</summary>
    public double Opacity { get; init; } = 1;
    /// <summary>Mark every point with a dot (for short series such as per-epoch metrics).</summary>
    public bool Markers { get; init; }
}

/// <summary>A shaded horizontal band, such as a healthy range.</summary>
public sealed record ChartBand(double From, double To, string Color, string Label);

/// <summary>A labelled vertical line, such as the best epoch.</summary>
public sealed record ChartMarker(double X, string Label);

/// <summary>A line chart: title, axis labels, curves, optional log-scale y axis and horizontal bands.</summary>
public sealed record LineChart(string Title, string XLabel, string YLabel, IReadOnlyList<ChartLine> Lines)
{
    /// <summary>Logarithmic y axis (base 10).</summary>
    public bool LogY { get; init; }
    /// <summary>Width in pixels (two default-width charts fit side by side in the report).</summary>
    public int Width { get; init; } = 540;
    /// <summary>Height in pixels.</summary>
    public int Height { get; init; } = 320;
    /// <summary>Shaded horizontal bands, drawn under the curves.</summary>
    public IReadOnlyList<ChartBand> Bands { get; init; } = [];
    /// <summary>Labelled vertical lines, drawn under the curves (outside the x range: left out).</summary>
    public IReadOnlyList<ChartMarker> Markers { get; init; } = [];
    /// <summary>X ticks only at whole numbers (epochs, layer indices).</summary>
    public bool IntegerX { get; init; }
}

/// <summary>
/// Dependency-free SVG charts for the training report: every chart is one inline <c>&lt;svg&gt;</c> element
/// (no scripts, no external fonts or styles) with a frame, grid, tick labels, axis titles and a legend. Robust to
/// empty series, a single point, constant values and non-finite values.
/// </summary>
public static class SvgChart
{
    /// <summary>Ten distinguishable colours (Tableau 10).</summary>
    public static readonly string[] Palette =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    /// <summary>Most points drawn per line: longer series are thinned to every k-th point (the last one always kept).</summary>
    public const int MaxPointsPerLine = 2000;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const double MarginLeft = 72, MarginRight = 14, MarginBottom = 44, TitleHeight = 26, LegendRow = 18;

    /// <summary>Renders <paramref name="chart"/> as an <c>&lt;svg&gt;</c> element.</summary>
    public static string Render(LineChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        if (chart.Width < 200 || chart.Height < 150) throw new ArgumentException($"A chart needs at least 200 × 150 pixels (got {chart.Width} × {chart.Height}).", nameof(chart));
        foreach (ChartLine line in chart.Lines)
            if (line.X.Count != line.Y.Count)
                throw new ArgumentException($"Line '{line.Name}' of chart '{chart.Title}' has {line.X.Count} x values and {line.Y.Count} y values.", nameof(chart));

        // Legend layout first: its rows push the plot down.
        var legend = new List<(ChartLine Line, double X, int Row)>();
        double lx = MarginLeft;
        int row = 0;
        foreach (ChartLine line in chart.Lines)
        {
            double w = 26 + 6.6 * line.Name.Length + 14;
            if (lx + w > chart.Width - MarginRight && lx > MarginLeft) { row++; lx = MarginLeft; }
            legend.Add((line, lx, row));
            lx += w;
        }
        int legendRows = chart.Lines.Count == 0 ? 0 : row + 1;
        double top = TitleHeight + legendRows * LegendRow + 8;
        double left = MarginLeft, right = chart.Width - MarginRight, bottom = chart.Height - MarginBottom;

        Axis xAxis = Axis.Linear(Range(chart.Lines, x: true, log: false), pad: false, minStep: chart.IntegerX ? 1 : 0);
        (double Lo, double Hi)? yRange = Range(chart.Lines, x: false, chart.LogY);
        foreach (ChartBand b in chart.Bands)
            if (double.IsFinite(b.From) && double.IsFinite(b.To) && yRange is { } r && !chart.LogY)
                yRange = (Math.Min(r.Lo, b.From), Math.Max(r.Hi, b.To));
        Axis yAxis = chart.LogY ? Axis.Log(yRange) : Axis.Linear(yRange, pad: true, minStep: 0);

        double Px(double x) => left + (xAxis.Map(x) * (right - left));
        double Py(double y) => bottom - (yAxis.Map(y) * (bottom - top));

        var sb = new StringBuilder();
        sb.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{chart.Width}\" height=\"{chart.Height}\" viewBox=\"0 0 {chart.Width} {chart.Height}\" role=\"img\">");
        sb.Append("<title>").Append(Html.Escape(chart.Title)).Append("</title>");
        sb.Append(Inv, $"<rect x=\"0\" y=\"0\" width=\"{chart.Width}\" height=\"{chart.Height}\" fill=\"#ffffff\"/>");
        sb.Append(Inv, $"<text class=\"chart-title\" x=\"{left:0.#}\" y=\"18\" font-size=\"14\" font-weight=\"600\" fill=\"#222\">{Html.Escape(chart.Title)}</text>");

        // Bands, grid and ticks.
        foreach (ChartBand b in chart.Bands)
        {
            double y0 = Math.Clamp(Py(Math.Max(b.From, yAxis.Lo)), top, bottom), y1 = Math.Clamp(Py(Math.Min(b.To, yAxis.Hi)), top, bottom);
            if (!(y0 > y1)) continue;
            sb.Append(Inv, $"<rect x=\"{left:0.##}\" y=\"{y1:0.##}\" width=\"{right - left:0.##}\" height=\"{y0 - y1:0.##}\" fill=\"{b.Color}\" opacity=\"0.18\"><title>{Html.Escape(b.Label)}</title></rect>");
            sb.Append(Inv, $"<text x=\"{right - 4:0.##}\" y=\"{y1 + 12:0.##}\" text-anchor=\"end\" font-size=\"10\" fill=\"#555\">{Html.Escape(b.Label)}</text>");
        }
        foreach (double t in yAxis.Ticks)
        {
            double y = Py(t);
            sb.Append(Inv, $"<line x1=\"{left:0.##}\" y1=\"{y:0.##}\" x2=\"{right:0.##}\" y2=\"{y:0.##}\" stroke=\"#e6e6e6\"/>");
            sb.Append(Inv, $"<text x=\"{left - 6:0.##}\" y=\"{y + 4:0.##}\" text-anchor=\"end\" font-size=\"11\" fill=\"#444\">{yAxis.Label(t)}</text>");
        }
        foreach (double t in xAxis.Ticks)
        {
            double x = Px(t);
            sb.Append(Inv, $"<line x1=\"{x:0.##}\" y1=\"{top:0.##}\" x2=\"{x:0.##}\" y2=\"{bottom:0.##}\" stroke=\"#f0f0f0\"/>");
            sb.Append(Inv, $"<text x=\"{x:0.##}\" y=\"{bottom + 16:0.##}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">{xAxis.Label(t)}</text>");
        }
        sb.Append(Inv, $"<rect x=\"{left:0.##}\" y=\"{top:0.##}\" width=\"{right - left:0.##}\" height=\"{bottom - top:0.##}\" fill=\"none\" stroke=\"#888\"/>");
        sb.Append(Inv, $"<text x=\"{(left + right) / 2:0.##}\" y=\"{chart.Height - 8}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">{Html.Escape(chart.XLabel)}</text>");
        string yLabel = chart.LogY ? chart.YLabel + " (log scale)" : chart.YLabel;
        sb.Append(Inv, $"<text x=\"14\" y=\"{(top + bottom) / 2:0.##}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\" transform=\"rotate(-90 14 {(top + bottom) / 2:0.##})\">{Html.Escape(yLabel)}</text>");

        foreach (ChartMarker m in chart.Markers)
        {
            if (!double.IsFinite(m.X) || m.X < xAxis.Lo || m.X > xAxis.Hi) continue;
            double x = Px(m.X);
            sb.Append(Inv, $"<line class=\"marker\" x1=\"{x:0.##}\" y1=\"{top:0.##}\" x2=\"{x:0.##}\" y2=\"{bottom:0.##}\" stroke=\"#59a14f\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>");
            bool nearRight = x > right - 50;   // near the right edge the label goes on the line's left, inside the frame
            sb.Append(Inv, $"<text x=\"{(nearRight ? x - 4 : x + 4):0.##}\" y=\"{top + 12:0.##}\" text-anchor=\"{(nearRight ? "end" : "start")}\" font-size=\"10.5\" fill=\"#3a7a33\">{Html.Escape(m.Label)}</text>");
        }

        // Curves.
        foreach (ChartLine line in chart.Lines) AppendLine(sb, line, chart.LogY, Px, Py);

        // Legend.
        foreach ((ChartLine line, double x, int r) in legend)
        {
            double y = TitleHeight + r * LegendRow + 6;
            string dash = line.Dashed ? " stroke-dasharray=\"5 3\"" : "";
            sb.Append(Inv, $"<line x1=\"{x:0.#}\" y1=\"{y:0.#}\" x2=\"{x + 20:0.#}\" y2=\"{y:0.#}\" stroke=\"{line.Color}\" stroke-width=\"3\"{dash}/>");
            sb.Append(Inv, $"<text class=\"legend\" x=\"{x + 25:0.#}\" y=\"{y + 4:0.#}\" font-size=\"11\" fill=\"#333\">{Html.Escape(line.Name)}</text>");
        }
        if (chart.Lines.Count == 0 || yRange is null)
            sb.Append(Inv, $"<text x=\"{(left + right) / 2:0.#}\" y=\"{(top + bottom) / 2:0.#}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#999\">no data</text>");
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>Renders a histogram of <paramref name="counts"/> over equal bins spanning [<paramref name="lo"/>, <paramref name="hi"/>].</summary>
    public static string Histogram(string title, string subtitle, double lo, double hi, IReadOnlyList<int> counts, string color, int width = 270, int height = 150)
    {
        ArgumentNullException.ThrowIfNull(counts);
        double left = 8, right = width - 8, top = 38, bottom = height - 22;
        int peak = 0;
        foreach (int c in counts) peak = Math.Max(peak, c);
        var sb = new StringBuilder();
        sb.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"histogram\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">");
        sb.Append("<title>").Append(Html.Escape(title)).Append("</title>");
        sb.Append(Inv, $"<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>");
        sb.Append(Inv, $"<text x=\"{left}\" y=\"14\" font-size=\"12\" font-weight=\"600\" fill=\"#222\">{Html.Escape(title)}</text>");
        sb.Append(Inv, $"<text x=\"{left}\" y=\"29\" font-size=\"10.5\" fill=\"#555\">{Html.Escape(subtitle)}</text>");
        if (counts.Count > 0 && peak > 0 && double.IsFinite(lo) && double.IsFinite(hi) && hi > lo)
        {
            double bw = (right - left) / counts.Count;
            for (int i = 0; i < counts.Count; i++)
            {
                if (counts[i] == 0) continue;
                // Square-root height: the spike of exact zeros (dead ReLUs) would otherwise flatten every other bin.
                double h = Math.Sqrt(counts[i] / (double)peak) * (bottom - top);
                sb.Append(Inv, $"<rect x=\"{left + i * bw:0.##}\" y=\"{bottom - h:0.##}\" width=\"{Math.Max(bw - 0.6, 0.5):0.##}\" height=\"{h:0.##}\" fill=\"{color}\"/>");
            }
            sb.Append(Inv, $"<text x=\"{left}\" y=\"{height - 6}\" font-size=\"10\" fill=\"#444\">{Tick(lo)}</text>");
            sb.Append(Inv, $"<text x=\"{right}\" y=\"{height - 6}\" text-anchor=\"end\" font-size=\"10\" fill=\"#444\">{Tick(hi)}</text>");
            if (lo < 0 && hi > 0)
            {
                double zx = left + (0 - lo) / (hi - lo) * (right - left);
                sb.Append(Inv, $"<line x1=\"{zx:0.##}\" y1=\"{top:0.##}\" x2=\"{zx:0.##}\" y2=\"{bottom:0.##}\" stroke=\"#999\" stroke-dasharray=\"2 2\"/>");
                sb.Append(Inv, $"<text x=\"{zx:0.##}\" y=\"{height - 6}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#444\">0</text>");
            }
        }
        else
        {
            sb.Append(Inv, $"<text x=\"{width / 2}\" y=\"{(top + bottom) / 2:0.#}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#999\">no finite values</text>");
        }
        sb.Append(Inv, $"<line x1=\"{left}\" y1=\"{bottom:0.##}\" x2=\"{right}\" y2=\"{bottom:0.##}\" stroke=\"#888\"/>");
        sb.Append("</svg>");
        return sb.ToString();

        static string Tick(double v) => Math.Abs(v) >= 1e4 || (v != 0 && Math.Abs(v) < 1e-2) ? v.ToString("0.##e0", Inv) : v.ToString("0.###", Inv);
    }

    private static void AppendLine(StringBuilder sb, ChartLine line, bool logY, Func<double, double> px, Func<double, double> py)
    {
        int n = line.X.Count;
        int stride = Math.Max(1, (n + MaxPointsPerLine - 1) / MaxPointsPerLine);
        string style = string.Create(Inv, $"fill=\"none\" stroke=\"{line.Color}\" stroke-width=\"{line.StrokeWidth:0.##}\" stroke-linejoin=\"round\"")
            + (line.Dashed ? " stroke-dasharray=\"6 4\"" : "")
            + (line.Opacity < 1 ? string.Create(Inv, $" opacity=\"{line.Opacity:0.##}\"") : "");
        string title = "<title>" + Html.Escape(line.Name) + "</title>";
        var segment = new StringBuilder();
        int inSegment = 0;
        double lastX = 0, lastY = 0;

        void Flush()
        {
            if (inSegment == 1)   // a lone point between gaps: a dot, since a one-point polyline draws nothing
                sb.Append(Inv, $"<circle cx=\"{lastX:0.##}\" cy=\"{lastY:0.##}\" r=\"{Math.Max(2.5, line.StrokeWidth + 1):0.#}\" fill=\"{line.Color}\">{title}</circle>");
            else if (inSegment > 1)
                sb.Append("<polyline ").Append(style).Append(" points=\"").Append(segment).Append("\">").Append(title).Append("</polyline>");
            segment.Clear();
            inSegment = 0;
        }

        for (int i = 0; i < n; i += (i + stride < n || i == n - 1) ? stride : n - 1 - i)
        {
            double x = line.X[i], y = line.Y[i];
            if (!Usable(x, y, logY)) { Flush(); continue; }
            lastX = px(x);
            lastY = py(y);
            if (inSegment > 0) segment.Append(' ');
            segment.Append(Inv, $"{lastX:0.##},{lastY:0.##}");
            inSegment++;
            if (line.Markers)
                sb.Append(Inv, $"<circle cx=\"{lastX:0.##}\" cy=\"{lastY:0.##}\" r=\"3\" fill=\"{line.Color}\"/>");
            if (i == n - 1) break;
        }
        Flush();
    }

    private static bool Usable(double x, double y, bool logY) => double.IsFinite(x) && double.IsFinite(y) && (!logY || y > 0);

    private static (double Lo, double Hi)? Range(IReadOnlyList<ChartLine> lines, bool x, bool log)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (ChartLine line in lines)
            for (int i = 0; i < line.X.Count; i++)
            {
                if (!Usable(line.X[i], line.Y[i], log)) continue;
                double v = x ? line.X[i] : line.Y[i];
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }
        return lo <= hi ? (lo, hi) : null;
    }

    /// <summary>A mapping of data values to [0, 1] with its ticks and tick labels.</summary>
    private sealed class Axis
    {
        private readonly bool _log;
        private readonly double _step;
        private readonly bool _scientific;

        private Axis(double lo, double hi, bool log, List<double> ticks, double step)
        {
            Lo = lo; Hi = hi; _log = log; Ticks = ticks; _step = step;
            // One notation for every label of an axis: scientific when the largest label is tiny or huge.
            double largest = 0;
            foreach (double t in ticks) largest = Math.Max(largest, Math.Abs(t));
            _scientific = !log && largest > 0 && (largest < 1e-3 || largest >= 1e5);
        }

        public double Lo { get; }
        public double Hi { get; }
        public List<double> Ticks { get; }

        public double Map(double v) => _log ? (Math.Log10(v) - Math.Log10(Lo)) / (Math.Log10(Hi) - Math.Log10(Lo)) : (v - Lo) / (Hi - Lo);

        public static Axis Linear((double Lo, double Hi)? range, bool pad, double minStep)
        {
            (double lo, double hi) = range ?? (0, 1);
            if (hi - lo <= 1e-12 * Math.Max(Math.Abs(lo), Math.Abs(hi)) || hi == lo)
            {
                // A single point or a constant: a window around it.
                double half = lo == 0 ? 1 : Math.Abs(lo) * 0.1;
                lo -= half; hi += half;
            }
            else if (pad)
            {
                double p = 0.05 * (hi - lo);
                lo -= p; hi += p;
            }
            double step = Math.Max(NiceStep((hi - lo) / 5), minStep);
            var ticks = new List<double>();
            for (double t = Math.Ceiling(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
            return new Axis(lo, hi, false, ticks, step);
        }

        public static Axis Log((double Lo, double Hi)? range)
        {
            (double lo, double hi) = range ?? (0.1, 1);
            double a = Math.Floor(Math.Log10(lo)), b = Math.Ceiling(Math.Log10(hi));
            if (b <= a) b = a + 1;
            var ticks = new List<double>();
            int every = (int)Math.Max(1, Math.Ceiling((b - a) / 8));   // at most ~8 decade labels
            for (double k = a; k <= b; k += every) ticks.Add(Math.Pow(10, k));
            if (b - a <= 1)
                foreach (double m in new[] { 2.0, 5.0 }) ticks.Add(m * Math.Pow(10, a));
            ticks.Sort();
            return new Axis(Math.Pow(10, a), Math.Pow(10, b), true, ticks, 0);
        }

        public string Label(double v)
        {
            if (_log)
            {
                double k = Math.Log10(v);
                return k >= -2 && k <= 4 ? v.ToString("0.##", Inv) : v.ToString("0e0", Inv);
            }
            if (v == 0) return "0";
            if (_scientific) return v.ToString("0.##e0", Inv);
            int decimals = Math.Max(0, (int)-Math.Floor(Math.Log10(_step) + 1e-9));
            return v.ToString("F" + Math.Min(decimals, 6).ToString(Inv), Inv);
        }

        private static double NiceStep(double raw)
        {
            if (!(raw > 0) || !double.IsFinite(raw)) return 1;
            double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            double norm = raw / mag;
            return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
        }
    }
}

/// <summary>HTML/XML text escaping.</summary>
internal static class Html
{
    /// <summary>Escapes markup characters and quotes; control characters (not allowed in XML 1.0) are dropped so the page always parses.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        if (text.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0)
            text = string.Concat(text.Where(c => c >= ' ' || c is '\n' or '\t'));
        return System.Net.WebUtility.HtmlEncode(text);
    }
}
