using System.Buffers;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Protocol.Tests.Mqtt;

public class MqttVariableByteIntegerTests
{
    // Spec 1.5.5, table 1-1: the boundary values and their encodings.
    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x01 })]
    [InlineData(16_383, new byte[] { 0xFF, 0x7F })]
    [InlineData(16_384, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(2_097_151, new byte[] { 0xFF, 0xFF, 0x7F })]
    [InlineData(2_097_152, new byte[] { 0x80, 0x80, 0x80, 0x01 })]
    [InlineData(268_435_455, new byte[] { 0xFF, 0xFF, 0xFF, 0x7F })]
    public void Encodes_and_decodes_the_spec_boundary_values(int value, byte[] encoded)
    {
        Assert.Equal(encoded.Length, MqttVariableByteInteger.GetSize(value));
        var buffer = new byte[4];
        Assert.Equal(encoded.Length, MqttVariableByteInteger.Write(buffer, value));
        Assert.Equal(encoded, buffer[..encoded.Length]);

        foreach (var (layout, sequence) in MqttTestSequences.AllLayouts(encoded))
        {
            var reader = new SequenceReader<byte>(sequence);
            Assert.True(MqttVariableByteInteger.TryRead(ref reader, out var decoded, out var size), layout);
            Assert.Equal(value, decoded);
            Assert.Equal(encoded.Length, size);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(16_383)]
    [InlineData(16_384)]
    [InlineData(2_097_151)]
    [InlineData(2_097_152)]
    [InlineData(268_435_455)]
    public void A_publish_with_a_boundary_remaining_length_frames_with_that_length(int remainingLength)
    {
        var header = new byte[5];
        header[0] = 0x30;
        var size = 1 + MqttVariableByteInteger.Write(header.AsSpan(1), remainingLength);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(header[..size]));
        // Only the header is here: a body of that size is awaited, not rejected, under a max that allows it.
        Assert.Equal(remainingLength == 0, MqttPacketFramer.TryReadFrame(ref reader, int.MaxValue, out var fixedHeader, out _));
        if (remainingLength == 0)
        {
            Assert.Equal(0, fixedHeader.RemainingLength);
        }
    }

    [Fact]
    public void TryRead_returns_false_while_the_integer_is_incomplete()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(new byte[] { 0x80, 0x80 }));
        Assert.False(MqttVariableByteInteger.TryRead(ref reader, out _, out _));
        Assert.Equal(0, reader.Consumed);
    }

    [Fact]
    public void TryRead_rejects_a_fifth_byte()
    {
        var exception = Assert.Throws<MqttProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x01 }));
            MqttVariableByteInteger.TryRead(ref reader, out _, out _);
        });
        Assert.Equal(MqttReasonCode.MalformedPacket, exception.ReasonCode);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(268_435_456)]
    public void Write_rejects_values_out_of_range(int value)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttVariableByteInteger.GetSize(value));
        Assert.Throws<ArgumentOutOfRangeException>(() => MqttVariableByteInteger.Write(new byte[5], value));
    }
}
