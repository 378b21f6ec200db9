using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttSubAckDecoderTests
{
    [Fact]
    public void Round_trips_a_5_0_suback_with_properties()
    {
        AssertRoundTrip(MqttProtocolVersion.V500, new MqttSubAckPacket
        {
            PacketId = 3,
            ReasonCodes = [MqttReasonCode.GrantedQoS0, MqttReasonCode.GrantedQoS2, MqttReasonCode.TopicFilterInvalid, MqttReasonCode.WildcardSubscriptionsNotSupported],
            ReasonString = "partly",
            UserProperties = [new("x", "y")],
        });
    }

    [Fact]
    public void Round_trips_a_3_1_1_suback()
    {
        AssertRoundTrip(MqttProtocolVersion.V311, new MqttSubAckPacket
        {
            PacketId = 3,
            ReasonCodes = [MqttReasonCode.GrantedQoS1, MqttReasonCode.UnspecifiedError],
        });
    }

    [Fact]
    public void The_3_1_1_writer_sends_every_failure_as_0x80()
    {
        var bytes = Write(o => MqttSubAckWriter.Write(o, MqttProtocolVersion.V311, new MqttSubAckPacket
        {
            PacketId = 1,
            ReasonCodes = [MqttReasonCode.TopicFilterInvalid, MqttReasonCode.GrantedQoS2],
        }));
        Assert.Equal(new byte[] { 0x90, 4, 0, 1, 0x80, 0x02 }, bytes);
    }

    [Fact]
    public void Decode_rejects_a_3_1_1_return_code_other_than_0_1_2_or_0x80()
    {
        AssertRejected(Packet(0x90, 0, 1, 0x8F), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_5_0_reason_code_not_valid_in_suback()
    {
        AssertRejected(Packet(0x90, 0, 1, 0, 0x11), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_suback_with_no_codes()
    {
        AssertRejected(Packet(0x90, 0, 1, 0), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_packet_id_0()
    {
        AssertRejected(Packet(0x90, 0, 0, 0), Decode(MqttProtocolVersion.V311), MqttReasonCode.ProtocolError);
    }

    private static MqttTestDecode<MqttSubAckPacket> Decode(MqttProtocolVersion version) =>
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttSubAckDecoder.Decode(h, b, version);

    private static void AssertRoundTrip(MqttProtocolVersion version, MqttSubAckPacket packet)
    {
        var bytes = Write(o => MqttSubAckWriter.Write(o, version, packet));
        var decoded = DecodeInEveryLayout(bytes, Decode(version));
        Assert.Equal(MqttTestDescribe.Of(packet), MqttTestDescribe.Of(decoded));
    }
}
