using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes PUBACK, PUBREC, PUBREL and PUBCOMP (spec 3.4-3.7); allocation-free unless properties are present.</summary>
public static class MqttPubAckDecoder
{
    public static MqttPubAckPacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        var type = header.PacketType;
        if (type is not (MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubRel or MqttPacketType.PubComp))
        {
            throw new ArgumentException($"Header is {type}, the decoder expects PUBACK, PUBREC, PUBREL or PUBCOMP.");
        }

        header.Validate(type);
        var reader = new MqttBodyReader(body);
        var packetId = reader.ReadUInt16();
        if (packetId == 0)
        {
            MqttThrow.Protocol($"{type} needs a non-zero packet identifier.");
        }

        if (version != MqttProtocolVersion.V500 || reader.End)
        {
            // 3.1.1 is exactly the packet id; 5.0 may stop there when the reason is Success.
            reader.ExpectEnd(Name(type));
            return new MqttPubAckPacket(type, packetId);
        }

        var reasonCode = (MqttReasonCode)reader.ReadByte();
        MqttReasonCodes.Validate(type, reasonCode);
        string? reasonString = null;
        IReadOnlyList<MqttUserProperty>? userProperties = null;
        if (!reader.End)
        {
            MqttAckProperties.Read(reader.ReadPropertyBlock(), Name(type), out reasonString, out userProperties);
            reader.ExpectEnd(Name(type));
        }

        return new MqttPubAckPacket(type, packetId, reasonCode, reasonString, userProperties);
    }

    // Literal names: Enum.ToString would box on this allocation-free path.
    private static string Name(MqttPacketType type) => type switch
    {
        MqttPacketType.PubAck => "PUBACK",
        MqttPacketType.PubRec => "PUBREC",
        MqttPacketType.PubRel => "PUBREL",
        _ => "PUBCOMP",
    };
}
