using System.Buffers;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Protocol.Tests.Mqtt;

/// <summary>Frames everything in a buffer and hands each frame to the decoder for its type.</summary>
internal static class MqttTestDispatch
{
    public static void DecodeAny(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        switch (header.PacketType)
        {
            case MqttPacketType.Connect:
                MqttConnectDecoder.TryGetProtocolVersion(body, out _);
                MqttConnectDecoder.Decode(header, body);
                break;
            case MqttPacketType.ConnAck:
                MqttConnAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.Publish:
                var publish = MqttPublishDecoder.Decode(header, body, version);
                foreach (var property in publish.UserProperties)
                {
                    property.ToUserProperty();
                }

                foreach (var id in publish.SubscriptionIdentifiers)
                {
                    _ = id;
                }

                if (!publish.TopicName.IsEmpty)
                {
                    publish.ToApplicationMessage();
                }

                break;
            case MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubRel or MqttPacketType.PubComp:
                MqttPubAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.Subscribe:
                MqttSubscribeDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.SubAck:
                MqttSubAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.Unsubscribe:
                MqttUnsubscribeDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.UnsubAck:
                MqttUnsubAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.PingReq or MqttPacketType.PingResp:
                MqttPingDecoder.Decode(header, body);
                break;
            case MqttPacketType.Disconnect:
                MqttDisconnectDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.Auth:
                MqttAuthDecoder.Decode(header, body, version);
                break;
            default:
                throw new InvalidOperationException($"The framer let through packet type {header.PacketType}.");
        }
    }

    /// <summary>
    /// Frames and decodes every packet in <paramref name="input"/> under <paramref name="version"/>. Returns
    /// normally when the input ends (possibly mid-packet) or the first MqttProtocolException is thrown;
    /// any other exception escapes.
    /// </summary>
    public static int DecodeAll(in ReadOnlySequence<byte> input, MqttProtocolVersion version, int maxPacketSize)
    {
        var reader = new SequenceReader<byte>(input);
        var packets = 0;
        try
        {
            while (MqttPacketFramer.TryReadFrame(ref reader, maxPacketSize, out var header, out var body))
            {
                DecodeAny(header, body, version);
                packets++;
            }
        }
        catch (MqttProtocolException)
        {
            // The connection would be closed here with the exception's reason code.
        }

        return packets;
    }
}
