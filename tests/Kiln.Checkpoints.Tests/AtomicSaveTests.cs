using System;
using System.IO;
using Xunit;

namespace Kiln.Checkpoints.Tests;

public class AtomicSaveTests
{
    private sealed class Interrupted : Exception
    {
        public Interrupted() : base("simulated crash mid-save") { }
    }

    [Theory]
    [InlineData(1)] // right after the header
    [InlineData(3)] // in the middle of the tensor data
    [InlineData(99)] // after the last chunk, before the flush and rename
    public void InterruptedSaveLeavesThePreviousCheckpointUnchangedAndNoTemporaryFile(int failAtCall)
    {
        using var dir = new TempDirectory();
        var net = new Net();
        Support.Train(net, 0, 3);
        string path = dir.File("net.safetensors");
        Checkpoint.Save(net, path);
        byte[] before = File.ReadAllBytes(path);

        Support.Train(net, 3, 6);
        int calls = 0;
        var options = new CheckpointSaveOptions
        {
            Progress = (written, all) =>
            {
                Assert.True(written <= all);
                if (++calls == failAtCall || (failAtCall == 99 && written == all)) throw new Interrupted();
            },
        };
        Assert.Throws<Interrupted>(() => Checkpoint.Save(net, path, options: options));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path));
        var restored = new Net();
        Checkpoint.Load(restored, path);
        Assert.Equal(3, restored.Step);
    }

    [Fact]
    public void StreamFailureMidWriteLeavesNoFileBehind()
    {
        using var dir = new TempDirectory();
        var net = new Net();
        string path = dir.File("first.safetensors");
        int calls = 0;
        var options = new CheckpointSaveOptions { Progress = (_, _) => { if (++calls == 2) throw new IOException("disk full"); } };
        IOException e = Assert.Throws<IOException>(() => Checkpoint.Save(net, path, options: options));
        Assert.Equal("disk full", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void SaveOverwritesAnExistingCheckpoint()
    {
        using var dir = new TempDirectory();
        var net = new Net();
        string path = dir.File("net.safetensors");
        Checkpoint.Save(net, path);
        Support.Train(net, 0, 2);
        Checkpoint.Save(net, path);
        Assert.Equal(2L, Checkpoint.Read(path).Step);
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ProgressReportsEveryByte()
    {
        using var dir = new TempDirectory();
        string path = dir.File("net.safetensors");
        long last = 0, reportedTotal = 0;
        Checkpoint.Save(new Net(), path, options: new CheckpointSaveOptions { Progress = (w, t) => { Assert.True(w > last); last = w; reportedTotal = t; } });
        Assert.Equal(new FileInfo(path).Length, last);
        Assert.Equal(last, reportedTotal);
    }

    [Fact]
    public void SaveIntoAMissingDirectoryThrows()
    {
        using var dir = new TempDirectory();
        Assert.Throws<DirectoryNotFoundException>(() => Checkpoint.Save(new Net(), Path.Combine(dir.Path, "missing", "net.safetensors")));
    }
}
