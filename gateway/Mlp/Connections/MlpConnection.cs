using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Mlp.Auth;
using AccessLayer.Gateway.Mlp.Push;
using AccessLayer.Gateway.Mlp.Routing;
using AccessLayer.Protocol.Compression;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// One MLP connection, reader side (docs/protocol.md): frames are read off the transport with the
/// HELLO limit until the handshake, then with the negotiated one; HELLO is authenticated before any
/// pipelined frame is looked at; REQUEST header blocks are decoded in frame order with this
/// connection's client-to-server HPACK context, then each request runs on its own and its answer goes
/// through the writer (the other half of this partial class). Connection errors end in GOAWAY and a
/// close; stream errors in an ERROR for that request.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The lifetime source has no timer; request tasks may still read its token after the reader ends, so it is cancelled, never disposed.")]
internal sealed partial class MlpConnection : OutboundWriter<MlpOutbound>
{
    private readonly MlpTransport _transport;
    private readonly MlpGateway _gateway;
    private readonly MlpOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lifetime = new();

    private HpackDecoder? _decoder;
    private uint _lastStreamId;
    private int _inflight;
    private long _lastReceivedTimestamp;
    private long _helloReceivedAt;
    private bool _clientGoingAway;
    private bool _earlyGoAwayArmed;
    // Bytes of the input handled so far, up to the end of the frame at hand: it arrived in early data if within the TLS early bytes.
    private long _inputOffset;
    private TaskCompletionSource? _idleSignal;

    // Reader-only scratch: the decoded fields of the request at hand, and the strings they repeat.
    private List<HeaderField>? _fields;
    private MlpHeaderStrings? _headerStrings;
    private string? _tallyService;
    private string? _tallyClass;
    private long _tallyCount;
    private Func<uint, bool>? _clientHoldsCallback;

    // In a fleet: the device grain epoch this connection holds the session at (0: none, or alone).
    private long _fleetEpoch;

    // A secondary link (docs/protocol.md §5.6): requests and PINGs beside the session's link; no session of its own, no pushes.
    private bool _secondary;
    private string _fleetUserId = string.Empty;

    // From HELLO, for the traffic table's gray rules (null: the client named none, or no table is configured).
    private string? _platform;
    private string? _appVersion;

    // The traffic table's zone cookie for this link (WELCOME's, then the last one a routed response carried); null without a table.
    private volatile string? _zoneCookie;

    /// <summary>Created with the link's first call the traffic table routes: a link without one holds none.</summary>
    private AccessLayer.Gateway.Traffic.ZoneCookieCache? _zoneCookieCache;

    /// <summary>With Traffic:Steer, the site whose gateways serve this link's user, when it is another one.</summary>
    private AccessLayer.Gateway.Traffic.TrafficSite? _home;

    // Negotiated at HELLO; read by request tasks and the writer afterwards.
    private bool _clientZstd;
    private int _clientMaxFrameSize = MlpLimits.DefaultMaxFrameSize;
    private int _clientMaxBodySize = MlpLimits.DefaultMaxBodySize;
    private ImmutableHashSet<uint> _clientDictionaries = [];

    public MlpConnection(MlpTransport transport, MlpGateway gateway)
    {
        _transport = transport;
        _gateway = gateway;
        _options = gateway.Options;
        _logger = new MlpLogScope(gateway.ConnectionLogger, this, gateway);
        _time = gateway.Time;
        AcceptedTimestamp = _time.GetTimestamp();
        _lastReceivedTimestamp = AcceptedTimestamp;
    }

    public string ConnectionId => _transport.ConnectionId;

    /// <summary>Set once the HELLO is accepted.</summary>
    public string? DeviceId { get; private set; }

    public string UserId { get; private set; } = string.Empty;

    public MlpSessionHandle? Session { get; private set; }

    public bool IsWelcomed => Session is not null;

    public long AcceptedTimestamp { get; }

    public long LastReceivedTimestamp => Volatile.Read(ref _lastReceivedTimestamp);

    /// <summary>Reads and handles frames until the peer closes, the connection is closed, or a connection error ends it.</summary>
    public async Task RunAsync()
    {
        _gateway.Connections.Add(this);
        var input = _transport.Pipe.Input;
        var reason = "peer closed the connection";
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_lifetime.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var consumed = buffer.Start;
                long frameBytes = 0;

                // Everything answered while this read's frames are handled is written, and flushed, once at the end.
                BeginWriteBatch();
                try
                {
                    while (!IsClosing && TryReadFrame(ref buffer, out var frame))
                    {
                        if (frameBytes == 0)
                            Volatile.Write(ref _lastReceivedTimestamp, _time.GetTimestamp());
                        var size = MlpFrameWriter.GetHeaderLength((int)frame.Payload.Length) + frame.Payload.Length;
                        frameBytes += size;
                        _inputOffset += size;
                        var handled = HandleFrameAsync(frame);
                        if (handled.IsCompletedSuccessfully)
                        {
                            handled.GetAwaiter().GetResult();
                        }
                        else
                        {
                            // Whatever waits (HELLO, a session store) does not hold back what is already answered.
                            EndWriteBatch();
                            await handled.ConfigureAwait(false);
                            BeginWriteBatch();
                        }

                        consumed = buffer.Start;
                        if (BatchIsFull)
                        {
                            EndWriteBatch();
                            BeginWriteBatch();
                        }
                    }

                    consumed = buffer.Start;
                }
                finally
                {
                    if (frameBytes > 0)
                        _gateway.Metrics.BytesReceived.Add(frameBytes);
                    FlushRequestTally();
                    EndWriteBatch();
                    input.AdvanceTo(consumed, buffer.End);
                }

                if (IsClosing)
                {
                    reason = _closeReason ?? "closed by the server";
                    break;
                }

                if (_clientGoingAway && !WaitForHandshakeBeforeClosing(input))
                {
                    reason = "client sent GOAWAY";
                    await CloseWhenIdleAsync().ConfigureAwait(false);
                    break;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    reason = IsClosing ? _closeReason ?? "closed by the server" : "peer closed the connection";
                    break;
                }
            }
        }
        catch (MlpProtocolException ex)
        {
            reason = "protocol error " + ex.Code;
            Refuse(ex.Code, ex.Message);
        }
        catch (OperationCanceledException)
        {
            reason = _closeReason ?? "connection closed";
        }
        catch (Exception ex) when (ex is ConnectionAbortedException or ConnectionResetException or IOException or InvalidOperationException or System.Net.WebSockets.WebSocketException)
        {
            reason = _closeReason ?? "connection reset";
        }
        finally
        {
            if (PendingClose is { } closing)
            {
                await closing.ConfigureAwait(false);
            }
            else
            {
                // The peer went away: let a frame being written finish before the output is completed under it.
                try
                {
                    await WhenOutboundDrainedAsync().WaitAsync(TimeSpan.FromSeconds(2), _time).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }

                CloseWrites();
                try
                {
                    await Output.CompleteAsync().ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                }
            }

            await _lifetime.CancelAsync().ConfigureAwait(false);
            _gateway.Connections.Remove(this);
            if (_fleetEpoch != 0)
                await _gateway.Fleet.ReleaseAsync(DeviceId!, _fleetUserId, _fleetEpoch).ConfigureAwait(false);
            if (DeviceId is not null && IsWelcomed)
            {
                _gateway.Metrics.ConnectionClosed();
                _gateway.Metrics.Disconnects.Add(1, MlpMetrics.Tag("reason", reason));
                MlpLog.Disconnected(_logger, DeviceId, reason);
            }
        }
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out MlpFrame frame)
    {
        var reader = new SequenceReader<byte>(buffer);
        var limit = IsWelcomed ? _options.MaxFrameSize : MlpLimits.MaxHelloFrameSize;
        if (!MlpFrameReader.TryRead(ref reader, limit, out frame))
            return false;
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private ValueTask HandleFrameAsync(MlpFrame frame)
    {
        if (!IsWelcomed)
        {
            if (frame.Type != MlpFrameType.Hello)
                throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, $"The first frame was {frame.Type}, not HELLO.");
            return HandleHelloAsync(MlpEnvelope.ParseHello(frame));
        }

        switch (frame.Type)
        {
            case MlpFrameType.Request:
                HandleRequest(MlpRequestFrame.Parse(frame));
                return default;
            case MlpFrameType.Ack:
                if (_secondary)
                    throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, "ACK on a secondary link: it carries no pushes.");
                return HandleAckAsync(MlpAckFrame.Parse(frame));
            case MlpFrameType.Ping:
                HandlePing(frame);
                return default;
            case MlpFrameType.Pong:
                MlpPingFrame.Parse(frame);
                return default;
            case MlpFrameType.Dict:
                HandleDict(MlpEnvelope.ParseDict(frame));
                return default;
            case MlpFrameType.GoAway:
                MlpEnvelope.ParseGoAway(frame);
                _clientGoingAway = true;
                return default;
            default:
                throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, $"{frame.Type} is not sent by clients, or not after the handshake.");
        }
    }

    private async ValueTask HandleHelloAsync(Hello hello)
    {
        // The read that brought the HELLO: WELCOME says how long it was held from here (hello_delay_us).
        _helloReceivedAt = Volatile.Read(ref _lastReceivedTimestamp);
        var minVersion = hello.MinProtocolVersion == 0 ? hello.ProtocolVersion : hello.MinProtocolVersion;
        if (hello.ProtocolVersion < MlpLimits.ProtocolVersion || minVersion > MlpLimits.ProtocolVersion)
            throw Handshake(MlpErrorCode.UnsupportedVersion, $"No common version: the client speaks {minVersion}..{hello.ProtocolVersion}; this server speaks 1.");
        if (string.IsNullOrEmpty(hello.DeviceId) || hello.DeviceId.Length > 256)
            throw Handshake(MlpErrorCode.AuthFailed, "HELLO needs a device id of 1..256 characters.");
        var caps = hello.Capabilities ?? new Capabilities();
        ValidateCapabilities(caps);

        var (identity, resumeSessionId, kind) = await AuthenticateAsync(hello).ConfigureAwait(false);
        if (hello.Secondary)
        {
            AcceptSecondary(hello, caps, identity, resumeSessionId);
            return;
        }

        MlpSessionOpenResult opened;
        if (_gateway.Fleet.IsEnabled)
        {
            // Claimed fleet-wide: the session comes here from the node or Redis that held it.
            (opened, _fleetEpoch) = await _gateway.Fleet.OpenAsync(identity.DeviceId, identity.UserId, resumeSessionId, hello.LastPushSequence, _lifetime.Token).ConfigureAwait(false);
            _fleetUserId = identity.UserId;
        }
        else
        {
            opened = await _gateway.Sessions.OpenAsync(identity.DeviceId, identity.UserId, resumeSessionId, hello.LastPushSequence, _lifetime.Token).ConfigureAwait(false);
        }

        Negotiate(hello, caps, identity);
        Session = opened.Handle;
        var lifetime = TimeSpan.FromSeconds(_options.TicketLifetimeSeconds);
        var ticket = lifetime > TimeSpan.Zero
            ? _gateway.Tickets.Protect(new MlpResumeTicket(identity.DeviceId, identity.UserId, opened.Handle.SessionId, _time.GetUtcNow() + lifetime))
            : null;

        var welcome = BuildWelcome(opened.Handle.SessionId, opened.Resumed, identity);
        if (_home is { } home)
        {
            // The user's zone lives in another site: its calls are forwarded there, and the client is told where that is.
            welcome.HomeEndpoints.AddRange(AccessLayer.Gateway.Traffic.TrafficSteering.Endpoints(home, AccessLayer.Gateway.Traffic.TrafficSteering.ZoneOf(_zoneCookie)));
            _gateway.Traffic.CountSteered("hint");
        }
        if (ticket is not null)
        {
            welcome.ResumeTicket = Google.Protobuf.ByteString.CopyFrom(ticket);
            welcome.ResumeTicketLifetimeMs = (ulong)lifetime.TotalMilliseconds;
        }

        // WELCOME first, then the re-deliveries in order, then (once bound, below) whatever waits (docs/protocol.md §10.3).
        Send(MlpOutbound.ForEnvelope(MlpFrameType.Welcome, welcome));
        foreach (var push in opened.Redeliver)
            Send(MlpOutbound.ForPush(push));

        _gateway.Metrics.ConnectionOpened();
        _gateway.Metrics.HandshakesAccepted.Add(1, MlpMetrics.Tag("kind", opened.Resumed ? "resumed" : kind));
        MlpLog.Connected(_logger, identity.DeviceId, identity.UserId, _transport.RemoteEndPoint, opened.Handle.SessionId, opened.Resumed, _transport.Name);

        if (_gateway.Connections.Bind(identity.DeviceId, this) is { } previous)
        {
            MlpLog.SessionTakenOver(_logger, identity.DeviceId);
            previous.RequestClose(MlpErrorCode.SessionTakenOver, "The device connected again on another connection.");
        }

        // Pumped only once bound: a push stored before the bind found no connection to tell, so this pump is what sends it.
        Send(MlpOutbound.PumpPushes);

        // A connection on another node claimed the device after this one did, before this one was bound here.
        if (_fleetEpoch != 0 && !_gateway.Fleet.Holds(identity.DeviceId, _fleetEpoch))
            RequestClose(MlpErrorCode.SessionTakenOver, "The device connected to another node.");
    }

    /// <summary>
    /// A secondary link (docs/protocol.md §5.6): authenticated as any HELLO, but it opens, claims and binds no session, so the
    /// device's link keeps its session and its pushes; it carries requests (in the ticket's session, as the HTTP fallback does)
    /// and PINGs. Its WELCOME has no ticket, and <c>session_resumed</c> is false.
    /// </summary>
    private void AcceptSecondary(Hello hello, Capabilities caps, MlpAuthResult identity, string? resumeSessionId)
    {
        Negotiate(hello, caps, identity);
        _secondary = true;
        var sessionId = resumeSessionId ?? string.Empty;
        Session = new MlpSessionHandle(identity.DeviceId, sessionId, 0);
        Send(MlpOutbound.ForEnvelope(MlpFrameType.Welcome, BuildWelcome(sessionId, resumed: false, identity)));
        _gateway.Metrics.ConnectionOpened();
        _gateway.Metrics.HandshakesAccepted.Add(1, MlpMetrics.Tag("kind", "secondary"));
        MlpLog.Connected(_logger, identity.DeviceId, identity.UserId, _transport.RemoteEndPoint, sessionId, false, _transport.Name + " secondary");
    }

    /// <summary>What HELLO settles for the link: the client's capabilities, the header contexts, who it is.</summary>
    private void Negotiate(Hello hello, Capabilities caps, MlpAuthResult identity)
    {
        _clientZstd = caps.Zstd;
        _clientMaxFrameSize = caps.MaxFrameSize == 0 ? MlpLimits.DefaultMaxFrameSize : (int)caps.MaxFrameSize;
        _clientMaxBodySize = caps.MaxBodySize == 0 ? MlpLimits.DefaultMaxBodySize : (int)caps.MaxBodySize;
        _clientDictionaries = [.. caps.DictionaryIds];
        var clientTable = caps.HasHpackTableSize ? (int)caps.HpackTableSize : MlpLimits.DefaultHpackTableSize;
        InitializeEncoder(clientTable);
        // The client's encoder starts at 4096 until it reads WELCOME; a larger limit is reached by its size updates.
        _decoder = new HpackDecoder(new HpackDecoderOptions { DynamicTableSizeLimit = MlpLimits.DefaultHpackTableSize, MaxHeaderListSize = _options.MaxHeaderListSize, MaxStringLength = _options.MaxHeaderListSize });
        if (_options.HpackTableSize > MlpLimits.DefaultHpackTableSize)
            _decoder.SetDynamicTableSizeLimit(_options.HpackTableSize);

        DeviceId = identity.DeviceId;
        UserId = identity.UserId;
        if (_gateway.Traffic.IsEnabled)
        {
            // Kept only for the table: without one, a link holds no HELLO strings for it.
            _platform = string.IsNullOrEmpty(hello.Platform) ? null : hello.Platform;
            _appVersion = string.IsNullOrEmpty(hello.AppVersion) ? null : hello.AppVersion;
        }

        _zoneCookie = _gateway.Traffic.CookieForLink(identity.UserId, hello.ZoneCookie.Span, out _home);
    }

    private Welcome BuildWelcome(string sessionId, bool resumed, MlpAuthResult identity)
    {
        var welcome = new Welcome
        {
            ProtocolVersion = MlpLimits.ProtocolVersion,
            SessionId = sessionId,
            SessionResumed = resumed,
            Limits = new Limits
            {
                MaxFrameSize = (uint)_options.MaxFrameSize,
                MaxBodySize = (uint)_options.MaxBodySize,
                HpackTableSize = (uint)_options.HpackTableSize,
                MaxConcurrentStreams = (uint)_options.MaxConcurrentStreams,
                PushWindow = (uint)_options.PushWindow,
            },
            Heartbeat = new HeartbeatPolicy
            {
                IntervalMs = (uint)_options.HeartbeatIntervalSeconds * 1000,
                MinIntervalMs = (uint)_options.HeartbeatMinIntervalSeconds * 1000,
                MaxIntervalMs = (uint)_options.HeartbeatMaxIntervalSeconds * 1000,
                ProbeStepMs = (uint)_options.HeartbeatProbeStepSeconds * 1000,
                ProbeSuccessCount = (uint)_options.HeartbeatProbeSuccessCount,
                PongTimeoutMs = (uint)_options.PongTimeoutSeconds * 1000,
                IdleTimeoutMs = (uint)_options.IdleTimeoutSeconds * 1000,
            },
            ServerTimeUnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
            DictionaryId = _gateway.Dictionaries.CurrentId,
            CallCoalescingWindowMs = _gateway.Calls.WindowMilliseconds,
            UserId = identity.UserId,
            HelloDelayUs = (uint)Math.Clamp(_time.GetElapsedTime(_helloReceivedAt).Ticks / TimeSpan.TicksPerMicrosecond, 0, uint.MaxValue),
        };
        welcome.AcceptedDictionaryIds.AddRange(_gateway.Dictionaries.AcceptedIds);
        if (_zoneCookie is { } zoneCookie)
            welcome.ZoneCookie = Google.Protobuf.ByteString.CopyFromUtf8(zoneCookie);
        return welcome;
    }

    private async ValueTask<(MlpAuthResult Identity, string? ResumeSessionId, string Kind)> AuthenticateAsync(Hello hello)
    {
        if (!hello.ResumeTicket.IsEmpty)
        {
            if (_gateway.Tickets.TryUnprotect(hello.ResumeTicket.Span, out var ticket) && string.Equals(ticket.DeviceId, hello.DeviceId, StringComparison.Ordinal))
                return (MlpAuthResult.Success(ticket.DeviceId, ticket.UserId), ticket.SessionId, "ticket");
            if (string.IsNullOrEmpty(hello.DeviceToken))
                throw Handshake(MlpErrorCode.ResumeRejected, "The resume ticket is invalid or expired; reconnect with the device token.");
        }

        if (hello.DeviceToken.Length > MlpDeviceToken.MaxTokenLength)
            throw Handshake(MlpErrorCode.AuthFailed, "The device token is too long.");
        var result = await _gateway.Authenticator.AuthenticateAsync(new MlpAuthRequest(hello.DeviceId, hello.DeviceToken, _transport.RemoteEndPoint, hello), _lifetime.Token).ConfigureAwait(false);
        if (!result.Succeeded)
            throw Handshake(MlpErrorCode.AuthFailed, "Authentication failed: " + result.Reason);
        return (result, null, string.IsNullOrEmpty(hello.DeviceToken) ? "anonymous" : "token");
    }

    private static void ValidateCapabilities(Capabilities caps)
    {
        if (caps.HasHpackTableSize && caps.HpackTableSize > MlpLimits.MaxHpackTableSize)
            throw Handshake(MlpErrorCode.ProtocolError, $"capabilities.hpack_table_size {caps.HpackTableSize} exceeds {MlpLimits.MaxHpackTableSize}.");
        if (caps.MaxFrameSize != 0 && caps.MaxFrameSize is < MlpLimits.MinMaxFrameSize or > MlpLimits.AbsoluteMaxFrameSize)
            throw Handshake(MlpErrorCode.ProtocolError, $"capabilities.max_frame_size {caps.MaxFrameSize} is outside {MlpLimits.MinMaxFrameSize}..{MlpLimits.AbsoluteMaxFrameSize}.");
        if (caps.MaxBodySize != 0 && caps.MaxBodySize is < MlpLimits.MinMaxBodySize or > MlpLimits.AbsoluteMaxBodySize)
            throw Handshake(MlpErrorCode.ProtocolError, $"capabilities.max_body_size {caps.MaxBodySize} is outside {MlpLimits.MinMaxBodySize}..{MlpLimits.AbsoluteMaxBodySize}.");
        if (caps.DictionaryIds.Count > MlpLimits.MaxAnnouncedDictionaries)
            throw Handshake(MlpErrorCode.ProtocolError, $"HELLO lists {caps.DictionaryIds.Count} dictionaries; at most {MlpLimits.MaxAnnouncedDictionaries} are allowed.");
    }

    private static MlpProtocolException Handshake(MlpErrorCode code, string message) => new(code, message);

    private void HandleRequest(in MlpRequestFrame request)
    {
        if (request.StreamId <= _lastStreamId)
            throw new MlpProtocolException(MlpErrorCode.InvalidStream, $"Stream id {request.StreamId} is not greater than {_lastStreamId}.");
        _lastStreamId = request.StreamId;

        // Decoded even when the request is refused below: the block updates the dynamic table (§7.1).
        var fields = _fields ??= new List<HeaderField>(8);
        fields.Clear();
        MlpHeaders.Decode(_decoder!, request.HeaderBlock, fields, _headerStrings ??= new MlpHeaderStrings());
        var streamId = request.StreamId;
        if (_clientGoingAway)
            throw new MlpProtocolException(MlpErrorCode.ProtocolError, "REQUEST after the client's GOAWAY.");
        if (Interlocked.Increment(ref _inflight) > _options.MaxConcurrentStreams)
        {
            FinishStream();
            SendError(streamId, MlpErrorCode.TooManyStreams, $"More than {_options.MaxConcurrentStreams} requests in flight.");
            return;
        }

        Activity? span = null;
        try
        {
            var (service, operation, headers) = MlpHeaders.SplitRequest(fields, streamId);
            // Current on this reader only until the request is handed off below (then the reader's own is restored).
            span = MlpRequestSpan.Start(service, operation, "link", DeviceId, headers);
            var known = _gateway.Router.TryGet(service, out var target, out var ceiling);
            // 0-RTT: before the handshake completes the request may be a replay; only IDEMPOTENT ones run now, the rest once it has.
            var deferUntil = EarlyDataWait(request.IsIdempotent);
            if (known && target is MlpEchoService && deferUntil is null)
            {
                MlpRequestSpan.End(span, AnswerEchoInline(request, service, headers));
                return;
            }

            var body = _gateway.Bodies.DecodeRequestBody(request.Body, request.IsBodyCompressed, streamId);
            if (!known)
            {
                FinishStream();
                if (!request.IsOneWay)
                    Send(MlpOutbound.ForResponse(streamId, 404, [new HeaderField("error-message", $"no service '{service}'")], ReadOnlyMemory<byte>.Empty, MlpFrameFlags.None));
                // The name came from the client: label values stay within the configured routes.
                CountRequest(MlpMetrics.OtherService, 404);
                MlpRequestSpan.End(span, 404);
                return;
            }

            var call = new MlpServiceRequest(service, operation, headers, body, DeviceId!, UserId, Session!.SessionId, request.IsIdempotent, MlpHeaders.Timeout(headers, ceiling)) { ConnectionLogger = _logger, Platform = _platform, AppVersion = _appVersion, ZoneCookie = _zoneCookie, ZoneCookieCache = target is AccessLayer.Gateway.Traffic.TrafficMlpService ? _zoneCookieCache ??= new() : null };
            // The task owns the span from here: it is current in the task (the backend call carries it) and ends it.
            _ = RunRequestAsync(streamId, request.IsOneWay, target, call, span, deferUntil);
            if (span is not null)
                Activity.Current = span.Parent;
        }
        catch (MlpProtocolException ex) when (!ex.IsConnectionError)
        {
            FinishStream();
            SendError(streamId, ex.Code, ex.Message, ex.InnerException is ZstdException { Kind: ZstdErrorKind.UnknownDictionary } z ? z.DictionaryId : 0);
            MlpRequestSpan.End(span, 400);
        }
        catch when (span is not null)
        {
            // A connection error ends the link: the span ends with it rather than staying current on the reader.
            MlpRequestSpan.End(span, 400);
            throw;
        }
    }

    /// <summary>
    /// The built-in echo, answered on the reader: it completes at once and never looks at a deadline, so it
    /// gets no task, no timer and no copies but the pooled body, which the writer returns once it is written.
    /// </summary>
    private int AnswerEchoInline(in MlpRequestFrame request, string service, HeaderField[] headers)
    {
        var streamId = request.StreamId;
        var body = _gateway.Bodies.RentRequestBody(request.Body, request.IsBodyCompressed, streamId, out var length, out var pooled);
        var status = MlpEchoService.Answer(headers, out var responseHeaders);
        TallyRequest(service, status);
        if (request.IsOneWay)
        {
            if (pooled)
                ArrayPool<byte>.Shared.Return(body);
            if (status >= 400)
                SendError(streamId, MlpErrorCode.InternalError, $"The one-way request failed with status {status}.");
        }
        else
        {
            SendResponse(streamId, status, responseHeaders, body.AsMemory(0, length), pooled ? body : null);
        }

        FinishStream();
        return status;
    }

    /// <summary>
    /// A GOAWAY read in TLS early data: requests deferred until the handshake completes need this reader to go on reading
    /// (the client's Finished), so it does, and the handshake's end cancels its pending read to bring it back here.
    /// </summary>
    private bool WaitForHandshakeBeforeClosing(System.IO.Pipelines.PipeReader input)
    {
        if (_transport.EarlyData is not { InEarlyData: true } early)
            return false;
        if (!_earlyGoAwayArmed)
        {
            _earlyGoAwayArmed = true;
            early.HandshakeCompleted.ContinueWith(static (_, state) => ((System.IO.Pipelines.PipeReader)state!).CancelPendingRead(), input, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return true;
    }

    /// <summary>
    /// Null when the request may run now: it did not arrive in TLS early data, or it is IDEMPOTENT (replay-safe, served
    /// from 0-RTT); else the handshake's completion, which it waits for (the client's Finished proves it is no replay;
    /// already complete when the reader read ahead).
    /// </summary>
    private Task? EarlyDataWait(bool idempotent)
    {
        if (_transport.EarlyData is not { } early || _inputOffset > early.EarlyDataBytes)
            return null;
        _gateway.Metrics.EarlyDataRequests.Add(1, MlpMetrics.Tag("outcome", idempotent ? "served" : "deferred"));
        return idempotent ? null : early.HandshakeCompleted;
    }

    private async Task RunRequestAsync(uint streamId, bool oneWay, IMlpService service, MlpServiceRequest call, Activity? span, Task? deferUntil = null)
    {
        var status = 0;
        try
        {
            if (deferUntil is not null)
                await deferUntil.WaitAsync(_lifetime.Token).ConfigureAwait(false);
            var response = await _gateway.Calls.InvokeAsync(service, call, _logger, _lifetime.Token).ConfigureAwait(false);
            status = response.Status;
            if (service is AccessLayer.Gateway.Traffic.TrafficMlpService && AccessLayer.Gateway.Traffic.TrafficHeaders.Find(response.Headers, AccessLayer.Gateway.Traffic.TrafficHeaders.ZoneCookie) is { } fresh)
                _zoneCookie = fresh;
            CountRequest(call.Service, response.Status);
            if (oneWay)
            {
                ReturnRented(response.RentedBody);
                if (response.Status >= 400)
                    SendError(streamId, MlpErrorCode.InternalError, $"The one-way request failed with status {response.Status}.");
                return;
            }

            // A pooled body goes back to the pool once the writer has written it (or dropped it).
            SendResponse(streamId, response.Status, response.Headers, response.Body, response.RentedBody);
            if (_home is { } home && _gateway.Traffic.Steer == AccessLayer.Gateway.Traffic.TrafficSteer.Redirect
                && AccessLayer.Gateway.Traffic.TrafficHeaders.Find(response.Headers, AccessLayer.Gateway.Traffic.TrafficHeaders.ForwardedBy) is not null
                && Close(AccessLayer.Gateway.Traffic.TrafficSteering.Redirect(home, _zoneCookie), $"steered to site {home.Name}"))
            {
                // Answered by the forward, then sent home: the calls after it go to the user's own site.
                _gateway.Traffic.CountSteered("redirect");
            }
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested || deferUntil is { IsCanceled: true })
        {
            // The connection is gone (or its handshake failed under early data); nobody is waiting for the answer.
        }
        finally
        {
            FinishStream();
            MlpRequestSpan.End(span, status);
        }
    }

    /// <summary>Queues a RESPONSE; <paramref name="rented"/> (a pooled array under <paramref name="plain"/>) goes back to the pool when written or dropped.</summary>
    private void SendResponse(uint streamId, int status, IReadOnlyList<HeaderField> headers, ReadOnlyMemory<byte> plain, byte[]? rented)
    {
        var (body, compressed, dictionaryId) = _gateway.Bodies.EncodeBody(plain, _clientZstd, ClientHoldsCallback);
        if (plain.Length > _clientMaxBodySize || body.Length + MlpHeaders.MaxEncodedSize(headers) + 16 > _clientMaxFrameSize)
        {
            ReturnRented(rented);
            SendError(streamId, MlpErrorCode.BodyTooLarge, $"The response body ({plain.Length} bytes) exceeds what the client accepts.");
            return;
        }

        if (compressed)
        {
            // The compressed copy is what gets written: the plain one is done with.
            ReturnRented(rented);
            rented = null;
            _gateway.Metrics.BodiesCompressed.Add(1, MlpMetrics.Tag("dictionary", dictionaryId == 0 ? "none" : dictionaryId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Send(MlpOutbound.ForResponse(streamId, status, headers, body, compressed ? MlpFrameFlags.BodyZstd : MlpFrameFlags.None, rented));
    }

    private static void ReturnRented(byte[]? rented)
    {
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
    }

    private void CountRequest(string service, int status) =>
        _gateway.Metrics.Requests.Add(1, MlpMetrics.Tag("service", service), MlpMetrics.Tag("status", StatusClass(status)));

    private static readonly string[] StatusClasses = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"];

    private static string StatusClass(int status) => StatusClasses[Math.Clamp(status / 100, 0, 9)];

    /// <summary>Counts an inline answer; a run of the same service and status class becomes one measurement at the end of the read.</summary>
    private void TallyRequest(string service, int status)
    {
        var statusClass = StatusClass(status);
        if (_tallyCount > 0 && (!ReferenceEquals(statusClass, _tallyClass) || !string.Equals(service, _tallyService, StringComparison.Ordinal)))
            FlushRequestTally();
        _tallyService = service;
        _tallyClass = statusClass;
        _tallyCount++;
    }

    private void FlushRequestTally()
    {
        if (_tallyCount == 0)
            return;
        _gateway.Metrics.Requests.Add(_tallyCount, MlpMetrics.Tag("service", _tallyService), MlpMetrics.Tag("status", _tallyClass));
        _tallyCount = 0;
    }

    private void SendError(uint streamId, MlpErrorCode code, string message, uint dictionaryId = 0)
    {
        _gateway.Metrics.StreamErrors.Add(1, MlpMetrics.Tag("code", code.ToString()));
        Send(MlpOutbound.ForEnvelope(MlpFrameType.Error, new Error { Code = code, Message = message, StreamId = streamId, DictionaryId = dictionaryId }));
    }

    private void FinishStream()
    {
        if (Interlocked.Decrement(ref _inflight) == 0)
            Volatile.Read(ref _idleSignal)?.TrySetResult();
    }

    private async ValueTask HandleAckAsync(MlpAckFrame ack)
    {
        var removed = await _gateway.Sessions.AcknowledgeAsync(Session!, ack.Sequence, _lifetime.Token).ConfigureAwait(false);
        if (removed > 0)
        {
            _gateway.Metrics.PushesAcknowledged.Add(removed);
            Send(MlpOutbound.PumpPushes);
        }
    }

    private void HandleDict(Dict dict)
    {
        if (dict.KindCase != Dict.KindOneofCase.Fetch)
            throw new MlpProtocolException(MlpErrorCode.UnexpectedFrame, "Clients send only DICT fetch.");
        var id = dict.Fetch.Id;
        var data = new DictData { Id = id };
        uint delivers = 0;
        if (_gateway.Dictionaries.TryGet(id, out var dictionary) && dictionary is not null)
        {
            data.Content = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(dictionary.Content);
            delivers = id;
        }

        Send(MlpOutbound.ForEnvelope(MlpFrameType.Dict, new Dict { Data = data }, delivers));
    }

    /// <summary>Offers a newly current dictionary to this client unless it already holds it.</summary>
    public bool OfferDictionary(ZstdDictionary dictionary)
    {
        if (!IsWelcomed || ClientHolds(dictionary.Id))
            return false;
        Send(MlpOutbound.ForEnvelope(MlpFrameType.Dict, new Dict { Offer = new DictOffer { Id = dictionary.Id, Size = (uint)dictionary.Content.Length } }));
        return true;
    }

    /// <summary>One delegate per connection, made when first needed, instead of one per response.</summary>
    private Func<uint, bool> ClientHoldsCallback => _clientHoldsCallback ??= ClientHolds;

    private bool ClientHolds(uint id) => Volatile.Read(ref _clientDictionaries).Contains(id);

    private void MarkClientHolds(uint id) => ImmutableInterlocked.Update(ref _clientDictionaries, static (set, id) => set.Add(id), id);

    /// <summary>After the client's GOAWAY: answer what is in flight, then close (bounded by the request timeout).</summary>
    private async Task CloseWhenIdleAsync()
    {
        if (Volatile.Read(ref _inflight) > 0)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _idleSignal, signal);
            if (Volatile.Read(ref _inflight) > 0)
            {
                try
                {
                    await signal.Task.WaitAsync(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds), _time).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
        }

        RequestClose(null, "client sent GOAWAY");
    }

    /// <summary>A connection error: GOAWAY with the code, then close once it is written.</summary>
    private void Refuse(MlpErrorCode code, string message)
    {
        if (IsWelcomed)
        {
            MlpLog.ProtocolError(_logger, ConnectionId, DeviceId, code, message);
            _gateway.Metrics.ProtocolErrors.Add(1, MlpMetrics.Tag("code", code.ToString()));
        }
        else
        {
            MlpLog.HandshakeRefused(_logger, _transport.RemoteEndPoint, code, message);
            _gateway.Metrics.HandshakesRejected.Add(1, MlpMetrics.Tag("code", code.ToString()));
        }

        RequestClose(code, message);
    }
}
