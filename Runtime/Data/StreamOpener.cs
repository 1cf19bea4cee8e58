using System;
using System.IO;
using System.IO.Compression;

namespace Kiln.Data;

/// <summary>Opens files and streams that may be gzip-compressed, detected by the magic bytes 0x1f 0x8b rather than the file name.</summary>
internal static class StreamOpener
{
    public static Stream OpenFile(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            return MaybeDecompress(file, leaveOpen: false);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Returns a stream of the decompressed content. With <paramref name="leaveOpen"/> false the result owns
    /// <paramref name="stream"/>; with true, disposing a result that is not <paramref name="stream"/> itself
    /// leaves <paramref name="stream"/> open.
    /// </summary>
    public static Stream MaybeDecompress(Stream stream, bool leaveOpen)
    {
        if (!stream.CanSeek)
        {
            // Peeking needs to rewind; a non-seekable source is buffered whole.
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            if (!leaveOpen) stream.Dispose();
            copy.Position = 0;
            stream = copy;
            leaveOpen = false;
        }
        long start = stream.Position;
        int b0 = stream.ReadByte();
        int b1 = b0 < 0 ? -1 : stream.ReadByte();
        stream.Position = start;
        bool gzip = b0 == 0x1f && b1 == 0x8b;
        return gzip ? new BufferedStream(new GZipStream(stream, CompressionMode.Decompress, leaveOpen), 1 << 16) : stream;
    }
}
