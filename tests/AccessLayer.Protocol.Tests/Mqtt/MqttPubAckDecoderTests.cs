using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttPubAckDecoderTests
{
    public static readonly TheoryData<MqttPacketType> Types = new() { MqttPacketType.PubAck, MqttPacketType.PubRec, MqttPacketType.PubRel, MqttPacketType.PubComp };

    [Theory]
    [MemberData(nameof(Types))]
    public void Round_trips_a_3_1_1_acknowledgement_as_four_bytes(MqttPacketType type)
    {
        var bytes = Write(o => MqttPubAckWriter.Write(o, MqttProtocolVersion.V311, type, 0x1234));
        var flags = type == MqttPacketType.PubRel ? 0x02 : 0x00;
        Assert.Equal(new byte[] { (byte)(((int)type << 4) | flags), 2, 0x12, 0x34 }, bytes);
        var decoded = DecodeInEveryLayout(bytes, Decode(MqttProtocolVersion.V311));
        Assert.Equal(type, decoded.Type);
        Assert.Equal(0x1234, decoded.PacketId);
        Assert.Equal(MqttReasonCode.Success, decoded.ReasonCode);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void A_5_0_success_uses_the_short_form(MqttPacketType type)
    {
        var bytes = Write(o => MqttPubAckWriter.Write(o, MqttProtocolVersion.V500, type, 9));
        Assert.Equal(4, bytes.Length);
        Assert.Equal(MqttReasonCode.Success, DecodeInEveryLayout(bytes, Decode(MqttProtocolVersion.V500)).ReasonCode);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Round_trips_a_5_0_acknowledgement_with_reason_and_properties(MqttPacketType type)
    {
        var reason = type is MqttPacketType.PubAck or MqttPacketType.PubRec ? MqttReasonCode.QuotaExceeded : MqttReasonCode.PacketIdentifierNotFound;
        var packet = new MqttPubAckPacket(type, 65535, reason, "no room", [new("a", "b"), new("a", "c")]);
        var bytes = Write(o => MqttPubAckWriter.Write(o, MqttProtocolVersion.V500, packet));
        var decoded = DecodeInEveryLayout(bytes, Decode(MqttProtocolVersion.V500));
        Assert.Equal(MqttTestDescribe.Of(packet), MqttTestDescribe.Of(decoded));
    }

    [Fact]
    public void A_5_0_reason_code_without_properties_is_three_bytes_of_body()
    {
        var bytes = Write(o => MqttPubAckWriter.Write(o, MqttProtocolVersion.V500, MqttPacketType.PubAck, 1, MqttReasonCode.NoMatchingSubscribers));
        Assert.Equal(new byte[] { 0x40, 3, 0, 1, 0x10 }, bytes);
        Assert.Equal(MqttReasonCode.NoMatchingSubscribers, DecodeInEveryLayout(bytes, Decode(MqttProtocolVersion.V500)).ReasonCode);
    }

    [Fact]
    public void Decode_accepts_an_explicit_empty_property_block()
    {
        var decoded = FrameAndDecode(Packet(0x40, 0, 1, 0x00, 0x00), Decode(MqttProtocolVersion.V500));
        Assert.Equal(MqttReasonCode.Success, decoded.ReasonCode);
        Assert.Empty(decoded.UserProperties);
    }

    [Fact]
    public void Decode_rejects_packet_id_0()
    {
        AssertRejected(Packet(0x40, 0, 0), Decode(MqttProtocolVersion.V311), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_3_1_1_acknowledgement_with_extra_bytes()
    {
        AssertRejected(Packet(0x40, 0, 1, 0), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_truncated_packet_id()
    {
        AssertRejected(Packet(0x70, 0), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(0x40, 0x92)] // PUBACK cannot say Packet Identifier not found
    [InlineData(0x62, 0x10)] // PUBREL cannot say No matching subscribers
    [InlineData(0x70, 0x80)] // PUBCOMP cannot say Unspecified error
    public void Decode_rejects_a_reason_code_not_valid_for_the_type(byte first, byte reason)
    {
        AssertRejected(Packet(first, 0, 1, reason), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_duplicate_reason_string()
    {
        AssertRejected(Packet(0x40, [0, 1, 0, 6, 0x1F, .. Str(""), 0x1F, .. Str("")]), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_property_not_valid_in_acknowledgements()
    {
        AssertRejected(Packet(0x40, [0, 1, 0, 5, 0x02, 0, 0, 0, 1]), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_wrong_pubrel_flags_even_with_a_hand_made_header()
    {
        var header = new MqttFixedHeader(MqttPacketType.PubRel, 0x00, 2);
        var exception = Assert.Throws<MqttProtocolException>(() => MqttPubAckDecoder.Decode(header, new ReadOnlySequence<byte>([0, 1]), MqttProtocolVersion.V311));
        Assert.Equal(MqttReasonCode.MalformedPacket, exception.ReasonCode);
    }

    [Fact]
    public void Writer_rejects_packet_id_0_and_other_packet_types()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPubAckWriter.Write(output, MqttProtocolVersion.V500, MqttPacketType.PubAck, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttPubAckWriter.Write(output, MqttProtocolVersion.V500, MqttPacketType.Publish, 1));
    }

    private static MqttTestDecode<MqttPubAckPacket> Decode(MqttProtocolVersion version) =>
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttPubAckDecoder.Decode(h, b, version);
}
