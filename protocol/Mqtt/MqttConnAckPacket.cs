namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// CONNACK (spec 3.2). <see cref="ReasonCode"/> is the single source of the outcome: a 3.1.1
/// writer maps it to the nearest <see cref="MqttConnectReturnCode"/>, a 3.1.1 decoder maps back.
/// Properties are 5.0 only; each keeps the spec default when absent.
/// </summary>
public sealed class MqttConnAckPacket
{
    public bool SessionPresent { get; init; }

    public MqttReasonCode ReasonCode { get; init; }

    /// <summary>The 3.1.1 view of <see cref="ReasonCode"/>.</summary>
    public MqttConnectReturnCode ReturnCode => MqttReasonCodes.ToConnectReturnCode(ReasonCode);

    public uint? SessionExpiryInterval { get; init; }

    public ushort ReceiveMaximum { get; init; } = ushort.MaxValue;

    /// <summary>ExactlyOnce when absent; only AtMostOnce or AtLeastOnce go on the wire.</summary>
    public MqttQualityOfService MaximumQoS { get; init; } = MqttQualityOfService.ExactlyOnce;

    public bool RetainAvailable { get; init; } = true;

    public uint? MaximumPacketSize { get; init; }

    public string? AssignedClientIdentifier { get; init; }

    public ushort TopicAliasMaximum { get; init; }

    public string? ReasonString { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];

    public bool WildcardSubscriptionAvailable { get; init; } = true;

    public bool SubscriptionIdentifiersAvailable { get; init; } = true;

    public bool SharedSubscriptionAvailable { get; init; } = true;

    public ushort? ServerKeepAlive { get; init; }

    public string? ResponseInformation { get; init; }

    public string? ServerReference { get; init; }

    public string? AuthenticationMethod { get; init; }

    public byte[]? AuthenticationData { get; init; }
}
