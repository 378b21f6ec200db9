namespace AccessLayer.Gateway.Tests.Transport;

/// <summary>Passes bytes through and notes the length of every TLS record that arrives (the 5-byte record headers on the wire).</summary>
internal sealed class RecordSniffingStream(Stream inner) : Stream
{
    private readonly byte[] _header = new byte[5];
    private int _headerBytes;
    private int _bodyLeft;

    /// <summary>Record body lengths in arrival order.</summary>
    public List<int> Records { get; } = [];

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => Note(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        return Note(buffer.Span[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Note(ReadOnlySpan<byte> bytes)
    {
        var count = bytes.Length;
        while (bytes.Length > 0)
        {
            if (_bodyLeft > 0)
            {
                var skip = Math.Min(_bodyLeft, bytes.Length);
                _bodyLeft -= skip;
                bytes = bytes[skip..];
                continue;
            }

            _header[_headerBytes++] = bytes[0];
            bytes = bytes[1..];
            if (_headerBytes == 5)
            {
                _headerBytes = 0;
                _bodyLeft = (_header[3] << 8) | _header[4];
                lock (Records)
                {
                    Records.Add(_bodyLeft);
                }
            }
        }

        return count;
    }
}
