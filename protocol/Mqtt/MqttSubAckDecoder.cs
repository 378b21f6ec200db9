using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes SUBACK (spec 3.9).</summary>
public static class MqttSubAckDecoder
{
    private const string Context = "SUBACK";

    public static MqttSubAckPacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        header.Validate(MqttPacketType.SubAck);
        var v5 = version == MqttProtocolVersion.V500;
        var reader = new MqttBodyReader(body);
        var packetId = reader.ReadUInt16();
        if (packetId == 0)
        {
            MqttThrow.Protocol("SUBACK needs a non-zero packet identifier.");
        }

        string? reasonString = null;
        IReadOnlyList<MqttUserProperty>? userProperties = null;
        if (v5)
        {
            MqttAckProperties.Read(reader.ReadPropertyBlock(), Context, out reasonString, out userProperties);
        }

        var codes = new List<MqttReasonCode>((int)Math.Min(reader.Remaining, 64));
        while (!reader.End)
        {
            var code = (MqttReasonCode)reader.ReadByte();
            if (v5)
            {
                MqttReasonCodes.Validate(MqttPacketType.SubAck, code);
            }
            else if (code is not (MqttReasonCode.GrantedQoS0 or MqttReasonCode.GrantedQoS1 or MqttReasonCode.GrantedQoS2 or MqttReasonCode.UnspecifiedError))
            {
                MqttThrow.Malformed($"SUBACK return code 0x{(byte)code:X2} is not 0, 1, 2 or 0x80.");
            }

            codes.Add(code);
        }

        if (codes.Count == 0)
        {
            MqttThrow.Protocol("SUBACK carries no return code.");
        }

        return new MqttSubAckPacket
        {
            PacketId = packetId,
            ReasonCodes = codes,
            ReasonString = reasonString,
            UserProperties = userProperties ?? [],
        };
    }
}
