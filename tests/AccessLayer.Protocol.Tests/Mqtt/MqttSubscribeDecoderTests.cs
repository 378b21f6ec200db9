using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttSubscribeDecoderTests
{
    [Fact]
    public void Round_trips_a_5_0_subscribe_with_every_option_and_property()
    {
        AssertRoundTrip(MqttProtocolVersion.V500, new MqttSubscribePacket
        {
            PacketId = 10,
            SubscriptionIdentifier = 268_435_455,
            UserProperties = [new("client", "bot-7")],
            Subscriptions =
            [
                new("sensors/+/temp", MqttQualityOfService.AtLeastOnce, NoLocal: true, RetainAsPublished: true, MqttRetainHandling.DoNotSend),
                new("alerts/#", MqttQualityOfService.ExactlyOnce, RetainHandling: MqttRetainHandling.SendAtSubscribeIfNew),
                new("$share/workers/jobs/#", MqttQualityOfService.AtMostOnce, RetainAsPublished: true),
            ],
        });
    }

    [Fact]
    public void Round_trips_a_3_1_1_subscribe()
    {
        AssertRoundTrip(MqttProtocolVersion.V311, new MqttSubscribePacket
        {
            PacketId = 65535,
            Subscriptions = [new("a/b", MqttQualityOfService.AtMostOnce), new("c/+", MqttQualityOfService.AtLeastOnce), new("#", MqttQualityOfService.ExactlyOnce)],
        });
    }

    [Fact]
    public void Decode_leaves_invalid_filter_syntax_to_the_suback()
    {
        // An invalid filter gets its own SUBACK failure code; the packet itself is well formed.
        var subscribe = FrameAndDecode(Packet(0x82, [0, 1, .. Str("a/#/b"), 1, .. Str(""), 0]), Decode(MqttProtocolVersion.V311));
        Assert.Equal(["a/#/b", ""], subscribe.Subscriptions.Select(s => s.TopicFilter));
    }

    [Fact]
    public void Decode_rejects_a_subscribe_with_no_filters()
    {
        AssertRejected(Packet(0x82, 0, 1), Decode(MqttProtocolVersion.V311), MqttReasonCode.ProtocolError);
        AssertRejected(Packet(0x82, 0, 1, 0), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_packet_id_0()
    {
        AssertRejected(Packet(0x82, [0, 0, .. Str("a"), 0]), Decode(MqttProtocolVersion.V311), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_wrong_fixed_header_flags()
    {
        var header = new MqttFixedHeader(MqttPacketType.Subscribe, 0x00, 6);
        var exception = Assert.Throws<MqttProtocolException>(() =>
            MqttSubscribeDecoder.Decode(header, new ReadOnlySequence<byte>([0, 1, .. Str("a"), 0]), MqttProtocolVersion.V311));
        Assert.Equal(MqttReasonCode.MalformedPacket, exception.ReasonCode);
    }

    [Theory]
    [InlineData(0x03)] // QoS 3
    [InlineData(0x04)] // 5.0 No Local bit is reserved in 3.1.1
    [InlineData(0x80)]
    public void Decode_rejects_reserved_3_1_1_requested_qos_bits(byte options)
    {
        AssertRejected(Packet(0x82, [0, 1, .. Str("a"), options]), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(0x40)]
    [InlineData(0x80)]
    public void Decode_rejects_reserved_5_0_subscription_option_bits(byte options)
    {
        AssertRejected(Packet(0x82, [0, 1, 0, .. Str("a"), options]), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(0x03)] // Maximum QoS 3
    [InlineData(0x30)] // Retain Handling 3
    public void Decode_rejects_invalid_5_0_subscription_options_as_protocol_error(byte options)
    {
        AssertRejected(Packet(0x82, [0, 1, 0, .. Str("a"), options]), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_no_local_on_a_shared_subscription()
    {
        AssertRejected(Packet(0x82, [0, 1, 0, .. Str("$share/g/a"), 0x04]), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_filter_without_options()
    {
        AssertRejected(Packet(0x82, [0, 1, .. Str("a")]), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(new byte[] { 0x0B, 0 })] // Subscription Identifier 0
    [InlineData(new byte[] { 0x0B, 1, 0x0B, 2 })] // Subscription Identifier twice
    public void Decode_rejects_invalid_subscription_identifiers_as_protocol_error(byte[] properties)
    {
        AssertRejected(Packet(0x82, [0, 1, (byte)properties.Length, .. properties, .. Str("a"), 0]), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_property_not_valid_in_subscribe()
    {
        AssertRejected(Packet(0x82, [0, 1, 2, 0x01, 1, .. Str("a"), 0]), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Writer_refuses_an_empty_subscription_list()
    {
        Assert.Throws<ArgumentException>(() => MqttSubscribeWriter.Write(new ArrayBufferWriter<byte>(), MqttProtocolVersion.V500, new MqttSubscribePacket { PacketId = 1 }));
    }

    private static MqttTestDecode<MqttSubscribePacket> Decode(MqttProtocolVersion version) =>
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttSubscribeDecoder.Decode(h, b, version);

    private static void AssertRoundTrip(MqttProtocolVersion version, MqttSubscribePacket packet)
    {
        var bytes = Write(o => MqttSubscribeWriter.Write(o, version, packet));
        Assert.Equal(0x82, bytes[0]);
        var decoded = DecodeInEveryLayout(bytes, Decode(version));
        Assert.Equal(MqttTestDescribe.Of(packet), MqttTestDescribe.Of(decoded));
    }
}
