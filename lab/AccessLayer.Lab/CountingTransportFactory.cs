using System.Collections.Concurrent;
using System.IO.Pipelines;
using AccessLayer.Client.Transport;

namespace AccessLayer.Lab;

/// <summary>
/// The SDK's default transports with the client's outgoing frames counted by type (PINGs are the heartbeats
/// and probes), read from the bytes the client writes (frame layout: docs/protocol.md §3.1). A public seam
/// of the SDK (<see cref="IMlpTransportFactory"/>), so the lab needs nothing internal.
/// </summary>
internal sealed class CountingTransportFactory(IMlpTransportFactory inner) : IMlpTransportFactory
{
    private long _pings;
    private long _connects;

    public long PingsSent => Interlocked.Read(ref _pings);

    /// <summary>Transport connections opened (TCP connects that succeeded).</summary>
    public long Connects => Interlocked.Read(ref _connects);

    /// <summary>The scenario's clock (seconds), for <see cref="Attempts"/>.</summary>
    public Func<double> Clock { get; init; } = static () => 0;

    /// <summary>Every transport connect the client started: when, and when it connected (NaN: it failed or was given up on).</summary>
    public ConcurrentQueue<(double Started, double Connected)> Attempts { get; } = new();

    public async ValueTask<IMlpTransport> ConnectAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var started = Clock();
        IMlpTransport transport;
        try
        {
            transport = await inner.ConnectAsync(endpoint, cancellationToken);
        }
        catch
        {
            Attempts.Enqueue((started, double.NaN));
            throw;
        }

        Attempts.Enqueue((started, Clock()));
        Interlocked.Increment(ref _connects);
        return new CountingTransport(transport, this);
    }

    private void CountPing() => Interlocked.Increment(ref _pings);

    private sealed class CountingTransport(IMlpTransport inner, CountingTransportFactory owner) : IMlpTransport, IDuplexPipe
    {
        private readonly FrameCountingWriter _output = new(inner.Pipe.Output, owner);

        public IDuplexPipe Pipe => this;

        public string Name => inner.Name;

        public PipeReader Input => inner.Pipe.Input;

        public PipeWriter Output => _output;

        public void Abort() => inner.Abort();

        public void TuneLossRecovery(TimeSpan rtoMin, bool thinLinearTimeouts) => inner.TuneLossRecovery(rtoMin, thinLinearTimeouts);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>Passes every write through and follows frame boundaries: header byte, varint length, payload.</summary>
    private sealed class FrameCountingWriter(PipeWriter inner, CountingTransportFactory owner) : PipeWriter
    {
        private Memory<byte> _lastMemory;
        private bool _inHeader = true;
        private int _lengthShift;
        private long _length;
        private long _payloadLeft;
        private bool _headerByteSeen;
        private bool _ping;

        public override void Advance(int bytes)
        {
            Scan(_lastMemory.Span[..bytes]);
            inner.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lastMemory = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        private void Scan(ReadOnlySpan<byte> bytes)
        {
            var i = 0;
            while (i < bytes.Length)
            {
                if (!_inHeader)
                {
                    var skip = (int)Math.Min(_payloadLeft, bytes.Length - i);
                    i += skip;
                    _payloadLeft -= skip;
                    if (_payloadLeft == 0)
                        _inHeader = true;
                    continue;
                }

                var b = bytes[i++];
                if (!_headerByteSeen)
                {
                    _headerByteSeen = true;
                    _length = 0;
                    _lengthShift = 0;
                    _ping = b >> 4 == 0x5;
                    continue;
                }

                _length |= (long)(b & 0x7F) << _lengthShift;
                _lengthShift += 7;
                if ((b & 0x80) != 0)
                    continue;
                // An empty PING is a tail-loss trailer (docs/sdk.md), counted by the SDK itself (TrailersSent), not a heartbeat.
                if (_ping && _length > 0)
                    owner.CountPing();
                _headerByteSeen = false;
                _payloadLeft = _length;
                _inHeader = _payloadLeft == 0;
            }
        }
    }
}
