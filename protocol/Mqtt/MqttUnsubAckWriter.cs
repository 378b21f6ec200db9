using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes UNSUBACK (spec 3.11); 3.1.1 sends only the packet id.</summary>
public static class MqttUnsubAckWriter
{
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, MqttUnsubAckPacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        if (packet.PacketId == 0)
        {
            throw new ArgumentException("UNSUBACK needs a non-zero packet identifier.", nameof(packet));
        }

        var v5 = version == MqttProtocolVersion.V500;
        var propertiesLength = v5 ? MqttAckProperties.Length(packet.ReasonString, packet.UserProperties) : 0;
        var remaining = 2 + (v5 ? MqttSize.PropertyBlock(propertiesLength) + packet.ReasonCodes.Count : 0);
        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(MqttPacketType.UnsubAck, 0, remaining);
        writer.WriteUInt16(packet.PacketId);
        if (v5)
        {
            writer.WriteVariableByteInteger(propertiesLength);
            MqttAckProperties.Write(ref writer, packet.ReasonString, packet.UserProperties);
            var codes = packet.ReasonCodes;
            for (var i = 0; i < codes.Count; i++)
            {
                writer.WriteByte((byte)codes[i]);
            }
        }

        writer.Complete(total);
        output.Advance(total);
    }
}
