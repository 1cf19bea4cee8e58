using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;

namespace Kiln.Data;

/// <summary>Element types of the IDX format (the third byte of the magic number).</summary>
public enum IdxDataType : byte
{
    /// <summary>Unsigned byte (images and labels of MNIST-style files).</summary>
    UInt8 = 0x08,
    /// <summary>Signed byte.</summary>
    Int8 = 0x09,
    /// <summary>Big-endian 16-bit integer.</summary>
    Int16 = 0x0B,
    /// <summary>Big-endian 32-bit integer.</summary>
    Int32 = 0x0C,
    /// <summary>Big-endian 32-bit float.</summary>
    Single = 0x0D,
    /// <summary>Big-endian 64-bit float.</summary>
    Double = 0x0E,
}

/// <summary>
/// An IDX array as stored: element type, dimensions and the raw big-endian payload.
/// Convert with <see cref="ToSingles"/> or <see cref="ToInt32s"/>.
/// </summary>
public sealed class IdxArray
{
    internal IdxArray(string source, IdxDataType type, int[] dimensions, byte[] data)
    {
        Source = source;
        DataType = type;
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The file (or stream name) it was read from.</summary>
    public string Source { get; }
    /// <summary>Element type of the payload.</summary>
    public IdxDataType DataType { get; }
    /// <summary>Dimensions, outermost first (for images: count, rows, columns).</summary>
    public int[] Dimensions { get; }
    /// <summary>Raw payload, big-endian elements.</summary>
    public byte[] Data { get; }
    /// <summary>Number of elements.</summary>
    public long Length => Data.LongLength / Idx.ElementSize(DataType);

    /// <summary>Every element as a float times <paramref name="scale"/>.</summary>
    public float[] ToSingles(float scale = 1f)
    {
        var result = new float[Length];
        ReadOnlySpan<byte> d = Data;
        switch (DataType)
        {
            case IdxDataType.UInt8:
                for (int i = 0; i < result.Length; i++) result[i] = d[i] * scale;
                break;
            case IdxDataType.Int8:
                for (int i = 0; i < result.Length; i++) result[i] = (sbyte)d[i] * scale;
                break;
            case IdxDataType.Int16:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt16BigEndian(d[(2 * i)..]) * scale;
                break;
            case IdxDataType.Int32:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt32BigEndian(d[(4 * i)..]) * scale;
                break;
            case IdxDataType.Single:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleBigEndian(d[(4 * i)..]) * scale;
                break;
            case IdxDataType.Double:
                for (int i = 0; i < result.Length; i++) result[i] = (float)(BinaryPrimitives.ReadDoubleBigEndian(d[(8 * i)..]) * scale);
                break;
        }
        return result;
    }

    /// <summary>Every element as an integer (integer element types only).</summary>
    public int[] ToInt32s()
    {
        var result = new int[Length];
        ReadOnlySpan<byte> d = Data;
        switch (DataType)
        {
            case IdxDataType.UInt8:
                for (int i = 0; i < result.Length; i++) result[i] = d[i];
                break;
            case IdxDataType.Int8:
                for (int i = 0; i < result.Length; i++) result[i] = (sbyte)d[i];
                break;
            case IdxDataType.Int16:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt16BigEndian(d[(2 * i)..]);
                break;
            case IdxDataType.Int32:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt32BigEndian(d[(4 * i)..]);
                break;
            default:
                throw new InvalidDataException($"{Source}: IDX element type {DataType} is not an integer type; labels must be integers.");
        }
        return result;
    }
}

/// <summary>The four files of an MNIST-layout data set.</summary>
public sealed record IdxFiles(string TrainImages, string TrainLabels, string TestImages, string TestLabels);

/// <summary>
/// Reader for the IDX format of MNIST and Fashion-MNIST (big-endian magic 0x0000TTNN: element type TT,
/// NN dimensions; then NN big-endian int32 sizes; then the payload). Files may be raw or gzip-compressed;
/// compression is detected from the content (magic 0x1f8b), not from the name.
/// </summary>
public static class Idx
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the data.</summary>
    public const string DefaultFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Default scale applied to 8-bit pixels: 1/255 maps them to [0, 1].</summary>
    public const float PixelScale = 1f / 255f;

    // Element counts beyond this are certainly a corrupt header (2³¹ floats would not fit an array anyway).
    private const long MaxElements = int.MaxValue;

    /// <summary>Reads one IDX file (raw or gzip).</summary>
    /// <param name="path">The file.</param>
    /// <param name="allowNonFinite">Accept NaN and ±∞ in float and double files (by default the first one fails the read, naming its element).</param>
    /// <exception cref="InvalidDataException">Bad magic, dimensions or length, corrupt gzip data, or a non-finite value; the message names the file.</exception>
    /// <exception cref="IOException">The path is a directory.</exception>
    public static IdxArray Read(string path, bool allowNonFinite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using Stream s = StreamOpener.OpenFile(path, path);
        return ReadDecompressed(s, path, allowNonFinite);
    }

    /// <summary>
    /// Reads one IDX array from a stream (raw or gzip) to its end; <paramref name="sourceName"/> names it in
    /// errors. The stream is left open.
    /// </summary>
    public static IdxArray Read(Stream stream, string sourceName, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Stream s = StreamOpener.MaybeDecompress(stream, leaveOpen: true, sourceName);
        try
        {
            return ReadDecompressed(s, sourceName, allowNonFinite);
        }
        finally
        {
            if (!ReferenceEquals(s, stream)) s.Dispose();
        }
    }

    private static IdxArray ReadDecompressed(Stream s, string sourceName, bool allowNonFinite)
    {
        Span<byte> magic = stackalloc byte[4];
        if (!TryReadExactly(s, magic))
            throw new InvalidDataException($"{sourceName}: not an IDX file: shorter than the 4-byte magic number.");
        if (magic[0] != 0 || magic[1] != 0 || !Enum.IsDefined((IdxDataType)magic[2]) || magic[3] == 0)
            throw new InvalidDataException(
                $"{sourceName}: not an IDX file: magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8} " +
                "(expected 0x0000TTNN with element type TT in 08,09,0B,0C,0D,0E and NN ≥ 1 dimensions).");

        var type = (IdxDataType)magic[2];
        int rank = magic[3];
        var dims = new int[rank];
        Span<byte> word = stackalloc byte[4];
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            if (!TryReadExactly(s, word))
                throw new InvalidDataException($"{sourceName}: truncated IDX header: {rank} dimensions declared, file ends after {i}.");
            int d = BinaryPrimitives.ReadInt32BigEndian(word);
            if (d <= 0)
                throw new InvalidDataException($"{sourceName}: IDX dimension {i} is {d}; sizes must be positive.");
            dims[i] = d;
            elements *= d;
            if (elements > MaxElements)
                throw new InvalidDataException($"{sourceName}: IDX dimensions {string.Join('×', dims[..(i + 1)])} exceed {MaxElements} elements.");
        }

        long bytes = elements * ElementSize(type);
        if (bytes > Array.MaxLength)
            throw new InvalidDataException($"{sourceName}: IDX payload of {bytes} bytes is too large to load.");
        // A header can declare gigabytes that the file does not hold: compare with what is there before allocating.
        long available = s.CanSeek ? s.Length - s.Position : long.MaxValue;
        byte[] data = available < bytes ? [] : ReadPayload(s, (int)bytes);
        if (data.Length < bytes)
            throw new InvalidDataException(
                $"{sourceName}: truncated IDX payload: dimensions {string.Join('×', dims)} of {type} need {bytes} bytes, found {(s.CanSeek ? available : data.Length)}.");
        if (s.ReadByte() >= 0)
            throw new InvalidDataException($"{sourceName}: unexpected data after the IDX payload of {bytes} bytes (dimensions {string.Join('×', dims)}).");
        if (!allowNonFinite) CheckFinite(sourceName, type, data);

        return new IdxArray(sourceName, type, dims, data);
    }

    /// <summary>
    /// Reads up to <paramref name="bytes"/> bytes; the buffer grows with the data actually read (doubling from 1 MiB), so a
    /// stream without a length (gzip) that ends early never costs the declared size. Returns fewer bytes at the end of the stream.
    /// </summary>
    private static byte[] ReadPayload(Stream s, int bytes)
    {
        var data = new byte[Math.Min(bytes, 1 << 20)];
        int read = 0;
        while (true)
        {
            read += s.ReadAtLeast(data.AsSpan(read), data.Length - read, throwOnEndOfStream: false);
            if (read < data.Length) return data.AsSpan(0, read).ToArray();
            if (read == bytes) return data;
            Array.Resize(ref data, (int)Math.Min(bytes, 2L * data.Length));
        }
    }

    /// <summary>Rejects NaN and ±∞ in float and double payloads, naming the element (0-based, in file order).</summary>
    private static void CheckFinite(string sourceName, IdxDataType type, byte[] data)
    {
        if (type is not (IdxDataType.Single or IdxDataType.Double)) return;
        int size = ElementSize(type);
        for (int i = 0; i < data.Length / size; i++)
        {
            double v = type == IdxDataType.Single
                ? BinaryPrimitives.ReadSingleBigEndian(data.AsSpan(i * size))
                : BinaryPrimitives.ReadDoubleBigEndian(data.AsSpan(i * size));
            if (!double.IsFinite(v))
                throw new InvalidDataException(
                    $"{sourceName}: element {i} is {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}; IDX data must be finite (pass allowNonFinite: true to read it anyway).");
        }
    }

    /// <summary>
    /// Loads an images file (N×H×W, or N×C×H×W) and a labels file (N) into a <see cref="Dataset"/>.
    /// Pixels are multiplied by <paramref name="scale"/> (default 1/255: [0, 1]).
    /// </summary>
    public static Dataset Load(string imagesPath, string labelsPath, float scale = PixelScale, string? name = null)
    {
        IdxArray images = Read(imagesPath);
        IdxArray labels = Read(labelsPath);
        return ToDataset(images, labels, scale, name ?? Path.GetFileName(imagesPath));
    }

    /// <summary>Pairs an images array with a labels array, validating their shapes.</summary>
    public static Dataset ToDataset(IdxArray images, IdxArray labels, float scale = PixelScale, string name = "")
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Dimensions.Length is < 2 or > 4)
            throw new InvalidDataException($"{images.Source}: expected images of 2 to 4 dimensions (N×features, N×H×W or N×C×H×W), found {Describe(images)}.");
        if (labels.Dimensions.Length != 1)
            throw new InvalidDataException($"{labels.Source}: expected a 1-dimensional labels file, found {Describe(labels)}.");
        int n = images.Dimensions[0];
        if (labels.Dimensions[0] != n)
            throw new InvalidDataException(
                $"{labels.Source}: {labels.Dimensions[0]} labels, but {images.Source} holds {n} images.");

        int[] y = labels.ToInt32s();
        for (int i = 0; i < y.Length; i++)
            if (y[i] < 0)
                throw new InvalidDataException($"{labels.Source}: label {i} is negative ({y[i]}).");

        int[] d = images.Dimensions;
        ImageShape? shape = d.Length switch
        {
            3 => new ImageShape(1, d[1], d[2]),
            4 => new ImageShape(d[1], d[2], d[3]),
            _ => null,
        };
        int featureCount = (int)(images.Length / n);
        return new Dataset(images.ToSingles(scale), y, featureCount, 0, shape, name);
    }

    /// <summary>
    /// Finds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    /// t10k-labels-idx1-ubyte in <paramref name="directory"/>, each raw or with <c>.gz</c>, spelled with a
    /// hyphen or a dot before <c>idx</c> (both spellings circulate).
    /// </summary>
    public static bool TryFindFiles(string directory, out IdxFiles? files)
    {
        files = null;
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory)) return false;
        string? trainImages = Find(directory, "train-images", "idx3-ubyte");
        string? trainLabels = Find(directory, "train-labels", "idx1-ubyte");
        string? testImages = Find(directory, "t10k-images", "idx3-ubyte");
        string? testLabels = Find(directory, "t10k-labels", "idx1-ubyte");
        if (trainImages is null || trainLabels is null || testImages is null || testLabels is null) return false;
        files = new IdxFiles(trainImages, trainLabels, testImages, testLabels);
        return true;
    }

    /// <summary>Loads the train and test splits of an MNIST-layout directory (see <see cref="TryFindFiles"/>).</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message lists the names searched for.</exception>
    public static DataSplit LoadDirectory(string directory, float scale = PixelScale, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Data directory '{directory}' does not exist.");
        if (!TryFindFiles(directory, out IdxFiles? f) || f is null)
        {
            var missing = new List<string>();
            foreach (var (stem, kind) in new[] { ("train-images", "idx3-ubyte"), ("train-labels", "idx1-ubyte"), ("t10k-images", "idx3-ubyte"), ("t10k-labels", "idx1-ubyte") })
                if (Find(directory, stem, kind) is null) missing.Add($"{stem}-{kind}[.gz]");
            throw new FileNotFoundException($"Data directory '{directory}' lacks the IDX files {string.Join(", ", missing)}.");
        }
        string baseName = name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        return new DataSplit(
            Load(f.TrainImages, f.TrainLabels, scale, baseName + "/train"),
            Load(f.TestImages, f.TestLabels, scale, baseName + "/test"));
    }

    /// <summary>Loads Fashion-MNIST (60 000 train, 10 000 test, 1×28×28, pixels in [0, 1]) from <paramref name="directory"/> or the Debian location.</summary>
    public static DataSplit LoadFashionMnist(string? directory = null) =>
        LoadDirectory(directory ?? DefaultFashionMnistDirectory, PixelScale, "fashion-mnist");

    internal static int ElementSize(IdxDataType type) => type switch
    {
        IdxDataType.UInt8 or IdxDataType.Int8 => 1,
        IdxDataType.Int16 => 2,
        IdxDataType.Int32 or IdxDataType.Single => 4,
        IdxDataType.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown IDX element type."),
    };

    private static string? Find(string directory, string stem, string kind)
    {
        foreach (string sep in new[] { "-", "." })
            foreach (string ext in new[] { "", ".gz" })
            {
                string p = Path.Combine(directory, stem + sep + kind + ext);
                if (File.Exists(p)) return p;
            }
        return null;
    }

    private static string Describe(IdxArray a) => $"{a.Dimensions.Length} dimension(s) {string.Join('×', a.Dimensions)}";

    private static bool TryReadExactly(Stream s, Span<byte> buffer) =>
        s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;
}
