using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttUnsubscribeDecoderTests
{
    [Fact]
    public void Round_trips_a_5_0_unsubscribe_with_user_properties()
    {
        AssertRoundTrip(MqttProtocolVersion.V500, new MqttUnsubscribePacket
        {
            PacketId = 77,
            UserProperties = [new("why", "done")],
            TopicFilters = ["a/+", "$share/g/b/#", "c"],
        });
    }

    [Fact]
    public void Round_trips_a_3_1_1_unsubscribe()
    {
        AssertRoundTrip(MqttProtocolVersion.V311, new MqttUnsubscribePacket { PacketId = 1, TopicFilters = ["x/y"] });
    }

    [Fact]
    public void Decode_rejects_an_unsubscribe_with_no_filters()
    {
        AssertRejected(Packet(0xA2, 0, 1), Decode(MqttProtocolVersion.V311), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_packet_id_0()
    {
        AssertRejected(Packet(0xA2, [0, 0, .. Str("a")]), Decode(MqttProtocolVersion.V311), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_property_not_valid_in_unsubscribe()
    {
        AssertRejected(Packet(0xA2, [0, 1, 2, 0x0B, 1, .. Str("a")]), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_filter_length_past_the_end()
    {
        AssertRejected(Packet(0xA2, 0, 1, 0, 5, (byte)'a'), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    private static MqttTestDecode<MqttUnsubscribePacket> Decode(MqttProtocolVersion version) =>
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttUnsubscribeDecoder.Decode(h, b, version);

    private static void AssertRoundTrip(MqttProtocolVersion version, MqttUnsubscribePacket packet)
    {
        var bytes = Write(o => MqttUnsubscribeWriter.Write(o, version, packet));
        Assert.Equal(0xA2, bytes[0]);
        var decoded = DecodeInEveryLayout(bytes, Decode(version));
        Assert.Equal(MqttTestDescribe.Of(packet), MqttTestDescribe.Of(decoded));
    }
}
