using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Kiln.Tuning;

/// <summary>How a search dimension is sampled (docs/techniques.md#hyper-parameters).</summary>
public enum SearchScale
{
    /// <summary>Uniform on [low, high]: for parameters whose effect is additive (dropout rate, units).</summary>
    Linear,
    /// <summary>log x uniform on [log low, log high]: for learning rates and weight decay.</summary>
    Log,
    /// <summary>log(1 − β) uniform: for momentum and Adam's β near 1, where the window 1/(1 − β) matters.</summary>
    OneMinusLog,
    /// <summary>An integer uniform on [low, high] (both included).</summary>
    Integer,
    /// <summary>One of a list of values, each equally likely.</summary>
    Choice,
}

/// <summary>One named axis of a <see cref="SearchSpace"/>.</summary>
public sealed partial class SearchDimension
{
    private readonly object[] _values;

    internal SearchDimension(string name, SearchScale scale, double low, double high, object[] values)
    {
        Name = name;
        Scale = scale;
        Low = low;
        High = high;
        _values = values;
    }

    /// <summary>The parameter name (a key of <see cref="HyperParameters"/>).</summary>
    public string Name { get; }

    /// <summary>How values are drawn (linear, log-uniform, log-uniform in 1 − x, integer, or a choice).</summary>
    public SearchScale Scale { get; }

    /// <summary>Lower end (for <see cref="SearchScale.OneMinusLog"/> the smaller β); NaN for a choice.</summary>
    public double Low { get; }

    /// <summary>Upper end (for <see cref="SearchScale.OneMinusLog"/> the larger β); NaN for a choice.</summary>
    public double High { get; }

    /// <summary>The values of a choice (empty for the other scales).</summary>
    public IReadOnlyList<object> Values => _values;

    /// <summary>One value drawn from this dimension.</summary>
    internal object Sample(ref KilnRandom random)
    {
        double u = random.NextDouble();
        return Scale switch
        {
            SearchScale.Linear => Low + (High - Low) * u,
            SearchScale.Log => Math.Exp(Math.Log(Low) + (Math.Log(High) - Math.Log(Low)) * u),
            // 1 − β is log-uniform between 1 − High and 1 − Low.
            SearchScale.OneMinusLog => 1 - Math.Exp(Math.Log(1 - High) + (Math.Log(1 - Low) - Math.Log(1 - High)) * u),
            SearchScale.Integer => (int)Math.Min(High, Low + Math.Floor(u * (High - Low + 1))),
            _ => _values[random.NextInt(_values.Length)],
        };
    }

    /// <summary>The grid points of this axis: <paramref name="points"/> evenly spaced on its scale (all values for a choice).</summary>
    internal object[] GridPoints(int points)
    {
        if (Scale == SearchScale.Choice) return _values;
        if (Scale == SearchScale.Integer)
        {
            long count = (long)High - (long)Low + 1;
            if (count <= points) return Enumerable.Range((int)Low, (int)count).Select(v => (object)v).ToArray();
            var ints = new List<object>(points);
            for (int i = 0; i < points; i++)
            {
                int v = (int)Math.Round(Position(i, points, Low, High), MidpointRounding.AwayFromZero);
                if (ints.Count == 0 || (int)ints[ints.Count - 1] != v) ints.Add(v);
            }
            return ints.ToArray();
        }
        var result = new object[points];
        for (int i = 0; i < points; i++)
        {
            // The ends are exact (exp(log(x)) need not round-trip).
            if (points > 1 && (i == 0 || i == points - 1)) { result[i] = i == 0 ? Low : High; continue; }
            result[i] = Scale switch
            {
                SearchScale.Linear => Position(i, points, Low, High),
                SearchScale.Log => Math.Exp(Position(i, points, Math.Log(Low), Math.Log(High))),
                _ => 1 - Math.Exp(Position(i, points, Math.Log(1 - Low), Math.Log(1 - High))),
            };
        }
        return result;
    }

    /// <summary>Point <paramref name="i"/> of <paramref name="n"/> evenly spaced on [a, b]; the midpoint when n is 1.</summary>
    private static double Position(int i, int n, double a, double b) => n == 1 ? (a + b) / 2 : i == n - 1 ? b : a + (b - a) * i / (n - 1);

    /// <inheritdoc/>
    public override string ToString() => Scale == SearchScale.Choice
        ? $"{Name}: choice of {string.Join(", ", _values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))}"
        : string.Create(CultureInfo.InvariantCulture, $"{Name}: {Scale} [{Low}, {High}]");
}

/// <summary>
/// A hyper-parameter search space (docs/techniques.md#hyper-parameters): named dimensions, each with the scale it should be
/// searched on. Immutable: every method returns a new space, so a space can be shared and extended.
/// </summary>
/// <example>
/// <code>
/// var space = new SearchSpace()
///     .LogUniform("lr", 1e-4, 1e-1)                 // learning rate: log scale
///     .OneMinusLogUniform("momentum", 0.9, 0.999)   // β near 1: 1 − β on a log scale
///     .Choice("units", 64, 128, 256);
/// var random = new KilnRandom(42);
/// for (int trial = 0; trial &lt; 20; trial++)
/// {
///     HyperParameters hp = space.Sample(ref random);
///     double lr = hp.GetDouble("lr");
/// }
/// </code>
/// </example>
public sealed partial class SearchSpace
{
    private readonly SearchDimension[] _dimensions;

    /// <summary>An empty space.</summary>
    public SearchSpace() => _dimensions = Array.Empty<SearchDimension>();

    private SearchSpace(SearchDimension[] dimensions) => _dimensions = dimensions;

    /// <summary>The dimensions in the order they were added (the grid's order, last varying fastest).</summary>
    public IReadOnlyList<SearchDimension> Dimensions => _dimensions;

    /// <summary>log x uniform on [<paramref name="low"/>, <paramref name="high"/>], 0 &lt; low &lt; high: learning rates, weight decay.</summary>
    public SearchSpace LogUniform(string name, double low, double high)
    {
        RequireRange(low, high);
        if (!(low > 0)) throw new ArgumentOutOfRangeException(nameof(low), low, "A log-uniform range needs a positive lower bound.");
        return With(new SearchDimension(name, SearchScale.Log, low, high, Array.Empty<object>()));
    }

    /// <summary>x uniform on [<paramref name="low"/>, <paramref name="high"/>]: for parameters whose effect is additive (dropout rate).</summary>
    public SearchSpace Uniform(string name, double low, double high)
    {
        RequireRange(low, high);
        return With(new SearchDimension(name, SearchScale.Linear, low, high, Array.Empty<object>()));
    }

    /// <summary>
    /// β in [<paramref name="low"/>, <paramref name="high"/>] (0 ≤ low &lt; high &lt; 1) with 1 − β log-uniform: for momentum
    /// and Adam's β, where 0.999 → 0.9995 doubles the averaging window 1/(1 − β) and 0.9 → 0.9005 changes nothing.
    /// </summary>
    public SearchSpace OneMinusLogUniform(string name, double low, double high)
    {
        RequireRange(low, high);
        if (!(low >= 0 && high < 1)) throw new ArgumentOutOfRangeException(nameof(high), high, "β must lie in [0, 1).");
        return With(new SearchDimension(name, SearchScale.OneMinusLog, low, high, Array.Empty<object>()));
    }

    /// <summary>One of <paramref name="values"/>, each equally likely.</summary>
    public SearchSpace Choice<T>(string name, params T[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length == 0) throw new ArgumentException("A choice needs at least one value.", nameof(values));
        var boxed = new object[values.Length];
        for (int i = 0; i < values.Length; i++)
            boxed[i] = values[i] ?? throw new ArgumentException("Choice values cannot be null.", nameof(values));
        return With(new SearchDimension(name, SearchScale.Choice, double.NaN, double.NaN, boxed));
    }

    /// <summary>An integer uniform on [<paramref name="low"/>, <paramref name="high"/>], both included.</summary>
    public SearchSpace IntRange(string name, int low, int high)
    {
        if (low > high) throw new ArgumentOutOfRangeException(nameof(high), high, $"The range is empty: high < low ({low}).");
        return With(new SearchDimension(name, SearchScale.Integer, low, high, Array.Empty<object>()));
    }

    /// <summary>One point of the space, every dimension drawn independently (random search).</summary>
    public HyperParameters Sample(ref KilnRandom random)
    {
        var items = new KeyValuePair<string, object>[_dimensions.Length];
        for (int i = 0; i < _dimensions.Length; i++) items[i] = new(_dimensions[i].Name, _dimensions[i].Sample(ref random));
        return new HyperParameters(items);
    }

    /// <summary>Number of points <see cref="Grid"/> enumerates.</summary>
    public long GridSize(int pointsPerContinuousAxis)
    {
        RequirePoints(pointsPerContinuousAxis);
        long size = 1;
        foreach (SearchDimension d in _dimensions) size = checked(size * d.GridPoints(pointsPerContinuousAxis).Length);
        return size;
    }

    /// <summary>
    /// Every point of the grid: continuous axes get <paramref name="pointsPerContinuousAxis"/> points evenly spaced on
    /// their own scale (ends included; the midpoint for 1), integer axes at most that many distinct integers, choices all
    /// their values. The last dimension varies fastest. Prefer <see cref="Sample"/> when three or more parameters are searched.
    /// </summary>
    public IEnumerable<HyperParameters> Grid(int pointsPerContinuousAxis)
    {
        RequirePoints(pointsPerContinuousAxis);
        object[][] axes = _dimensions.Select(d => d.GridPoints(pointsPerContinuousAxis)).ToArray();
        return Enumerate(axes);
    }

    private IEnumerable<HyperParameters> Enumerate(object[][] axes)
    {
        if (axes.Length == 0) yield break;
        var index = new int[axes.Length];
        while (true)
        {
            var items = new KeyValuePair<string, object>[axes.Length];
            for (int i = 0; i < axes.Length; i++) items[i] = new(_dimensions[i].Name, axes[i][index[i]]);
            yield return new HyperParameters(items);
            int d = axes.Length - 1;
            while (d >= 0 && ++index[d] == axes[d].Length) index[d--] = 0;
            if (d < 0) yield break;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => "SearchSpace { " + string.Join("; ", _dimensions.Select(d => d.ToString())) + " }";

    private SearchSpace With(SearchDimension dimension)
    {
        if (string.IsNullOrWhiteSpace(dimension.Name)) throw new ArgumentException("A dimension needs a name.", "name");
        if (_dimensions.Any(d => d.Name == dimension.Name))
            throw new ArgumentException($"The space already has a dimension named '{dimension.Name}'.", "name");
        var next = new SearchDimension[_dimensions.Length + 1];
        _dimensions.CopyTo(next, 0);
        next[^1] = dimension;
        return new SearchSpace(next);
    }

    private static void RequireRange(double low, double high)
    {
        if (!double.IsFinite(low)) throw new ArgumentOutOfRangeException(nameof(low), low, "The bounds must be finite.");
        if (!double.IsFinite(high)) throw new ArgumentOutOfRangeException(nameof(high), high, "The bounds must be finite.");
        if (!(low < high)) throw new ArgumentOutOfRangeException(nameof(high), high, $"The range is empty: high ≤ low ({low}).");
    }

    private static void RequirePoints(int points)
    {
        if (points < 1) throw new ArgumentOutOfRangeException(nameof(points), points, "A grid needs at least one point per axis.");
    }
}

/// <summary>
/// One point of a <see cref="SearchSpace"/>: parameter name → value (double for continuous dimensions, int for
/// integer ranges, the chosen object for choices), in the order of the space's dimensions. Equal when the
/// same names map to equal values in the same order.
/// </summary>
public sealed record HyperParameters : IReadOnlyDictionary<string, object>
{
    private readonly KeyValuePair<string, object>[] _items;

    /// <summary>Wraps the pairs (not copied).</summary>
    public HyperParameters(KeyValuePair<string, object>[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        _items = items;
    }

    /// <summary>The value of hyper-parameter <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    public object this[string key] => TryGetValue(key, out object? value) ? value : throw new KeyNotFoundException($"No hyper-parameter named '{key}'.");

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _items.Select(p => p.Key);

    /// <inheritdoc/>
    public IEnumerable<object> Values => _items.Select(p => p.Value);

    /// <inheritdoc/>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out object value)
    {
        foreach (KeyValuePair<string, object> pair in _items)
            if (pair.Key == key)
            {
                value = pair.Value;
                return true;
            }
        value = null;
        return false;
    }

    /// <summary>A numeric value as a double.</summary>
    public double GetDouble(string key) => Convert.ToDouble(this[key], CultureInfo.InvariantCulture);

    /// <summary>A numeric value as an int (continuous values are rounded).</summary>
    public int GetInt32(string key) => this[key] is double d ? (int)Math.Round(d, MidpointRounding.AwayFromZero) : Convert.ToInt32(this[key], CultureInfo.InvariantCulture);

    /// <summary>A value of a known type (the type passed to Choice, double or int).</summary>
    public T Get<T>(string key) => (T)this[key];

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object>>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(HyperParameters? other)
    {
        if (other is null || other._items.Length != _items.Length) return false;
        for (int i = 0; i < _items.Length; i++)
            if (_items[i].Key != other._items[i].Key || !Equals(_items[i].Value, other._items[i].Value)) return false;
        return true;
    }

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (KeyValuePair<string, object> pair in _items)
        {
            hash.Add(pair.Key);
            hash.Add(pair.Value);
        }
        return hash.ToHashCode();
    }

    /// <summary>"lr=0.001, momentum=0.9" (invariant culture, shortest round-trip numbers).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (KeyValuePair<string, object> pair in _items)
        {
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(pair.Key).Append('=').Append(pair.Value is double d ? d.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(pair.Value, CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
