using System.Buffers;

namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// A received PUBLISH (spec 3.3), decoded without touching the heap: every variable-size field is a
/// slice of the packet body, so it is valid only while that buffer is (until the pipe is advanced).
/// <see cref="ToApplicationMessage"/> makes the owned copy the broker routes.
/// </summary>
public readonly struct MqttPublishPacket
{
    public MqttQualityOfService QualityOfService { get; internal init; }

    public bool Retain { get; internal init; }

    public bool Dup { get; internal init; }

    /// <summary>0 for QoS 0.</summary>
    public ushort PacketId { get; internal init; }

    /// <summary>UTF-8, validated, no wildcards. Empty only on 5.0 with a <see cref="TopicAlias"/>.</summary>
    public ReadOnlySequence<byte> TopicName { get; internal init; }

    public ReadOnlySequence<byte> Payload { get; internal init; }

    /// <summary>5.0: 0 unspecified bytes, 1 UTF-8 text.</summary>
    public byte PayloadFormatIndicator { get; internal init; }

    public uint? MessageExpiryInterval { get; internal init; }

    /// <summary>5.0: 0 when absent.</summary>
    public ushort TopicAlias { get; internal init; }

    public bool HasContentType { get; internal init; }

    public ReadOnlySequence<byte> ContentType { get; internal init; }

    public bool HasResponseTopic { get; internal init; }

    public ReadOnlySequence<byte> ResponseTopic { get; internal init; }

    public bool HasCorrelationData { get; internal init; }

    public ReadOnlySequence<byte> CorrelationData { get; internal init; }

    /// <summary>5.0: the raw, already validated property block (for forwarding as is).</summary>
    public ReadOnlySequence<byte> Properties { get; internal init; }

    public int SubscriptionIdentifierCount { get; internal init; }

    public int UserPropertyCount { get; internal init; }

    /// <summary>The Subscription Identifier properties, in order, without allocating.</summary>
    public MqttPublishSubscriptionIdentifiers SubscriptionIdentifiers => new(Properties);

    /// <summary>The User Property pairs as UTF-8 slices, in order, without allocating.</summary>
    public MqttPublishUserProperties UserProperties => new(Properties);

    public string GetTopicName() => MqttUtf8.GetString(TopicName);

    /// <summary>5.0 PUBACK 0x99 check for a payload that claims to be UTF-8 text.</summary>
    public bool IsPayloadFormatValid() => PayloadFormatIndicator == 0 || MqttUtf8.IsValid(Payload);

    /// <summary>
    /// The owned message the broker stores and fans out (allocates the topic, payload copy and properties).
    /// Pass <paramref name="resolvedTopic"/> when the topic came from a topic alias.
    /// </summary>
    public MqttApplicationMessage ToApplicationMessage(string? resolvedTopic = null)
    {
        var topic = resolvedTopic ?? (TopicName.IsEmpty
            ? throw new InvalidOperationException("The PUBLISH names its topic only by alias; pass the resolved topic.")
            : GetTopicName());

        List<MqttUserProperty>? userProperties = null;
        if (UserPropertyCount > 0)
        {
            userProperties = new List<MqttUserProperty>(UserPropertyCount);
            foreach (var property in UserProperties)
            {
                userProperties.Add(property.ToUserProperty());
            }
        }

        return new MqttApplicationMessage
        {
            Topic = topic,
            Payload = Payload.IsEmpty ? ReadOnlyMemory<byte>.Empty : Payload.ToArray(),
            QualityOfService = QualityOfService,
            Retain = Retain,
            PayloadFormatIndicator = PayloadFormatIndicator,
            MessageExpiryInterval = MessageExpiryInterval,
            ContentType = HasContentType ? MqttUtf8.GetString(ContentType) : null,
            ResponseTopic = HasResponseTopic ? MqttUtf8.GetString(ResponseTopic) : null,
            CorrelationData = HasCorrelationData ? CorrelationData.ToArray() : ReadOnlyMemory<byte>.Empty,
            UserProperties = userProperties is null ? [] : userProperties,
        };
    }
}
