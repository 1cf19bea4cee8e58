using System.Linq;
using System.Text.Json;
using Kiln.Runtime.Tests;

namespace Kiln.Training.Tests;

/// <summary>
/// Samples/FashionCnn's checkpoint-ensemble and test-time-augmentation flags, run end to end on the embedded digits
/// (DigitsCnn, seconds): the figures in its metrics JSON must obey what they claim to be.
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
}
