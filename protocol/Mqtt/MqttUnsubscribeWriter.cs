using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes UNSUBSCRIBE (spec 3.10).</summary>
public static class MqttUnsubscribeWriter
{
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, MqttUnsubscribePacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        if (packet.PacketId == 0)
        {
            throw new ArgumentException("UNSUBSCRIBE needs a non-zero packet identifier.", nameof(packet));
        }

        if (packet.TopicFilters.Count == 0)
        {
            throw new ArgumentException("UNSUBSCRIBE needs at least one topic filter.", nameof(packet));
        }

        var v5 = version == MqttProtocolVersion.V500;
        var propertiesLength = v5 ? MqttSize.UserProperties(packet.UserProperties) : 0;
        var remaining = 2 + (v5 ? MqttSize.PropertyBlock(propertiesLength) : 0);
        var filters = packet.TopicFilters;
        for (var i = 0; i < filters.Count; i++)
        {
            remaining += MqttSize.String(filters[i]);
        }

        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(MqttPacketType.Unsubscribe, 0x02, remaining);
        writer.WriteUInt16(packet.PacketId);
        if (v5)
        {
            writer.WriteVariableByteInteger(propertiesLength);
            writer.WriteUserProperties(packet.UserProperties);
        }

        for (var i = 0; i < filters.Count; i++)
        {
            writer.WriteString(filters[i]);
        }

        writer.Complete(total);
        output.Advance(total);
    }
}
