using System;
using System.Linq;
using Kiln.Data;

namespace Kiln.Runtime.Tests;

public class StandardizerTests
{
    private static (double Mean, double Std) Column(Dataset d, int j)
    {
        double[] v = Enumerable.Range(0, d.Count).Select(i => (double)d.Features[i * d.FeatureCount + j]).ToArray();
        double m = v.Average();
        return (m, Math.Sqrt(v.Select(x => (x - m) * (x - m)).Average()));
    }

    [Fact]
    public void Fit_on_train_standardises_train_and_reuses_train_statistics_for_test()
    {
        DataSplit s = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(s.Train);

        Dataset train = st.Transform(s.Train);
        Dataset test = st.Transform(s.Test);

        for (int j = 0; j < 64; j++)
        {
            var (m, sd) = Column(train, j);
            Assert.InRange(m, -1e-4, 1e-4);
            var (rawMean, rawStd) = Column(s.Train, j);
            if (rawStd > 0) Assert.InRange(sd, 1 - 1e-4, 1 + 1e-4);
            else Assert.Equal(0, sd);   // a constant pixel stays a constant 0 (std guarded to 1)
            Assert.Equal(rawMean, st.Mean[j], 4);
        }
        // Test uses the train statistics, not its own.
        for (int i = 0; i < 20; i++)
        {
            int j = i * 3 + 1;
            float expected = (s.Test.Features[i * 64 + j] - st.Mean[j]) / st.Std[j];
            Assert.Equal(expected, test.Features[i * 64 + j], 5);
        }
        var testStats = new Standardizer().Fit(s.Test);
        Assert.NotEqual(testStats.Mean, st.Mean);
        // Sources are untouched.
        Assert.Equal(16f, s.Train.Features.Max());
    }

    [Fact]
    public void Constant_feature_gets_unit_std()
    {
        var d = new Dataset([5, 1, 5, 2, 5, 3], [0, 1, 0], 2);
        var st = new Standardizer().Fit(d);
        Assert.Equal(1f, st.Std[0]);
        Assert.Equal(5f, st.Mean[0]);
        Dataset t = st.Transform(d);
        Assert.Equal([0f, 0f, 0f], Enumerable.Range(0, 3).Select(i => t.Features[2 * i]));
    }

    [Fact]
    public void Round_trips_through_json_and_inverts()
    {
        var st = new Standardizer().Fit(new Dataset([1, 10, 3, 30, 5, 50], [0, 1, 0], 2));
        string json = st.ToJson();
        Assert.Contains("\"mean\"", json);
        Assert.Contains("\"std\"", json);
        var back = Standardizer.FromJson(json);
        Assert.Equal(st.Mean, back.Mean);
        Assert.Equal(st.Std, back.Std);

        float[] x = [2, 20, 4, 40];
        back.TransformInPlace(x);
        back.InverseTransformInPlace(x);
        Assert.Equal([2f, 20f, 4f, 40f], x.Select(v => MathF.Round(v, 4)));
    }

    [Fact]
    public void Misuse_is_reported()
    {
        Assert.Throws<InvalidOperationException>(() => new Standardizer().TransformInPlace(new float[4]));
        var st = new Standardizer().Fit(new Dataset([1, 2, 3, 4], [0, 1], 2));
        Assert.Throws<ArgumentException>(() => st.TransformInPlace(new float[3]));
        Assert.Throws<ArgumentException>(() => st.Transform(new Dataset([1, 2, 3], [0], 3)));
        Assert.Throws<System.Text.Json.JsonException>(() => Standardizer.FromJson("{}"));
    }
}
