using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using static AccessLayer.Protocol.Tests.Mqtt.MqttTestCodec;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttAuthDecoderTests
{
    private static readonly MqttTestDecode<MqttAuthPacket> Decode =
        (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttAuthDecoder.Decode(h, b, MqttProtocolVersion.V500);

    [Fact]
    public void Round_trips_an_auth_with_every_property()
    {
        var packet = new MqttAuthPacket
        {
            ReasonCode = MqttReasonCode.ContinueAuthentication,
            AuthenticationMethod = "SCRAM-SHA-256",
            AuthenticationData = [1, 2, 3, 4],
            ReasonString = "step 2",
            UserProperties = [new("n", "1")],
        };
        var bytes = Write(o => MqttAuthWriter.Write(o, MqttProtocolVersion.V500, packet));
        Assert.Equal(MqttTestDescribe.Of(packet), MqttTestDescribe.Of(DecodeInEveryLayout(bytes, Decode)));
    }

    [Fact]
    public void A_bare_success_is_two_bytes()
    {
        var bytes = Write(o => MqttAuthWriter.Write(o, MqttProtocolVersion.V500, new MqttAuthPacket()));
        Assert.Equal(new byte[] { 0xF0, 0 }, bytes);
        Assert.Equal(MqttReasonCode.Success, DecodeInEveryLayout(bytes, Decode).ReasonCode);
    }

    [Fact]
    public void Decode_rejects_auth_on_3_1_1()
    {
        var exception = Assert.Throws<MqttProtocolException>(() =>
            FrameAndDecode(Packet(0xF0), (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttAuthDecoder.Decode(h, b, MqttProtocolVersion.V311)));
        Assert.Equal(MqttReasonCode.ProtocolError, exception.ReasonCode);
    }

    [Fact]
    public void Decode_rejects_an_auth_without_a_method()
    {
        AssertRejected(Packet(0xF0, 0x18, 0), Decode, MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Decode_rejects_a_reason_code_without_a_property_length()
    {
        AssertRejected(Packet(0xF0, 0x18), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_reason_code_not_valid_in_auth()
    {
        AssertRejected(Packet(0xF0, [0x87, 4, 0x15, .. Str("m")]), Decode, MqttReasonCode.MalformedPacket);
    }

    [Fact]
    public void Decode_rejects_a_duplicate_method()
    {
        AssertRejected(Packet(0xF0, [0x18, 8, 0x15, .. Str("m"), 0x15, .. Str("m")]), Decode, MqttReasonCode.ProtocolError);
    }

    [Fact]
    public void Writer_refuses_3_1_1()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttAuthWriter.Write(new ArrayBufferWriter<byte>(), MqttProtocolVersion.V311, new MqttAuthPacket()));
    }
}
