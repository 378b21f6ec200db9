using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The connection's side of the uplinks (<see cref="IMqttUplink"/>, docs/traffic.md "MQTT uplinks"): a PUBLISH a rule
/// takes is acknowledged when the backend accepted its batch (QoS 1) or when it is queued (QoS 2); one a rule refuses
/// or cannot queue is answered with a reason code in MQTT 5, and not acknowledged at all in 3.1.1 (which has no
/// negative acknowledgement: the client keeps it and sends it again).
/// </summary>
internal sealed partial class MqttConnection : IMqttUplinkPublisher
{
    string IMqttUplinkPublisher.ClientId => ClientId ?? string.Empty;

    string? IMqttUplinkPublisher.UserName => _rare?.UserName;

    /// <summary>The authenticated identity; none when authentication checked nothing (the identity is only claimed) or the client is anonymous.</summary>
    string? IMqttUplinkPublisher.Uid => AuthenticationMethod is null or MqttAuthenticationDecision.UncheckedMethod or "anonymous" ? null : Identity;

    void IMqttUplinkPublisher.Settle(ushort packetId, bool accepted)
    {
        if (accepted)
        {
            Send(OutboundItem.Ack(MqttPacketType.PubAck, packetId));
        }
        else if (Version == MqttProtocolVersion.V500)
        {
            Send(OutboundItem.Ack(MqttPacketType.PubAck, packetId, MqttReasonCode.UnspecifiedError));
        }

        // 3.1.1: the backend refused it; no PUBACK, so the client still holds it (counted and logged by the uplinks).
    }

    /// <summary>Keeps the CONNECT's user name for the uplinks, only on a gateway with a traffic table.</summary>
    private void KeepUserName(string? userName)
    {
        if (userName is not null && _broker.Uplink is { IsEnabled: true })
        {
            Rare.UserName = userName;
        }
    }

    /// <summary>Offers the PUBLISH to the uplink rules; true when a rule took or refused it (its acknowledgement is settled here or later), false when none matches.</summary>
    private async ValueTask<bool> OfferUplinkAsync(IMqttUplink uplink, MqttPublishPacket publish, string topic, SessionToken session)
    {
        var qos = publish.QualityOfService;
        var added = false;
        if (qos == MqttQualityOfService.ExactlyOnce)
        {
            if (!uplink.Matches(topic))
            {
                return false;
            }

            // Exactly once into the queue: the id already received (a retransmission) is acknowledged, not queued again.
            added = await _broker.Sessions.AddIncomingAsync(session, publish.PacketId).ConfigureAwait(false);
            if (!added)
            {
                Send(OutboundItem.Ack(MqttPacketType.PubRec, publish.PacketId));
                return true;
            }
        }

        var verdict = uplink.Offer(this, topic, publish);
        switch (verdict)
        {
            case MqttUplinkVerdict.None:
                if (added)
                {
                    // The table changed between the two looks: the broker's own QoS 2 path takes it, the id recorded again.
                    await _broker.Sessions.ReleaseIncomingAsync(session, publish.PacketId).ConfigureAwait(false);
                }

                return false;
            case MqttUplinkVerdict.Forward or MqttUplinkVerdict.ForwardAndPublish:
                if (added)
                {
                    _incomingQos2Count++;
                }

                if (verdict == MqttUplinkVerdict.ForwardAndPublish)
                {
                    _ = qos == MqttQualityOfService.ExactlyOnce
                        ? await _broker.PublishAsync(publish.ToApplicationMessage(topic), ClientId, this).ConfigureAwait(false)
                        : await _broker.PublishAsync(publish, topic, this).ConfigureAwait(false);
                }

                if (qos == MqttQualityOfService.ExactlyOnce)
                {
                    // QoS 2: acknowledged once queued (PUBREL and PUBCOMP follow as usual); QoS 1 waits for the backend (Settle).
                    Send(OutboundItem.Ack(MqttPacketType.PubRec, publish.PacketId));
                }

                return true;
            default:
                if (added)
                {
                    // Not taken: a retransmission of this id must be offered again.
                    await _broker.Sessions.ReleaseIncomingAsync(session, publish.PacketId).ConfigureAwait(false);
                }

                if (qos != MqttQualityOfService.AtMostOnce && Version == MqttProtocolVersion.V500)
                {
                    var reason = verdict == MqttUplinkVerdict.QueueFull ? MqttReasonCode.QuotaExceeded : MqttReasonCode.UnspecifiedError;
                    Send(OutboundItem.Ack(qos == MqttQualityOfService.AtLeastOnce ? MqttPacketType.PubAck : MqttPacketType.PubRec, publish.PacketId, reason));
                }

                // 3.1.1 QoS 1 and 2: no acknowledgement; the client keeps the message and sends it again (3.1.1 4.4).
                return true;
        }
    }
}
