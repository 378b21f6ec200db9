using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Validates PINGREQ / PINGRESP (spec 3.12, 3.13): no body at all.</summary>
public static class MqttPingDecoder
{
    public static void Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body)
    {
        if (header.PacketType is not (MqttPacketType.PingReq or MqttPacketType.PingResp))
        {
            throw new ArgumentException($"Header is {header.PacketType}, the decoder expects PINGREQ or PINGRESP.");
        }

        header.Validate(header.PacketType);
        if (!body.IsEmpty)
        {
            MqttThrow.Malformed($"{(header.PacketType == MqttPacketType.PingReq ? "PINGREQ" : "PINGRESP")} must have remaining length 0.");
        }
    }
}
