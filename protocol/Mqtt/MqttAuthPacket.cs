namespace AccessLayer.Protocol.Mqtt;

/// <summary>AUTH (spec 3.15, 5.0 only): one step of enhanced authentication.</summary>
public sealed class MqttAuthPacket
{
    public MqttReasonCode ReasonCode { get; init; }

    public string? AuthenticationMethod { get; init; }

    public byte[]? AuthenticationData { get; init; }

    public string? ReasonString { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}
