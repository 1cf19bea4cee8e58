using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using Kiln.Data;

namespace Kiln.Runtime.Tests;

public class IdxTests
{
    /// <summary>Builds an IDX file: magic 0x0000TTNN, big-endian dims, payload.</summary>
    internal static byte[] MakeIdx(byte type, int[] dims, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Images(int n, int h, int w) =>
        MakeIdx(0x08, [n, h, w], Enumerable.Range(0, n * h * w).Select(i => (byte)(i * 7 % 256)).ToArray());

    internal static byte[] Labels(int n, int classes) =>
        MakeIdx(0x08, [n], Enumerable.Range(0, n).Select(i => (byte)(i % classes)).ToArray());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_raw_and_gzip_give_the_same_array(bool gzip)
    {
        using var tmp = new TempDirectory();
        string path = tmp.Write("images.idx" + (gzip ? ".gz" : ""), Images(5, 3, 4), gzip);

        IdxArray a = Idx.Read(path);

        Assert.Equal(IdxDataType.UInt8, a.DataType);
        Assert.Equal([5, 3, 4], a.Dimensions);
        Assert.Equal(60, a.Length);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (byte)(i * 7 % 256)), a.Data);
    }

    [Fact]
    public void Gzip_is_detected_from_content_not_name()
    {
        using var tmp = new TempDirectory();
        string path = tmp.Write("no-extension", Labels(4, 2), gzip: true);
        Assert.Equal([0, 1, 0, 1], Idx.Read(path).ToInt32s());
    }

    [Fact]
    public void Load_pairs_images_and_labels_with_shape_and_scale()
    {
        using var tmp = new TempDirectory();
        string img = tmp.Write("img", Images(6, 2, 3), gzip: true);
        string lbl = tmp.Write("lbl", Labels(6, 3));

        Dataset d = Idx.Load(img, lbl);

        Assert.Equal(6, d.Count);
        Assert.Equal(6, d.FeatureCount);
        Assert.Equal(3, d.ClassCount);
        Assert.Equal(new ImageShape(1, 2, 3), d.Shape);
        Assert.Equal(7 / 255f, d.Features[1], 6);
        Assert.Equal([0, 1, 2, 0, 1, 2], d.Labels);
    }

    [Fact]
    public void Bad_magic_names_the_file()
    {
        using var tmp = new TempDirectory();
        byte[] bytes = Images(2, 2, 2);
        bytes[0] = 0x42;
        string path = tmp.Write("broken-images-idx3-ubyte", bytes);

        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("magic", ex.Message);
    }

    [Fact]
    public void Bad_magic_inside_gzip_names_the_file()
    {
        using var tmp = new TempDirectory();
        string path = tmp.WriteText("labels.gz", "this is not idx", gzip: true);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Unknown_element_type_is_rejected()
    {
        using var tmp = new TempDirectory();
        string path = tmp.Write("t", MakeIdx(0x07, [1], [0]));
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => Idx.Read(path)).Message);
    }

    [Fact]
    public void Truncated_payload_and_trailing_bytes_are_errors()
    {
        using var tmp = new TempDirectory();
        byte[] full = Images(2, 2, 2);
        string shortPath = tmp.Write("short", full[..^1]);
        string longPath = tmp.Write("long", [.. full, 0]);

        var truncated = Assert.Throws<InvalidDataException>(() => Idx.Read(shortPath));
        Assert.Contains(shortPath, truncated.Message);
        Assert.Contains("truncated", truncated.Message);
        var trailing = Assert.Throws<InvalidDataException>(() => Idx.Read(longPath));
        Assert.Contains(longPath, trailing.Message);
    }

    [Fact]
    public void Non_positive_dimension_is_rejected()
    {
        using var tmp = new TempDirectory();
        string path = tmp.Write("zero", MakeIdx(0x08, [0, 28, 28], []));
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains("dimension 0", ex.Message);
    }

    [Fact]
    public void Label_count_mismatch_names_both_files()
    {
        using var tmp = new TempDirectory();
        string img = tmp.Write("img", Images(5, 2, 2));
        string lbl = tmp.Write("lbl", Labels(4, 2));
        var ex = Assert.Throws<InvalidDataException>(() => Idx.Load(img, lbl));
        Assert.Contains(img, ex.Message);
        Assert.Contains(lbl, ex.Message);
    }

    [Fact]
    public void Wider_element_types_convert()
    {
        using var tmp = new TempDirectory();
        var payload = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(payload, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(payload.AsSpan(4), -2f);
        string f = tmp.Write("f", MakeIdx(0x0D, [2], payload));
        Assert.Equal([1.5f, -2f], Idx.Read(f).ToSingles());

        var ints = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(ints, 70000);
        BinaryPrimitives.WriteInt32BigEndian(ints.AsSpan(4), 3);
        string i = tmp.Write("i", MakeIdx(0x0C, [2], ints));
        Assert.Equal([70000, 3], Idx.Read(i).ToInt32s());
        Assert.Throws<InvalidDataException>(() => Idx.Read(f).ToInt32s());
    }

    [Fact]
    public void LoadDirectory_finds_raw_gzip_and_dot_spellings()
    {
        using var tmp = new TempDirectory();
        tmp.Write("train-images-idx3-ubyte.gz", Images(8, 2, 2), gzip: true);
        tmp.Write("train-labels-idx1-ubyte", Labels(8, 4));
        tmp.Write("t10k-images.idx3-ubyte", Images(4, 2, 2));
        tmp.Write("t10k-labels.idx1-ubyte.gz", Labels(4, 4), gzip: true);

        DataSplit s = Idx.LoadDirectory(tmp.Path);

        Assert.Equal(8, s.Train.Count);
        Assert.Equal(4, s.Test.Count);
        Assert.Equal(4, s.Train.ClassCount);
        Assert.EndsWith("/train", s.Train.Name);
        Assert.True(Idx.TryFindFiles(tmp.Path, out IdxFiles? files));
        Assert.EndsWith(".gz", files!.TrainImages);
    }

    [Fact]
    public void LoadDirectory_lists_missing_files()
    {
        using var tmp = new TempDirectory();
        tmp.Write("train-images-idx3-ubyte", Images(2, 2, 2));
        var ex = Assert.Throws<FileNotFoundException>(() => Idx.LoadDirectory(tmp.Path));
        Assert.Contains("train-labels-idx1-ubyte", ex.Message);
        Assert.Contains("t10k-images-idx3-ubyte", ex.Message);
        Assert.DoesNotContain("train-images", ex.Message);
        Assert.False(Idx.TryFindFiles(tmp.Path, out _));
        Assert.Throws<DirectoryNotFoundException>(() => Idx.LoadDirectory(tmp.File("absent")));
    }

    [Fact]
    public void Fashion_mnist_test_split_loads_when_installed()
    {
        // Debian's dataset-fashion-mnist; the test only checks what it can where the package is absent.
        if (!Idx.TryFindFiles(Idx.DefaultFashionMnistDirectory, out IdxFiles? f)) return;
        Dataset test = Idx.Load(f!.TestImages, f.TestLabels, name: "fashion-mnist/test");
        Assert.Equal(10_000, test.Count);
        Assert.Equal(784, test.FeatureCount);
        Assert.Equal(new ImageShape(1, 28, 28), test.Shape);
        Assert.Equal(10, test.ClassCount);
        Assert.All(test.ClassCounts(), c => Assert.Equal(1000, c));
        Assert.InRange(test.Features.Max(), 0.99f, 1f);
        Assert.Equal(0f, test.Features.Min());
    }
}
