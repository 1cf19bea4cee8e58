using System;
using System.IO;
using System.IO.Compression;

namespace Kiln.Data;

/// <summary>Opens files and streams that may be gzip-compressed, detected by the magic bytes 0x1f 0x8b rather than the file name.</summary>
internal static class StreamOpener
{
    /// <summary>Opens <paramref name="path"/>; <paramref name="sourceName"/> names it in the errors of corrupt gzip data.</summary>
    /// <exception cref="IOException">The path is a directory (rather than the platform's "access denied").</exception>
    public static Stream OpenFile(string path, string sourceName)
    {
        if (Directory.Exists(path))
            throw new IOException($"'{path}' is a directory, not a data file: give the path of a file in it.");
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            return MaybeDecompress(file, leaveOpen: false, sourceName);
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
    public static Stream MaybeDecompress(Stream stream, bool leaveOpen, string sourceName)
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
        return gzip ? new NamedErrors(new BufferedStream(new GZipStream(stream, CompressionMode.Decompress, leaveOpen), 1 << 16), sourceName) : stream;
    }

    /// <summary>A read-only pass-through whose decompression errors name the source (GZipStream's do not).</summary>
    private sealed class NamedErrors(Stream inner, string sourceName) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try { return inner.Read(buffer); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{sourceName}: the gzip data is corrupt ({e.Message}).", e); }
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
