namespace AccessLayer.Protocol.Mqtt;

/// <summary>DISCONNECT (spec 3.14). 3.1.1 has an empty body; everything here is 5.0.</summary>
public sealed class MqttDisconnectPacket
{
    public MqttReasonCode ReasonCode { get; init; }

    public uint? SessionExpiryInterval { get; init; }

    public string? ReasonString { get; init; }

    /// <summary>With UseAnotherServer / ServerMoved: where the client should go.</summary>
    public string? ServerReference { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}
