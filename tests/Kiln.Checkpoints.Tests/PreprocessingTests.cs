using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Data;
using Kiln.Preprocessing;
using Xunit;

namespace Kiln.Checkpoints.Tests;

/// <summary>Preprocessing saved with the model: restored exactly, checked against the model's input, corrupt entries rejected.</summary>
public class PreprocessingTests
{
    private static Dataset Data(int features, int count = 200, ulong seed = 1, ImageShape? shape = null)
    {
        var rng = new KilnRandom(seed);
        var x = new float[count * features];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * (1 + i % features) - 0.3f * (i % 3);
        return new Dataset(x, new int[count], features, 1, shape, "synthetic");
    }

    public static TheoryData<string> Kinds() => new() { "standardize", "mean_image", "channels", "pca", "zca", "chain_to_19" };

    private static Preprocessor Make(string kind) => kind switch
    {
        "standardize" => new Standardizer().Fit(Data(19)),
        "mean_image" => new Standardizer { DivideByStd = false }.Fit(Data(19)),
        "channels" => new ChannelNormalizer().Fit(Data(19, shape: new ImageShape(1, 1, 19))),
        "pca" => new PcaWhitener(0, 1e-4).Fit(Data(19)),
        "zca" => new ZcaWhitener(1e-4).Fit(Data(19)),
        // 25 raw features reduced to the model's 19 inputs.
        _ => Preprocessor.Chain(new Standardizer(), new PcaWhitener(19, 1e-3)).Fit(Data(25)),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_model_with_its_preprocessing_round_trips_exactly(string kind)
    {
        using var dir = new TempDirectory();
        var net = new Net();
        Support.Train(net, 0, 3);
        Preprocessor saved = Make(kind);
        string path = dir.File("net.safetensors");
        Checkpoint.Save(net, path, new CheckpointMetadata { Preprocessing = saved });

        var restored = new Net();
        CheckpointFile file = Checkpoint.Load(restored, path);
        Preprocessor loaded = file.Preprocessing!;
        Assert.Equal(saved.GetType(), loaded.GetType());
        Assert.Same(loaded, file.Preprocessing);
        Assert.Equal(saved.ToJson(), loaded.ToJson());

        // Raw samples → preprocessing → model: identical bits before and after the round trip.
        Dataset raw = Data(saved.FeatureCount, Support.Batch, seed: 9);
        float[] Pipeline(Preprocessor p, IKilnModel m)
        {
            float[] x = p.Transform(raw).Features;
            var y = new float[Support.Batch * m.OutputSize];
            m.Predict(x, y, Support.Batch);
            return y;
        }
        Assert.Equal(Pipeline(saved, net), Pipeline(loaded, restored));
        Support.AssertSame(Support.Snapshot(net), Support.Snapshot(restored));
    }

    [Fact]
    public void Save_rejects_preprocessing_that_does_not_feed_the_model()
    {
        using var dir = new TempDirectory();
        string path = dir.File("net.safetensors");
        ArgumentException wrongSize = Assert.Throws<ArgumentException>(() =>
            Checkpoint.Save(new Net(), path, new CheckpointMetadata { Preprocessing = new PcaWhitener(7).Fit(Data(19)) }));
        Assert.Contains("produces 7 features", wrongSize.Message);
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(new Net(), path, new CheckpointMetadata { Preprocessing = new ZcaWhitener() }));
        var st = new Standardizer().Fit(Data(19));
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(new Net(), path, new CheckpointMetadata { Preprocessing = st, Standardizer = st }));
        Assert.False(System.IO.File.Exists(path));
    }

    [Fact]
    public void An_older_standardizer_entry_is_read_as_preprocessing()
    {
        using var dir = new TempDirectory();
        var st = new Standardizer().Fit(Data(19));
        string path = dir.File("net.safetensors");
        Checkpoint.Save(new Net(), path, new CheckpointMetadata { Standardizer = st });
        CheckpointFile file = Checkpoint.Load(new Net(), path);
        Assert.True(file.Metadata.ContainsKey("standardizer"));
        Assert.False(file.Metadata.ContainsKey("preprocessing"));
        Assert.Equal(st.Mean, Assert.IsType<Standardizer>(file.Preprocessing).Mean);
        Assert.Equal(st.Std, file.Standardizer!.Std);
    }
}
