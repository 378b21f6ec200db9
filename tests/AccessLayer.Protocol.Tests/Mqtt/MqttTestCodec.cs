using System.Buffers;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Protocol.Tests.Mqtt;

internal delegate T MqttTestDecode<T>(in MqttFixedHeader header, in ReadOnlySequence<byte> body);

/// <summary>Write, frame and decode helpers shared by the codec tests.</summary>
internal static class MqttTestCodec
{
    public const int MaxPacketSize = 1 << 20;

    public static byte[] Write(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Frames exactly one whole packet out of <paramref name="sequence"/> and decodes it.</summary>
    public static T FrameAndDecode<T>(in ReadOnlySequence<byte> sequence, MqttTestDecode<T> decode)
    {
        var reader = new SequenceReader<byte>(sequence);
        Assert.True(MqttPacketFramer.TryReadFrame(ref reader, MaxPacketSize, out var header, out var body));
        Assert.True(reader.End, "the framer must consume exactly one packet");
        Assert.Equal(header.RemainingLength, body.Length);
        Assert.Equal(sequence.Length, header.PacketLength);
        return decode(header, body);
    }

    public static T FrameAndDecode<T>(byte[] packet, MqttTestDecode<T> decode) => FrameAndDecode(new ReadOnlySequence<byte>(packet), decode);

    /// <summary>
    /// Decodes <paramref name="packet"/> in every segment layout and asserts each result describes the
    /// same; also feeds it byte by byte through the framer, which must answer false until the last byte.
    /// Returns the contiguous decode.
    /// </summary>
    public static T DecodeInEveryLayout<T>(byte[] packet, MqttTestDecode<T> decode, Func<T, string> describe)
    {
        var expected = FrameAndDecode(packet, decode);
        var expectedText = describe(expected);
        foreach (var (layout, sequence) in MqttTestSequences.AllLayouts(packet))
        {
            var actual = FrameAndDecode(sequence, decode);
            Assert.True(expectedText == describe(actual), $"{layout}: {describe(actual)} != {expectedText}");
        }

        AssertFramesOnlyWhenComplete(packet);
        return expected;
    }

    public static T DecodeInEveryLayout<T>(byte[] packet, MqttTestDecode<T> decode) =>
        DecodeInEveryLayout(packet, decode, value => MqttTestDescribe.Of(value));

    /// <summary>Grows the input one byte at a time: no frame (and no consumption) until the packet is whole.</summary>
    public static void AssertFramesOnlyWhenComplete(byte[] packet)
    {
        for (var length = 0; length <= packet.Length; length++)
        {
            var prefix = MqttTestSequences.OneBytePerSegment(packet[..length]);
            var reader = new SequenceReader<byte>(prefix);
            var framed = MqttPacketFramer.TryReadFrame(ref reader, MaxPacketSize, out var header, out _);
            if (length < packet.Length)
            {
                Assert.False(framed, $"framed with only {length} of {packet.Length} bytes");
                Assert.Equal(0, reader.Consumed);
            }
            else
            {
                Assert.True(framed);
                Assert.Equal(packet.Length, header.PacketLength);
                Assert.Equal(packet.Length, reader.Consumed);
            }
        }
    }

    public static MqttProtocolException AssertRejected<T>(byte[] packet, MqttTestDecode<T> decode, MqttReasonCode expected)
    {
        var exception = Assert.Throws<MqttProtocolException>(() => FrameAndDecode(packet, decode));
        Assert.Equal(expected, exception.ReasonCode);
        return exception;
    }

    /// <summary>Fixed header + body for hand-built malformed packets.</summary>
    public static byte[] Packet(byte firstByte, params byte[] body)
    {
        var header = new byte[1 + MqttVariableByteInteger.GetSize(body.Length)];
        header[0] = firstByte;
        MqttVariableByteInteger.Write(header.AsSpan(1), body.Length);
        return [.. header, .. body];
    }

    public static byte[] Str(string value)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        return [(byte)(bytes.Length >> 8), (byte)bytes.Length, .. bytes];
    }
}
