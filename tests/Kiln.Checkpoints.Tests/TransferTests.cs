using System.Linq;
using Xunit;

namespace Kiln.Checkpoints.Tests;

public class TransferTests
{
    [Fact]
    public void LoadMatchingLoadsSameNameAndShapeAndReportsTheRest()
    {
        using var dir = new TempDirectory();
        var source = new Net();
        Support.Train(source, 0, 5);
        string path = dir.File("net.safetensors");
        Checkpoint.Save(source, path);

        var target = new SevenClassNet();
        float[] headBefore = target.TensorData(target.Tensors.Single(t => t.Name == "dense1.weight")).ToArray();
        TransferReport report = Checkpoint.LoadMatching(target, path);

        Assert.Equal(new[] { "dense0.weight", "dense0.bias", "bn0.gamma", "bn0.beta", "bn0.running_mean", "bn0.running_var" }, report.Loaded);
        Assert.Empty(report.NotInFile);
        SkippedTensor head = report.Skipped.Single(s => s.Name == "dense1.weight");
        Assert.Contains("[37, 5]", head.Reason, System.StringComparison.Ordinal);
        Assert.Contains("[37, 7]", head.Reason, System.StringComparison.Ordinal);
        Assert.Contains(report.Skipped, s => s.Name == "dense1.bias");
        Assert.Equal(12, report.Skipped.Count(s => s.Name.Contains(".optimizer_state", System.StringComparison.Ordinal)));

        foreach (string name in report.Loaded)
        {
            TensorInfo s = source.Tensors.Single(t => t.Name == name), t = target.Tensors.Single(t => t.Name == name);
            Assert.Equal(source.TensorData(s).ToArray(), target.TensorData(t).ToArray());
        }
        Assert.Equal(headBefore, target.TensorData(target.Tensors.Single(t => t.Name == "dense1.weight")).ToArray());
        Assert.Equal(0, target.Step); // optimiser state and step are not transferred

        // Fine-tune: freeze the transferred body and train the new head.
        target.SetLearningRateScale("dense0", 0f);
        float[] body = target.TensorData(target.Tensors[0]).ToArray();
        Support.Train(target, 0, 3);
        Assert.Equal(body, target.TensorData(target.Tensors[0]).ToArray());
    }

    [Fact]
    public void LoadMatchingReportsModelTensorsTheFileLacks()
    {
        using var dir = new TempDirectory();
        var source = new SevenClassNet();
        string path = dir.File("seven.safetensors");
        Checkpoint.Save(source, path);
        var target = new Net(); // same names: dropout has no tensors, so everything is in the file
        TransferReport report = Checkpoint.LoadMatching(target, path);
        Assert.Empty(report.NotInFile);
        Assert.Equal(6, report.Loaded.Count);

        // A file with only the head's bias: the others are reported as not in the file.
        string partial = dir.File("partial.safetensors");
        RawSafetensors.RawFile raw = RawSafetensors.Read(_ = path);
        RawSafetensors.Write(partial, null, raw.Tensors.Where(t => t.Name == "dense0.bias"));
        report = Checkpoint.LoadMatching(target, partial);
        Assert.Equal(new[] { "dense0.bias" }, report.Loaded);
        Assert.Equal(7, report.NotInFile.Count);
    }
}
