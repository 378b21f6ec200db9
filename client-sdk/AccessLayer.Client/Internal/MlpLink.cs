using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using AccessLayer.Client.Transport;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Client.Internal;

/// <summary>
/// One connection of an <see cref="MlpClient"/>: the handshake, a reader loop that decodes RESPONSE and
/// PUSH header blocks in frame order (server-to-client HPACK context), a write lock under which stream
/// ids are assigned and REQUEST header blocks encoded (so wire order and encoder state agree), and a
/// push loop that hands pushes to the app in order and ACKs them.
/// </summary>
internal sealed class MlpLink : IAsyncDisposable
{
    private static readonly string[] DoNotIndex = ["traceparent", "idempotency-key", "x-request-id", "timeout-ms", MlpCallId.HeaderName];

    private readonly IMlpTransport _transport;
    private readonly MlpClient _client;
    private readonly MlpClientOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly HpackEncoder _encoder = new(new HpackEncoderOptions { DoNotIndexNames = DoNotIndex });
    private readonly ArrayBufferWriter<byte> _headerScratch = new(256);
    private readonly MlpLinkInbound _inbound;
    private readonly TaskCompletionSource<Welcome> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly MlpLinkPushes _pushes;
    private readonly CancellationTokenSource _closed = new();
    private Task _reader = Task.CompletedTask;
    private readonly MlpLinkHeartbeat _beat;
    private readonly MlpLinkTrailer _trailer;
    private long _lastSentTimestamp;
    private long _lastReceivedTimestamp;
    private uint _nextStreamId = 1;
    private volatile GoAway? _goAway;
    private volatile bool _open;
    private volatile bool _declaredDead;
    private int _disposed;

    public MlpLink(IMlpTransport transport, MlpClient client, bool secondary = false)
    {
        IsSecondary = secondary;
        _transport = transport;
        _client = client;
        _options = client.Options;
        _time = _options.TimeProvider;
        _beat = new MlpLinkHeartbeat(this, client);
        _trailer = new MlpLinkTrailer(this, client);
        _pushes = new MlpLinkPushes(this, client, _closed.Token);
        _inbound = new MlpLinkInbound(this, client, _pushes, _beat, _welcome);
        _lastSentTimestamp = _lastReceivedTimestamp = _time.GetTimestamp();
    }

    /// <summary>A second link beside the session's, for hedges only (docs/sdk.md "Retries and hedging"): no pushes, no heartbeat tuning.</summary>
    public bool IsSecondary { get; }

    public Welcome? Welcome => _welcome.Task.IsCompletedSuccessfully ? _welcome.Task.Result : null;

    /// <summary>Whether this link's server answers copies of one call with one backend call (its WELCOME's <c>call_coalescing_window_ms</c>, docs/protocol.md §6.1).</summary>
    public bool ServerCoalescesCopies => Welcome is { CallCoalescingWindowMs: > 0 };

    public bool IsOpen => _open && _goAway is null;

    /// <summary>The connection has not ended (it may be draining after a GOAWAY).</summary>
    public bool IsUp => _open;

    public string TransportName => _transport.Name;

    /// <summary>Completes when the connection has ended.</summary>
    public Task Completion => _reader;

    public GoAway? GoAway => _goAway;

    /// <summary>A PING has gone unanswered past the RTO: the link may be dead (docs/sdk.md "Short-connection compensation").</summary>
    public bool IsSuspect => _beat.Suspect;

    /// <summary>True when the client itself found the link dead (no PONG in time) and dropped it.</summary>
    public bool DeclaredDead => _declaredDead;

    /// <summary>
    /// The network's part of a HELLO → WELCOME time: less the time the server says it held the HELLO (a cold process, a fleet
    /// opening the session through Orleans and Redis), which is no round trip and would make a good path look slow at its start.
    /// A held time above the measured one (a server's error) is not taken off.
    /// </summary>
    internal static TimeSpan HandshakeRoundTrip(TimeSpan measured, uint helloDelayMicroseconds)
    {
        var held = TimeSpan.FromMicroseconds(helloDelayMicroseconds);
        return held <= measured ? measured - held : measured;
    }

    public long LastSentTimestamp => Volatile.Read(ref _lastSentTimestamp);

    public long LastReceivedTimestamp => Volatile.Read(ref _lastReceivedTimestamp);

    public async Task<Welcome> HandshakeAsync(Hello hello, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _open = true;
        _reader = Task.Run(ReadLoopAsync, CancellationToken.None);
        _pushes.Start();
        await WriteAsync(output => MlpFrameWriter.WriteHello(output, hello), cancellationToken).ConfigureAwait(false);
        var sent = _time.GetTimestamp();
        var welcome = await _welcome.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        // HELLO → WELCOME is the link's first round trip: every link has an RTT sample before its first call.
        _client.Rtt.AddSample(HandshakeRoundTrip(_time.GetElapsedTime(sent), welcome.HelloDelayUs));
        _beat.Start(welcome);
        return welcome;
    }

    /// <summary>Fake-connection detection: the socket may look open, but nothing comes back; drop it now so the client replaces it.</summary>
    public void DeclareDead()
    {
        _declaredDead = true;
        Abort();
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <param name="timeLateAnswer">When the call is given up on (<paramref name="cancellationToken"/>), its late answer is still timed for the call latency window (<see cref="MlpLinkInbound.Abandon"/>).</param>
    public async Task<MlpResponse> CallAsync(string service, string operation, ReadOnlyMemory<byte> body, MlpCallOptions options, CancellationToken cancellationToken, bool timeLateAnswer = false)
    {
        if (!IsOpen)
            throw new MlpException(_goAway?.Code ?? MlpErrorCode.NoError, "The connection is closing; the request was not sent.", notProcessed: true);
        var welcome = Welcome!;
        var timeout = _client.Timeouts.ForCall(options.Timeout ?? _options.DefaultTimeout, body.Length);
        List<HeaderField> headers = [new(":service", service), new(":operation", operation)];
        if (timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            headers.Add(new HeaderField("timeout-ms", ((long)timeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        headers.AddRange(options.Headers);

        var (wireBody, compressed, dictionaryId) = _options.EnableCompression && !options.DisableCompression
            ? _client.Bodies.Compress(body, PreferredDictionaries(welcome))
            : (body, false, 0u);
        var serverMaxFrame = welcome.Limits is { MaxFrameSize: > 0 } limits ? (int)limits.MaxFrameSize : MlpLimits.DefaultMaxFrameSize;
        if (wireBody.Length + EstimateHeaderBlock(headers) + 16 > serverMaxFrame)
            throw new MlpException(MlpErrorCode.FrameTooLarge, $"The request ({wireBody.Length} bytes on the wire) does not fit the server's {serverMaxFrame}-byte frames.", notProcessed: true);

        var flags = (compressed ? MlpFrameFlags.BodyZstd : 0) | (options.Idempotent ? MlpFrameFlags.Idempotent : 0) | (options.OneWay ? MlpFrameFlags.OneWay : 0);
        var pending = new MlpPendingCall(compressed, dictionaryId);
        uint streamId;
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsOpen)
                throw new MlpException(_goAway?.Code ?? MlpErrorCode.NoError, "The connection is closing; the request was not sent.", notProcessed: true);
            streamId = _nextStreamId++;
            if (!options.OneWay)
                _inbound.Pending[streamId] = pending;
            _headerScratch.ResetWrittenCount();
            _encoder.Encode(headers, _headerScratch);
            var payload = MlpVarint.GetByteCount(streamId) + MlpVarint.GetByteCount((uint)_headerScratch.WrittenCount) + _headerScratch.WrittenCount + wireBody.Length;
            pending.BytesSent = MlpFrameWriter.GetHeaderLength(payload) + payload;
            MlpFrameWriter.WriteRequest(_transport.Pipe.Output, streamId, flags, _headerScratch.WrittenSpan, wireBody.Span);
            await FlushLockedAsync(pending.BytesSent).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }

        var flushed = _time.GetTimestamp();
        pending.SentTimestamp = flushed;
        _trailer.AfterRequest(flushed);

        if (options.OneWay)
            return new MlpResponse { Status = 202, Headers = [], Body = ReadOnlyMemory<byte>.Empty, Transport = TransportName, BytesSent = pending.BytesSent, RequestCompressed = compressed, RequestDictionaryId = dictionaryId };

        _beat.WatchCall(pending.Completion.Task);
        try
        {
            var response = timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan
                ? await pending.Completion.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false)
                : await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            response.RoundTrip = _time.GetElapsedTime(flushed);
            _client.QualityModel.OnSuccess();
            return response;
        }
        catch (TimeoutException)
        {
            _client.QualityModel.OnFailure();
            throw;
        }
        finally
        {
            // A late RESPONSE for a call given up on is ignored (docs/protocol.md §6), and its silence no longer probes the link (a
            // hedged call's abandoned first copy would otherwise send a PING on a lossy link, and a lost PONG would kill it). A copy
            // whose late answer is timed is marked abandoned before it leaves the pending calls, so an answer arriving in between is
            // not lost to both (the mark would then wait for an answer that never comes: a stream stalled for ever to
            // OldestUnansweredAge); when that answer took the pending entry first, the mark goes again.
            var abandon = timeLateAnswer && cancellationToken.IsCancellationRequested && _inbound.Pending.ContainsKey(streamId);
            if (abandon)
                _inbound.Abandon(streamId, flushed);
            if (!_inbound.Pending.TryRemove(streamId, out _) && abandon)
                _inbound.Forget(streamId);
            pending.Completion.TrySetCanceled(CancellationToken.None);
        }
    }

    /// <summary>How long the oldest unanswered call on this link has waited (zero when none); see <see cref="MlpLinkInbound.OldestPendingAge"/>.</summary>
    public TimeSpan OldestPendingAge() => _inbound.OldestPendingAge(_time);

    /// <summary>How long the oldest call still unanswered on this link has waited, given-up copies included; see <see cref="MlpLinkInbound.OldestUnansweredAge"/>.</summary>
    public TimeSpan OldestUnansweredAge() => _inbound.OldestUnansweredAge(_time);

    private IEnumerable<uint> PreferredDictionaries(Welcome welcome)
    {
        yield return welcome.DictionaryId;
        foreach (var id in welcome.AcceptedDictionaryIds)
            yield return id;
    }

    private static int EstimateHeaderBlock(List<HeaderField> headers)
    {
        var size = 8;
        foreach (var header in headers)
            size += Encoding.UTF8.GetByteCount(header.Name) + Encoding.UTF8.GetByteCount(header.Value) + 12;
        return size;
    }

    public async Task AckAsync(ulong sequence)
    {
        try
        {
            await WriteAsync(output => MlpFrameWriter.WriteAck(output, sequence), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or MlpException or ObjectDisposedException)
        {
        }
    }

    public Task<TimeSpan> PingAsync(CancellationToken cancellationToken) => _beat.PingAsync(cancellationToken);

    /// <summary>Before a call on a link idle longer than it has proven to survive: true when a PING came back in time (docs/sdk.md "Idle link check").</summary>
    public Task<bool> VerifyIfIdleAsync(CancellationToken cancellationToken) => _beat.VerifyIfIdleAsync(cancellationToken);

    /// <summary>A PING carrying <paramref name="timestamp"/> (docs/protocol.md §11).</summary>
    public Task SendPingAsync(long timestamp, CancellationToken cancellationToken)
    {
        var opaque = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(opaque, timestamp);
        return WriteAsync(output => MlpFrameWriter.WritePing(output, opaque), cancellationToken);
    }

    /// <summary>An empty PING right behind a request on a lossy path (<see cref="MlpLinkTrailer"/>).</summary>
    public Task SendTrailerAsync() => WriteAsync(static output => MlpFrameWriter.WritePing(output, []), CancellationToken.None);

    public Task SendPongAsync(byte[] opaque) => WriteAsync(output => MlpFrameWriter.WritePong(output, opaque), CancellationToken.None);

    public Task SendDictFetchAsync(uint id, CancellationToken cancellationToken) =>
        WriteAsync(output => MlpFrameWriter.WriteDict(output, new Dict { Fetch = new DictFetch { Id = id } }), cancellationToken);

    public void OnGoAway(GoAway goAway) => _goAway = goAway;

    /// <summary>Asks for a dictionary and waits until it arrived (true) or the server said it has none (false).</summary>
    public async Task<bool> FetchDictionaryAsync(uint id, CancellationToken cancellationToken)
    {
        var fetch = _inbound.DictionaryFetches.GetOrAdd(id, _ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        await SendDictFetchAsync(id, cancellationToken).ConfigureAwait(false);
        return await fetch.Task.WaitAsync(_options.ConnectTimeout, _time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Polite close (docs/protocol.md §12): GOAWAY NO_ERROR, then the output ends.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (!_open)
            return;
        try
        {
            await WriteAsync(output => MlpFrameWriter.WriteGoAway(output, new GoAway { Code = MlpErrorCode.NoError }), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
        }

        _goAway ??= new GoAway { Code = MlpErrorCode.NoError };
        await CompleteOutputAsync().ConfigureAwait(false);
        await _reader.WaitAsync(TimeSpan.FromSeconds(2), _time, CancellationToken.None).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    public void Abort()
    {
        _open = false;
        _transport.Abort();
    }

    private async Task WriteAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var counter = new CountingWriter(_transport.Pipe.Output);
            write(counter);
            await FlushLockedAsync(counter.Written).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask FlushLockedAsync(long bytes)
    {
        // Not cancellable: a frame is never left half-written.
        var flush = await _transport.Pipe.Output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        Volatile.Write(ref _lastSentTimestamp, _time.GetTimestamp());
        _client.CountSent(bytes);
        if (flush.IsCompleted)
            throw new MlpException(MlpErrorCode.NoError, "The connection is closed.", notProcessed: false) { LinkLost = true };
    }

    private async Task ReadLoopAsync()
    {
        var input = _transport.Pipe.Input;
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_closed.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (TryReadFrame(ref buffer, out var frame, out var size))
                    {
                        Volatile.Write(ref _lastReceivedTimestamp, _time.GetTimestamp());
                        _client.CountReceived(size);
                        _inbound.Handle(frame, size);
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
        }
        catch (MlpProtocolException ex)
        {
            failure = ex;
            try
            {
                await WriteAsync(output => MlpFrameWriter.WriteGoAway(output, new GoAway { Code = ex.Code, Message = ex.Message }), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception writeFailure) when (writeFailure is IOException or InvalidOperationException or MlpException or ObjectDisposedException)
            {
            }

            _transport.Abort();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException)
        {
            failure = ex;
        }
        finally
        {
            _open = false;
            var goAway = _goAway;
            var lost = goAway is not null
                ? new MlpException(goAway.Code, "The server closed the connection: " + goAway.Code + " " + goAway.Message) { LinkLost = true }
                : new MlpException(MlpErrorCode.NoError, "The connection was lost.", notProcessed: false, failure) { LinkLost = true };
            _welcome.TrySetException(lost);
            _inbound.FailAll(goAway, lost);
            _beat.OnClosed(lost);
            _pushes.Complete();
            _client.OnLinkClosed(this);
        }
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out MlpFrame frame, out long size)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!MlpFrameReader.TryRead(ref reader, _options.MaxFrameSize, out frame))
        {
            size = 0;
            return false;
        }

        size = reader.Consumed;
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    public static async Task Background(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or MlpException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _open = false;
        _beat.Dispose();
        await _closed.CancelAsync().ConfigureAwait(false);
        // The pipe writer is not thread-safe: wait for a frame being written (bounded) before tearing it down.
        var locked = await _writeLock.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        try
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (locked)
                _writeLock.Release();
        }

        try
        {
            // Not the push loop: it may be inside the app's handler, which must not hold up the next connect.
            // It ends when the handler returns (its ACK then goes nowhere; the push is re-delivered and dropped as a duplicate).
            await _reader.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MlpException)
        {
        }

        _closed.Dispose();
    }

    private async Task CompleteOutputAsync()
    {
        var locked = await _writeLock.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        try
        {
            await _transport.Pipe.Output.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            if (locked)
                _writeLock.Release();
        }
    }
}
