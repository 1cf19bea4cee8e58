using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace Kiln.Data.Tests;

/// <summary>Items 1, 7 and 11 of docs/reliability.md: bad data files fail loudly, naming the file and the place.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-bad-input-" + Guid.NewGuid().ToString("N"));

    public BadInputTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static MemoryStream Text(string s) => new(Encoding.UTF8.GetBytes(s));

    /// <summary>An IDX file of big-endian float32 values with the given dimensions.</summary>
    private static byte[] FloatIdx(int[] dims, float[] values)
    {
        var bytes = new byte[4 + 4 * dims.Length + 4 * values.Length];
        bytes[2] = 0x0D;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        int data = 4 + 4 * dims.Length;
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleBigEndian(bytes.AsSpan(data + 4 * i), values[i]);
        return bytes;
    }

    // ------------------------------------------------------------------ IDX

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_float_idx_file_with_a_non_finite_value_is_rejected_with_the_file_and_element(float bad)
    {
        var values = new float[3 * 4];
        for (int i = 0; i < values.Length; i++) values[i] = i * 0.5f;
        values[9] = bad;
        string path = Write("floats-idx3", FloatIdx([3, 2, 2], values));
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("element 9", e.Message);
    }

    [Fact]
    public void A_twelve_byte_header_declaring_two_gigabytes_fails_without_allocating_them()
    {
        // Magic for 2-D uint8, dimensions 46340 × 46340 (≈ 2.1 GB of payload), and no data at all.
        var header = new byte[12];
        header[2] = 0x08;
        header[3] = 2;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 46340);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 46340);
        string path = Write("huge-idx2", header);
        long before = GC.GetAllocatedBytesForCurrentThread();
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => Idx.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("truncated", e.Message);
        Assert.Contains(path, e.Message);
        Assert.True(allocated < 16 << 20, $"reading a 12-byte file allocated {allocated} bytes");

        // Through gzip (no file length to compare with) the allocation still follows the data actually present.
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) z.Write(header);
        before = GC.GetAllocatedBytesForCurrentThread();
        gz.Position = 0;
        Assert.Throws<InvalidDataException>(() => Idx.Read(gz, "huge.gz"));
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 256 << 20, $"reading a gzip of a 12-byte file allocated {allocated} bytes");
    }

    [Fact]
    public void A_corrupted_gzip_names_the_file()
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(FloatIdx([4, 4], new float[16]));
        byte[] bytes = ms.ToArray();
        for (int i = 12; i < bytes.Length - 8; i++) bytes[i] ^= 0x5A;
        string path = Write("broken-idx2.gz", bytes);
        Exception e = Assert.ThrowsAny<Exception>(() => Idx.Read(path));
        Assert.Contains(path, e.Message);
        string csv = Write("broken.csv.gz", bytes);
        Exception c = Assert.ThrowsAny<Exception>(() => Csv.Load(csv));
        Assert.Contains("broken.csv.gz", c.Message);
    }

    [Fact]
    public void A_directory_given_as_a_path_is_reported_as_a_directory()
    {
        Exception e = Assert.ThrowsAny<Exception>(() => Idx.Read(_dir));
        Assert.Contains("is a directory", e.Message);
        Assert.DoesNotContain("denied", e.Message);
        Exception c = Assert.ThrowsAny<Exception>(() => Csv.Load(_dir));
        Assert.Contains("is a directory", c.Message);
    }

    // ------------------------------------------------------------------ CSV header

    [Fact]
    public void A_headerless_first_row_with_a_text_token_is_not_silently_dropped()
    {
        // Row 1 is data with one bad token: the default must not swallow it as a header.
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => Csv.Load(Text("0.5,x1,1\n0.25,0.75,0\n1,2,1\n"), "mem.csv"));
        Assert.Contains("row 1", e.Message);
        Assert.Contains("x1", e.Message);
    }

    [Fact]
    public void A_numeric_header_is_not_read_as_a_data_row_by_default()
    {
        // pandas writes unnamed columns as 0,1,2,...: with the default the loader must not take them for a sample.
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => Csv.Load(Text("0,1,2,3,4\n0.1,0.2,0.3,0.4,1\n0.5,0.6,0.7,0.8,0\n"), "mem.csv"));
        Assert.Contains("row 1", e.Message);
        Assert.Contains("header", e.Message);
    }

    [Fact]
    public void An_explicit_header_argument_reads_both_files_as_meant()
    {
        Dataset numericHeader = Csv.Load(Text("0,1,2,3,4\n0.1,0.2,0.3,0.4,1\n0.5,0.6,0.7,0.8,0\n"), "mem.csv", header: CsvHeader.Present);
        Assert.Equal(2, numericHeader.Count);
        Assert.Equal([1, 0], numericHeader.Labels);
        Dataset sequenceData = Csv.Load(Text("0,1,2,3,4\n0.1,0.2,0.3,0.4,1\n"), "mem.csv", header: CsvHeader.Absent);
        Assert.Equal(2, sequenceData.Count);
        Assert.Equal([4, 1], sequenceData.Labels);

        // Declared headerless, the x1 row is a bad value (named), never a header.
        InvalidDataException bad = Assert.Throws<InvalidDataException>(() => Csv.Load(Text("0.5,x1,1\n0.25,0.75,0\n"), "mem.csv", header: CsvHeader.Absent));
        Assert.Contains("row 1, column 2", bad.Message);
        Assert.Contains("'x1'", bad.Message);
        // Declared with a header, the same row is one (text mixed with numbers is a legal header).
        Dataset mixed = Csv.Load(Text("0.5,x1,1\n0.25,0.75,0\n"), "mem.csv", header: CsvHeader.Present);
        Assert.Equal(1, mixed.Count);
    }

    [Fact]
    public void A_declared_header_that_is_data_or_a_header_declared_absent_is_a_reported_mismatch()
    {
        InvalidDataException present = Assert.Throws<InvalidDataException>(() => Csv.Load(Text("0.1,0.2,1\n0.3,0.4,0\n"), "mem.csv", header: CsvHeader.Present));
        Assert.Contains("row 1", present.Message);
        Assert.Contains("CsvHeader.Present", present.Message);
        Assert.Contains("looks like data", present.Message);
        InvalidDataException absent = Assert.Throws<InvalidDataException>(() => Csv.Load(Text("a,b,label\n0.3,0.4,0\n"), "mem.csv", header: CsvHeader.Absent));
        Assert.Contains("row 1", absent.Message);
        Assert.Contains("looks like a header", absent.Message);
    }

    [Fact]
    public void Auto_decides_the_unambiguous_cases()
    {
        Assert.Equal(2, Csv.Load(Text("a,b,label\n0.3,0.4,0\n1,2,1\n"), "mem.csv").Count);   // all text: a header
        Assert.Equal(3, Csv.Load(Text("0.5,0.2,1\n0.3,0.4,0\n1,2,1\n"), "mem.csv").Count);   // all numbers, not a sequence: data
        Assert.Equal(1797, EmbeddedData.Digits().Count);                                          // the shipped set, declared headerless
    }
}
