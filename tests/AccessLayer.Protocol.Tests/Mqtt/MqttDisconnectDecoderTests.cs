using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttDisconnectDecoderTests
{
    [Fact]
    public void Round_trips_a_5_0_disconnect_with_every_property()
    {
        AssertRoundTrip(MqttProtocolVersion.V500, new MqttDisconnectPacket
        {
            ReasonCode = MqttReasonCode.UseAnotherServer,
            SessionExpiryInterval = 0,
            ReasonString = "draining",
            ServerReference = "gw-2:1883",
            UserProperties = [new("retry-after", "5")],
        });
    }

    [Fact]
    public void A_5_0_reason_code_alone_is_one_byte_of_body()
    {
        var bytes = AssertRoundTrip(MqttProtocolVersion.V500, new MqttDisconnectPacket { ReasonCode = MqttReasonCode.SessionTakenOver });
        Assert.Equal(new byte[] { 0xE0, 1, 0x8E }, bytes);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public void A_normal_disconnection_is_two_bytes(MqttProtocolVersion version)
    {
        var bytes = AssertRoundTrip(version, new MqttDisconnectPacket());
        Assert.Equal(new byte[] { 0xE0, 0 }, bytes);
        Assert.Equal(bytes, Write(o => MqttDisconnectWriter.Write(o, version)));
    }

    [Fact]
    public void Decode_rejects_a_3_1_1_disconnect_with_a_body()
    {
        AssertRejected(Packet(0xE0, 0), Decode(MqttProtocolVersion.V311), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_reason_code_not_valid_in_disconnect()
    {
        AssertRejected(Packet(0xE0, 0x01), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_duplicate_session_expiry()
    {
        AssertRejected(Packet(0xE0, 0, 10, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 1), Decode(MqttProtocolVersion.V500), MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_property_not_valid_in_disconnect()
    {
        AssertRejected(Packet(0xE0, 0, 3, 0x21, 0, 1), Decode(MqttProtocolVersion.V500), MqttReasonCode.MalformedPacket);
    }

    private static MqttTestDecode<MqttDisconnectPacket> Decode(MqttProtocolVersion version) =>
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttDisconnectDecoder.Decode(h, b, version);

    private static byte[] AssertRoundTrip(MqttProtocolVersion version, MqttDisconnectPacket packet)
    {
        var bytes = Write(o => MqttDisconnectWriter.Write(o, version, packet));
        var decoded = DecodeInEveryLayout(bytes, Decode(version));
        Assert.Equal(MqttTestDescribe.Of(packet), MqttTestDescribe.Of(decoded));
        return bytes;
    }
}
