using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Bots.Metrics;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Bots.Client;

/// <summary>What one lean connection is told: where, who, what to call and how many calls to keep in flight.</summary>
internal sealed record LeanMlpSettings
{
    public required EndPoint Endpoint { get; init; }

    public required string DeviceId { get; init; }

    public string DeviceToken { get; init; } = "";

    public int PayloadSize { get; init; } = 64;

    /// <summary>Calls in flight on this connection; capped by the server's max_concurrent_streams.</summary>
    public int InFlight { get; init; } = 1;

    public string Service { get; init; } = "echo";

    public string Operation { get; init; } = "echo";

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>The outcome of one lean connection's run.</summary>
internal sealed class LeanMlpResult
{
    /// <summary>REQUEST frames written (warm-up included).</summary>
    public long Sent { get; set; }

    /// <summary>Calls that came back (RESPONSE or a stream ERROR), warm-up included.</summary>
    public long Answered { get; set; }

    /// <summary>2xx RESPONSEs carrying the echoed body, sent at or after the stats' MeasureFrom.</summary>
    public long MeasuredGood { get; set; }

    public long MeasuredSent { get; set; }

    public long MeasuredBytesSent { get; set; }

    public long MeasuredBytesReceived { get; set; }

    /// <summary>The most calls this connection had in flight at once.</summary>
    public int PeakInFlight { get; set; }

    /// <summary>The server's GOAWAY code, when it sent one.</summary>
    public MlpErrorCode? GoAway { get; set; }

    public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

    public LatencyHistogram Latency { get; } = new();

    public void Error(string kind, long count = 1) =>
        Errors[kind] = Errors.GetValueOrDefault(kind) + count;
}

/// <summary>
/// A load-generator MLP connection in the manner of h2load: one raw socket, HELLO once, then REQUEST
/// frames built in one send buffer per batch (the header block is HPACK-indexed after the first call,
/// so a request costs a few bytes beyond its body), up to <see cref="LeanMlpSettings.InFlight"/> calls
/// pipelined, RESPONSEs read in place with <see cref="MlpFrameReader"/>. Latency is send to receipt,
/// from the send timestamp stamped into the body's first 8 bytes (the echo returns it). One task per
/// connection, nothing allocated per call.
/// </summary>
internal sealed class LeanMlpConnection : IAsyncDisposable
{
    private const int MinReceiveBuffer = 64 * 1024;

    private readonly Socket _socket;
    private readonly LeanMlpSettings _settings;
    private readonly PooledBufferWriter _send = new();
    private readonly HpackEncoder _encoder = new();
    private readonly HpackDecoder _decoder = new();
    private readonly byte[] _body;
    private readonly int _maxFrameSize;
    private byte[] _receive;
    private int _buffered;
    private int _consumed;
    private byte[]? _steadyBlock;
    private uint _nextStreamId = 1;

    private LeanMlpConnection(Socket socket, LeanMlpSettings settings, int maxFrameSize)
    {
        _socket = socket;
        _settings = settings;
        _maxFrameSize = maxFrameSize;
        _body = new byte[settings.PayloadSize];
        Random.Shared.NextBytes(_body);
        _receive = ArrayPool<byte>.Shared.Rent(Math.Max(MinReceiveBuffer, 2 * (settings.PayloadSize + 64)));
    }

    /// <summary>Calls in flight, after the server's limit.</summary>
    public int Window { get; private set; }

    public Welcome? Welcome { get; private set; }

    /// <summary>Bytes the HELLO/WELCOME exchange took (not counted per call).</summary>
    public long HandshakeBytes { get; private set; }

    /// <summary>TCP connect, HELLO, WELCOME. Throws <see cref="LeanMlpException"/> when the server refuses.</summary>
    public static async Task<LeanMlpConnection> ConnectAsync(LeanMlpSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var maxFrame = Math.Max(MlpLimits.DefaultMaxFrameSize, settings.PayloadSize + 4096);
        var socket = new Socket(settings.Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new LeanMlpConnection(socket, settings, maxFrame);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(settings.ConnectTimeout);
            await socket.ConnectAsync(settings.Endpoint, timeout.Token).ConfigureAwait(false);
            await connection.HandshakeAsync(timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        MlpFrameWriter.WriteHello(_send, new Hello
        {
            ProtocolVersion = MlpLimits.ProtocolVersion,
            DeviceId = _settings.DeviceId,
            DeviceToken = _settings.DeviceToken,
            Platform = "bots-lean",
            Capabilities = new Capabilities
            {
                HpackTableSize = MlpLimits.DefaultHpackTableSize,
                MaxFrameSize = (uint)_maxFrameSize,
                MaxBodySize = (uint)Math.Max(MlpLimits.DefaultMaxBodySize, _settings.PayloadSize + 4096),
            },
        });
        HandshakeBytes += _send.WrittenCount;
        await SendAllAsync(_send.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _send.Reset(int.MaxValue);

        while (true)
        {
            if (TryTakeFrame(out var type, out var payload, out var frameLength))
            {
                HandshakeBytes += frameLength;
                var frame = new MlpFrame(type, MlpFrameFlags.None, new ReadOnlySequence<byte>(payload));
                switch (type)
                {
                    case MlpFrameType.Welcome:
                        Welcome = MlpEnvelope.ParseWelcome(frame);
                        var limit = Welcome.Limits is { MaxConcurrentStreams: > 0 } limits ? (int)limits.MaxConcurrentStreams : MlpLimits.DefaultMaxConcurrentStreams;
                        Window = Math.Clamp(_settings.InFlight, 1, limit);
                        var serverFrame = Welcome.Limits is { MaxFrameSize: > 0 } l ? (int)l.MaxFrameSize : MlpLimits.DefaultMaxFrameSize;
                        if (_settings.PayloadSize + 64 > serverFrame)
                            throw new ArgumentException($"A {_settings.PayloadSize}-byte body does not fit the server's {serverFrame}-byte frames.");
                        return;
                    case MlpFrameType.GoAway:
                        var goAway = MlpEnvelope.ParseGoAway(frame);
                        throw new LeanMlpException(goAway.Code, "HELLO refused: " + goAway.Message);
                    default:
                        continue;
                }
            }

            await ReceiveMoreAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Calls until <paramref name="budget"/> calls were sent (0: no bound) or <paramref name="stop"/> fires,
    /// then waits for the calls in flight. <paramref name="abort"/> ends the wait (what is left is counted
    /// as lost). Batch counts go to <paramref name="stats"/> as they happen; latency into the result.
    /// </summary>
    public async Task<LeanMlpResult> RunAsync(long budget, BotStats stats, CancellationToken stop, CancellationToken abort)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var result = new LeanMlpResult();
        var inFlight = 0;
        var goingAway = false;
        using var abortRegistration = abort.UnsafeRegister(static s => ((Socket)s!).Dispose(), _socket);
        try
        {
            while (true)
            {
                var room = Window - inFlight;
                if (budget > 0)
                    room = (int)Math.Min(room, budget - result.Sent);
                if (room > 0 && !goingAway && !stop.IsCancellationRequested)
                {
                    var sentAt = Stopwatch.GetTimestamp();
                    WriteRequests(room, sentAt);
                    var measured = sentAt >= stats.MeasureFrom;
                    if (measured)
                    {
                        result.MeasuredSent += room;
                        result.MeasuredBytesSent += _send.WrittenCount;
                    }

                    await SendAllAsync(_send.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
                    _send.Reset(1024 * 1024);
                    result.Sent += room;
                    inFlight += room;
                    result.PeakInFlight = Math.Max(result.PeakInFlight, inFlight);
                    stats.PublishedBatch(room, measured);
                }

                if (inFlight == 0)
                    break;

                var received = await ReceiveMoreAsync(CancellationToken.None).ConfigureAwait(false);
                if (received == 0)
                {
                    result.Error("closed_with_calls_in_flight");
                    result.Error("lost", inFlight);
                    break;
                }

                var now = Stopwatch.GetTimestamp();
                var answered = 0;
                var good = 0;
                while (TryTakeFrame(out var type, out var payload, out var frameLength, out var flags))
                {
                    var frame = new MlpFrame(type, flags, new ReadOnlySequence<byte>(payload));
                    switch (type)
                    {
                        case MlpFrameType.Response:
                            answered++;
                            if (OnResponse(frame, now, stats.MeasureFrom, frameLength, result))
                                good++;
                            break;
                        case MlpFrameType.Error:
                            var error = MlpEnvelope.ParseError(frame);
                            result.Error("mlp_" + error.Code.ToString().ToLowerInvariant());
                            if (error.StreamId != 0)
                                answered++;
                            break;
                        case MlpFrameType.GoAway:
                            var goAway = MlpEnvelope.ParseGoAway(frame);
                            result.GoAway = goAway.Code;
                            result.Error("goaway_" + goAway.Code.ToString().ToLowerInvariant());
                            goingAway = true;
                            // Streams above last_stream_id were never processed: they will not be answered.
                            var unprocessed = (long)(_nextStreamId - 1) - goAway.LastStreamId;
                            if (unprocessed > 0)
                            {
                                result.Error("refused", unprocessed);
                                inFlight -= (int)Math.Min(unprocessed, inFlight);
                            }

                            break;
                        case MlpFrameType.Ping:
                            MlpFrameWriter.WritePong(_send, payload.Span);
                            await SendAllAsync(_send.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
                            _send.Reset(1024 * 1024);
                            break;
                        default:
                            // PUSH, DICT, PONG: not part of the load.
                            break;
                    }
                }

                inFlight -= Math.Min(answered, inFlight);
                result.Answered += answered;
                stats.ReceivedBatch(answered, good);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            result.Error(abort.IsCancellationRequested ? "timeout" : "socket");
            result.Error("lost", inFlight);
        }
        catch (MlpProtocolException e)
        {
            result.Error("protocol_" + e.Code.ToString().ToLowerInvariant());
            result.Error("lost", inFlight);
        }

        return result;
    }

    private bool OnResponse(in MlpFrame frame, long now, long measureFrom, int frameLength, LeanMlpResult result)
    {
        var response = MlpResponseFrame.Parse(frame);
        if (!response.HeaderBlock.IsEmpty)
        {
            // Keeps the server-to-client table in step; the fields themselves are not needed.
            var ignore = default(IgnoreHeaders);
            _decoder.Decode(response.HeaderBlock, ref ignore);
        }

        var body = response.Body;
        var sentAt = PayloadStamp.Read(body);
        var measured = sentAt >= measureFrom && sentAt <= now && sentAt != 0;
        if (response.Status is < 200 or > 299)
        {
            result.Error("status_" + response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return false;
        }

        if (body.Length != _settings.PayloadSize || sentAt == 0)
        {
            result.Error("echo_mismatch");
            return false;
        }

        if (!measured)
            return false;
        result.MeasuredGood++;
        result.MeasuredBytesReceived += frameLength;
        result.Latency.Record(BotStats.TicksToMicroseconds(now - sentAt));
        return true;
    }

    private void WriteRequests(int count, long sentAt)
    {
        PayloadStamp.Write(_body, sentAt);
        for (var i = 0; i < count; i++)
        {
            var streamId = _nextStreamId++;
            if (_steadyBlock is null)
            {
                // The first block inserts the fields into the table; from then on they are one index byte each.
                var scratch = new ArrayBufferWriter<byte>(64);
                _encoder.Encode([new HeaderField(":service", _settings.Service), new HeaderField(":operation", _settings.Operation)], scratch);
                MlpFrameWriter.WriteRequest(_send, streamId, MlpFrameFlags.None, scratch.WrittenSpan, _body);
                scratch.ResetWrittenCount();
                _encoder.Encode([new HeaderField(":service", _settings.Service), new HeaderField(":operation", _settings.Operation)], scratch);
                _steadyBlock = scratch.WrittenSpan.ToArray();
                continue;
            }

            MlpFrameWriter.WriteRequest(_send, streamId, MlpFrameFlags.None, _steadyBlock, _body);
        }
    }

    /// <summary>The next whole frame in the receive buffer (consumed), or false when more bytes are needed.</summary>
    private bool TryTakeFrame(out MlpFrameType type, out ReadOnlyMemory<byte> payload, out int frameLength) =>
        TryTakeFrame(out type, out payload, out frameLength, out _);

    private bool TryTakeFrame(out MlpFrameType type, out ReadOnlyMemory<byte> payload, out int frameLength, out MlpFrameFlags flags)
    {
        payload = default;
        frameLength = 0;
        var available = _receive.AsSpan(_consumed, _buffered - _consumed);
        if (!MlpFrameReader.TryParseHeader(available, _maxFrameSize, out type, out flags, out var length, out var headerLength)
            || available.Length < headerLength + length)
        {
            return false;
        }

        payload = _receive.AsMemory(_consumed + headerLength, length);
        frameLength = headerLength + length;
        _consumed += frameLength;
        return true;
    }

    /// <summary>Moves unread bytes to the front, grows the buffer for a large frame, and reads once; 0 when the peer closed.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveMoreAsync(CancellationToken cancellationToken)
    {
        if (_consumed > 0)
        {
            _receive.AsSpan(_consumed, _buffered - _consumed).CopyTo(_receive);
            _buffered -= _consumed;
            _consumed = 0;
        }

        if (_buffered == _receive.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_receive.Length * 2, _maxFrameSize + MlpLimits.MaxFrameHeaderSize));
            if (bigger.Length <= _receive.Length)
                throw new MlpProtocolException(MlpErrorCode.FrameTooLarge, "A frame does not fit the receive buffer.");
            _receive.AsSpan(0, _buffered).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_receive);
            _receive = bigger;
        }

        var read = await _socket.ReceiveAsync(_receive.AsMemory(_buffered), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        _buffered += read;
        return read;
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed by the peer or by an abort.
        }

        _socket.Dispose();
        _send.Release();
        var receive = Interlocked.Exchange(ref _receive, []);
        if (receive.Length > 0)
            ArrayPool<byte>.Shared.Return(receive);
        return ValueTask.CompletedTask;
    }

    private readonly struct IgnoreHeaders : IHpackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
        }
    }
}

/// <summary>The server refused the lean connection (GOAWAY in answer to HELLO).</summary>
internal sealed class LeanMlpException(MlpErrorCode code, string message) : Exception(message)
{
    public MlpErrorCode Code { get; } = code;
}
