using System.Buffers;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Protocol.Tests.Mqtt;

/// <summary>The PUBLISH hot path (and its acknowledgements) must not touch the heap once warmed up.</summary>
public class MqttPublishAllocationTests
{
    private const int Iterations = 200;

    [Theory]
    [InlineData(MqttProtocolVersion.V311, false)]
    [InlineData(MqttProtocolVersion.V500, false)]
    [InlineData(MqttProtocolVersion.V311, true)]
    [InlineData(MqttProtocolVersion.V500, true)]
    public void Framing_and_decoding_a_publish_allocates_nothing(MqttProtocolVersion version, bool split)
    {
        var message = MqttPublishDecoderTests.FullMessage();
        var bytes = MqttTestCodec.Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.AtLeastOnce, false, false, 5, 3, [1u, 2u]));
        var sequence = split ? MqttTestSequences.SplitAt(bytes, bytes.Length / 2) : new ReadOnlySequence<byte>(bytes);

        var checksum = DecodeLoop(sequence, version, 10);
        var before = GC.GetAllocatedBytesForCurrentThread();
        checksum += DecodeLoop(sequence, version, Iterations);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(checksum > 0);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public void Writing_a_publish_into_a_presized_buffer_allocates_nothing(MqttProtocolVersion version)
    {
        var message = MqttPublishDecoderTests.FullMessage();
        var output = new ArrayBufferWriter<byte>(4096);
        WriteLoop(output, message, version, 10);

        var before = GC.GetAllocatedBytesForCurrentThread();
        WriteLoop(output, message, version, Iterations);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(output.WrittenCount > 0);
    }

    [Fact]
    public void Writing_a_large_publish_allocates_nothing()
    {
        var message = new MqttApplicationMessage { Topic = "big/payload", Payload = new byte[64 * 1024] };
        var output = new ArrayBufferWriter<byte>(128 * 1024);
        WriteLoop(output, message, MqttProtocolVersion.V500, 5);

        var before = GC.GetAllocatedBytesForCurrentThread();
        WriteLoop(output, message, MqttProtocolVersion.V500, 20);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Acknowledgements_decode_and_write_without_allocating()
    {
        var output = new ArrayBufferWriter<byte>(64);
        var bytes = MqttTestCodec.Write(o => MqttPubAckWriter.Write(o, MqttProtocolVersion.V500, MqttPacketType.PubAck, 9, MqttReasonCode.NoMatchingSubscribers));
        var sequence = new ReadOnlySequence<byte>(bytes);
        AckLoop(output, sequence, 10);

        var before = GC.GetAllocatedBytesForCurrentThread();
        AckLoop(output, sequence, Iterations);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static long DecodeLoop(in ReadOnlySequence<byte> sequence, MqttProtocolVersion version, int iterations)
    {
        long checksum = 0;
        for (var i = 0; i < iterations; i++)
        {
            var reader = new SequenceReader<byte>(sequence);
            MqttPacketFramer.TryReadFrame(ref reader, 1 << 20, out var header, out var body);
            var publish = MqttPublishDecoder.Decode(header, body, version);
            checksum += publish.Payload.Length + publish.TopicName.Length + publish.PacketId;
            foreach (var id in publish.SubscriptionIdentifiers)
            {
                checksum += id;
            }

            foreach (var property in publish.UserProperties)
            {
                checksum += property.Name.Length + property.Value.Length;
            }
        }

        return checksum;
    }

    private static void WriteLoop(ArrayBufferWriter<byte> output, MqttApplicationMessage message, MqttProtocolVersion version, int iterations)
    {
        ReadOnlySpan<uint> subscriptionIds = [7u, 1000u];
        for (var i = 0; i < iterations; i++)
        {
            output.ResetWrittenCount();
            MqttPublishWriter.Write(output, version, message, MqttQualityOfService.AtLeastOnce, false, false, 1, 4, subscriptionIds);
        }
    }

    private static void AckLoop(ArrayBufferWriter<byte> output, in ReadOnlySequence<byte> sequence, int iterations)
    {
        for (var i = 0; i < iterations; i++)
        {
            var reader = new SequenceReader<byte>(sequence);
            MqttPacketFramer.TryReadFrame(ref reader, 1024, out var header, out var body);
            var ack = MqttPubAckDecoder.Decode(header, body, MqttProtocolVersion.V500);
            output.ResetWrittenCount();
            MqttPubAckWriter.Write(output, MqttProtocolVersion.V500, MqttPacketType.PubRel, ack.PacketId);
            MqttPubAckWriter.Write(output, MqttProtocolVersion.V500, ack);
        }
    }
}
