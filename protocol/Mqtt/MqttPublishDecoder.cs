using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>Decodes PUBLISH (spec 3.3) with no heap allocation.</summary>
public static class MqttPublishDecoder
{
    private const string Context = "PUBLISH";

    public static MqttPublishPacket Decode(in MqttFixedHeader header, in ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        header.Validate(MqttPacketType.Publish);
        var qos = header.QualityOfService;
        if (qos == MqttQualityOfService.AtMostOnce && header.Dup && version == MqttProtocolVersion.V500)
        {
            MqttThrow.Malformed("PUBLISH with QoS 0 must not set DUP.");
        }

        var reader = new MqttBodyReader(body);
        var topic = reader.ReadUtf8();
        ushort packetId = 0;
        if (qos != MqttQualityOfService.AtMostOnce)
        {
            packetId = reader.ReadUInt16();
            if (packetId == 0)
            {
                MqttThrow.Protocol("PUBLISH with QoS > 0 needs a non-zero packet identifier.");
            }
        }

        byte payloadFormat = 0;
        uint? expiry = null;
        ushort topicAlias = 0;
        bool hasContentType = false, hasResponseTopic = false, hasCorrelationData = false;
        ReadOnlySequence<byte> contentType = default, responseTopic = default, correlationData = default, properties = default;
        int subscriptionIdentifiers = 0, userProperties = 0;

        if (version == MqttProtocolVersion.V500)
        {
            properties = reader.ReadPropertyBlock();
            var props = new MqttPropertyReader(properties, MqttPropertySets.Publish, MqttPropertySets.PublishRepeatable, Context);
            while (props.TryReadNext(out var id))
            {
                switch (id)
                {
                    case MqttPropertyId.PayloadFormatIndicator:
                        payloadFormat = props.ReadFlag(id) ? (byte)1 : (byte)0;
                        break;
                    case MqttPropertyId.MessageExpiryInterval:
                        expiry = props.ReadUInt32();
                        break;
                    case MqttPropertyId.TopicAlias:
                        topicAlias = props.ReadNonZeroUInt16(id, MqttReasonCode.TopicAliasInvalid);
                        break;
                    case MqttPropertyId.ContentType:
                        contentType = props.ReadUtf8();
                        hasContentType = true;
                        break;
                    case MqttPropertyId.ResponseTopic:
                        responseTopic = props.ReadUtf8();
                        hasResponseTopic = true;
                        if (!IsValidTopicName(responseTopic, allowEmpty: false))
                        {
                            MqttThrow.Protocol("Response Topic must be a topic name without wildcards.");
                        }

                        break;
                    case MqttPropertyId.CorrelationData:
                        correlationData = props.ReadBinary();
                        hasCorrelationData = true;
                        break;
                    case MqttPropertyId.SubscriptionIdentifier:
                        props.ReadSubscriptionIdentifier();
                        subscriptionIdentifiers++;
                        break;
                    default:
                        props.SkipUserProperty();
                        userProperties++;
                        break;
                }
            }
        }

        if (topic.IsEmpty && topicAlias == 0)
        {
            MqttThrow.Protocol("PUBLISH has an empty topic name and no topic alias.");
        }

        if (!IsValidTopicName(topic, allowEmpty: true))
        {
            MqttThrow.With(MqttReasonCode.TopicNameInvalid, "PUBLISH topic name contains a wildcard.");
        }

        return new MqttPublishPacket
        {
            QualityOfService = qos,
            Retain = header.Retain,
            Dup = header.Dup,
            PacketId = packetId,
            TopicName = topic,
            Payload = reader.ReadToEnd(),
            PayloadFormatIndicator = payloadFormat,
            MessageExpiryInterval = expiry,
            TopicAlias = topicAlias,
            HasContentType = hasContentType,
            ContentType = contentType,
            HasResponseTopic = hasResponseTopic,
            ResponseTopic = responseTopic,
            HasCorrelationData = hasCorrelationData,
            CorrelationData = correlationData,
            Properties = properties,
            SubscriptionIdentifierCount = subscriptionIdentifiers,
            UserPropertyCount = userProperties,
        };
    }

    /// <summary>'+' and '#' are ASCII, so a byte scan per segment is exact on validated UTF-8.</summary>
    private static bool IsValidTopicName(in ReadOnlySequence<byte> topic, bool allowEmpty)
    {
        if (topic.IsSingleSegment)
        {
            return MqttTopic.IsValidTopicName(topic.FirstSpan, allowEmpty);
        }

        foreach (var segment in topic)
        {
            if (segment.Span.IndexOfAny((byte)'+', (byte)'#') >= 0)
            {
                return false;
            }
        }

        return allowEmpty || !topic.IsEmpty;
    }
}
