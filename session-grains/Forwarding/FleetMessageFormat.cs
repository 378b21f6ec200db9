using AccessLayer.Protocol.Mqtt;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Forwarding;

/// <summary>
/// The parts units share: an application message, a delivery and a subscription (layouts in
/// docs/fleet-codec.md). Each has a size, a write into an exactly sized span and a read.
/// </summary>
internal static class FleetMessageFormat
{
    private const byte QosMask = 0x03;
    private const byte MessageRetain = 0x04;
    private const byte MessageHasExpiry = 0x08;
    private const byte MessageHasContentType = 0x10;
    private const byte MessageHasResponseTopic = 0x20;
    private const byte MessageReserved = 0xC0;

    private const byte DeliveryRetain = 0x04;
    private const byte DeliveryDurable = 0x08;
    private const byte DeliveryReserved = 0xF0;

    private const byte NoLocal = 0x04;
    private const byte RetainAsPublished = 0x08;
    private const int RetainHandlingShift = 4;
    private const byte OptionsReserved = 0xC0;

    /// <summary>Bytes of <paramref name="message"/> up to and including its payload length (the payload itself excluded).</summary>
    public static int MessageHeadSize(MqttApplicationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        _ = Qos(message.QualityOfService);
        var size = FleetSize.String(message.Topic) + 2
            + (message.MessageExpiryInterval.HasValue ? 4 : 0)
            + FleetSize.OptionalString(message.ContentType)
            + FleetSize.OptionalString(message.ResponseTopic)
            + FleetSize.Bytes(message.CorrelationData.Length, FleetSize.MaxBinaryBytes)
            + FleetSize.Count(message.UserProperties.Count);
        for (var i = 0; i < message.UserProperties.Count; i++)
        {
            var property = message.UserProperties[i];
            size = checked(size + FleetSize.String(property.Name) + FleetSize.String(property.Value));
        }

        return checked(size + FleetSize.Bytes(message.Payload.Length, FleetSize.MaxLength) - message.Payload.Length);
    }

    public static int MessageSize(MqttApplicationMessage message) => checked(MessageHeadSize(message) + message.Payload.Length);

    /// <summary>Writes all of <paramref name="message"/> but the payload bytes, which the caller writes next.</summary>
    public static void WriteMessageHead(ref MqttSpanWriter writer, MqttApplicationMessage message)
    {
        FleetFields.WriteString(ref writer, message.Topic);
        var flags = (byte)(Qos(message.QualityOfService)
            | (message.Retain ? MessageRetain : 0)
            | (message.MessageExpiryInterval.HasValue ? MessageHasExpiry : 0)
            | (message.ContentType is null ? 0 : MessageHasContentType)
            | (message.ResponseTopic is null ? 0 : MessageHasResponseTopic));
        writer.WriteByte(flags);
        writer.WriteByte(message.PayloadFormatIndicator);
        if (message.MessageExpiryInterval is { } expiry)
        {
            writer.WriteUInt32(expiry);
        }

        if (message.ContentType is not null)
        {
            FleetFields.WriteString(ref writer, message.ContentType);
        }

        if (message.ResponseTopic is not null)
        {
            FleetFields.WriteString(ref writer, message.ResponseTopic);
        }

        FleetFields.WriteLengthPrefixed(ref writer, message.CorrelationData.Span);
        writer.WriteVariableByteInteger(message.UserProperties.Count);
        for (var i = 0; i < message.UserProperties.Count; i++)
        {
            var property = message.UserProperties[i];
            FleetFields.WriteString(ref writer, property.Name);
            FleetFields.WriteString(ref writer, property.Value);
        }

        writer.WriteVariableByteInteger(message.Payload.Length);
    }

    public static void WriteMessage(ref MqttSpanWriter writer, MqttApplicationMessage message)
    {
        WriteMessageHead(ref writer, message);
        writer.WriteBytes(message.Payload.Span);
    }

    /// <summary>Reads a message; its payload and correlation data are slices of the reader's input.</summary>
    public static MqttApplicationMessage ReadMessage(ref MqttBodyReader reader)
    {
        var topic = FleetFields.ReadString(ref reader);
        var flags = reader.ReadByte();
        if ((flags & MessageReserved) != 0)
        {
            FleetFields.Throw("A message has reserved flag bits set.");
        }

        var qos = ReadQos(flags);
        var payloadFormat = reader.ReadByte();
        uint? expiry = (flags & MessageHasExpiry) != 0 ? reader.ReadUInt32() : null;
        var contentType = (flags & MessageHasContentType) != 0 ? FleetFields.ReadString(ref reader) : null;
        var responseTopic = (flags & MessageHasResponseTopic) != 0 ? FleetFields.ReadString(ref reader) : null;
        var correlation = FleetFields.ReadMemory(ref reader, FleetSize.MaxBinaryBytes);
        var properties = FleetFields.ArrayForCount<MqttUserProperty>(ref reader, FleetSize.MinUserProperty);
        for (var i = 0; i < properties.Length; i++)
        {
            var name = FleetFields.ReadString(ref reader);
            properties[i] = new MqttUserProperty(name, FleetFields.ReadString(ref reader));
        }

        return new MqttApplicationMessage
        {
            Topic = topic,
            QualityOfService = qos,
            Retain = (flags & MessageRetain) != 0,
            PayloadFormatIndicator = payloadFormat,
            MessageExpiryInterval = expiry,
            ContentType = contentType,
            ResponseTopic = responseTopic,
            CorrelationData = correlation,
            UserProperties = properties,
            Payload = FleetFields.ReadMemory(ref reader, FleetSize.MaxLength),
        };
    }

    public static int DeliverySize(MessageDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        _ = Qos(delivery.QualityOfService);
        var ids = delivery.SubscriptionIdentifiers;
        var size = 1 + (delivery.DurableId == Guid.Empty ? 0 : 16) + FleetSize.Count(ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            size += FleetSize.SubscriptionIdentifier(ids[i]);
        }

        return checked(size + MessageSize(delivery.Message));
    }

    public static void WriteDelivery(ref MqttSpanWriter writer, MessageDelivery delivery)
    {
        var durable = delivery.DurableId != Guid.Empty;
        writer.WriteByte((byte)(Qos(delivery.QualityOfService) | (delivery.Retain ? DeliveryRetain : 0) | (durable ? DeliveryDurable : 0)));
        if (durable)
        {
            FleetFields.WriteGuid(ref writer, delivery.DurableId);
        }

        var ids = delivery.SubscriptionIdentifiers;
        writer.WriteVariableByteInteger(ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            writer.WriteVariableByteInteger((int)ids[i]);
        }

        WriteMessage(ref writer, delivery.Message);
    }

    public static MessageDelivery ReadDelivery(ref MqttBodyReader reader)
    {
        var flags = reader.ReadByte();
        if ((flags & DeliveryReserved) != 0)
        {
            FleetFields.Throw("A delivery has reserved flag bits set.");
        }

        var qos = ReadQos(flags);
        var durableId = (flags & DeliveryDurable) != 0 ? FleetFields.ReadGuid(ref reader) : Guid.Empty;
        var ids = FleetFields.ArrayForCount<uint>(ref reader, FleetSize.MinVarint);
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = (uint)reader.ReadVariableByteInteger();
        }

        return new MessageDelivery
        {
            Message = ReadMessage(ref reader),
            QualityOfService = qos,
            Retain = (flags & DeliveryRetain) != 0,
            SubscriptionIdentifiers = ids,
            DurableId = durableId,
        };
    }

    public static int SubscriptionSize(Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        var options = subscription.Options;
        _ = Qos(options.MaximumQualityOfService);
        if ((byte)options.RetainHandling > (byte)RetainHandling.DoNotSend)
        {
            throw new ArgumentOutOfRangeException(nameof(subscription), options.RetainHandling, "Retain handling is 0, 1 or 2.");
        }

        return FleetSize.String(subscription.TopicFilter) + 1 + FleetSize.SubscriptionIdentifier(subscription.Options.SubscriptionIdentifier);
    }

    public static void WriteSubscription(ref MqttSpanWriter writer, Subscription subscription)
    {
        var options = subscription.Options;
        FleetFields.WriteString(ref writer, subscription.TopicFilter);
        writer.WriteByte((byte)(Qos(options.MaximumQualityOfService)
            | (options.NoLocal ? NoLocal : 0)
            | (options.RetainAsPublished ? RetainAsPublished : 0)
            | ((int)options.RetainHandling << RetainHandlingShift)));
        writer.WriteVariableByteInteger((int)options.SubscriptionIdentifier);
    }

    public static Subscription ReadSubscription(ref MqttBodyReader reader)
    {
        var filter = FleetFields.ReadString(ref reader);
        var flags = reader.ReadByte();
        var retainHandling = (flags >> RetainHandlingShift) & 0x03;
        if ((flags & OptionsReserved) != 0 || retainHandling > (int)RetainHandling.DoNotSend)
        {
            FleetFields.Throw("Subscription options have reserved bits set.");
        }

        var options = new SubscriptionOptions(
            ReadQos(flags),
            (flags & NoLocal) != 0,
            (flags & RetainAsPublished) != 0,
            (RetainHandling)retainHandling,
            (uint)reader.ReadVariableByteInteger());
        return new Subscription(filter, options);
    }

    private static byte Qos(MqttQualityOfService qos) =>
        (byte)qos <= (byte)MqttQualityOfService.ExactlyOnce
            ? (byte)qos
            : throw new ArgumentOutOfRangeException(nameof(qos), qos, "QoS is 0, 1 or 2.");

    private static MqttQualityOfService ReadQos(byte flags)
    {
        var qos = flags & QosMask;
        if (qos > (int)MqttQualityOfService.ExactlyOnce)
        {
            FleetFields.Throw("QoS 3 is not a QoS.");
        }

        return (MqttQualityOfService)qos;
    }
}
