namespace AccessLayer.Protocol.Mqtt;

/// <summary>The will message a CONNECT carries; the 5.0-only fields stay at their defaults on 3.1.1.</summary>
public sealed class MqttWillMessage
{
    public required string Topic { get; init; }

    public ReadOnlyMemory<byte> Payload { get; init; }

    public MqttQualityOfService QualityOfService { get; init; }

    public bool Retain { get; init; }

    /// <summary>5.0: seconds the server waits after the connection drops before it publishes the will.</summary>
    public uint WillDelayInterval { get; init; }

    /// <summary>5.0: 0 unspecified bytes, 1 UTF-8 text.</summary>
    public byte PayloadFormatIndicator { get; init; }

    public uint? MessageExpiryInterval { get; init; }

    public string? ContentType { get; init; }

    public string? ResponseTopic { get; init; }

    /// <summary>5.0 correlation data; empty means absent.</summary>
    public ReadOnlyMemory<byte> CorrelationData { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];

    /// <summary>The will as the message the broker publishes when it fires.</summary>
    public MqttApplicationMessage ToApplicationMessage() => new()
    {
        Topic = Topic,
        Payload = Payload,
        QualityOfService = QualityOfService,
        Retain = Retain,
        PayloadFormatIndicator = PayloadFormatIndicator,
        MessageExpiryInterval = MessageExpiryInterval,
        ContentType = ContentType,
        ResponseTopic = ResponseTopic,
        CorrelationData = CorrelationData,
        UserProperties = UserProperties,
    };
}
