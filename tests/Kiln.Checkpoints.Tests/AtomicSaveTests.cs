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

/// <summary>Temporary files a killed save (kill -9 between create and rename) leaves behind are removed by the next save to the same path.</summary>
public class StaleTemporaryFileTests
{
    [Fact]
    public void A_later_save_to_the_same_path_removes_stale_temporary_files_and_nothing_else()
    {
        using var dir = new TempDirectory();
        var net = new Net();
        string path = dir.File("net.safetensors");
        // What a save killed with SIGKILL leaves: its temporary file, fully or partly written.
        string stale1 = dir.File(".net.safetensors.0123456789ab.tmp");
        string stale2 = dir.File(".net.safetensors.fedcba987654.tmp");
        File.WriteAllBytes(stale1, new byte[4096]);
        File.WriteAllBytes(stale2, Array.Empty<byte>());
        // Not this save's pattern: another checkpoint's leftovers, a user's file, a name that only looks similar.
        string other = dir.File(".other.safetensors.0123456789ab.tmp");
        string user = dir.File("net.safetensors.backup.tmp");
        string similar = dir.File(".net.safetensors.not-a-save.tmp");
        foreach (string p in new[] { other, user, similar }) File.WriteAllText(p, "keep");
        // A save in progress elsewhere holds its temporary file open: it must survive.
        string busy = dir.File(".net.safetensors.00000000beef.tmp");
        using (var inUse = new FileStream(busy, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            inUse.WriteByte(1);
            Checkpoint.Save(net, path);
            Assert.True(File.Exists(busy), "a temporary file still open by a running save must not be deleted");
        }
        Assert.False(File.Exists(stale1));
        Assert.False(File.Exists(stale2));
        foreach (string p in new[] { other, user, similar }) Assert.Equal("keep", File.ReadAllText(p));
        var loaded = new Net();
        Checkpoint.Load(loaded, path);
    }
}
