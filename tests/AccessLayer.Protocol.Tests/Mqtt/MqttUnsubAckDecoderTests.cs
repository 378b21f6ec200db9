using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttUnsubAckDecoderTests
{
    [Fact]
    public void Round_trips_a_5_0_unsuback_with_properties()
    {
        AssertRoundTrip(MqttProtocolVersion.V500, new MqttUnsubAckPacket
        {
            PacketId = 77,
            ReasonCodes = [MqttReasonCode.Success, MqttReasonCode.NoSubscriptionExisted, MqttReasonCode.NotAuthorized],
            ReasonString = "ok",
            UserProperties = [new("a", "b")],
        });
    }

    [Fact]
    public void Round_trips_a_3_1_1_unsuback_as_the_packet_id_alone()
    {
        var bytes = AssertRoundTrip(MqttProtocolVersion.V311, new MqttUnsubAckPacket { PacketId = 0x0102 });
        Assert.Equal(new byte[] { 0xB0, 2, 1, 2 }, bytes);
    }

    [Fact]
    public void Decode_rejects_a_3_1_1_unsuback_with_extra_bytes()
    {
        AssertRejected(Packet(0xB0, 0, 1, 0), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_reason_code_not_valid_in_unsuback()
    {
        AssertRejected(Packet(0xB0, 0, 1, 0, 0x01), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_5_0_unsuback_with_no_codes()
    {
        AssertRejected(Packet(0xB0, 0, 1, 0), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_packet_id_0()
    {
        AssertRejected(Packet(0xB0, 0, 0), Decode(MqttProtocolVersion.V311), MqttReasonCode.ProtocolError);
    }

    private static MqttTestDecode<MqttUnsubAckPacket> Decode(MqttProtocolVersion version) =>
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttUnsubAckDecoder.Decode(h, b, version);

    private static byte[] AssertRoundTrip(MqttProtocolVersion version, MqttUnsubAckPacket packet)
    {
        var bytes = Write(o => MqttUnsubAckWriter.Write(o, version, packet));
        var decoded = DecodeInEveryLayout(bytes, Decode(version));
        Assert.Equal(MqttTestDescribe.Of(packet), MqttTestDescribe.Of(decoded));
        return bytes;
    }
}
