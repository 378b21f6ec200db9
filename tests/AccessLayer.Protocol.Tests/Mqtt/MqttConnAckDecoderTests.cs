using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttConnAckDecoderTests
{
    [Fact]
    public void Round_trips_a_5_0_connack_with_every_property()
    {
        var connAck = new MqttConnAckPacket
        {
            SessionPresent = true,
            ReasonCode = MqttReasonCode.Success,
            SessionExpiryInterval = 7200,
            ReceiveMaximum = 100,
            MaximumQoS = MqttQualityOfService.AtLeastOnce,
            RetainAvailable = false,
            MaximumPacketSize = 1_048_576,
            AssignedClientIdentifier = "auto-1234",
            TopicAliasMaximum = 16,
            ReasonString = "welcome",
            UserProperties = [new("node", "gw-1"), new("zone", "eu")],
            WildcardSubscriptionAvailable = false,
            SubscriptionIdentifiersAvailable = false,
            SharedSubscriptionAvailable = false,
            ServerKeepAlive = 120,
            ResponseInformation = "replies/",
            ServerReference = "gw-2.example:1883",
            AuthenticationMethod = "SCRAM-SHA-1",
            AuthenticationData = [4, 5, 6],
        };

        AssertRoundTrip(MqttProtocolVersion.V500, connAck);
    }

    [Fact]
    public void Round_trips_a_5_0_connack_with_defaults_as_three_bytes_of_body()
    {
        var bytes = AssertRoundTrip(MqttProtocolVersion.V500, new MqttConnAckPacket { ReasonCode = MqttReasonCode.Success });
        Assert.Equal(new byte[] { 0x20, 0x03, 0x00, 0x00, 0x00 }, bytes);
    }

    [Fact]
    public void A_5_0_refusal_round_trips_its_reason_code()
    {
        AssertRoundTrip(MqttProtocolVersion.V500, new MqttConnAckPacket { ReasonCode = MqttReasonCode.UseAnotherServer, ServerReference = "other:1883" });
    }

    [Theory]
    [InlineData(MqttReasonCode.Success, MqttConnectReturnCode.Accepted)]
    [InlineData(MqttReasonCode.UnsupportedProtocolVersion, MqttConnectReturnCode.UnacceptableProtocolVersion)]
    [InlineData(MqttReasonCode.ClientIdentifierNotValid, MqttConnectReturnCode.IdentifierRejected)]
    [InlineData(MqttReasonCode.ServerUnavailable, MqttConnectReturnCode.ServerUnavailable)]
    [InlineData(MqttReasonCode.BadUserNameOrPassword, MqttConnectReturnCode.BadUserNameOrPassword)]
    [InlineData(MqttReasonCode.NotAuthorized, MqttConnectReturnCode.NotAuthorized)]
    public void Round_trips_each_3_1_1_return_code(MqttReasonCode reasonCode, MqttConnectReturnCode returnCode)
    {
        var sessionPresent = reasonCode == MqttReasonCode.Success;
        var bytes = AssertRoundTrip(MqttProtocolVersion.V311, new MqttConnAckPacket { SessionPresent = sessionPresent, ReasonCode = reasonCode });
        Assert.Equal(new byte[] { 0x20, 0x02, sessionPresent ? (byte)1 : (byte)0, (byte)returnCode }, bytes);
    }

    [Theory]
    [InlineData(MqttReasonCode.ServerBusy, MqttConnectReturnCode.ServerUnavailable)]
    [InlineData(MqttReasonCode.Banned, MqttConnectReturnCode.NotAuthorized)]
    [InlineData(MqttReasonCode.QuotaExceeded, MqttConnectReturnCode.ServerUnavailable)]
    public void The_3_1_1_writer_maps_5_0_only_reasons_to_the_nearest_return_code(MqttReasonCode reasonCode, MqttConnectReturnCode returnCode)
    {
        var bytes = Write(o => MqttConnAckWriter.Write(o, MqttProtocolVersion.V311, new MqttConnAckPacket { ReasonCode = reasonCode }));
        Assert.Equal((byte)returnCode, bytes[3]);
    }

    [Fact]
    public void The_writer_never_sends_session_present_with_a_refusal()
    {
        var bytes = Write(o => MqttConnAckWriter.Write(o, MqttProtocolVersion.V311, new MqttConnAckPacket { SessionPresent = true, ReasonCode = MqttReasonCode.NotAuthorized }));
        Assert.Equal(0, bytes[2]);
    }

    [Fact]
    public void The_3_1_writer_leaves_the_reserved_acknowledge_byte_zero()
    {
        var bytes = Write(o => MqttConnAckWriter.Write(o, MqttProtocolVersion.V310, new MqttConnAckPacket { SessionPresent = true }));
        Assert.Equal(new byte[] { 0x20, 2, 0, 0 }, bytes);
    }

    [Fact]
    public void Decode_rejects_reserved_acknowledge_flags()
    {
        AssertRejected(Packet(0x20, 0x02, 0x00), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_reserved_3_1_1_return_code()
    {
        AssertRejected(Packet(0x20, 0x00, 0x06), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_reason_code_not_valid_in_connack()
    {
        AssertRejected(Packet(0x20, 0x00, 0x8E, 0x00), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_session_present_with_a_refusal()
    {
        AssertRejected(Packet(0x20, 0x01, 0x05), Decode(MqttProtocolVersion.V311), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_3_1_1_connack_of_the_wrong_length()
    {
        AssertRejected(Packet(0x20, 0x00, 0x00, 0x00), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
        AssertRejected(Packet(0x20, 0x00), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Theory]
    [InlineData(new byte[] { 0x24, 2 })] // Maximum QoS 2 is never sent
    [InlineData(new byte[] { 0x25, 2 })] // Retain Available 2
    [InlineData(new byte[] { 0x21, 0, 0 })] // Receive Maximum 0
    [InlineData(new byte[] { 0x27, 0, 0, 0, 0 })] // Maximum Packet Size 0
    [InlineData(new byte[] { 0x13, 0, 1, 0x13, 0, 2 })] // Server Keep Alive twice
    public void Decode_rejects_invalid_connack_properties_as_protocol_error(byte[] properties)
    {
        AssertRejected(Packet(0x20, [0, 0, (byte)properties.Length, .. properties]), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_property_not_valid_in_connack()
    {
        AssertRejected(Packet(0x20, [0, 0, 3, 0x23, 0, 1]), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    private static MqttTestDecode<MqttConnAckPacket> Decode(MqttProtocolVersion version) =>
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttConnAckDecoder.Decode(h, b, version);

    private static byte[] AssertRoundTrip(MqttProtocolVersion version, MqttConnAckPacket packet)
    {
        var bytes = Write(o => MqttConnAckWriter.Write(o, version, packet));
        var decoded = DecodeInEveryLayout(bytes, Decode(version));
        Assert.Equal(MqttTestDescribe.Of(packet), MqttTestDescribe.Of(decoded));
        return bytes;
    }
}
