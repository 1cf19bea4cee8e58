using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Runtime.Tests;

namespace Kiln.Training.Tests;

/// <summary>
/// Samples/FashionCnn's checkpoint-ensemble, test-time-augmentation and schedule flags, run end to end on the embedded
/// digits (DigitsCnn, seconds): the figures in its metrics JSON must obey what they claim to be.
/// </summary>
public sealed class FashionCnnSampleTests
{
    [Fact]
    public void Snapshot_ensembles_and_TTA_report_consistent_figures()
    {
        using var dir = new TempDirectory();
        string metrics = dir.File("metrics.json");
        int code = Kiln.Samples.FashionCnn.Program.Main(new[]
        {
            "--data", "digits", "--epochs", "2", "--plain", "--seed", "3",
            "--snapshot-ensemble", "1,2", "--snapshot-ensemble", "2", "--tta", "flip", "--metrics-out", metrics,
        });
        Assert.Equal(0, code);

        using JsonDocument doc = JsonDocument.Parse(System.IO.File.ReadAllText(metrics));
        JsonElement root = doc.RootElement;
        double finalAccuracy = root.GetProperty("test_accuracy").GetDouble(), finalLoss = root.GetProperty("test_loss").GetDouble();

        // The epoch-2 snapshot is the final model, saved and loaded back: the same figures, exactly.
        JsonElement[] snapshots = root.GetProperty("snapshots").EnumerateArray().ToArray();
        Assert.Equal(new[] { 1, 2 }, snapshots.Select(s => s.GetProperty("epoch").GetInt32()));
        Assert.Equal(finalAccuracy, snapshots[1].GetProperty("test_accuracy").GetDouble());
        Assert.Equal(finalLoss, snapshots[1].GetProperty("test_loss").GetDouble(), 12);

        JsonElement[] ensembles = root.GetProperty("snapshot_ensembles").EnumerateArray().ToArray();
        Assert.Equal(2, ensembles.Length);
        // Mean probabilities: the loss of the mean is at most the mean of the members' losses (−log is convex).
        double memberMean = (snapshots[0].GetProperty("test_loss").GetDouble() + snapshots[1].GetProperty("test_loss").GetDouble()) / 2;
        Assert.True(ensembles[0].GetProperty("test_loss").GetDouble() <= memberMean + 1e-12,
            $"ensemble loss {ensembles[0].GetProperty("test_loss").GetDouble()} above the members' mean {memberMean}");
        // A one-member ensemble is that member.
        Assert.Equal(finalAccuracy, ensembles[1].GetProperty("test_accuracy").GetDouble());
        Assert.Equal(finalLoss, ensembles[1].GetProperty("test_loss").GetDouble(), 6);

        // Flip TTA: two views, a probability-averaged accuracy in [0, 1], for the final model and for each snapshot.
        JsonElement tta = root.GetProperty("tta").EnumerateArray().Single();
        Assert.Equal("flip", tta.GetProperty("mode").GetString());
        Assert.Equal(2, tta.GetProperty("views").GetInt32());
        Assert.InRange(tta.GetProperty("test_accuracy").GetDouble(), 0, 1);
        Assert.Equal(tta.GetProperty("test_accuracy").GetDouble(),
            snapshots[1].GetProperty("tta").EnumerateArray().Single().GetProperty("test_accuracy").GetDouble());
        Assert.True(finalAccuracy > 0.5, $"2 epochs on the digits reached only {finalAccuracy:P1}");
    }

    /// <summary>
    /// --schedule reaches the trainer: the metrics JSON names the schedule and each epoch's recorded learning rate (that of
    /// its last step) is the base rate times the schedule's factor at that step, decaying to 0 over exactly the run's steps.
    /// Without the flag the digits keep the constant rate. --warmup-steps scales step k by min(1, (k + 1)/N) on top.
    /// </summary>
    [Theory]
    [InlineData(null, "constant", 0)]
    [InlineData("constant", "constant", 0)]
    [InlineData("cosine", "cosine", 0)]
    [InlineData("linear", "linear", 0)]
    [InlineData("cosine", "cosine", 40)]
    public void Schedule_flag_sets_the_learning_rate_of_every_step(string? flag, string expected, int warmup)
    {
        using var dir = new TempDirectory();
        string metrics = dir.File("metrics.json");
        string[] args = ["--data", "digits", "--epochs", "2", "--plain", "--metrics-out", metrics, "--warmup-steps", warmup.ToString(CultureInfo.InvariantCulture)];
        int code = Kiln.Samples.FashionCnn.Program.Main(flag is null ? args : [.. args, "--schedule", flag]);
        Assert.Equal(0, code);

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(metrics));
        JsonElement root = doc.RootElement;
        Assert.Equal(expected, root.GetProperty("schedule").GetString());
        Assert.Equal(warmup, root.GetProperty("warmup_steps").GetInt32());
        double baseRate = root.GetProperty("learning_rate").GetSingle();
        Assert.Equal(1e-3f, (float)baseRate);
        JsonElement[] history = root.GetProperty("history").EnumerateArray().ToArray();
        Assert.Equal(2, history.Length);
        int batches = history[0].GetProperty("batches").GetInt32();
        Assert.True(batches > 1);
        if (warmup > 0) Assert.True(batches < warmup, $"{batches} batches per epoch: the warm-up case wants the first epoch's last step inside the warm-up");
        double total = 2.0 * batches;
        for (int e = 0; e < history.Length; e++)
        {
            double t = (e + 1) * batches - 1; // the epoch's last step, 0-based
            double factor = expected switch
            {
                "cosine" => 0.5 * (1 + Math.Cos(Math.PI * t / total)),
                "linear" => 1 - t / total,
                _ => 1,
            } * (warmup > 0 ? Math.Min(1, (t + 1) / warmup) : 1);
            double rate = history[e].GetProperty("learning_rate").GetSingle();
            Assert.True(Math.Abs(rate - baseRate * factor) <= 1e-5 * baseRate * factor,
                $"{expected}: epoch {e + 1} ran its last step at lr {rate}, expected {baseRate * factor}");
        }
        // A decay ends within one step of 0 (the factor at step T − 1), far below the base rate.
        if (expected != "constant") Assert.True(history[^1].GetProperty("learning_rate").GetSingle() < 0.05 * baseRate);
    }

    /// <summary>
    /// On 28×28 images the sample trains FashionCnnTorchInit with the rate decayed linearly unless told otherwise (tiny
    /// random IDX files stand in for Fashion-MNIST: one epoch of two steps).
    /// </summary>
    [Theory]
    [InlineData(null, null, "linear", "FashionCnnTorchInit")]
    [InlineData("constant", null, "constant", "FashionCnnTorchInit")]
    [InlineData(null, "auto", "linear", "FashionCnn")]
    public void Defaults_on_28x28_images_are_torch_init_and_linear_decay(string? flag, string? init, string expected, string expectedModel)
    {
        using var dir = new TempDirectory();
        var random = new Random(1);
        foreach (var (set, n) in new[] { ("train", 128), ("t10k", 32) })
        {
            var pixels = new byte[n * 28 * 28];
            random.NextBytes(pixels);
            dir.Write($"{set}-images-idx3-ubyte", IdxFile([n, 28, 28], pixels));
            dir.Write($"{set}-labels-idx1-ubyte", IdxFile([n], Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray()));
        }
        string metrics = dir.File("metrics.json");
        string[] args = ["--data", dir.Path, "--epochs", "1", "--plain", "--metrics-out", metrics];
        if (flag is not null) args = [.. args, "--schedule", flag];
        if (init is not null) args = [.. args, "--init", init];
        Assert.Equal(0, Kiln.Samples.FashionCnn.Program.Main(args));

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(metrics));
        JsonElement root = doc.RootElement;
        Assert.Equal(expectedModel, root.GetProperty("model").GetString());
        Assert.Equal(expected, root.GetProperty("schedule").GetString());
        JsonElement epoch = root.GetProperty("history").EnumerateArray().Single();
        Assert.Equal(2, epoch.GetProperty("batches").GetInt32());
        // Two steps: the last runs at factor 1 − 1/2 under linear decay, 1 under the constant rate.
        Assert.Equal(expected == "linear" ? 0.5e-3f : 1e-3f, epoch.GetProperty("learning_rate").GetSingle(), 1e-9f);
    }

    /// <summary>An IDX file of unsigned bytes with the given dimensions (big-endian header).</summary>
    private static byte[] IdxFile(int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    [Theory]
    [InlineData("--schedule", "exponential")]
    [InlineData("--schedule", "step")]
    [InlineData("--warmup-steps", "-1")]
    public void Bad_schedule_values_are_rejected_before_training(string flag, string value)
    {
        using var dir = new TempDirectory();
        string metrics = dir.File("metrics.json");
        int code = Kiln.Samples.FashionCnn.Program.Main(["--data", "digits", "--epochs", "1", "--plain", flag, value, "--metrics-out", metrics]);
        Assert.NotEqual(0, code);
        Assert.False(File.Exists(metrics), $"a rejected {flag} {value} must not train or write metrics");
    }
}
