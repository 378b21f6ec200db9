using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>PINGREQ and PINGRESP (spec 3.12, 3.13): two fixed bytes each, same in every version.</summary>
public static class MqttPingWriter
{
    public static void WritePingReq(IBufferWriter<byte> output) => WriteEmpty(output, MqttPacketType.PingReq);

    public static void WritePingResp(IBufferWriter<byte> output) => WriteEmpty(output, MqttPacketType.PingResp);

    internal static void WriteEmpty(IBufferWriter<byte> output, MqttPacketType type)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(2);
        span[0] = (byte)((int)type << 4);
        span[1] = 0;
        output.Advance(2);
    }
}
