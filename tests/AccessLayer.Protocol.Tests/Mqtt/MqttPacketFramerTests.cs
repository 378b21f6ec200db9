using System.Buffers;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttPacketFramerTests
{
    [Fact]
    public void TryReadFrame_returns_false_on_empty_input()
    {
        var reader = new SequenceReader<byte>(ReadOnlySequence<byte>.Empty);
        Assert.False(MqttPacketFramer.TryReadFrame(ref reader, 1024, out _, out _));
    }

    [Fact]
    public void TryReadFrame_frames_a_ping_and_advances_past_it()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(new byte[] { 0xC0, 0x00, 0xD0 }));
        Assert.True(MqttPacketFramer.TryReadFrame(ref reader, 1024, out var header, out var body));
        Assert.Equal(MqttPacketType.PingReq, header.PacketType);
        Assert.Equal(0, header.RemainingLength);
        Assert.Equal(2, header.HeaderLength);
        Assert.True(body.IsEmpty);
        Assert.Equal(2, reader.Consumed);
        Assert.False(MqttPacketFramer.TryReadFrame(ref reader, 1024, out _, out _));
        Assert.Equal(2, reader.Consumed);
    }

    [Fact]
    public void TryReadFrame_frames_back_to_back_packets_across_segments()
    {
        byte[] first = [0x30, 0x05, 0x00, 0x01, (byte)'a', 0x68, 0x69];
        byte[] second = [0xD0, 0x00];
        byte[] both = [.. first, .. second];
        for (var split = 0; split <= both.Length; split++)
        {
            var reader = new SequenceReader<byte>(MqttTestSequences.SplitAt(both, split));
            Assert.True(MqttPacketFramer.TryReadFrame(ref reader, 1024, out var h1, out var b1));
            Assert.Equal(MqttPacketType.Publish, h1.PacketType);
            Assert.Equal(first[2..], b1.ToArray());
            Assert.True(MqttPacketFramer.TryReadFrame(ref reader, 1024, out var h2, out _));
            Assert.Equal(MqttPacketType.PingResp, h2.PacketType);
            Assert.True(reader.End);
        }
    }

    [Fact]
    public void TryReadFrame_waits_for_the_body_without_advancing()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(new byte[] { 0x30, 0x05, 0x00, 0x01 }));
        Assert.False(MqttPacketFramer.TryReadFrame(ref reader, 1024, out _, out _));
        Assert.Equal(0, reader.Consumed);
    }

    [Fact]
    public void TryReadFrame_waits_for_an_unfinished_remaining_length()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(new byte[] { 0x30, 0x80, 0x80 }));
        Assert.False(MqttPacketFramer.TryReadFrame(ref reader, int.MaxValue, out _, out _));
        Assert.Equal(0, reader.Consumed);
    }

    [Fact]
    public void TryReadFrame_rejects_remaining_length_over_max_from_the_header_alone()
    {
        // Only the fixed header has arrived: 268435455 declared, 1 KiB allowed.
        Assert.Equal(MqttReasonCode.PacketTooLarge, Rejection(new byte[] { 0x30, 0xFF, 0xFF, 0xFF, 0x7F }, 1024));
    }

    [Fact]
    public void TryReadFrame_counts_the_fixed_header_in_the_maximum_packet_size()
    {
        // 2-byte header + 8-byte body = 10: fits in 10, too large for 9.
        byte[] packet = [0x30, 0x08, 0x00, 0x01, (byte)'a', 1, 2, 3, 4, 5];
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(packet));
        Assert.True(MqttPacketFramer.TryReadFrame(ref reader, 10, out _, out _));
        Assert.Equal(MqttReasonCode.PacketTooLarge, Rejection(packet[..2], 9));
    }

    [Fact]
    public void TryReadFrame_rejects_a_five_byte_remaining_length()
    {
        Assert.Equal(MqttReasonCode.MalformedPacket, Rejection(new byte[] { 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, int.MaxValue));
    }

    [Fact]
    public void TryReadFrame_rejects_reserved_packet_type_0()
    {
        Assert.Equal(MqttReasonCode.MalformedPacket, Rejection(new byte[] { 0x00, 0x00 }, 1024));
    }

    [Theory]
    [InlineData(0x11)] // CONNECT
    [InlineData(0x28)] // CONNACK
    [InlineData(0x41)] // PUBACK
    [InlineData(0x51)] // PUBREC needs 0
    [InlineData(0x60)] // PUBREL needs 0b0010
    [InlineData(0x70 | 0x02)] // PUBCOMP
    [InlineData(0x80)] // SUBSCRIBE needs 0b0010
    [InlineData(0x93)] // SUBACK
    [InlineData(0xA0)] // UNSUBSCRIBE needs 0b0010
    [InlineData(0xB1)] // UNSUBACK
    [InlineData(0xC4)] // PINGREQ
    [InlineData(0xDF)] // PINGRESP
    [InlineData(0xE2)] // DISCONNECT
    [InlineData(0xF8)] // AUTH
    public void TryReadFrame_rejects_wrong_reserved_flag_bits(byte first)
    {
        Assert.Equal(MqttReasonCode.MalformedPacket, Rejection(new byte[] { first, 0x00 }, 1024));
    }

    [Fact]
    public void TryReadFrame_rejects_publish_qos_3()
    {
        Assert.Equal(MqttReasonCode.MalformedPacket, Rejection(new byte[] { 0x36, 0x00 }, 1024));
    }

    [Fact]
    public void TryReadFrame_rejects_bad_flags_before_the_remaining_length_arrives()
    {
        Assert.Equal(MqttReasonCode.MalformedPacket, Rejection(new byte[] { 0x81 }, 1024));
    }

    [Fact]
    public void TryReadFrame_accepts_each_type_with_its_required_flags()
    {
        byte[] firsts = [0x10, 0x20, 0x30, 0x3D, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xA2, 0xB0, 0xC0, 0xD0, 0xE0, 0xF0];
        foreach (var first in firsts)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(new byte[] { first, 0x00 }));
            Assert.True(MqttPacketFramer.TryReadFrame(ref reader, 1024, out var header, out _));
            Assert.Equal((MqttPacketType)(first >> 4), header.PacketType);
            Assert.Equal(first & 0x0F, header.Flags);
        }
    }

    [Fact]
    public void TryReadFrame_over_a_whole_buffer_reports_the_consumed_position()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0xC0, 0x00, 0xC0 });
        Assert.True(MqttPacketFramer.TryReadFrame(buffer, 1024, out _, out _, out var consumed));
        Assert.Equal(2, buffer.Slice(0, consumed).Length);
    }

    private static MqttReasonCode Rejection(byte[] input, int max) =>
        Assert.Throws<MqttProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input));
            MqttPacketFramer.TryReadFrame(ref reader, max, out _, out _);
        }).ReasonCode;
}
