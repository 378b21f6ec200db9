using System.IO.Pipelines;
using AccessLayer.Gateway.Metrics;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The outbound actor: the only code that writes to this connection. Work arrives in a FIFO
/// from any thread (the reader, other clients' readers routing messages, maintenance) and is
/// drained by one loop that exists only while there is work, so an idle connection holds
/// neither a task nor a buffer. The loop also owns the QoS 1/2 flow control: the inflight
/// window, the backlog in the session's queue, and outbound topic aliases.
/// </summary>
internal sealed partial class MqttConnection
{
    private int _drainRequested;

    // Owned by the writer loop only.
    private MqttClientLimits _limits;
    private int _inflightCount;
    private bool _backlog;

    /// <summary>
    /// The connection's lock: the connection object itself (a thin lock in its header, no separate
    /// lock object per connection). Nothing outside this class locks on a connection.
    /// </summary>
    private object OutLock => this;

    private int InflightWindow => Math.Min(_options.MaxInflight, _limits.ReceiveMaximum);

    protected override PipeWriter Output => _transport.Transport.Output;

    protected override ILogger WriterLogger => _logger;

    protected override GatewayMetrics WriterMetrics => _broker.Metrics;

    protected override string WriterLoopName => "mqtt_writer";

    protected override string WriterConnectionId => ConnectionId;

    protected override bool IsCloseRequested => Volatile.Read(ref _closeRequested) != 0;

    protected override TaskCompletionSource? DrainedSignal
    {
        get => _rare?.DrainedSignal;
        set
        {
            if (value is not null || _rare is not null)
            {
                Rare.DrainedSignal = value;
            }
        }
    }

    protected override int DeferredStartLimit => Math.Clamp(_options.MaxOutboundQueue / 4, 1, 64);

    /// <summary>
    /// Queues work for the writer. Only QoS 0 deliveries and control packets come through here
    /// (QoS 1/2 wait in the session queue, see <see cref="RequestDrain"/>). The writer starts on the
    /// calling thread, or at the end of the waking reader's read (<see cref="WriterBatch"/>).
    /// </summary>
    public void Send(in OutboundItem item) => Enqueue(item);

    /// <summary>
    /// Past the high watermark (messages or bytes) QoS 0 is dropped and counted and the connection is marked
    /// behind; maintenance evicts a consumer that stays behind past the grace. Outgoing control
    /// packets twice past the watermark mean the peer reads nothing at all: it is evicted at once.
    /// Acknowledgements the client sends queue here while the writer waits on a full socket; a
    /// client reading slowly sends them legitimately, so they get the inflight window as slack.
    /// </summary>
    protected override bool Admit(in OutboundItem item, int count, long bytes)
    {
        if (item.Kind == OutboundKind.Deliver)
        {
            if (count >= _options.MaxOutboundQueue || bytes >= _broker.Limits.MaxOutboundQueueBytes)
            {
                MarkBehind();
                _broker.Metrics.Dropped("slow_consumer");
                return false;
            }

            return true;
        }

        if (count >= 2 * _options.MaxOutboundQueue + (item.Kind == OutboundKind.Packet ? 0 : 2 * _options.MaxInflight))
        {
            // Packets for a peer that reads nothing, or more acknowledgements than could ever be
            // in flight: either way the peer is not a consumer we can serve.
            ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.EvictSlowConsumer(), this, preferLocal: false);
            return false;
        }

        return true;
    }

    /// <summary>What a queued delivery holds on to, for the byte bound of the outbound queue.</summary>
    protected override long SizeOf(in OutboundItem item) => item.Message is { } message ? message.Payload.Length + message.Topic.Length : 0;

    protected override bool TryDeferStart() => WriterBatch.TryDefer(this);

    protected override void OnDequeued()
    {
        if (HasPressureState)
        {
            RelieveIfDrained();
        }
    }

    protected override void OnIdle()
    {
        // Caught up completely: whatever backlog there was is gone. A consumer that never
        // gets here while behind stays marked and is evicted after the grace.
        ClearBehind();
        RelieveIfDrained();
    }

    protected override void OnFlushBlocked() =>
        // The socket is full: the peer is not keeping up. Still stuck after the grace, it is evicted.
        MarkBehind();

    /// <summary>What is still queued is QoS 0 or control traffic for a peer that is gone; QoS 1/2 stay in the session.</summary>
    protected override void OnWritesClosed()
    {
        Relieve();
        ClearBehind();
    }

    // Usually the transport went away under the writer (the reader sees it too) or the session moved on.
    protected override bool IsExpectedFailure(Exception exception) => exception is SessionTakenOverException || base.IsExpectedFailure(exception);

    protected override void AbortTransport(Exception failure) =>
        _transport.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("The connection's writer failed.", failure));

    private void MarkBehind()
    {
        var rare = Rare;
        if (Volatile.Read(ref rare.BehindSince) == 0)
        {
            Volatile.Write(ref rare.BehindSince, _time.GetTimestamp());
        }
    }

    // A connection never behind has no side object to clear (and gets none for it).
    private void ClearBehind()
    {
        if (_rare is { } rare)
        {
            Volatile.Write(ref rare.BehindSince, 0);
        }
    }

    /// <summary>
    /// Tells the writer that the session queue has QoS 1/2 messages for it. Signals coalesce:
    /// at most one is pending, however many messages are queued meanwhile.
    /// </summary>
    public void RequestDrain()
    {
        if (Interlocked.Exchange(ref _drainRequested, 1) == 0)
        {
            Send(OutboundItem.DrainQueue);
        }
    }

    /// <summary>Hands an acknowledgement from the client to the writer, which owns the inflight window.</summary>
    private void PostAcknowledgement(MqttPacketType type, ushort packetId, MqttReasonCode reasonCode) =>
        Send(OutboundItem.AckReceived(type, packetId, reasonCode));

    protected override async ValueTask ProcessAsync(OutboundItem item)
    {
        switch (item.Kind)
        {
            case OutboundKind.Packet:
                WritePacket(item);
                break;
            case OutboundKind.Deliver:
                WriteDelivery(item);
                break;
            case OutboundKind.AckReceived:
                await OnAcknowledgedAsync(item).ConfigureAwait(false);
                break;
            case OutboundKind.Resume:
                await ResumeAsync((SessionState?)item.Control).ConfigureAwait(false);
                break;
            case OutboundKind.DrainQueue:
                // Cleared before pulling, so a message queued from here on raises a new signal.
                Volatile.Write(ref _drainRequested, 0);
                _backlog = true;
                await RefillAsync().ConfigureAwait(false);
                break;
        }
    }

    private void WriteDelivery(in OutboundItem item) =>
        WritePublish(item.Message!, item.QualityOfService, item.Retain, dup: false, packetId: 0, item.SubscriptionIdentifiers, item.MessageExpiryInterval);

    private async ValueTask EnqueueInSessionAsync(string clientId, MessageDelivery delivery)
    {
        var result = await _broker.Sessions.EnqueueAsync(clientId, delivery).ConfigureAwait(false);
        _broker.CountEnqueue(clientId, result);
        OnSessionEnqueued(result);
    }

    private async ValueTask OnAcknowledgedAsync(OutboundItem ack)
    {
        var session = Session!.Value;
        switch (ack.Type)
        {
            case MqttPacketType.PubAck:
            case MqttPacketType.PubComp:
                if (await _broker.Sessions.RemoveInflightAsync(session, ack.PacketId).ConfigureAwait(false))
                {
                    _inflightCount--;
                    await RefillAsync().ConfigureAwait(false);
                }

                break;
            case MqttPacketType.PubRec:
                if ((byte)ack.ReasonCode >= 0x80)
                {
                    // 5.0 4.3.3: a PUBREC with an error ends the exchange.
                    if (await _broker.Sessions.RemoveInflightAsync(session, ack.PacketId).ConfigureAwait(false))
                    {
                        _inflightCount--;
                        await RefillAsync().ConfigureAwait(false);
                    }

                    break;
                }

                var known = await _broker.Sessions.SetInflightStateAsync(session, ack.PacketId, OutgoingState.AwaitingPubComp).ConfigureAwait(false);
                WritePacket(OutboundItem.Ack(MqttPacketType.PubRel, ack.PacketId, known ? MqttReasonCode.Success : MqttReasonCode.PacketIdentifierNotFound));
                break;
        }
    }

    private async ValueTask ResumeAsync(SessionState? state)
    {
        if (state is not null)
        {
            foreach (var inflight in state.Inflight)
            {
                _inflightCount++;
                if (inflight.State == OutgoingState.AwaitingPubComp)
                {
                    WritePacket(OutboundItem.Ack(MqttPacketType.PubRel, inflight.PacketId));
                }
                else
                {
                    var delivery = inflight.Delivery;
                    WritePublish(delivery.Message, delivery.QualityOfService, delivery.Retain, dup: true, inflight.PacketId, delivery.SubscriptionIdentifiers.Count == 0 ? null : [.. delivery.SubscriptionIdentifiers], ResendExpiry(inflight));
                }
            }
        }

        _backlog = true;
        await RefillAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// 3.3.2-6: the interval a resent message carries is what it had left when first sent minus the time since. Once that
    /// reaches zero it still goes (its delivery had started, 3.3.2-5), with the least interval that is not "expired".
    /// </summary>
    private uint? ResendExpiry(InflightMessage inflight) =>
        inflight.SentAt == default || inflight.Delivery.Message.MessageExpiryInterval is null
            ? null
            : Math.Max(1u, Sessions.MessageExpiry.Remaining(inflight.Delivery.Message.MessageExpiryInterval, inflight.SentAt, _time.GetUtcNow()) ?? 1u);

    /// <summary>Moves queued messages into the inflight window while it has room.</summary>
    private async ValueTask RefillAsync()
    {
        var session = Session!.Value;
        while (_backlog && _inflightCount < InflightWindow)
        {
            var batch = await _broker.Sessions.DequeueAsync(session, InflightWindow - _inflightCount).ConfigureAwait(false);
            if (batch.ExpiredCount > 0)
            {
                _broker.Metrics.Dropped("expired", batch.ExpiredCount);
            }

            OnSessionDequeued(batch.Messages.Count + batch.ExpiredCount, empty: batch.Messages.Count == 0);
            if (batch.Messages.Count == 0)
            {
                _backlog = false;
                _broker.OnSessionQueueEmpty(session);
                return;
            }

            foreach (var queued in batch.Messages)
            {
                var delivery = queued.Delivery;
                if (!CanRead(delivery.Message.Topic))
                {
                    // Queued while offline, or before an ACL reload: the read check applies on the way out too.
                    DropUnreadable(delivery.Message.Topic);
                    continue;
                }

                uint[]? ids = delivery.SubscriptionIdentifiers.Count == 0 ? null : [.. delivery.SubscriptionIdentifiers];
                if (delivery.QualityOfService == MqttQualityOfService.AtMostOnce)
                {
                    WritePublish(delivery.Message, delivery.QualityOfService, delivery.Retain, dup: false, 0, ids, queued.RemainingExpiryInterval);
                    continue;
                }

                if (!FitsClientMaximum(delivery.Message, delivery.QualityOfService, ids, queued.RemainingExpiryInterval))
                {
                    continue;
                }

                // Inflight with what its expiry has left now: a resend after a reconnect counts down from there.
                var sent = queued.RemainingExpiryInterval is { } left && left != delivery.Message.MessageExpiryInterval
                    ? delivery with { Message = delivery.Message.WithMessageExpiryInterval(left) }
                    : delivery;
                var packetId = await _broker.Sessions.AddInflightAsync(session, sent).ConfigureAwait(false);
                if (packetId == 0)
                {
                    // The store's own inflight cap is lower than ours: put it back at the end and wait for acknowledgements.
                    await EnqueueInSessionAsync(session.ClientId, delivery).ConfigureAwait(false);
                    return;
                }

                _inflightCount++;
                WritePublish(delivery.Message, delivery.QualityOfService, delivery.Retain, dup: false, packetId, ids, queued.RemainingExpiryInterval);
            }
        }
    }

    /// <summary>5.0 3.1.2.11.4: a packet larger than the client's maximum is discarded as if it had been delivered.</summary>
    private bool FitsClientMaximum(MqttApplicationMessage message, MqttQualityOfService qos, uint[]? subscriptionIdentifiers, uint? expiry)
    {
        if (_limits.MaximumPacketSize == 0)
        {
            return true;
        }

        var size = MqttPublishWriter.GetPacketSize(Version, message, qos, 0, subscriptionIdentifiers, false, expiry);
        if (size <= _limits.MaximumPacketSize)
        {
            return true;
        }

        _broker.Metrics.Dropped("too_large");
        return false;
    }

    private void WritePublish(MqttApplicationMessage message, MqttQualityOfService qos, bool retain, bool dup, ushort packetId, uint[]? subscriptionIdentifiers, uint? expiry)
    {
        if (_limits.MaximumPacketSize != 0 && qos == MqttQualityOfService.AtMostOnce && !FitsClientMaximum(message, qos, subscriptionIdentifiers, expiry))
        {
            return;
        }

        ushort alias = 0;
        var omitTopic = false;
        if (_limits.TopicAliasMaximum > 0 && Version == MqttProtocolVersion.V500)
        {
            var aliases = Rare.OutboundAliases ??= new Dictionary<string, ushort>(StringComparer.Ordinal);
            if (aliases.TryGetValue(message.Topic, out alias))
            {
                omitTopic = true;
            }
            else if (aliases.Count < _limits.TopicAliasMaximum)
            {
                alias = (ushort)(aliases.Count + 1);
                aliases.Add(message.Topic, alias);
            }
        }

        var before = Output.UnflushedBytes;
        MqttPublishWriter.Write(Output, Version, message, qos, retain, dup, packetId, alias, subscriptionIdentifiers, omitTopic, expiry);
        _broker.Metrics.AddBytesSent(Output.UnflushedBytes - before);
        _broker.Metrics.MessageSent();
    }

    private void WritePacket(in OutboundItem item)
    {
        var before = Output.UnflushedBytes;
        switch (item.Type)
        {
            case MqttPacketType.PubAck:
            case MqttPacketType.PubRec:
            case MqttPacketType.PubRel:
            case MqttPacketType.PubComp:
                MqttPubAckWriter.Write(Output, Version, item.Type, item.PacketId, item.ReasonCode);
                break;
            case MqttPacketType.PingResp:
                MqttPingWriter.WritePingResp(Output);
                break;
            case MqttPacketType.ConnAck:
                MqttConnAckWriter.Write(Output, Version, (MqttConnAckPacket)item.Control!);
                break;
            case MqttPacketType.SubAck:
                MqttSubAckWriter.Write(Output, Version, (MqttSubAckPacket)item.Control!);
                break;
            case MqttPacketType.UnsubAck:
                MqttUnsubAckWriter.Write(Output, Version, (MqttUnsubAckPacket)item.Control!);
                break;
            case MqttPacketType.Disconnect:
                MqttDisconnectWriter.Write(Output, Version, (MqttDisconnectPacket)item.Control!);
                break;
        }

        _broker.Metrics.AddBytesSent(Output.UnflushedBytes - before);
    }
}
