using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes SUBSCRIBE (spec 3.8); on 3.1.1 only each filter's QoS is sent.</summary>
public static class MqttSubscribeWriter
{
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, MqttSubscribePacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        if (packet.PacketId == 0)
        {
            throw new ArgumentException("SUBSCRIBE needs a non-zero packet identifier.", nameof(packet));
        }

        if (packet.Subscriptions.Count == 0)
        {
            throw new ArgumentException("SUBSCRIBE needs at least one topic filter.", nameof(packet));
        }

        var v5 = version == MqttProtocolVersion.V500;
        var propertiesLength = 0;
        if (v5)
        {
            if (packet.SubscriptionIdentifier is { } id)
            {
                if (id is 0 or > MqttVariableByteInteger.MaxValue)
                {
                    throw new ArgumentOutOfRangeException(nameof(packet), id, "A subscription identifier is 1..268435455.");
                }

                propertiesLength += 1 + MqttVariableByteInteger.GetSize((int)id);
            }

            propertiesLength += MqttSize.UserProperties(packet.UserProperties);
        }

        var remaining = 2 + (v5 ? MqttSize.PropertyBlock(propertiesLength) : 0);
        var subscriptions = packet.Subscriptions;
        for (var i = 0; i < subscriptions.Count; i++)
        {
            remaining += MqttSize.String(subscriptions[i].TopicFilter) + 1;
        }

        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(MqttPacketType.Subscribe, 0x02, remaining);
        writer.WriteUInt16(packet.PacketId);
        if (v5)
        {
            writer.WriteVariableByteInteger(propertiesLength);
            if (packet.SubscriptionIdentifier is { } id)
            {
                writer.WriteVariableByteIntegerProperty(MqttPropertyId.SubscriptionIdentifier, (int)id);
            }

            writer.WriteUserProperties(packet.UserProperties);
        }

        for (var i = 0; i < subscriptions.Count; i++)
        {
            var subscription = subscriptions[i];
            if ((byte)subscription.MaximumQoS > 2 || (byte)subscription.RetainHandling > 2)
            {
                throw new ArgumentOutOfRangeException(nameof(packet), subscription, "QoS is 0..2 and Retain Handling 0..2.");
            }

            writer.WriteString(subscription.TopicFilter);
            var options = (int)subscription.MaximumQoS;
            if (v5)
            {
                options |= (subscription.NoLocal ? 0x04 : 0) | (subscription.RetainAsPublished ? 0x08 : 0) | ((int)subscription.RetainHandling << 4);
            }

            writer.WriteByte((byte)options);
        }

        writer.Complete(total);
        output.Advance(total);
    }
}
