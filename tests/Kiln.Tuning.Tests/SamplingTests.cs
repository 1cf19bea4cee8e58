using System;
using System.Linq;
using Kiln;
using Kiln.Tuning;

namespace Kiln.Tuning.Tests;

/// <summary>The sampling scales (statistics against the closed-form moments), the grid and refinement of a space.</summary>
public class SamplingTests
{
    private const int Samples = 20_000;

    [Fact]
    public void Log_uniform_samples_are_uniform_in_log()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-5, 1e-1);
        var random = new KilnRandom(1);
        double[] logs = Enumerable.Range(0, Samples).Select(_ => Math.Log(space.Sample(ref random).GetDouble("lr"))).ToArray();
        double a = Math.Log(1e-5), b = Math.Log(1e-1);
        // Uniform on [a, b]: mean (a + b)/2, variance (b − a)²/12; the standard error of the mean is 2.66/√20000 ≈ 0.019.
        Assert.InRange(logs.Average(), (a + b) / 2 - 0.08, (a + b) / 2 + 0.08);
        double variance = logs.Select(x => (x - logs.Average()) * (x - logs.Average())).Average();
        Assert.InRange(variance / ((b - a) * (b - a) / 12), 0.96, 1.04);
        // Each of the four decades gets a quarter of the samples (a linear scale would put 90% in the top decade).
        for (int decade = 0; decade < 4; decade++)
        {
            double lo = Math.Log(Math.Pow(10, -5 + decade)), hi = Math.Log(Math.Pow(10, -4 + decade));
            double share = logs.Count(x => x >= lo && x < hi) / (double)Samples;
            Assert.InRange(share, 0.23, 0.27);
        }
        Assert.All(logs, x => Assert.InRange(x, a, b));
    }

    [Fact]
    public void One_minus_log_samples_are_uniform_in_log_of_one_minus_beta()
    {
        var space = new SearchSpace().OneMinusLogUniform("beta", 0.9, 0.9999);
        var random = new KilnRandom(2);
        double[] betas = Enumerable.Range(0, Samples).Select(_ => space.Sample(ref random).GetDouble("beta")).ToArray();
        double[] t = betas.Select(x => Math.Log(1 - x)).ToArray();
        double a = Math.Log(1 - 0.9999), b = Math.Log(1 - 0.9);
        Assert.InRange(t.Average(), (a + b) / 2 - 0.06, (a + b) / 2 + 0.06);
        // A third of the samples above 0.999 (windows of 1000+ steps): a linear scale would put 0.1% there.
        Assert.InRange(betas.Count(x => x > 0.999) / (double)Samples, 0.31, 0.356);
        Assert.All(betas, x => Assert.InRange(x, 0.9, 0.9999));
    }

    [Fact]
    public void Integer_ranges_hit_every_value_equally()
    {
        var space = new SearchSpace().IntRange("layers", 1, 4);
        var random = new KilnRandom(3);
        int[] values = Enumerable.Range(0, Samples).Select(_ => space.Sample(ref random).Get<int>("layers")).ToArray();
        for (int v = 1; v <= 4; v++) Assert.InRange(values.Count(x => x == v) / (double)Samples, 0.235, 0.265);
        Assert.All(values, x => Assert.InRange(x, 1, 4));
    }

    [Fact]
    public void Grid_enumerates_every_point_on_each_axis_scale()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("weight_decay", 0.0, 1e-4);
        HyperParameters[] grid = space.Grid(4).ToArray();
        Assert.Equal(8, grid.Length);
        double[] expectedLr = [1e-4, 1e-3, 1e-2, 1e-1];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++)
            {
                HyperParameters p = grid[i * 2 + j]; // the last dimension varies fastest
                Assert.Equal(expectedLr[i], p.GetDouble("lr"), 1e-12 * expectedLr[i]);
                Assert.Equal(j == 0 ? 0.0 : 1e-4, p.GetDouble("weight_decay"));
            }
        Assert.Equal(8, grid.Distinct().Count());
    }

    [Fact]
    public void Refining_a_log_dimension_works_in_log_space()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-6, 1);
        SearchSpace fine = space.Refine([Point("lr", 1e-3), Point("lr", 1e-2)], margin: 0.5);
        SearchDimension lr = fine["lr"];
        // Spread of one decade, widened by half a decade each side, centred on the geometric mean 10^-2.5.
        Assert.Equal(Math.Pow(10, -3.5), lr.Low, 1e-12);
        Assert.Equal(Math.Pow(10, -1.5), lr.High, 1e-12);
        Assert.Equal(SearchScale.Log, lr.Scale);
    }

    [Fact]
    public void Refining_one_point_keeps_the_minimum_width_and_stays_inside_the_declared_range()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1).Uniform("dropout", 0, 0.8);
        SearchSpace fine = space.Refine([Point(("lr", 1e-2), ("dropout", 0.8))], minimumFraction: 0.25);
        // lr: a quarter of 4 decades = 1 decade around 1e-2.
        Assert.Equal(Math.Pow(10, -2.5), fine["lr"].Low, 1e-12);
        Assert.Equal(Math.Pow(10, -1.5), fine["lr"].High, 1e-12);
        // dropout at the top edge: the width 0.2 is kept by shifting inward.
        Assert.Equal(0.6, fine["dropout"].Low, 1e-12);
        Assert.Equal(0.8, fine["dropout"].High);
    }

    [Fact]
    public void Refining_one_minus_log_works_on_one_minus_beta()
    {
        var space = new SearchSpace().OneMinusLogUniform("beta", 0.9, 0.9999);
        SearchDimension beta = space.Refine([Point("beta", 0.99), Point("beta", 0.999)], margin: 0.5)["beta"];
        Assert.Equal(1 - Math.Pow(10, -1.5), beta.Low, 1e-12);
        Assert.Equal(1 - Math.Pow(10, -3.5), beta.High, 1e-12);
    }

    [Fact]
    public void Refining_choices_and_integers()
    {
        var space = new SearchSpace().Choice("units", 32, 64, 128, 256).IntRange("layers", 1, 10);
        SearchSpace fine = space.Refine([Point(("units", 128), ("layers", 3)), Point(("units", 32), ("layers", 5))], margin: 0);
        Assert.Equal(new object[] { 32, 128 }, fine["units"].Values); // declared order kept
        Assert.Equal(3, fine["layers"].Low);
        Assert.Equal(5, fine["layers"].High);
    }

    [Fact]
    public void Refining_rejects_points_that_do_not_fit_the_space()
    {
        var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1);
        Assert.Throws<ArgumentException>(() => space.Refine([Point("momentum", 0.9)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => space.Refine([Point("lr", 0.5)]));
        Assert.Throws<ArgumentException>(() => space.Refine([]));
    }

    [Fact]
    public void Relative_position_is_measured_in_the_search_coordinate()
    {
        SearchDimension lr = new SearchSpace().LogUniform("lr", 1e-4, 1)["lr"];
        Assert.Equal(0.5, lr.RelativePosition(1e-2), 12);
        Assert.Equal(0.25, lr.RelativePosition(1e-3), 12);
    }

    internal static HyperParameters Point(string name, object value) => Point((name, value));

    internal static HyperParameters Point(params (string Name, object Value)[] items) =>
        new(items.Select(i => new System.Collections.Generic.KeyValuePair<string, object>(i.Name, i.Value)).ToArray());
}
