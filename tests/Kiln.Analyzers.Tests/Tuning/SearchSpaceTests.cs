using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Tuning;

namespace Kiln.Analyzers.Tests.Tuning;

/// <summary>Kiln.Tuning.SearchSpace: the sampling scales, the grid and HyperParameters (the API rules KLN0x20 inspect).</summary>
public class SearchSpaceTests
{
    [Fact]
    public void Log_uniform_samples_every_decade_equally()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1);
        var random = new KilnRandom(7);
        var perDecade = new int[3];
        for (int i = 0; i < 30000; i++)
        {
            double lr = space.Sample(ref random).GetDouble("lr");
            Assert.InRange(lr, 1e-4, 1e-1);
            perDecade[Math.Min(2, (int)Math.Floor(Math.Log10(lr) + 4))]++;
        }
        Assert.All(perDecade, n => Assert.InRange(n, 9400, 10600));
    }

    [Fact]
    public void Uniform_puts_ninety_percent_in_the_top_decade()
    {
        var space = new SearchSpace().Uniform("lr", 1e-4, 1e-1);
        var random = new KilnRandom(7);
        int top = Enumerable.Range(0, 20000).Count(_ => space.Sample(ref random).GetDouble("lr") >= 1e-2);
        Assert.InRange(top / 20000.0, 0.88, 0.92);
    }

    [Fact]
    public void One_minus_log_uniform_samples_the_averaging_window_on_a_log_scale()
    {
        var space = new SearchSpace().OneMinusLogUniform("beta", 0.9, 0.999);
        var random = new KilnRandom(3);
        int nearOne = 0;
        for (int i = 0; i < 30000; i++)
        {
            double beta = space.Sample(ref random).GetDouble("beta");
            Assert.InRange(beta, 0.9, 0.999);
            if (beta >= 0.99) nearOne++;
        }
        // 1 − β in [1e-3, 1e-1]: half of the log range lies below 1e-2 (β ≥ 0.99); a linear draw would give 10%.
        Assert.InRange(nearOne / 30000.0, 0.48, 0.52);
    }

    [Fact]
    public void Choices_and_integer_ranges_sample_each_value()
    {
        var space = new SearchSpace().Choice("act", "relu", "gelu").IntRange("layers", 1, 3);
        var random = new KilnRandom(5);
        var seen = new HashSet<(string, int)>();
        for (int i = 0; i < 500; i++)
        {
            HyperParameters p = space.Sample(ref random);
            seen.Add((p.Get<string>("act"), p.GetInt32("layers")));
        }
        Assert.Equal(6, seen.Count);
    }

    [Fact]
    public void Sampling_is_reproducible_from_the_seed()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("units", 64, 128, 256);
        var a = new KilnRandom(11);
        var b = new KilnRandom(11);
        for (int i = 0; i < 10; i++) Assert.Equal(space.Sample(ref a), space.Sample(ref b));
    }

    [Fact]
    public void Grid_enumerates_points_on_each_axis_scale_last_axis_fastest()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-3, 1e-1).Uniform("dropout", 0, 0.5).Choice("units", 64, 128);
        HyperParameters[] grid = space.Grid(3).ToArray();
        Assert.Equal(18, grid.Length);
        Assert.Equal(18, space.GridSize(3));
        Assert.Equal(new[] { 1e-3, 1e-2, 1e-1 }, grid.Where((_, i) => i % 6 == 0).Select(p => Math.Round(p.GetDouble("lr"), 12)));
        Assert.Equal(new[] { 0.0, 0.25, 0.5 }, grid.Take(6).Where((_, i) => i % 2 == 0).Select(p => p.GetDouble("dropout")));
        Assert.Equal(new object[] { 64, 128 }, grid.Take(2).Select(p => p["units"]));
        Assert.Equal("lr=0.001, dropout=0, units=64", grid[0].ToString());
    }

    [Fact]
    public void Grid_of_one_point_is_the_midpoint_and_integer_axes_stay_distinct()
    {
        HyperParameters mid = Assert.Single(new SearchSpace().LogUniform("lr", 1e-4, 1e-2).OneMinusLogUniform("b", 0.9, 0.999).Grid(1));
        Assert.Equal(1e-3, mid.GetDouble("lr"), 12);
        Assert.Equal(1 - Math.Sqrt(1e-1 * 1e-3), mid.GetDouble("b"), 12);
        Assert.Equal(new[] { 1, 2, 3 }, new SearchSpace().IntRange("n", 1, 3).Grid(5).Select(p => p.GetInt32("n")));
        Assert.Equal(new[] { 16, 520, 1024 }, new SearchSpace().IntRange("n", 16, 1024).Grid(3).Select(p => p.GetInt32("n")));
    }

    [Fact]
    public void Spaces_are_immutable_and_validate_their_arguments()
    {
        var a = new SearchSpace().LogUniform("lr", 1e-4, 1e-1);
        var b = a.Uniform("dropout", 0, 0.5);
        Assert.Single(a.Dimensions);
        Assert.Equal(2, b.Dimensions.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchSpace().LogUniform("lr", 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchSpace().Uniform("x", 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchSpace().OneMinusLogUniform("b", 0.9, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchSpace().IntRange("n", 3, 1));
        Assert.Throws<ArgumentException>(() => new SearchSpace().Choice<int>("c"));
        Assert.Throws<ArgumentException>(() => a.Uniform("lr", 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Grid(0).ToArray());
    }

    [Fact]
    public void Hyper_parameters_behave_like_a_dictionary_with_value_equality()
    {
        var p = new HyperParameters(new[] { new KeyValuePair<string, object>("lr", 0.01), new KeyValuePair<string, object>("units", 64) });
        var q = new HyperParameters(new[] { new KeyValuePair<string, object>("lr", 0.01), new KeyValuePair<string, object>("units", 64) });
        Assert.Equal(p, q);
        Assert.Equal(p.GetHashCode(), q.GetHashCode());
        Assert.Equal(2, p.Count);
        Assert.True(p.ContainsKey("lr"));
        Assert.Equal(new[] { "lr", "units" }, p.Keys);
        Assert.Equal(64, p.GetInt32("units"));
        Assert.Throws<KeyNotFoundException>(() => p["missing"]);
        Assert.NotEqual(p, new HyperParameters(new[] { new KeyValuePair<string, object>("lr", 0.02), new KeyValuePair<string, object>("units", 64) }));
    }
}
