using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttPublishDecoderTests
{
    private static readonly MqttTestDecode<MqttPublishPacket> Decode311 =
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttPublishDecoder.Decode(h, b, MqttProtocolVersion.V311);

    private static readonly MqttTestDecode<MqttPublishPacket> Decode500 =
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttPublishDecoder.Decode(h, b, MqttProtocolVersion.V500);

    public static readonly TheoryData<MqttQualityOfService, bool, bool> Flags = new()
    {
        { MqttQualityOfService.AtMostOnce, false, false },
        { MqttQualityOfService.AtMostOnce, true, false },
        { MqttQualityOfService.AtLeastOnce, false, true },
        { MqttQualityOfService.ExactlyOnce, true, true },
    };

    [Theory]
    [MemberData(nameof(Flags))]
    public void Round_trips_a_3_1_1_publish(MqttQualityOfService qos, bool retain, bool dup)
    {
        var message = new MqttApplicationMessage { Topic = "sensors/ü/temp", Payload = "21.5"u8.ToArray() };
        var packetId = qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : (ushort)513;
        var bytes = Write(o => MqttPublishWriter.Write(o, MqttProtocolVersion.V311, message, qos, retain, dup, packetId, 0, []));
        var publish = DecodeInEveryLayout(bytes, Decode311, p => MqttTestDescribe.Of(p));

        Assert.Equal(qos, publish.QualityOfService);
        Assert.Equal(retain, publish.Retain);
        Assert.Equal(dup, publish.Dup);
        Assert.Equal(packetId, publish.PacketId);
        Assert.Equal("sensors/ü/temp", publish.GetTopicName());
        Assert.Equal("21.5"u8.ToArray(), publish.Payload.ToArray());
        Assert.True(publish.Properties.IsEmpty);
        Assert.Equal(bytes, Write(o => MqttPublishWriter.Write(o, MqttProtocolVersion.V311, publish)));
    }

    [Theory]
    [MemberData(nameof(Flags))]
    public void Round_trips_a_5_0_publish_with_every_property(MqttQualityOfService qos, bool retain, bool dup)
    {
        var message = FullMessage(qos, retain);
        dup &= qos != MqttQualityOfService.AtMostOnce;
        var packetId = qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : (ushort)65535;
        uint[] subscriptionIds = [1, 268_435_455, 77];
        var bytes = Write(o => MqttPublishWriter.Write(o, MqttProtocolVersion.V500, message, qos, retain, dup, packetId, 7, subscriptionIds));
        var publish = DecodeInEveryLayout(bytes, Decode500, p => MqttTestDescribe.Of(p));

        Assert.Equal(packetId, publish.PacketId);
        Assert.Equal(7, publish.TopicAlias);
        Assert.Equal(3, publish.SubscriptionIdentifierCount);
        var ids = new List<uint>();
        foreach (var id in publish.SubscriptionIdentifiers)
        {
            ids.Add(id);
        }

        Assert.Equal(subscriptionIds, ids);
        var materialised = publish.ToApplicationMessage();
        Assert.Equal(MqttTestDescribe.Of(message), MqttTestDescribe.Of(materialised));
        Assert.Equal(bytes, Write(o => MqttPublishWriter.Write(o, MqttProtocolVersion.V500, publish)));
        Assert.Equal(bytes.Length, MqttPublishWriter.GetPacketSize(MqttProtocolVersion.V500, message, qos, 7, subscriptionIds));
    }

    [Fact]
    public void A_5_0_publish_may_name_its_topic_only_by_alias()
    {
        var message = new MqttApplicationMessage { Topic = "long/topic/name", Payload = new byte[] { 1 } };
        var bytes = Write(o => MqttPublishWriter.Write(o, MqttProtocolVersion.V500, message, MqttQualityOfService.AtMostOnce, false, false, 0, 3, [], omitTopicName: true));
        var publish = DecodeInEveryLayout(bytes, Decode500, p => MqttTestDescribe.Of(p));

        Assert.True(publish.TopicName.IsEmpty);
        Assert.Equal(3, publish.TopicAlias);
        Assert.Throws<InvalidOperationException>(() => publish.ToApplicationMessage());
        Assert.Equal("long/topic/name", publish.ToApplicationMessage("long/topic/name").Topic);
    }

    [Fact]
    public void The_writer_overrides_the_expiry_with_the_time_left()
    {
        var message = new MqttApplicationMessage { Topic = "t", MessageExpiryInterval = 100 };
        var bytes = Write(o => MqttPublishWriter.Write(o, MqttProtocolVersion.V500, message, MqttQualityOfService.AtMostOnce, false, false, 0, 0, [], messageExpiryInterval: 40));
        Assert.Equal(40u, FrameAndDecode(bytes, Decode500).MessageExpiryInterval);
    }

    [Fact]
    public void Round_trips_an_empty_payload_and_a_large_payload()
    {
        foreach (var size in new[] { 0, 1, 4095, 4096, 70_000 })
        {
            var payload = Enumerable.Range(0, size).Select(i => (byte)i).ToArray();
            var message = new MqttApplicationMessage { Topic = "big", Payload = payload };
            var bytes = Write(o => MqttPublishWriter.Write(o, MqttProtocolVersion.V500, message, MqttQualityOfService.AtLeastOnce, false, false, 1, 0, []));
            Assert.Equal(bytes.Length, MqttPublishWriter.GetPacketSize(MqttProtocolVersion.V500, message, MqttQualityOfService.AtLeastOnce, 0, []));
            var publish = FrameAndDecode(MqttTestSequences.SplitAt(bytes, bytes.Length / 2), Decode500);
            Assert.Equal(payload, publish.Payload.ToArray());
        }
    }

    [Fact]
    public void A_3_1_1_publish_with_qos_0_and_dup_is_tolerated()
    {
        var publish = FrameAndDecode(Packet(0x38, [.. Str("t"), 1]), Decode311);
        Assert.True(publish.Dup);
    }

    [Fact]
    public void Decode_rejects_a_5_0_publish_with_qos_0_and_dup()
    {
        AssertRejected(Packet(0x38, [.. Str("t"), 0]), Decode500, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_qos_3()
    {
        var header = new MqttFixedHeader(MqttPacketType.Publish, 0x06, 3);
        var exception = Assert.Throws<MqttProtocolException>(() => MqttPublishDecoder.Decode(header, new ReadOnlySequence<byte>([.. Str("t")]), MqttProtocolVersion.V311));
        Assert.Equal(MqttReasonCode.MalformedPacket, exception.ReasonCode);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public void Decode_rejects_packet_id_0_at_qos_1(MqttProtocolVersion version)
    {
        byte[] body = version == MqttProtocolVersion.V500 ? [.. Str("t"), 0, 0, 0] : [.. Str("t"), 0, 0];
        AssertRejected(Packet(0x32, body), DecodeAs(version), MqttReasonCode.ProtocolError);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public void Decode_rejects_an_empty_topic_without_an_alias(MqttProtocolVersion version)
    {
        byte[] body = version == MqttProtocolVersion.V500 ? [0, 0, 0] : [0, 0];
        AssertRejected(Packet(0x30, body), DecodeAs(version), MqttReasonCode.ProtocolError);
    }

    [Theory]
    [InlineData("a/+/b")]
    [InlineData("a/#")]
    [InlineData("+")]
    public void Decode_rejects_a_topic_name_with_a_wildcard(string topic)
    {
        AssertRejected(Packet(0x30, Str(topic)), Decode311, MqttReasonCode.TopicNameInvalid);
    }

    [Fact]
    public void Decode_rejects_a_topic_name_with_a_wildcard_split_across_segments()
    {
        byte[] packet = Packet(0x30, Str("abc/def/#"));
        for (var split = 0; split <= packet.Length; split++)
        {
            var sequence = MqttTestSequences.SplitAt(packet, split);
            Assert.Equal(MqttReasonCode.TopicNameInvalid, Assert.Throws<MqttProtocolException>(() => FrameAndDecode(sequence, Decode311)).ReasonCode);
        }
    }

    [Fact]
    public void Decode_rejects_a_topic_containing_U0000()
    {
        AssertRejected(Packet(0x30, [0, 3, (byte)'a', 0, (byte)'b']), Decode311, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_topic_length_past_the_end()
    {
        AssertRejected(Packet(0x30, [0, 9, (byte)'a']), Decode311, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_missing_packet_id()
    {
        AssertRejected(Packet(0x32, [.. Str("t"), 0]), Decode311, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_property_length_past_the_end()
    {
        AssertRejected(Packet(0x30, [.. Str("t"), 9, 0x01, 1]), Decode500, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_property_value_running_out_of_its_block()
    {
        // Message Expiry needs 4 bytes, the block holds 2 (the payload must not be read as properties).
        AssertRejected(Packet(0x30, [.. Str("t"), 3, 0x02, 0, 0, 1, 2, 3, 4]), Decode500, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_five_byte_property_length()
    {
        AssertRejected(Packet(0x30, [.. Str("t"), 0x80, 0x80, 0x80, 0x80, 0x00]), Decode500, MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(new byte[] { 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2 })] // Message Expiry twice
    [InlineData(new byte[] { 0x23, 0, 1, 0x23, 0, 2 })] // Topic Alias twice
    [InlineData(new byte[] { 0x01, 1, 0x01, 1 })] // Payload Format twice
    [InlineData(new byte[] { 0x03, 0, 0, 0x03, 0, 0 })] // Content Type twice
    [InlineData(new byte[] { 0x01, 2 })] // Payload Format 2
    [InlineData(new byte[] { 0x0B, 0x00 })] // Subscription Identifier 0
    [InlineData(new byte[] { 0x08, 0, 1, (byte)'#' })] // Response Topic with a wildcard
    public void Decode_rejects_invalid_publish_properties_as_protocol_error(byte[] properties)
    {
        AssertRejected(Packet(0x30, [.. Str("t"), (byte)properties.Length, .. properties]), Decode500, MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_topic_alias_0()
    {
        AssertRejected(Packet(0x30, [.. Str("t"), 3, 0x23, 0, 0]), Decode500, MqttReasonCode.TopicAliasInvalid);
    }

    [Theory]
    [InlineData(0x11)] // Session Expiry Interval
    [InlineData(0x1F)] // Reason String
    [InlineData(0x00)] // not a property
    public void Decode_rejects_a_property_not_valid_in_publish(byte id)
    {
        AssertRejected(Packet(0x30, [.. Str("t"), 5, id, 0, 0, 0, 0]), Decode500, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_user_property_with_ill_formed_utf8()
    {
        AssertRejected(Packet(0x30, [.. Str("t"), 6, 0x26, 0, 1, 0xFF, 0, 0]), Decode500, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void IsPayloadFormatValid_checks_utf8_only_when_the_payload_claims_to_be_text()
    {
        var bytes = Packet(0x30, [.. Str("t"), 2, 0x01, 1, 0xFF]);
        Assert.False(FrameAndDecode(bytes, Decode500).IsPayloadFormatValid());
        Assert.True(FrameAndDecode(Packet(0x30, [.. Str("t"), 0, 0xFF]), Decode500).IsPayloadFormatValid());
    }

    [Fact]
    public void Writer_rejects_arguments_that_would_make_an_invalid_packet()
    {
        var message = new MqttApplicationMessage { Topic = "t" };
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentException>(() => MqttPublishWriter.Write(output, MqttProtocolVersion.V500, message, MqttQualityOfService.AtLeastOnce, false, false, 0, 0, []));
        Assert.Throws<ArgumentException>(() => MqttPublishWriter.Write(output, MqttProtocolVersion.V500, message, MqttQualityOfService.AtMostOnce, false, true, 0, 0, []));
        Assert.Throws<ArgumentException>(() => MqttPublishWriter.Write(output, MqttProtocolVersion.V500, message, MqttQualityOfService.AtMostOnce, false, false, 0, 0, [], omitTopicName: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPublishWriter.Write(output, MqttProtocolVersion.V500, message, MqttQualityOfService.AtMostOnce, false, false, 0, 0, [0u]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPublishWriter.Write(output, MqttProtocolVersion.V500, message, (MqttQualityOfService)3, false, false, 1, 0, []));
        Assert.Equal(0, output.WrittenCount);
    }

    internal static MqttApplicationMessage FullMessage(MqttQualityOfService qos = MqttQualityOfService.AtMostOnce, bool retain = false) => new()
    {
        QualityOfService = qos,
        Retain = retain,
        Topic = "fleet/車両/42/telemetry",
        Payload = "{\"speed\":88}"u8.ToArray(),
        PayloadFormatIndicator = 1,
        MessageExpiryInterval = 3600,
        ContentType = "application/json",
        ResponseTopic = "fleet/42/reply",
        CorrelationData = new byte[] { 0xDE, 0xAD, 0xBE, 0xEF },
        UserProperties = [new("trace", "abc"), new("trace", "def"), new("", "")],
    };

    private static MqttTestDecode<MqttPublishPacket> DecodeAs(MqttProtocolVersion version) =>
        version == MqttProtocolVersion.V500 ? Decode500 : Decode311;
}
