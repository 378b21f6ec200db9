using System.Buffers;
using AccessLayer.Protocol.Mqtt;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Protocol.Tests.Mqtt;

/// <summary>
/// Hostile input: whatever arrives, the codec ends in a packet or an MqttProtocolException, never another
/// exception, and allocates in proportion to the input.
/// </summary>
public class MqttCodecPropertyTests
{
    private const int MaxPacketSize = 64 * 1024;

    private static readonly Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(400);

    private static readonly MqttProtocolVersion[] Versions = [MqttProtocolVersion.V311, MqttProtocolVersion.V500];

    [Fact]
    public void Random_bytes_end_in_a_packet_or_a_protocol_exception()
    {
        var bytes = ArbMap.Default.GeneratorFor<byte>();
        var input = Gen.Sized(size => Gen.ArrayOf(bytes, Math.Min(size * 4, 600)));
        Check.One(Config, Prop.ForAll(input.ToArbitrary(), AssertHandled));
    }

    [Fact]
    public void Random_bodies_behind_valid_fixed_headers_end_in_a_packet_or_a_protocol_exception()
    {
        // Random bytes rarely get past the fixed header; this puts a random body behind every valid one.
        byte[] firstBytes = [0x10, 0x20, 0x30, 0x32, 0x34, 0x3B, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xA2, 0xB0, 0xC0, 0xD0, 0xE0, 0xF0];
        var packet =
            from first in Gen.Elements(firstBytes)
            from length in Gen.Choose(0, 300)
            from bodyBytes in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), length)
            select MqttTestCodec.Packet(first, bodyBytes);
        Check.One(Config, Prop.ForAll(packet.ToArbitrary(), AssertHandled));
    }

    [Fact]
    public void Mutated_valid_packets_end_in_a_packet_or_a_protocol_exception()
    {
        var corpus = MqttTestCorpus.ValidPackets();
        var mutated =
            from index in Gen.Choose(0, corpus.Count - 1)
            from kind in Gen.Choose(0, 4)
            from position in Gen.Choose(0, 10_000)
            from value in Gen.Choose(0, 255)
            from count in Gen.Choose(1, 4)
            select Mutate(corpus[index], kind, position, (byte)value, count);
        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(mutated.ToArbitrary(), AssertHandled));
    }

    [Fact]
    public void Every_prefix_of_every_valid_packet_is_handled()
    {
        foreach (var packet in MqttTestCorpus.ValidPackets())
        {
            for (var length = 0; length <= packet.Length; length++)
            {
                AssertHandled(packet[..length]);

                // The same prefix with the remaining length rewritten to fit it: a body cut short.
                if (length >= 2)
                {
                    var body = packet[2..length];
                    if (packet[1] < 0x80)
                    {
                        AssertHandled(MqttTestCodec.Packet(packet[0], body));
                    }
                }
            }
        }
    }

    [Fact]
    public void Generated_publish_messages_round_trip()
    {
        var text = Gen.Elements("a", "b", "ü", "車", "/", " ", "x1", "🚗").ArrayOf().Select(parts => string.Concat(parts));
        var message =
            from topic in text.Where(t => t.Length > 0)
            from payload in ArbMap.Default.GeneratorFor<byte[]>()
            from format in Gen.Choose(0, 1)
            from expiry in Gen.Choose(-1, int.MaxValue)
            from contentType in text.OrNull()
            from responseTopic in text.Where(t => t.Length > 0).OrNull()
            from correlation in ArbMap.Default.GeneratorFor<byte[]>()
            from names in text.ArrayOf()
            select new MqttApplicationMessage
            {
                Topic = topic,
                Payload = payload,
                PayloadFormatIndicator = (byte)format,
                MessageExpiryInterval = expiry < 0 ? null : (uint)expiry,
                ContentType = contentType,
                ResponseTopic = responseTopic,
                CorrelationData = correlation,
                UserProperties = names.Select(n => new MqttUserProperty(n, n + "=")).ToArray(),
            };
        var delivery =
            from m in message
            from qos in Gen.Choose(0, 2)
            from packetId in Gen.Choose(1, 65535)
            from ids in Gen.Choose(1, MqttVariableByteInteger.MaxValue).Select(i => (uint)i).ArrayOf()
            from version in Gen.Elements(Versions)
            select (m, (MqttQualityOfService)qos, (ushort)packetId, ids, version);

        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(delivery.ToArbitrary(), d =>
        {
            var (m, qos, packetId, ids, version) = d;
            var v5 = version == MqttProtocolVersion.V500;
            var id = qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : packetId;
            var bytes = MqttTestCodec.Write(o => MqttPublishWriter.Write(o, version, m, qos, false, false, id, 0, v5 ? ids : []));
            Assert.Equal(bytes.Length, MqttPublishWriter.GetPacketSize(version, m, qos, 0, v5 ? ids : []));
            var split = MqttTestSequences.SplitAt(bytes, bytes.Length / 3);
            var decoded = MqttTestCodec.FrameAndDecode(split, (in MqttFixedHeader h, in ReadOnlySequence<byte> b) => MqttPublishDecoder.Decode(h, b, version));
            var expected = v5
                ? new MqttApplicationMessage
                {
                    Topic = m.Topic,
                    Payload = m.Payload,
                    QualityOfService = qos,
                    PayloadFormatIndicator = m.PayloadFormatIndicator,
                    MessageExpiryInterval = m.MessageExpiryInterval,
                    ContentType = m.ContentType,
                    ResponseTopic = m.ResponseTopic,
                    CorrelationData = m.CorrelationData,
                    UserProperties = m.UserProperties,
                }
                : new MqttApplicationMessage { Topic = m.Topic, Payload = m.Payload, QualityOfService = qos };
            var actual = decoded.ToApplicationMessage();
            Assert.Equal(MqttTestDescribe.Of(expected), MqttTestDescribe.Of(actual));
            Assert.Equal(v5 ? ids.Length : 0, decoded.SubscriptionIdentifierCount);
        }));
    }

    private static void AssertHandled(byte[] input)
    {
        foreach (var version in Versions)
        {
            foreach (var sequence in new[] { new ReadOnlySequence<byte>(input), MqttTestSequences.SplitAt(input, input.Length / 2) })
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                MqttTestDispatch.DecodeAll(sequence, version, MaxPacketSize);
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

                // Decoders own strings, lists and exception objects; none of that may grow faster than the input.
                var bound = 64 * 1024 + (100L * input.Length);
                Assert.True(allocated < bound, $"{allocated} bytes allocated for {input.Length} bytes of input");
            }
        }
    }

    private static byte[] Mutate(byte[] packet, int kind, int position, byte value, int count)
    {
        var at = position % (packet.Length + 1);
        switch (kind)
        {
            case 0 when at < packet.Length:
                var flipped = (byte[])packet.Clone();
                flipped[at] = value;
                return flipped;
            case 1:
                return [.. packet[..at], .. Enumerable.Repeat(value, count), .. packet[at..]];
            case 2 when at < packet.Length:
                return [.. packet[..at], .. packet[Math.Min(packet.Length, at + count)..]];
            case 3:
                return packet[..at];
            default:
                // Change a body byte but keep the framing intact so the decoder, not the framer, sees it.
                if (packet.Length <= 2 || packet[1] >= 0x80)
                {
                    return packet;
                }

                var body = (byte[])packet.Clone();
                body[2 + (position % (packet.Length - 2))] ^= (byte)(1 << (value % 8));
                return body;
        }
    }
}
