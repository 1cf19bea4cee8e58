using System;
using System.Linq;
using System.Text.Json;
using Kiln.Preprocessing;

namespace Kiln.Data.Tests;

public class PreprocessingTests
{
    private static readonly ImageShape Image = new(3, 4, 5);

    [Fact]
    public void Standardizer_and_mean_image_match_double_references_and_fit_on_train_only()
    {
        DataSplit split = TestData.Uniform(200, 7, 1, -2, 5).Split(0.75, 3);
        float[] testBefore = (float[])split.Test.Features.Clone();

        DataSplit ready = new Standardizer().FitTransform(split);
        var centre = new Standardizer { DivideByStd = false }.Fit(split.Train);

        Assert.Equal(testBefore, split.Test.Features);   // FitTransform copies
        int f = 7, n = split.Train.Count;
        for (int j = 0; j < f; j++)
        {
            double mean = 0, sq = 0;
            for (int r = 0; r < n; r++) mean += split.Train.Features[r * f + j];
            mean /= n;
            for (int r = 0; r < n; r++) sq += Math.Pow(split.Train.Features[r * f + j] - mean, 2);
            double std = Math.Sqrt(sq / n);
            for (int r = 0; r < split.Test.Count; r++)
                Assert.Equal((testBefore[r * f + j] - mean) / std, ready.Test.Features[r * f + j], 1e-5);
            Assert.Equal(mean, centre.Mean[j], 1e-5);
            Assert.Equal(1f, centre.Std[j]);
        }
        float[] centred = (float[])testBefore.Clone();
        centre.Apply(centred);
        for (int i = 0; i < centred.Length; i++) Assert.Equal(testBefore[i] - centre.Mean[i % f], centred[i]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Channel_normalizer_uses_one_mean_and_std_per_channel(bool divide)
    {
        Dataset train = TestData.Uniform(40, Image.Size, 2, 0, 255, Image);
        // Give the channels different levels so a per-feature or global statistic would be visibly wrong.
        for (int r = 0; r < train.Count; r++)
            for (int i = 0; i < Image.Size; i++) train.Features[r * Image.Size + i] *= 1 + i / 20;
        var norm = new ChannelNormalizer { DivideByStd = divide }.Fit(train);

        int plane = 20;
        float[] x = (float[])train.Features.Clone();
        norm.Apply(x);
        for (int c = 0; c < 3; c++)
        {
            double mean = 0, sq = 0, count = train.Count * plane;
            for (int r = 0; r < train.Count; r++)
                for (int p = 0; p < plane; p++) mean += train.Features[r * 60 + c * plane + p];
            mean /= count;
            for (int r = 0; r < train.Count; r++)
                for (int p = 0; p < plane; p++) sq += Math.Pow(train.Features[r * 60 + c * plane + p] - mean, 2);
            double std = divide ? Math.Sqrt(sq / count) : 1;
            Assert.Equal(mean, norm.Mean[c], 1e-3);
            for (int r = 0; r < train.Count; r++)
                for (int p = 0; p < plane; p++)
                    Assert.Equal((train.Features[r * 60 + c * plane + p] - mean) / std, x[r * 60 + c * plane + p], 1e-3);
        }
        ArgumentException e = Assert.Throws<ArgumentException>(() => new ChannelNormalizer().Fit(train.WithShape(null)));
        Assert.Contains("image shape", e.Message);
    }

    /// <summary>Σ = L·Lᵀ with eigenvalues spread over two orders of magnitude and a large mean offset.</summary>
    private static Dataset KnownCovariance(int count = 20000, ulong seed = 5)
    {
        const int f = 6;
        double[,] q = TestData.RandomOrthogonal(f, 99);
        double[] sd = [3, 2, 1.5, 1, 0.5, 0.3];
        var l = new double[f, f];
        for (int i = 0; i < f; i++)
            for (int j = 0; j < f; j++) l[i, j] = q[i, j] * sd[j];
        return TestData.Correlated(count, l, [10, -4, 0, 2, 7, 1], seed);
    }

    [Theory]
    [MemberData(nameof(TestData.SupportedPaths), MemberType = typeof(TestData))]
    public void Zca_whitened_training_data_has_identity_covariance_and_a_symmetric_matrix(IsaPath path)
    {
        Dataset train = KnownCovariance();
        var zca = new ZcaWhitener(epsilon: 0) { Isa = path }.Fit(train);
        Dataset white = zca.Transform(train);

        double[,] c = TestData.Covariance(white.Features, 6);
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) Assert.Equal(i == j ? 1.0 : 0.0, c[i, j], 1e-3);
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) Assert.Equal(zca.Matrix[i * 6 + j], zca.Matrix[j * 6 + i]);
        // The eigenvalues are those of the sample covariance: their sum is its trace, and they are near the population's.
        double[,] raw = TestData.Covariance(train.Features, 6);
        double trace = 0;
        for (int i = 0; i < 6; i++) trace += raw[i, i];
        Assert.Equal(trace, zca.Eigenvalues.Sum(), 1e-6 * trace);
        double[] population = [9, 4, 2.25, 1, 0.25, 0.09];
        for (int j = 0; j < 6; j++) Assert.InRange(zca.Eigenvalues[j], population[j] * 0.95, population[j] * 1.05);
    }

    [Theory]
    [MemberData(nameof(TestData.SupportedPaths), MemberType = typeof(TestData))]
    public void Apply_matches_a_double_reference_on_every_path(IsaPath path)
    {
        Dataset train = TestData.Uniform(300, 67, 8, 0, 1);   // 67: SIMD remainders; 300 rows: several 64-row chunks
        foreach (Whitener w in new Whitener[] { new ZcaWhitener(0.01), new PcaWhitener(10, 0.01) })
        {
            w.Isa = path;
            w.Fit(train);
            int f = 67, k = w.OutputFeatureCount;
            var y = new float[train.Count * k];
            y.AsSpan().Fill(float.NaN);   // the GEMM must overwrite, not accumulate
            w.Apply(train.Features, y);
            for (int r = 0; r < train.Count; r++)
                for (int j = 0; j < k; j++)
                {
                    double v = 0;
                    for (int i = 0; i < f; i++) v += (train.Features[r * f + i] - (double)w.Mean[i]) * w.Matrix[i * k + j];
                    Assert.Equal(v, y[r * k + j], 2e-4);
                }
        }
    }

    [Fact]
    public void Zca_keeps_the_data_closest_to_the_original_of_all_whitenings()
    {
        Dataset train = KnownCovariance(4000);
        var zca = new ZcaWhitener(0).Fit(train);
        var pca = new PcaWhitener(0, 0).Fit(train);
        float[] z = zca.Transform(train).Features, p = pca.Transform(train).Features;
        int f = 6;
        double Distance(Func<int, int, double> whitened)
        {
            double d = 0;
            for (int r = 0; r < train.Count; r++)
                for (int i = 0; i < f; i++) d += Math.Pow(whitened(r, i) - (train.Features[r * f + i] - zca.Mean[i]), 2);
            return d;
        }
        double best = Distance((r, i) => z[r * f + i]);
        Assert.True(Distance((r, i) => p[r * f + i]) > best);
        for (ulong seed = 1; seed <= 5; seed++)
        {
            double[,] rot = TestData.RandomOrthogonal(f, seed);   // R·W_zca is another whitening
            Assert.True(Distance((r, i) =>
            {
                double v = 0;
                for (int j = 0; j < f; j++) v += rot[i, j] * z[r * f + j];
                return v;
            }) > best);
        }
    }

    [Fact]
    public void Pca_keeps_the_top_components_with_unit_variance()
    {
        Dataset train = KnownCovariance();
        var pca = new PcaWhitener(components: 3, epsilon: 0).Fit(train);
        Assert.Equal(6, pca.FeatureCount);
        Assert.Equal(3, pca.OutputFeatureCount);
        Dataset reduced = pca.Transform(train);
        Assert.Equal(3, reduced.FeatureCount);
        Assert.Null(reduced.Shape);
        double[,] c = TestData.Covariance(reduced.Features, 3);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) Assert.Equal(i == j ? 1.0 : 0.0, c[i, j], 1e-3);
        // Projections on the kept directions carry the three largest variances: unwhitened variance = λ_j.
        for (int j = 0; j < 3; j++)
        {
            double norm2 = 0;
            for (int i = 0; i < 6; i++) norm2 += Math.Pow(pca.Matrix[i * 3 + j], 2);
            Assert.Equal(1 / pca.Eigenvalues[j], norm2, 1e-4 / pca.Eigenvalues[j]);   // column j = u_j/√λ_j
        }
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => pca.Apply(train.Features.AsSpan(0, 12)));
        Assert.Contains("in place", e.Message);
        Assert.Throws<ArgumentException>(() => new PcaWhitener(7).Fit(train));
    }

    [Fact]
    public void Epsilon_shrinks_and_constant_features_are_dropped_not_blown_up()
    {
        Dataset train = TestData.Uniform(500, 5, 3);
        for (int r = 0; r < 500; r++) train.Features[r * 5 + 2] = 0.5f;   // a constant "border pixel"
        float[] y = new ZcaWhitener(0).Fit(train).Transform(train).Features;
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        double[,] c = TestData.Covariance(y, 5);
        Assert.Equal(0, c[2, 2], 1e-9);
        Assert.Equal(1, c[0, 0], 1e-3);
        double[,] shrunk = TestData.Covariance(new ZcaWhitener(0.1).Fit(train).Transform(train).Features, 5);
        Assert.InRange(shrunk[0, 0], 0.3, 0.6);   // λ ≈ 1/12: λ/(λ + 0.1) ≈ 0.45
    }

    private static Preprocessor[] EveryKind(Dataset images) =>
    [
        new Standardizer().Fit(images),
        new Standardizer { DivideByStd = false }.Fit(images),
        new ChannelNormalizer().Fit(images),
        new ChannelNormalizer { DivideByStd = false }.Fit(images),
        new PcaWhitener(0, 1e-3).Fit(images),
        new PcaWhitener(7, 1e-3).Fit(images),
        new ZcaWhitener(1e-3).Fit(images),
        Preprocessor.Chain(new ChannelNormalizer(), new ZcaWhitener(0.01)).Fit(images),
        Preprocessor.Chain(new Standardizer(), new PcaWhitener(5)).Fit(images),
    ];

    [Fact]
    public void Every_kind_round_trips_through_json_bit_for_bit()
    {
        Dataset images = TestData.Uniform(120, Image.Size, 4, 0, 1, Image);
        Dataset other = TestData.Uniform(9, Image.Size, 5, -1, 2, Image);
        foreach (Preprocessor p in EveryKind(images))
        {
            string json = p.ToJson();
            Preprocessor back = Preprocessor.FromJson(json);
            Assert.Equal(p.GetType(), back.GetType());
            Assert.Equal(json, back.ToJson());
            Assert.Equal(p.OutputFeatureCount, back.OutputFeatureCount);
            Assert.Equal(p.Transform(other).Features, back.Transform(other).Features);
        }
        Assert.IsType<Standardizer>(Standardizer.FromJson("{\"mean\":[1,2],\"std\":[3,4]}"));   // the older form
    }

    [Fact]
    public void Apply_in_place_two_spans_and_transform_agree_and_allocate_nothing()
    {
        Dataset images = TestData.Uniform(300, Image.Size, 6, 0, 1, Image);
        foreach (Preprocessor p in EveryKind(images))
        {
            float[] expected = p.Transform(images).Features;
            var y = new float[images.Count * p.OutputFeatureCount];
            p.Apply(images.Features, y);
            Assert.Equal(expected, y);
            float[] batch = images.Features.AsSpan(0, 256 * Image.Size).ToArray();
            Assert.Equal(0, TestData.Allocated(() => p.Apply(images.Features.AsSpan(0, 256 * Image.Size), y.AsSpan(0, 256 * p.OutputFeatureCount))));
            if (p.OutputFeatureCount != p.FeatureCount) continue;
            p.Apply(batch);
            Assert.Equal(expected.AsSpan(0, batch.Length).ToArray(), batch);
            Assert.Equal(0, TestData.Allocated(() => p.Apply(batch)));
        }
    }

    [Theory]
    [InlineData("{\"kind\":\"sharpen\"}", "unknown kind 'sharpen'")]
    [InlineData("{\"mean\":[1]}", "missing the string 'kind'")]
    [InlineData("{\"kind\":\"standardize\",\"mean\":[1,2],\"std\":[1]}", "'std' has 1 values, expected 2")]
    [InlineData("{\"kind\":\"standardize\",\"mean\":[1,2],\"std\":[1,0]}", "'std'[1]")]
    [InlineData("{\"kind\":\"standardize\",\"mean\":[1,\"x\"],\"std\":[1,1]}", "'mean'[1]")]
    [InlineData("{\"kind\":\"channel_normalize\",\"shape\":[2,0,3],\"mean\":[1,2],\"std\":[1,1]}", "'shape'")]
    [InlineData("{\"kind\":\"zca_whiten\",\"epsilon\":-1,\"mean\":[0],\"eigenvalues\":[1],\"matrix\":[1]}", "'epsilon'")]
    [InlineData("{\"kind\":\"zca_whiten\",\"epsilon\":0,\"mean\":[0,0],\"eigenvalues\":[1,2],\"matrix\":[1,0,0,1]}", "descending")]
    [InlineData("{\"kind\":\"pca_whiten\",\"epsilon\":0,\"components\":1,\"mean\":[0,0],\"eigenvalues\":[2,1],\"matrix\":[1,0,0,1]}", "'matrix' has 4 values, expected 2")]
    [InlineData("{\"kind\":\"chain\",\"steps\":[]}", "'steps' is empty")]
    [InlineData("{\"kind\":\"chain\",\"steps\":[{\"kind\":\"standardize\",\"mean\":[1,2],\"std\":[1,1]},{\"kind\":\"standardize\",\"mean\":[1],\"std\":[1]}]}", "Step 1")]
    [InlineData("[1, 2", "not valid JSON")]
    public void Corrupt_json_is_rejected_with_the_field_named(string json, string fragment)
    {
        JsonException e = Assert.Throws<JsonException>(() => Preprocessor.FromJson(json));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Chain_equals_its_steps_fitted_in_sequence()
    {
        Dataset images = TestData.Uniform(150, Image.Size, 7, 0, 1, Image);
        Preprocessor chain = Preprocessor.Chain(new ChannelNormalizer(), new PcaWhitener(6, 0.01)).Fit(images);
        var first = new ChannelNormalizer().Fit(images);
        Dataset normalised = first.Transform(images);
        var second = new PcaWhitener(6, 0.01).Fit(normalised);
        Assert.Equal(second.Transform(normalised).Features, chain.Transform(images).Features);
        Assert.Throws<InvalidOperationException>(() => Preprocessor.Chain(new PcaWhitener(6), new Standardizer()).Fit(images));
    }

    [Fact]
    public void Misuse_is_reported()
    {
        Assert.Throws<InvalidOperationException>(() => new ZcaWhitener().Apply(new float[4]));
        Assert.Throws<InvalidOperationException>(() => new ZcaWhitener().ToJson());
        var st = new Standardizer().Fit(new Dataset([1, 2, 3, 4], [0, 1], 2));
        Assert.Throws<ArgumentException>(() => st.Apply(new float[3]));
        float[] x = new float[8];
        Assert.Throws<ArgumentException>(() => st.Apply(x.AsSpan(0, 4), x.AsSpan(2, 4)));   // partial overlap
        Assert.Throws<ArgumentOutOfRangeException>(() => new ZcaWhitener(-1));
        Assert.Throws<ArgumentException>(() => new Standardizer().Fit(new Dataset([], [], 3)));
    }
}
