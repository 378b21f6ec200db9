using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Writes PUBACK, PUBREC, PUBREL and PUBCOMP (spec 3.4-3.7) without allocating.</summary>
public static class MqttPubAckWriter
{
    /// <summary>The common case: no properties. A 5.0 Success is sent in its short form (remaining length 2).</summary>
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, MqttPacketType type, ushort packetId, MqttReasonCode reasonCode = MqttReasonCode.Success)
    {
        ArgumentNullException.ThrowIfNull(output);
        Validate(type, packetId);
        var withReason = version == MqttProtocolVersion.V500 && reasonCode != MqttReasonCode.Success;
        var length = withReason ? 5 : 4;
        var span = output.GetSpan(length);
        span[0] = (byte)(((int)type << 4) | MqttFixedHeader.RequiredFlags(type));
        span[1] = (byte)(length - 2);
        span[2] = (byte)(packetId >> 8);
        span[3] = (byte)packetId;
        if (withReason)
        {
            span[4] = (byte)reasonCode;
        }

        output.Advance(length);
    }

    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, in MqttPubAckPacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        var userProperties = packet.UserProperties;
        if (version != MqttProtocolVersion.V500 || (packet.ReasonString is null && userProperties.Count == 0))
        {
            Write(output, version, packet.Type, packet.PacketId, packet.ReasonCode);
            return;
        }

        Validate(packet.Type, packet.PacketId);
        var propertiesLength = MqttAckProperties.Length(packet.ReasonString, userProperties);
        var remaining = 3 + MqttSize.PropertyBlock(propertiesLength);
        var total = MqttSize.Packet(remaining);
        var writer = new MqttSpanWriter(output.GetSpan(total)[..total]);
        writer.WriteFixedHeader(packet.Type, MqttFixedHeader.RequiredFlags(packet.Type), remaining);
        writer.WriteUInt16(packet.PacketId);
        writer.WriteByte((byte)packet.ReasonCode);
        writer.WriteVariableByteInteger(propertiesLength);
        MqttAckProperties.Write(ref writer, packet.ReasonString, userProperties);
        writer.Complete(total);
        output.Advance(total);
    }

    private static void Validate(MqttPacketType type, ushort packetId)
    {
        if (type is not (MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubRel or MqttPacketType.PubComp))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Only PUBACK, PUBREC, PUBREL or PUBCOMP.");
        }

        if (packetId == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(packetId), packetId, "Packet identifiers are non-zero.");
        }
    }
}
