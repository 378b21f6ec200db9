namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// A published message as the broker stores and routes it, independent of any one
/// connection: per-delivery fields (packet id, DUP, topic alias, subscription ids, the
/// granted QoS) belong to the outgoing PUBLISH, not here. Immutable so one instance can be
/// shared by every subscriber it fans out to.
/// </summary>
public sealed class MqttApplicationMessage
{
    public required string Topic { get; init; }

    public ReadOnlyMemory<byte> Payload { get; init; }

    public MqttQualityOfService QualityOfService { get; init; }

    public bool Retain { get; init; }

    /// <summary>5.0 payload format indicator: 0 unspecified bytes, 1 UTF-8 text.</summary>
    public byte PayloadFormatIndicator { get; init; }

    /// <summary>5.0 message expiry interval in seconds as received; null means the message does not expire.</summary>
    public uint? MessageExpiryInterval { get; init; }

    public string? ContentType { get; init; }

    public string? ResponseTopic { get; init; }

    public ReadOnlyMemory<byte> CorrelationData { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}
