using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.H2Echo;

/// <summary>
/// Connection middleware: counts the bytes Kestrel's HTTP/2 layer reads from and writes to each socket
/// (TCP payload, every frame included), and rewrites a small totals file when a connection ends, so the
/// side-by-side can report bytes per call for HTTP/2 the way the gateway's frame counters do for MLP.
/// </summary>
internal sealed class CountingTransport(string? statsFile)
{
    private long _bytesIn;
    private long _bytesOut;
    private long _connections;

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var inner = connection.Transport;
        var counted = new CountedPipe(inner, this);
        connection.Transport = counted;
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = inner;
            Interlocked.Increment(ref _connections);
            if (statsFile is not null)
            {
                lock (this)
                {
                    File.WriteAllText(statsFile, $"{Interlocked.Read(ref _bytesIn)} {Interlocked.Read(ref _bytesOut)} {Interlocked.Read(ref _connections)}\n");
                }
            }
        }
    }

    private sealed class CountedPipe(IDuplexPipe inner, CountingTransport totals) : IDuplexPipe
    {
        public PipeReader Input { get; } = new CountingReader(inner.Input, totals);

        public PipeWriter Output { get; } = new CountingWriter(inner.Output, totals);
    }

    private sealed class CountingReader(PipeReader inner, CountingTransport totals) : PipeReader
    {
        private ReadOnlySequence<byte> _last;

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            Interlocked.Add(ref totals._bytesIn, _last.Slice(_last.Start, consumed).Length);
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var result = await inner.ReadAsync(cancellationToken);
            _last = result.Buffer;
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (inner.TryRead(out result))
            {
                _last = result.Buffer;
                return true;
            }

            return false;
        }
    }

    private sealed class CountingWriter(PipeWriter inner, CountingTransport totals) : PipeWriter
    {
        public override void Advance(int bytes)
        {
            Interlocked.Add(ref totals._bytesOut, bytes);
            inner.Advance(bytes);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref totals._bytesOut, source.Length);
            return inner.WriteAsync(source, cancellationToken);
        }
    }
}
