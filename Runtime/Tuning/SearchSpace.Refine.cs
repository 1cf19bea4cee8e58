using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Kiln.Tuning;

public sealed partial class SearchDimension
{
    /// <summary>
    /// The coordinate this dimension is sampled uniformly in: x (linear, integer), ln x (log), ln(1 − β) (one-minus-log).
    /// Refinement and edge checks work in it, so "around 1e-3" means a factor either side, not ± an absolute amount.
    /// </summary>
    public double ToSearchCoordinate(double value) => Scale switch
    {
        SearchScale.Log => Math.Log(value),
        SearchScale.OneMinusLog => Math.Log(1 - value),
        SearchScale.Choice => throw new InvalidOperationException($"'{Name}' is a choice and has no numeric coordinate."),
        _ => value,
    };

    /// <summary>The inverse of <see cref="ToSearchCoordinate"/>.</summary>
    public double FromSearchCoordinate(double coordinate) => Scale switch
    {
        SearchScale.Log => Math.Exp(coordinate),
        SearchScale.OneMinusLog => 1 - Math.Exp(coordinate),
        SearchScale.Choice => throw new InvalidOperationException($"'{Name}' is a choice and has no numeric coordinate."),
        _ => coordinate,
    };

    /// <summary>
    /// Where <paramref name="value"/> lies in this dimension's range in the search coordinate: 0 at the low end, 1 at the high end
    /// (for one-minus-log, 0 at the smaller β). NaN for a choice. A best value near 0 or 1 means the range should be widened.
    /// </summary>
    public double RelativePosition(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (Scale == SearchScale.Choice) return double.NaN;
        double x = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        double a = ToSearchCoordinate(Low), b = ToSearchCoordinate(High), t = ToSearchCoordinate(x);
        return (t - a) / (b - a);
    }

    /// <summary>This dimension narrowed around <paramref name="values"/> (see <see cref="SearchSpace.Refine"/>).</summary>
    internal SearchDimension Around(IReadOnlyList<object> values, double margin, double minimumFraction)
    {
        if (Scale == SearchScale.Choice)
        {
            // Keep the values the best trials used, in the declared order.
            object[] kept = _values.Where(v => values.Any(x => Equals(x, v))).ToArray();
            if (kept.Length == 0)
                throw new ArgumentException($"None of the refined points uses a declared value of '{Name}' ({string.Join(", ", values)}).", nameof(values));
            return new SearchDimension(Name, Scale, Low, High, kept);
        }

        double[] xs = values.Select(v => Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToArray();
        foreach (double x in xs)
            if (!(x >= Low && x <= High))
                throw new ArgumentOutOfRangeException(nameof(values), x, $"'{Name}' = {x.ToString("R", CultureInfo.InvariantCulture)} lies outside the declared range [{Low.ToString("R", CultureInfo.InvariantCulture)}, {High.ToString("R", CultureInfo.InvariantCulture)}].");
        double ta = ToSearchCoordinate(Low), tb = ToSearchCoordinate(High);
        double lo = Math.Min(ta, tb), hi = Math.Max(ta, tb), full = hi - lo;
        double tmin = xs.Min(ToSearchCoordinate), tmax = xs.Max(ToSearchCoordinate);
        // Room beyond the spread of the best points, but never less than a fixed share of the old range (one best point
        // still leaves a range to sample) and never more than the old range.
        double width = Math.Min(full, Math.Max((tmax - tmin) * (1 + 2 * margin), minimumFraction * full));
        double center = (tmin + tmax) / 2;
        double nlo = center - width / 2, nhi = center + width / 2;
        if (nlo < lo) { nhi += lo - nlo; nlo = lo; }
        if (nhi > hi) { nlo = Math.Max(lo, nlo - (nhi - hi)); nhi = hi; }

        double newLow, newHigh;
        if (Scale == SearchScale.OneMinusLog)
        {
            // ln(1 − β) decreases with β: the high coordinate is the low β.
            newLow = nhi >= hi ? Low : FromSearchCoordinate(nhi);
            newHigh = nlo <= lo ? High : FromSearchCoordinate(nlo);
        }
        else
        {
            newLow = nlo <= lo ? Low : FromSearchCoordinate(nlo);
            newHigh = nhi >= hi ? High : FromSearchCoordinate(nhi);
        }
        // exp(ln x) need not round-trip: keep every best point inside, and stay inside the declared range.
        newLow = Math.Max(Low, Math.Min(newLow, xs.Min()));
        newHigh = Math.Min(High, Math.Max(newHigh, xs.Max()));
        if (Scale == SearchScale.Integer)
        {
            newLow = Math.Floor(newLow);
            newHigh = Math.Ceiling(newHigh);
        }
        else if (!(newLow < newHigh))
        {
            // Every best point is the same value at the edge of a tiny range: keep the smallest non-empty range.
            newLow = Low;
            newHigh = High;
        }
        return new SearchDimension(Name, Scale, newLow, newHigh, _values);
    }
}

public sealed partial class SearchSpace
{
    /// <summary>
    /// Coarse to fine (docs/techniques.md#hyper-parameters): a new space in which every numeric dimension is narrowed around <paramref name="best"/>
    /// (typically the top-k trials of a coarse search), in that dimension's search coordinate — ln x for log-uniform
    /// dimensions, ln(1 − β) for one-minus-log ones. The new range spans the best points' spread widened by
    /// <paramref name="margin"/> × spread on each side, is at least <paramref name="minimumFraction"/> of the old range wide,
    /// always contains every best point and never leaves the declared range. Choices keep only the values the best points use.
    /// </summary>
    /// <param name="best">Points of this space (at least one), each with a value for every dimension.</param>
    /// <param name="margin">Extra room on each side, as a fraction of the best points' spread (≥ 0; default 0.5).</param>
    /// <param name="minimumFraction">Smallest width of a refined range, as a fraction of the old one (in (0, 1]; default 0.1).</param>
    public SearchSpace Refine(IEnumerable<HyperParameters> best, double margin = 0.5, double minimumFraction = 0.1)
    {
        ArgumentNullException.ThrowIfNull(best);
        HyperParameters[] points = best.ToArray();
        if (points.Length == 0) throw new ArgumentException("Refining needs at least one point.", nameof(best));
        if (!(margin >= 0) || !double.IsFinite(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin must be a finite number ≥ 0.");
        if (!(minimumFraction > 0 && minimumFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(minimumFraction), minimumFraction, "The minimum fraction must lie in (0, 1].");
        var refined = new SearchDimension[_dimensions.Length];
        for (int d = 0; d < _dimensions.Length; d++)
        {
            SearchDimension dim = _dimensions[d];
            var values = new object[points.Length];
            for (int p = 0; p < points.Length; p++)
                values[p] = points[p].TryGetValue(dim.Name, out object? v)
                    ? v
                    : throw new ArgumentException($"Point {p} ({points[p]}) has no value for the dimension '{dim.Name}'.", nameof(best));
            refined[d] = dim.Around(values, margin, minimumFraction);
        }
        return new SearchSpace(refined);
    }

    /// <summary>The dimension named <paramref name="name"/>.</summary>
    public SearchDimension this[string name] =>
        _dimensions.FirstOrDefault(d => d.Name == name) ?? throw new KeyNotFoundException($"The space has no dimension named '{name}'.");
}
