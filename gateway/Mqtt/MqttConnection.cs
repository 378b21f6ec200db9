using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Store;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// One MQTT network connection: the reader side. It frames packets off the transport, runs
/// the CONNECT handshake, keeps per-connection protocol state (inbound topic aliases,
/// incoming QoS 2 ids, receive maximum) and hands routing to the broker. Everything that is
/// written goes through the outbound actor (the other half of this partial class).
/// </summary>
internal sealed partial class MqttConnection : OutboundWriter<OutboundItem>, IDeferredWriter, IPressureNotes
{
    private readonly ConnectionContext _transport;
    private readonly MqttBroker _broker;
    private readonly MqttOptions _options;
    private readonly ILogger _innerLogger;

    private int _incomingQos2Count;
    private long _lastPacketTimestamp;
    private int _closeRequested;

    /// <summary>The connection's logger (the connection itself): each line it writes names the client, the node and the connection (<see cref="MqttLogScope"/>).</summary>
    internal ILogger Logger => this;

    private ILogger _logger => this;

    public MqttConnection(ConnectionContext transport, MqttBroker broker, MqttOptions options, ILogger logger)
    {
        _transport = transport;
        _broker = broker;
        _options = options;
        _innerLogger = logger;
        _lastPacketTimestamp = _time.GetTimestamp();
        AcceptedTimestamp = _lastPacketTimestamp;
    }

    public string ConnectionId => _transport.ConnectionId;

    public EndPoint? RemoteEndPoint => _transport.RemoteEndPoint;

    public MqttProtocolVersion Version { get; private set; } = MqttProtocolVersion.V311;

    /// <summary>Set once CONNECT is accepted; null before.</summary>
    public string? ClientId => Session?.ClientId;

    public SessionToken? Session { get; private set; }

    public bool IsConnected => Session is not null;

    public long AcceptedTimestamp { get; }

    public int KeepAliveSeconds { get; private set; }

    public long LastPacketTimestamp => Volatile.Read(ref _lastPacketTimestamp);

    /// <summary>The will of this connection's CONNECT, kept so that a protocol-level close can tell the session layer to publish it.</summary>
    public bool HasWill { get; private set; }

    // The broker's clock: one per broker, not a field per connection.
    private TimeProvider _time => _broker.Time;

    private PipeReader Input => _transport.Transport.Input;

    /// <summary>Reads and handles packets until the peer closes, the connection is closed, or a protocol error ends it.</summary>
    /// <remarks>
    /// This method's state machine lives as long as the connection, so it holds only what an idle
    /// connection waits on: the pending read. Packets are handled by <see cref="ProcessAsync"/>, which
    /// completes synchronously unless a handler really waits; the close is settled by <see cref="EndAsync"/>.
    /// </remarks>
    public async Task RunAsync()
    {
        try
        {
            while (true)
            {
                // No cancellation token: a pending registration per idle connection costs memory, and
                // the transport completes the pipe when the connection closes anyway.
                var result = await Input.ReadAsync().ConfigureAwait(false);
                if (!await ProcessAsync(result).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            // Kept out of line (not a local across the awaits above): EndAsync sorts it out.
            Rare.Failure = ex;
        }

        await EndAsync().ConfigureAwait(false);
    }

    /// <summary>Handles the packets of one read; false (with <see cref="RareState.EndReason"/> set) when the connection ends.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ProcessAsync(ReadResult result)
    {
        var input = Input;
        var buffer = result.Buffer;
        var consumed = buffer.Start;
        WriterBatch.Open();
        try
        {
            while (TryReadPacket(ref buffer, out var header, out var body))
            {
                Volatile.Write(ref _lastPacketTimestamp, _time.GetTimestamp());
                _broker.Metrics.AddBytesReceived(header.HeaderLength + header.RemainingLength);
                var handling = HandlePacketAsync(header, body);
                if (!handling.IsCompleted)
                {
                    // About to wait (and maybe resume elsewhere): start what this read woke first.
                    WriterBatch.Close();
                }

                var outcome = await handling.ConfigureAwait(false);
                WriterBatch.Open();
                consumed = buffer.Start;
                if (Volatile.Read(ref _closeRequested) != 0)
                {
                    return Ended(ClosedByBrokerReason);
                }

                if (outcome is { } disconnect)
                {
                    Rare.Disconnect = disconnect;
                    return Ended("client sent DISCONNECT");
                }

                // A subscriber this PUBLISH went to is behind: read no further until it drains (bounded).
                var yielding = YieldToPressureAsync();
                if (!yielding.IsCompleted)
                {
                    WriterBatch.Close();
                    await yielding.ConfigureAwait(false);
                    WriterBatch.Open();
                }
            }

            consumed = buffer.Start;
        }
        finally
        {
            WriterBatch.Close();
            input.AdvanceTo(consumed, buffer.End);
        }

        if (Volatile.Read(ref _closeRequested) != 0)
        {
            return Ended(ClosedByBrokerReason);
        }

        return !(result.IsCompleted || result.IsCanceled) || Ended("peer closed the connection");
    }

    private bool Ended(string reason)
    {
        Rare.EndReason = reason;
        return false;
    }

    private string ClosedByBrokerReason => _rare?.CloseReason ?? "closed by the broker";

    /// <summary>The read loop is over: answers a protocol error, waits for a broker-initiated close, settles the session.</summary>
    private async Task EndAsync()
    {
        var closeReason = _rare?.EndReason;
        var failure = _rare?.Failure;
        ExceptionDispatchInfo? unexpected = null;
        MqttProtocolException? refused = null;
        switch (failure)
        {
            case null:
                break;
            case MqttProtocolException ex:
                closeReason = "protocol error " + ex.ReasonCode;
                MqttLog.ProtocolError(_logger, ConnectionId, ClientId, ex.ReasonCode, ex.Message);
                _broker.Metrics.ProtocolErrors.Add(1, new KeyValuePair<string, object?>("reason", ex.ReasonCode.ToString()));
                refused = ex;
                break;
            case ConnectionAbortedException:
                closeReason = _rare?.CloseReason ?? "connection aborted";
                break;
            case OperationCanceledException:
                closeReason = _rare?.CloseReason ?? "connection closed";
                break;
            case ConnectionResetException:
            case IOException:
                closeReason = "connection reset";
                break;
            default:
                // Not ours to swallow: the session is settled as for a peer close, then it goes to the caller.
                closeReason = "peer closed the connection";
                unexpected = ExceptionDispatchInfo.Capture(failure);
                break;
        }

        try
        {
            if (refused is not null)
            {
                await RefuseAsync(refused.ReasonCode, refused.Message).ConfigureAwait(false);
            }
        }
        finally
        {
            if (PendingClose is { } closing)
            {
                // Let a broker-initiated close write its CONNACK/DISCONNECT before the session is settled.
                await closing.ConfigureAwait(false);
            }

            var disconnect = _rare?.Disconnect;
            var publishWill = disconnect is null || disconnect.ReasonCode == MqttReasonCode.DisconnectWithWillMessage;
            await _broker.OnConnectionClosedAsync(this, closeReason!, publishWill && !_takenOver && !_suppressWill, disconnect?.SessionExpiryInterval).ConfigureAwait(false);
        }

        unexpected?.Throw();
    }

    private bool TryReadPacket(ref ReadOnlySequence<byte> buffer, out MqttFixedHeader header, out ReadOnlySequence<byte> body)
    {
        var maxPacketSize = IsConnected ? _options.MaxPacketSize : Math.Min(_options.MaxPacketSize, MaxConnectPacketSize);
        if (!MqttPacketFramer.TryReadFrame(buffer, maxPacketSize, out header, out body, out var consumed))
        {
            return false;
        }

        buffer = buffer.Slice(consumed);
        return true;
    }

    // A CONNECT carries ids, credentials and a will; nothing legitimate needs more before the client is known.
    private const int MaxConnectPacketSize = 64 * 1024;

    /// <summary>Handles one packet; returns the client's DISCONNECT when it ends the connection.</summary>
    private ValueTask<MqttDisconnectPacket?> HandlePacketAsync(in MqttFixedHeader header, in ReadOnlySequence<byte> body)
    {
        if (!IsConnected)
        {
            if (header.PacketType != MqttPacketType.Connect)
            {
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, $"First packet was {header.PacketType}, not CONNECT.");
            }

            if (MqttConnectDecoder.TryGetProtocolVersion(body, out var version))
            {
                // Known before the rest is validated, so a refusal can be answered in the client's own version.
                Version = version;
                _connectVersionKnown = true;
            }

            return HandleConnectAsync(MqttConnectDecoder.Decode(header, body));
        }

        switch (header.PacketType)
        {
            case MqttPacketType.Publish:
                if (!ChargePublish(header.HeaderLength + header.RemainingLength))
                {
                    return default;
                }

                return HandlePublishAsync(MqttPublishDecoder.Decode(header, body, Version));
            case MqttPacketType.PubAck:
            case MqttPacketType.PubRec:
            case MqttPacketType.PubComp:
                var ack = MqttPubAckDecoder.Decode(header, body, Version);
                PostAcknowledgement(ack.Type, ack.PacketId, ack.ReasonCode);
                return default;
            case MqttPacketType.PubRel:
                return HandlePubRelAsync(MqttPubAckDecoder.Decode(header, body, Version));
            case MqttPacketType.Subscribe:
                return HandleSubscribeAsync(MqttSubscribeDecoder.Decode(header, body, Version));
            case MqttPacketType.Unsubscribe:
                return HandleUnsubscribeAsync(MqttUnsubscribeDecoder.Decode(header, body, Version));
            case MqttPacketType.PingReq:
                MqttPingDecoder.Decode(header, body);
                Send(OutboundItem.PingResp);
                return default;
            case MqttPacketType.Disconnect:
                var disconnect = MqttDisconnectDecoder.Decode(header, body, Version);
                if (disconnect.SessionExpiryInterval is > 0 && _connectSessionExpiry == 0)
                {
                    // 5.0 3.14.2.2.2: a session that was to end at disconnect cannot be extended here.
                    throw new MqttProtocolException(MqttReasonCode.ProtocolError, "DISCONNECT set a session expiry after CONNECT asked for none.");
                }

                return ValueTask.FromResult<MqttDisconnectPacket?>(disconnect);
            case MqttPacketType.Connect:
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, "A second CONNECT on one connection.");
            case MqttPacketType.Auth:
                MqttAuthDecoder.Decode(header, body, Version);
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, "AUTH without an authentication method in CONNECT.");
            default:
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, $"{header.PacketType} is not sent by clients.");
        }
    }

    private uint _connectSessionExpiry;
    private bool _connectVersionKnown;

    private async ValueTask<MqttDisconnectPacket?> HandleConnectAsync(MqttConnectPacket connect)
    {
        Version = connect.ProtocolVersion;
        _connectVersionKnown = true;
        _connectSessionExpiry = connect.SessionExpiryInterval;
        // Current for the broker's handshake (authentication, fleet claim, takeover); restored when this method returns.
        var span = MqttSpans.StartConnect(this, connect);
        var accepted = false;
        try
        {
            if (await _broker.ConnectAsync(this, connect).ConfigureAwait(false) is null)
            {
                RequestClose("CONNECT refused");
                return null;
            }

            accepted = true;
        }
        finally
        {
            MqttSpans.EndConnect(span, this, accepted);
        }

        HasWill = connect.Will is not null;
        KeepUserName(connect.UserName);
        return null;
    }

    /// <summary>
    /// Called by the broker once the session is open, before CONNACK is queued: the keep alive is in force before the
    /// client can know it is connected (set after CONNACK, a maintenance pass in between skipped the new connection).
    /// </summary>
    public void Attach(SessionToken session, in MqttClientLimits limits, int incomingQos2Count, int keepAliveSeconds)
    {
        KeepAliveSeconds = keepAliveSeconds;
        Session = session;
        _limits = limits;
        _incomingQos2Count = incomingQos2Count;
    }

    private async ValueTask<MqttDisconnectPacket?> HandlePublishAsync(MqttPublishPacket publish)
    {
        var topic = ResolveTopic(publish);
        if (publish.QualityOfService > MqttQualityOfService.AtMostOnce && Version == MqttProtocolVersion.V500 && publish.QualityOfService == MqttQualityOfService.ExactlyOnce && _incomingQos2Count >= _options.ReceiveMaximum)
        {
            throw new MqttProtocolException(MqttReasonCode.ReceiveMaximumExceeded, "More QoS 2 PUBLISHes unacknowledged than the receive maximum.");
        }

        if (Version == MqttProtocolVersion.V500 && !publish.IsPayloadFormatValid())
        {
            throw new MqttProtocolException(MqttReasonCode.PayloadFormatInvalid, "Payload format indicator says UTF-8 but the payload is not.");
        }

        _broker.Metrics.MessageReceived();
        var session = Session!.Value;
        topic ??= publish.GetTopicName();
        if (!AuthorizePublish(topic))
        {
            await RefusePublishAsync(publish, session).ConfigureAwait(false);
            return null;
        }

        if (_broker.Uplink is { HasRules: true } uplink && await OfferUplinkAsync(uplink, publish, topic, session).ConfigureAwait(false))
        {
            return null;
        }

        switch (publish.QualityOfService)
        {
            case MqttQualityOfService.AtMostOnce:
                await _broker.PublishAsync(publish, topic, this).ConfigureAwait(false);
                break;
            case MqttQualityOfService.AtLeastOnce:
            {
                var packetId = publish.PacketId;
                var delivered = await _broker.PublishAsync(publish, topic, this).ConfigureAwait(false);
                Send(OutboundItem.Ack(MqttPacketType.PubAck, packetId, AckReason(delivered)));
                break;
            }

            default:
            {
                var packetId = publish.PacketId;
                var message = publish.ToApplicationMessage(topic);
                var delivered = 1;
                if (await _broker.Sessions.AddIncomingAsync(session, packetId).ConfigureAwait(false))
                {
                    _incomingQos2Count++;
                    delivered = await _broker.PublishAsync(message, ClientId, this).ConfigureAwait(false);
                }

                // A duplicate (already awaiting PUBREL) is acknowledged again but not forwarded again.
                Send(OutboundItem.Ack(MqttPacketType.PubRec, packetId, AckReason(delivered)));
                break;
            }
        }

        return null;
    }

    /// <summary>
    /// A PUBLISH the ACL refuses is not forwarded. 5.0 says so (PUBACK/PUBREC 0x87 Not
    /// authorized); 3.1.1 cannot (3.3.5), so the flow is acknowledged as usual and the message dropped.
    /// </summary>
    private async ValueTask RefusePublishAsync(MqttPublishPacket publish, Sessions.Store.SessionToken session)
    {
        var v5 = Version == MqttProtocolVersion.V500;
        switch (publish.QualityOfService)
        {
            case MqttQualityOfService.AtLeastOnce:
                Send(OutboundItem.Ack(MqttPacketType.PubAck, publish.PacketId, v5 ? MqttReasonCode.NotAuthorized : MqttReasonCode.Success));
                break;
            case MqttQualityOfService.ExactlyOnce when v5:
                // 5.0 4.3.3: a PUBREC with an error ends the exchange; no PUBREL follows.
                Send(OutboundItem.Ack(MqttPacketType.PubRec, publish.PacketId, MqttReasonCode.NotAuthorized));
                break;
            case MqttQualityOfService.ExactlyOnce:
                if (await _broker.Sessions.AddIncomingAsync(session, publish.PacketId).ConfigureAwait(false))
                {
                    _incomingQos2Count++;
                }

                Send(OutboundItem.Ack(MqttPacketType.PubRec, publish.PacketId));
                break;
        }

        _broker.Metrics.Dropped("not_authorized");
    }

    private MqttReasonCode AckReason(int delivered) =>
        delivered == 0 && Version == MqttProtocolVersion.V500 ? MqttReasonCode.NoMatchingSubscribers : MqttReasonCode.Success;

    private string? ResolveTopic(in MqttPublishPacket publish)
    {
        var alias = publish.TopicAlias;
        if (alias == 0)
        {
            if (publish.TopicName.IsEmpty)
            {
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, "PUBLISH without a topic name or alias.");
            }

            return null;
        }

        if (alias > _options.TopicAliasMaximum)
        {
            throw new MqttProtocolException(MqttReasonCode.TopicAliasInvalid, $"Topic alias {alias} exceeds the maximum {_options.TopicAliasMaximum}.");
        }

        var aliases = Rare.InboundTopicAliases ??= new string?[_options.TopicAliasMaximum + 1];
        if (publish.TopicName.IsEmpty)
        {
            return aliases[alias] ?? throw new MqttProtocolException(MqttReasonCode.ProtocolError, $"Topic alias {alias} was never set.");
        }

        var topic = publish.GetTopicName();
        aliases[alias] = topic;
        return topic;
    }

    private async ValueTask<MqttDisconnectPacket?> HandlePubRelAsync(MqttPubAckPacket pubRel)
    {
        var released = await _broker.Sessions.ReleaseIncomingAsync(Session!.Value, pubRel.PacketId).ConfigureAwait(false);
        if (released)
        {
            _incomingQos2Count--;
        }

        Send(OutboundItem.Ack(MqttPacketType.PubComp, pubRel.PacketId, released ? MqttReasonCode.Success : MqttReasonCode.PacketIdentifierNotFound));
        return null;
    }

    private async ValueTask<MqttDisconnectPacket?> HandleSubscribeAsync(MqttSubscribePacket subscribe)
    {
        await _broker.SubscribeAsync(this, subscribe).ConfigureAwait(false);
        return null;
    }

    private async ValueTask<MqttDisconnectPacket?> HandleUnsubscribeAsync(MqttUnsubscribePacket unsubscribe)
    {
        await _broker.UnsubscribeAsync(this, unsubscribe).ConfigureAwait(false);
        return null;
    }

    /// <summary>Answers a protocol violation the way the spec asks, then closes.</summary>
    private async ValueTask RefuseAsync(MqttReasonCode reasonCode, string reason)
    {
        if (IsConnected)
        {
            SendDisconnect(reasonCode, reason);
        }
        else if (_connectVersionKnown)
        {
            // 3.1.1 maps the reason onto its CONNACK return codes; 5.0 carries it as is.
            Send(OutboundItem.ControlPacket(MqttPacketType.ConnAck, new MqttConnAckPacket { ReasonCode = reasonCode, ReasonString = Version == MqttProtocolVersion.V500 ? reason : null }));
        }
        else if (reasonCode == MqttReasonCode.UnsupportedProtocolVersion)
        {
            // 3.1.1 3.1.2.2 / 5.0 3.1.2.2: an unknown level is answered with "unacceptable protocol version".
            Send(OutboundItem.ControlPacket(MqttPacketType.ConnAck, new MqttConnAckPacket { ReasonCode = reasonCode }));
        }

        await CloseAfterFlushAsync().ConfigureAwait(false);
    }

    /// <summary>Queues a DISCONNECT (5.0 only; 3.1.1 has none from the server) and closes once it is written.</summary>
    public void SendDisconnect(MqttReasonCode reasonCode, string? reason = null, string? serverReference = null)
    {
        if (Version == MqttProtocolVersion.V500)
        {
            Send(OutboundItem.ControlPacket(MqttPacketType.Disconnect, new MqttDisconnectPacket { ReasonCode = reasonCode, ReasonString = reason, ServerReference = serverReference }));
        }
    }

    private bool _takenOver;

    /// <summary>Ends the connection from the broker's side (takeover, keep alive, slow consumer, kick).</summary>
    public void RequestClose(string reason, bool takenOver = false)
    {
        lock (OutLock)
        {
            var rare = Rare;
            if (rare.CloseTask is not null)
            {
                return;
            }

            rare.CloseReason = reason;
            _takenOver |= takenOver;
            Volatile.Write(ref _closeRequested, 1);
            rare.CloseTask = Task.Run(CloseAfterFlushAsync);
        }
    }

    private Task? PendingClose
    {
        get
        {
            lock (OutLock)
            {
                return _rare?.CloseTask;
            }
        }
    }

    /// <summary>
    /// Closes once everything queued so far has been written: the output pipe is completed so
    /// Kestrel sends what it holds and then the FIN (an abort would discard a final DISCONNECT).
    /// A peer that does not read within the bound is aborted instead.
    /// </summary>
    private async Task CloseAfterFlushAsync()
    {
        Volatile.Write(ref _closeRequested, 1);
        if (!await GracefulClose.CompleteOutputAsync(WhenOutboundDrainedAsync(), Output, _time, CloseWrites).ConfigureAwait(false))
        {
            _transport.Abort(new ConnectionAbortedException(ClosedByBrokerReason));
        }

        _transport.Transport.Input.CancelPendingRead();
    }
}
