using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes UNSUBACK (spec 3.11).</summary>
public static class MqttUnsubAckDecoder
{
    private const string Context = "UNSUBACK";

    public static MqttUnsubAckPacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        header.Validate(MqttPacketType.UnsubAck);
        var reader = new MqttBodyReader(body);
        var packetId = reader.ReadUInt16();
        if (packetId == 0)
        {
            MqttThrow.Protocol("UNSUBACK needs a non-zero packet identifier.");
        }

        if (version != MqttProtocolVersion.V500)
        {
            reader.ExpectEnd(Context);
            return new MqttUnsubAckPacket { PacketId = packetId };
        }

        MqttAckProperties.Read(reader.ReadPropertyBlock(), Context, out var reasonString, out var userProperties);
        var codes = new List<MqttReasonCode>((int)Math.Min(reader.Remaining, 64));
        while (!reader.End)
        {
            var code = (MqttReasonCode)reader.ReadByte();
            MqttReasonCodes.Validate(MqttPacketType.UnsubAck, code);
            codes.Add(code);
        }

        if (codes.Count == 0)
        {
            MqttThrow.Protocol("UNSUBACK carries no reason code.");
        }

        return new MqttUnsubAckPacket
        {
            PacketId = packetId,
            ReasonCodes = codes,
            ReasonString = reasonString,
            UserProperties = userProperties ?? [],
        };
    }
}
