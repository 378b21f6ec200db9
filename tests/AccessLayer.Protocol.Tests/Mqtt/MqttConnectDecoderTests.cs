using System.Buffers;
using System.Text;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttConnectDecoderTests
{
    private static readonly MqttTestDecode<MqttConnectPacket> Decode = (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttConnectDecoder.Decode(h, b);

    // Spec 3.1.1 section 3.1.2.10 / 5.0 section 3.1.2.11: the variable header example, flags 0xCE, keep alive 10.
    private static readonly byte[] SpecVariableHeader311 = [0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0xCE, 0x00, 0x0A];

    private static readonly byte[] SpecVariableHeader500 =
        [0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x05, 0xCE, 0x00, 0x0A, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0A];

    [Fact]
    public void Decode_reads_the_3_1_1_spec_example_and_the_writer_reproduces_it()
    {
        byte[] packet = Packet(0x10, [.. SpecVariableHeader311, .. Str("abc"), .. Str("w/t"), .. Str("bye"), .. Str("user"), .. Str("pass")]);
        var connect = DecodeInEveryLayout(packet, Decode);

        Assert.Equal(MqttProtocolVersion.V311, connect.ProtocolVersion);
        Assert.True(connect.CleanStart);
        Assert.Equal(10, connect.KeepAliveSeconds);
        Assert.Equal("abc", connect.ClientId);
        Assert.Equal("user", connect.UserName);
        Assert.Equal("pass"u8.ToArray(), connect.Password);
        Assert.NotNull(connect.Will);
        Assert.Equal("w/t", connect.Will.Topic);
        Assert.Equal(MqttQualityOfService.AtLeastOnce, connect.Will.QualityOfService);
        Assert.False(connect.Will.Retain);
        Assert.Equal(packet, Write(o => MqttConnectWriter.Write(o, connect)));
    }

    [Fact]
    public void Decode_reads_the_5_0_spec_example_and_the_writer_reproduces_it()
    {
        byte[] packet = Packet(0x10, [.. SpecVariableHeader500, .. Str("abc"), 0x00, .. Str("w/t"), .. Str("bye"), .. Str("user"), .. Str("pass")]);
        var connect = DecodeInEveryLayout(packet, Decode);

        Assert.Equal(MqttProtocolVersion.V500, connect.ProtocolVersion);
        Assert.Equal(10u, connect.SessionExpiryInterval);
        Assert.Equal(10, connect.KeepAliveSeconds);
        Assert.Equal(MqttQualityOfService.AtLeastOnce, connect.Will!.QualityOfService);
        Assert.Equal(packet, Write(o => MqttConnectWriter.Write(o, connect)));
    }

    [Fact]
    public void Round_trips_a_5_0_connect_with_every_property()
    {
        var connect = new MqttConnectPacket
        {
            ProtocolVersion = MqttProtocolVersion.V500,
            CleanStart = false,
            KeepAliveSeconds = 300,
            ClientId = "device-ü-42",
            UserName = "alice",
            Password = [0, 1, 2, 255],
            SessionExpiryInterval = 3600,
            ReceiveMaximum = 20,
            MaximumPacketSize = 65536,
            TopicAliasMaximum = 10,
            RequestResponseInformation = true,
            RequestProblemInformation = false,
            UserProperties = [new("k", "v"), new("k", "v2"), new("ключ", "значение")],
            AuthenticationMethod = "SCRAM-SHA-1",
            AuthenticationData = [9, 8, 7],
            Will = new MqttWillMessage
            {
                Topic = "devices/42/status",
                Payload = "offline"u8.ToArray(),
                QualityOfService = MqttQualityOfService.ExactlyOnce,
                Retain = true,
                WillDelayInterval = 30,
                PayloadFormatIndicator = 1,
                MessageExpiryInterval = 120,
                ContentType = "text/plain",
                ResponseTopic = "devices/42/reply",
                CorrelationData = new byte[] { 1, 2, 3 },
                UserProperties = [new("will", "yes")],
            },
        };

        AssertRoundTrip(connect);
    }

    [Fact]
    public void Round_trips_a_3_1_1_connect()
    {
        AssertRoundTrip(new MqttConnectPacket
        {
            ProtocolVersion = MqttProtocolVersion.V311,
            CleanStart = true,
            KeepAliveSeconds = 60,
            ClientId = "",
            UserName = "bob",
            Password = "secret"u8.ToArray(),
            Will = new MqttWillMessage { Topic = "a/b", Payload = new byte[] { 1, 2 }, QualityOfService = MqttQualityOfService.AtLeastOnce, Retain = true },
        });
    }

    [Fact]
    public void Round_trips_a_3_1_connect_with_the_MQIsdp_name()
    {
        var connect = new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V310, CleanStart = true, KeepAliveSeconds = 5, ClientId = "legacy" };
        var bytes = AssertRoundTrip(connect);
        Assert.Equal("MQIsdp"u8.ToArray(), bytes[4..10]);
    }

    [Fact]
    public void Round_trips_a_minimal_5_0_connect_with_a_password_and_no_user_name()
    {
        AssertRoundTrip(new MqttConnectPacket { ProtocolVersion = MqttProtocolVersion.V500, ClientId = "c", Password = [1] });
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V310)]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public void TryGetProtocolVersion_reads_the_level_even_when_the_rest_is_malformed(MqttProtocolVersion version)
    {
        var bytes = Write(o => MqttConnectWriter.Write(o, new MqttConnectPacket { ProtocolVersion = version, CleanStart = true, ClientId = "x" }));
        var body = new ReadOnlySequence<byte>(bytes[2..^2]); // client id cut short
        Assert.True(MqttConnectDecoder.TryGetProtocolVersion(body, out var detected));
        Assert.Equal(version, detected);
        Assert.Equal(MqttReasonCode.MalformedPacket, Assert.Throws<MqttProtocolException>(() => FrameAndDecode(bytes[..^2].Also(b => b[1] -= 2), Decode)).ReasonCode);
    }

    [Fact]
    public void TryGetProtocolVersion_is_false_for_an_unknown_protocol()
    {
        Assert.False(MqttConnectDecoder.TryGetProtocolVersion(new ReadOnlySequence<byte>([.. Str("MQTT"), 6]), out _));
        Assert.False(MqttConnectDecoder.TryGetProtocolVersion(new ReadOnlySequence<byte>([.. Str("HTTP"), 4]), out _));
        Assert.False(MqttConnectDecoder.TryGetProtocolVersion(new ReadOnlySequence<byte>([0x00]), out _));
    }

    [Theory]
    [InlineData("MQTT", 6)]
    [InlineData("MQTT", 3)]
    [InlineData("MQIsdp", 4)]
    [InlineData("MQTTX", 4)]
    [InlineData("mqtt", 4)]
    public void Decode_rejects_an_unknown_protocol_name_or_level_as_unsupported_version(string name, byte level)
    {
        AssertRejected(Packet(0x10, [.. Str(name), level, 0x02, 0, 60, .. Str("c")]), Decode, MqttReasonCode.UnsupportedProtocolVersion);
    }

    [Fact]
    public void Decode_rejects_the_reserved_connect_flag()
    {
        AssertRejected(Connect311(0x03, Str("c")), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_will_qos_3()
    {
        AssertRejected(Connect311(0x1E, [.. Str("c"), .. Str("t"), .. Str("p")]), Decode, MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(0x0A)] // will QoS 1 without the will flag
    [InlineData(0x22)] // will retain without the will flag
    public void Decode_rejects_will_qos_or_retain_without_a_will(byte flags)
    {
        AssertRejected(Connect311(flags, Str("c")), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_3_1_1_password_without_a_user_name()
    {
        AssertRejected(Connect311(0x42, [.. Str("c"), .. Str("pw")]), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_an_empty_3_1_1_client_id_without_clean_session()
    {
        AssertRejected(Connect311(0x00, Str("")), Decode, MqttReasonCode.ClientIdentifierNotValid);
    }

    [Fact]
    public void Decode_rejects_an_empty_3_1_client_id()
    {
        AssertRejected(Packet(0x10, [.. Str("MQIsdp"), 3, 0x02, 0, 60, .. Str("")]), Decode, MqttReasonCode.ClientIdentifierNotValid);
    }

    [Fact]
    public void Decode_accepts_an_empty_5_0_client_id_without_clean_start()
    {
        var connect = FrameAndDecode(Connect5(0x00, [], Str("")), Decode);
        Assert.Equal("", connect.ClientId);
        Assert.False(connect.CleanStart);
    }

    [Fact]
    public void Decode_rejects_a_client_id_containing_U0000()
    {
        AssertRejected(Connect311(0x02, [0, 3, (byte)'a', 0, (byte)'b']), Decode, MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })] // bad continuation byte
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // UTF-8 encoded surrogate U+D800
    [InlineData(new byte[] { 0xC0, 0xAF })] // overlong '/'
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    public void Decode_rejects_ill_formed_utf8(byte[] utf8)
    {
        AssertRejected(Connect311(0x02, [0, (byte)utf8.Length, .. utf8]), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_ill_formed_utf8_split_across_segments()
    {
        byte[] packet = Connect311(0x02, [0, 3, (byte)'a', 0xED, 0xA0]);
        for (var split = 0; split <= packet.Length; split++)
        {
            var sequence = MqttTestSequences.SplitAt(packet, split);
            Assert.Equal(MqttReasonCode.MalformedPacket, Assert.Throws<MqttProtocolException>(() => FrameAndDecode(sequence, Decode)).ReasonCode);
        }
    }

    [Fact]
    public void Decode_rejects_a_string_length_past_the_end()
    {
        AssertRejected(Connect311(0x02, [0, 10, (byte)'a']), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_property_length_past_the_end()
    {
        AssertRejected(Packet(0x10, [.. Str("MQTT"), 5, 0x02, 0, 60, 0x20, 0x11, 0, 0]), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_trailing_bytes()
    {
        AssertRejected(Connect311(0x02, [.. Str("c"), 0xAA]), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_duplicate_single_instance_property()
    {
        AssertRejected(Connect5(0x02, [0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2], Str("c")), Decode, MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_accepts_repeated_user_properties_in_order()
    {
        var connect = FrameAndDecode(Connect5(0x02, [0x26, .. Str("a"), .. Str("1"), 0x26, .. Str("a"), .. Str("2")], Str("c")), Decode);
        Assert.Equal([new("a", "1"), new("a", "2")], connect.UserProperties);
    }

    [Theory]
    [InlineData(0x23)] // Topic Alias belongs to PUBLISH
    [InlineData(0x24)] // Maximum QoS belongs to CONNACK
    [InlineData(0x7F)] // not a property at all
    public void Decode_rejects_a_property_not_valid_in_connect(byte id)
    {
        AssertRejected(Connect5(0x02, [id, 0, 1], Str("c")), Decode, MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(new byte[] { 0x21, 0, 0 })] // Receive Maximum 0
    [InlineData(new byte[] { 0x27, 0, 0, 0, 0 })] // Maximum Packet Size 0
    [InlineData(new byte[] { 0x17, 2 })] // Request Problem Information 2
    [InlineData(new byte[] { 0x19, 2 })] // Request Response Information 2
    [InlineData(new byte[] { 0x16, 0, 1, 9 })] // Authentication Data without Method
    public void Decode_rejects_invalid_connect_property_values_as_protocol_error(byte[] properties)
    {
        AssertRejected(Connect5(0x02, properties, Str("c")), Decode, MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_will_property_not_valid_for_wills()
    {
        // Session Expiry Interval inside the will properties.
        AssertRejected(Connect5(0x06, [], [.. Str("c"), 5, 0x11, 0, 0, 0, 1, .. Str("t"), .. Str("p")]), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_will_topic_with_a_wildcard()
    {
        AssertRejected(Connect311(0x06, [.. Str("c"), .. Str("a/+"), .. Str("p")]), Decode, MqttReasonCode.TopicNameInvalid);
    }

    [Fact]
    public void Decode_rejects_a_missing_will_payload()
    {
        AssertRejected(Connect311(0x06, [.. Str("c"), .. Str("a/b")]), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_missing_user_name()
    {
        AssertRejected(Connect311(0x82, Str("c")), Decode, MqttReasonCode.MalformedPacket);
    }

    private static byte[] Connect311(byte flags, byte[] payload) => Packet(0x10, [.. Str("MQTT"), 4, flags, 0, 60, .. payload]);

    private static byte[] Connect5(byte flags, byte[] properties, byte[] payload) =>
        Packet(0x10, [.. Str("MQTT"), 5, flags, 0, 60, (byte)properties.Length, .. properties, .. payload]);

    private static byte[] AssertRoundTrip(MqttConnectPacket connect)
    {
        var bytes = Write(o => MqttConnectWriter.Write(o, connect));
        var decoded = DecodeInEveryLayout(bytes, Decode);
        Assert.Equal(MqttTestDescribe.Of(connect), MqttTestDescribe.Of(decoded));
        Assert.Equal(bytes, Write(o => MqttConnectWriter.Write(o, decoded)));
        return bytes;
    }
}

internal static class MqttTestArrayExtensions
{
    public static byte[] Also(this byte[] bytes, Action<byte[]> change)
    {
        change(bytes);
        return bytes;
    }
}
