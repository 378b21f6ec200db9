using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes SUBACK (spec 3.9); on 3.1.1 every failure code goes out as 0x80.</summary>
public static class MqttSubAckWriter
{
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, MqttSubAckPacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(packet);
        if (packet.PacketId == 0)
        {
            throw new ArgumentException("SUBACK needs a non-zero packet identifier.", nameof(packet));
        }

        var v5 = version == MqttProtocolVersion.V500;
        var propertiesLength = v5 ? MqttAckProperties.Length(packet.ReasonString, packet.UserProperties) : 0;
        var remaining = 2 + (v5 ? MqttSize.PropertyBlock(propertiesLength) : 0) + packet.ReasonCodes.Count;
        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(MqttPacketType.SubAck, 0, remaining);
        writer.WriteUInt16(packet.PacketId);
        if (v5)
        {
            writer.WriteVariableByteInteger(propertiesLength);
            MqttAckProperties.Write(ref writer, packet.ReasonString, packet.UserProperties);
        }

        var codes = packet.ReasonCodes;
        for (var i = 0; i < codes.Count; i++)
        {
            var code = codes[i];
            writer.WriteByte(v5 || code <= MqttReasonCode.GrantedQoS2 ? (byte)code : (byte)MqttReasonCode.UnspecifiedError);
        }

        writer.Complete(total);
        output.Advance(total);
    }
}
