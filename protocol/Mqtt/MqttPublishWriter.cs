using System.Buffers;
using System.Text;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// Writes PUBLISH (spec 3.3) without allocating: the size pass runs first, the topic is encoded as
/// UTF-8 straight into the output span, and a large payload is copied after the header.
/// </summary>
public static class MqttPublishWriter
{
    // Below this the whole packet goes into one span; above it the payload is copied on its own so a
    // big message does not demand one contiguous buffer from the pipe.
    private const int SingleSpanLimit = 4096;

    /// <summary>
    /// Writes one PUBLISH of <paramref name="message"/> as delivered to one receiver.
    /// </summary>
    /// <param name="topicAlias">5.0: 0 for none.</param>
    /// <param name="subscriptionIdentifiers">5.0: the identifiers of the matching subscriptions (each 1..268435455).</param>
    /// <param name="omitTopicName">5.0, with a <paramref name="topicAlias"/> the receiver already knows: write an empty topic name.</param>
    /// <param name="messageExpiryInterval">5.0: overrides the message's expiry with the time it has left (spec 3.3.2.3.3).</param>
    public static void Write(
        IBufferWriter<byte> output,
        MqttProtocolVersion version,
        MqttApplicationMessage message,
        MqttQualityOfService qos,
        bool retain,
        bool dup,
        ushort packetId,
        ushort topicAlias,
        ReadOnlySpan<uint> subscriptionIdentifiers,
        bool omitTopicName = false,
        uint? messageExpiryInterval = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(message);
        var v5 = version == MqttProtocolVersion.V500;
        Validate(qos, dup, packetId, topicAlias, omitTopicName, v5);

        var topicBytes = omitTopicName ? 0 : MqttUtf8.GetByteCount(message.Topic);
        var expiry = messageExpiryInterval ?? message.MessageExpiryInterval;
        var propertiesLength = v5 ? PropertiesLength(message, topicAlias, subscriptionIdentifiers, expiry) : 0;
        var headerBody = 2 + topicBytes + (qos == MqttQualityOfService.AtMostOnce ? 0 : 2)
            + (v5 ? MqttSize.PropertyBlock(propertiesLength) : 0);
        var payload = message.Payload.Span;
        var remainingLength = headerBody + payload.Length;
        var total = MqttSize.Packet(remainingLength);
        var headerTotal = total - payload.Length;
        var single = total <= SingleSpanLimit;

        var spanLength = single ? total : headerTotal;
        var writer = new MqttSpanWriter(output.GetSpan(spanLength)[..spanLength]);
        writer.WriteFixedHeader(MqttPacketType.Publish, Flags(qos, retain, dup), remainingLength);
        if (omitTopicName)
        {
            writer.WriteUInt16(0);
        }
        else
        {
            writer.WriteString(message.Topic);
        }

        if (qos != MqttQualityOfService.AtMostOnce)
        {
            writer.WriteUInt16(packetId);
        }

        if (v5)
        {
            writer.WriteVariableByteInteger(propertiesLength);
            WriteProperties(ref writer, message, topicAlias, subscriptionIdentifiers, expiry);
        }

        if (single)
        {
            writer.WriteBytes(payload);
            writer.Complete(total);
            output.Advance(total);
        }
        else
        {
            writer.Complete(headerTotal);
            output.Advance(headerTotal);
            output.Write(payload);
        }
    }

    /// <summary>The exact bytes <see cref="Write(IBufferWriter{byte}, MqttProtocolVersion, MqttApplicationMessage, MqttQualityOfService, bool, bool, ushort, ushort, ReadOnlySpan{uint}, bool, uint?)"/> would produce, to check a client's Maximum Packet Size first.</summary>
    public static int GetPacketSize(
        MqttProtocolVersion version,
        MqttApplicationMessage message,
        MqttQualityOfService qos,
        ushort topicAlias,
        ReadOnlySpan<uint> subscriptionIdentifiers,
        bool omitTopicName = false,
        uint? messageExpiryInterval = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var v5 = version == MqttProtocolVersion.V500;
        var topicBytes = omitTopicName ? 0 : MqttUtf8.GetByteCount(message.Topic);
        var propertiesLength = v5 ? PropertiesLength(message, topicAlias, subscriptionIdentifiers, messageExpiryInterval ?? message.MessageExpiryInterval) : 0;
        var remainingLength = 2 + topicBytes + (qos == MqttQualityOfService.AtMostOnce ? 0 : 2)
            + (v5 ? MqttSize.PropertyBlock(propertiesLength) : 0) + message.Payload.Length;
        return MqttSize.Packet(remainingLength);
    }

    /// <summary>
    /// Re-emits a decoded PUBLISH (for example a bot echoing, or a proxy): topic, payload and, on 5.0,
    /// the validated property block as received.
    /// </summary>
    public static void Write(IBufferWriter<byte> output, MqttProtocolVersion version, in MqttPublishPacket packet)
    {
        ArgumentNullException.ThrowIfNull(output);
        var v5 = version == MqttProtocolVersion.V500;
        Validate(packet.QualityOfService, packet.Dup, packet.PacketId, v5 ? packet.TopicAlias : (ushort)0, packet.TopicName.IsEmpty, v5);
        var propertiesLength = v5 ? (int)packet.Properties.Length : 0;
        var remainingLength = 2 + (int)packet.TopicName.Length + (packet.QualityOfService == MqttQualityOfService.AtMostOnce ? 0 : 2)
            + (v5 ? MqttSize.PropertyBlock(propertiesLength) : 0) + (int)packet.Payload.Length;
        _ = MqttSize.Packet(remainingLength);

        var writer = new MqttSpanWriter(output.GetSpan(1 + MqttVariableByteInteger.MaxSize + 2));
        writer.WriteFixedHeader(MqttPacketType.Publish, Flags(packet.QualityOfService, packet.Retain, packet.Dup), remainingLength);
        writer.WriteUInt16((ushort)packet.TopicName.Length);
        output.Advance(writer.Written);
        Copy(output, packet.TopicName);

        writer = new MqttSpanWriter(output.GetSpan(2 + MqttVariableByteInteger.MaxSize));
        if (packet.QualityOfService != MqttQualityOfService.AtMostOnce)
        {
            writer.WriteUInt16(packet.PacketId);
        }

        if (v5)
        {
            writer.WriteVariableByteInteger(propertiesLength);
        }

        output.Advance(writer.Written);
        if (v5)
        {
            Copy(output, packet.Properties);
        }

        Copy(output, packet.Payload);
    }

    private static void Copy(IBufferWriter<byte> output, in ReadOnlySequence<byte> source)
    {
        foreach (var segment in source)
        {
            output.Write(segment.Span);
        }
    }

    private static void Validate(MqttQualityOfService qos, bool dup, ushort packetId, ushort topicAlias, bool omitTopicName, bool v5)
    {
        if ((byte)qos > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(qos), qos, "QoS is 0, 1 or 2.");
        }

        if (qos != MqttQualityOfService.AtMostOnce && packetId == 0)
        {
            throw new ArgumentException("PUBLISH with QoS > 0 needs a non-zero packet identifier.", nameof(packetId));
        }

        if (qos == MqttQualityOfService.AtMostOnce && dup)
        {
            throw new ArgumentException("PUBLISH with QoS 0 must not set DUP.", nameof(dup));
        }

        if (omitTopicName && (!v5 || topicAlias == 0))
        {
            throw new ArgumentException("Only a 5.0 PUBLISH with a topic alias may omit its topic name.", nameof(omitTopicName));
        }
    }

    private static byte Flags(MqttQualityOfService qos, bool retain, bool dup) =>
        (byte)((dup ? 0x08 : 0) | ((int)qos << 1) | (retain ? 0x01 : 0));

    private static int PropertiesLength(MqttApplicationMessage message, ushort topicAlias, ReadOnlySpan<uint> subscriptionIdentifiers, uint? expiry)
    {
        var length = 0;
        if (message.PayloadFormatIndicator != 0)
        {
            length += 2;
        }

        if (expiry.HasValue)
        {
            length += 5;
        }

        if (topicAlias != 0)
        {
            length += 3;
        }

        length += MqttSize.StringProperty(message.ResponseTopic);
        if (!message.CorrelationData.IsEmpty)
        {
            length += 1 + MqttSize.Binary(message.CorrelationData.Length);
        }

        foreach (var id in subscriptionIdentifiers)
        {
            if (id == 0 || id > MqttVariableByteInteger.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(subscriptionIdentifiers), id, "A subscription identifier is 1..268435455.");
            }

            length += 1 + MqttVariableByteInteger.GetSize((int)id);
        }

        length += MqttSize.StringProperty(message.ContentType);
        length += MqttSize.UserProperties(message.UserProperties);
        return length;
    }

    private static void WriteProperties(ref MqttSpanWriter writer, MqttApplicationMessage message, ushort topicAlias, ReadOnlySpan<uint> subscriptionIdentifiers, uint? expiry)
    {
        if (message.PayloadFormatIndicator != 0)
        {
            writer.WriteProperty(MqttPropertyId.PayloadFormatIndicator, message.PayloadFormatIndicator);
        }

        if (expiry.HasValue)
        {
            writer.WriteProperty(MqttPropertyId.MessageExpiryInterval, expiry.Value);
        }

        if (topicAlias != 0)
        {
            writer.WriteProperty(MqttPropertyId.TopicAlias, topicAlias);
        }

        if (message.ResponseTopic is not null)
        {
            writer.WriteProperty(MqttPropertyId.ResponseTopic, message.ResponseTopic);
        }

        if (!message.CorrelationData.IsEmpty)
        {
            writer.WriteProperty(MqttPropertyId.CorrelationData, message.CorrelationData.Span);
        }

        foreach (var id in subscriptionIdentifiers)
        {
            writer.WriteVariableByteIntegerProperty(MqttPropertyId.SubscriptionIdentifier, (int)id);
        }

        if (message.ContentType is not null)
        {
            writer.WriteProperty(MqttPropertyId.ContentType, message.ContentType);
        }

        writer.WriteUserProperties(message.UserProperties);
    }
}
