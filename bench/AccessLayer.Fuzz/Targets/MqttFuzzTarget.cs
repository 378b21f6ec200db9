using System.Buffers;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Fuzz.Targets;

/// <summary>
/// MQTT as the gateway reads it (gateway/Mqtt/MqttConnection.cs): the framer cuts packets from the byte
/// stream (CONNECT at most 64 KiB, then <c>Mqtt:MaxPacketSize</c>), the first must be CONNECT, and each
/// packet goes to its decoder with the negotiated version; a PUBLISH is then turned into the broker's
/// message and its lazy property views are walked. Client modes run the client-side decoders (CONNACK,
/// SUBACK, UNSUBACK, ...). The first byte of an input picks the mode. Documented error: <see cref="MqttProtocolException"/>.
/// </summary>
public sealed class MqttFuzzTarget : IFuzzTarget
{
    public const byte ModeHandshake = 0;
    public const byte ModeServer311 = 1;
    public const byte ModeServer500 = 2;
    public const byte ModeClient311 = 3;
    public const byte ModeClient500 = 4;
    private const int Modes = 5;

    /// <summary>The gateway's default <c>Mqtt:MaxPacketSize</c>.</summary>
    public const int MaxPacketSize = 1024 * 1024;

    private const int MaxConnectPacketSize = 64 * 1024;

    private static readonly IReadOnlyList<byte[]> SharedCorpus = MqttCorpus.Build();

    public string Name => "mqtt";

    public IReadOnlyList<byte[]> Corpus => SharedCorpus;

    public long MaxRetained { get; private set; }

    public long RetainedBound => MaxPacketSize;

    public bool IsExpected(Exception exception) => exception is MqttProtocolException;

    public void Run(in ReadOnlySequence<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var mode = input.FirstSpan[0] % Modes;
        var buffer = input.Slice(1);
        var client = mode is ModeClient311 or ModeClient500;
        var connected = mode != ModeHandshake;
        var version = mode is ModeServer500 or ModeClient500 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311;
        while (true)
        {
            var limit = connected ? MaxPacketSize : MaxConnectPacketSize;
            if (!MqttPacketFramer.TryReadFrame(buffer, limit, out var header, out var body, out var consumed))
            {
                return;
            }

            MaxRetained = Math.Max(MaxRetained, header.PacketLength);
            if (header.PacketLength > limit)
            {
                throw new FuzzBoundException($"The framer returned a {header.PacketLength}-byte packet over the {limit}-byte limit.");
            }

            buffer = buffer.Slice(consumed);
            if (client)
            {
                DecodeDownlink(header, body, version);
            }
            else if (!connected)
            {
                if (header.PacketType != MqttPacketType.Connect)
                {
                    throw new MqttProtocolException(MqttReasonCode.ProtocolError, "First packet was not CONNECT.");
                }

                MqttConnectDecoder.TryGetProtocolVersion(body, out _);
                var connect = MqttConnectDecoder.Decode(header, body);
                version = connect.ProtocolVersion;
                _ = connect.Will?.ToApplicationMessage();
                connected = true;
            }
            else
            {
                DecodeUplink(header, body, version);
            }
        }
    }

    private static void DecodeUplink(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        switch (header.PacketType)
        {
            case MqttPacketType.Publish:
                UsePublish(MqttPublishDecoder.Decode(header, body, version));
                break;
            case MqttPacketType.PubAck:
            case MqttPacketType.PubRec:
            case MqttPacketType.PubComp:
            case MqttPacketType.PubRel:
                MqttPubAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.Subscribe:
                foreach (var subscription in MqttSubscribeDecoder.Decode(header, body, version).Subscriptions)
                {
                    if (MqttTopic.TryParseSharedSubscription(subscription.TopicFilter, out _, out var inner))
                    {
                        MqttTopic.IsValidTopicFilter(inner);
                    }
                }

                break;
            case MqttPacketType.Unsubscribe:
                MqttUnsubscribeDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.PingReq:
                MqttPingDecoder.Decode(header, body);
                break;
            case MqttPacketType.Disconnect:
                MqttDisconnectDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.Auth:
                MqttAuthDecoder.Decode(header, body, version);
                break;
            default:
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, $"{header.PacketType} is not sent by clients.");
        }
    }

    private static void DecodeDownlink(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        switch (header.PacketType)
        {
            case MqttPacketType.ConnAck:
                MqttConnAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.Publish:
                UsePublish(MqttPublishDecoder.Decode(header, body, version));
                break;
            case MqttPacketType.PubAck:
            case MqttPacketType.PubRec:
            case MqttPacketType.PubComp:
            case MqttPacketType.PubRel:
                MqttPubAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.SubAck:
                MqttSubAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.UnsubAck:
                MqttUnsubAckDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.PingResp:
                MqttPingDecoder.Decode(header, body);
                break;
            case MqttPacketType.Disconnect:
                MqttDisconnectDecoder.Decode(header, body, version);
                break;
            case MqttPacketType.Auth:
                MqttAuthDecoder.Decode(header, body, version);
                break;
            default:
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, $"{header.PacketType} is not sent by servers.");
        }
    }

    /// <summary>What the broker does with a decoded PUBLISH: the owned message, the format check, the lazy property views.</summary>
    private static void UsePublish(in MqttPublishPacket publish)
    {
        publish.IsPayloadFormatValid();
        _ = publish.TopicName.IsEmpty ? publish.ToApplicationMessage("alias/resolved") : publish.ToApplicationMessage();
        foreach (var _ in publish.SubscriptionIdentifiers)
        {
        }

        foreach (var property in publish.UserProperties)
        {
            property.ToUserProperty();
        }
    }
}
