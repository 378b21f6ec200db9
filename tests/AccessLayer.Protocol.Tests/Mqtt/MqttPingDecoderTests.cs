using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttPingDecoderTests
{
    private static readonly MqttTestDecode<MqttPacketType> Decode = (in MqttFixedHeader h, in ReadOnlySequence<byte> b) =>
    {
        MqttPingDecoder.Decode(h, b);
        return h.PacketType;
    };

    [Fact]
    public void Writes_and_frames_pingreq_and_pingresp()
    {
        var request = Write(MqttPingWriter.WritePingReq);
        var response = Write(MqttPingWriter.WritePingResp);
        Assert.Equal(new byte[] { 0xC0, 0 }, request);
        Assert.Equal(new byte[] { 0xD0, 0 }, response);
        Assert.Equal(MqttPacketType.PingReq, DecodeInEveryLayout(request, Decode));
        Assert.Equal(MqttPacketType.PingResp, DecodeInEveryLayout(response, Decode));
    }

    [Fact]
    public void Decode_rejects_a_ping_with_a_body()
    {
        AssertRejected(Packet(0xC0, 0), Decode, MqttReasonCode.MalformedPacket);
        AssertRejected(Packet(0xD0, 0), Decode, MqttReasonCode.MalformedPacket);
    }
}
