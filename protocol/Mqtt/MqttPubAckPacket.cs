namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// PUBACK, PUBREC, PUBREL or PUBCOMP (spec 3.4-3.7), told apart by <see cref="Type"/>. 3.1.1 carries
/// only the packet id; 5.0 may add a reason code and properties. Decoding allocates only when a
/// reason string or user properties are present.
/// </summary>
public readonly struct MqttPubAckPacket
{
    public MqttPubAckPacket(
        MqttPacketType type,
        ushort packetId,
        MqttReasonCode reasonCode = MqttReasonCode.Success,
        string? reasonString = null,
        IReadOnlyList<MqttUserProperty>? userProperties = null)
    {
        if (type is not (MqttPacketType.PubAck or MqttPacketType.PubRec or MqttPacketType.PubRel or MqttPacketType.PubComp))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Only PUBACK, PUBREC, PUBREL or PUBCOMP.");
        }

        Type = type;
        PacketId = packetId;
        ReasonCode = reasonCode;
        ReasonString = reasonString;
        _userProperties = userProperties;
    }

    private readonly IReadOnlyList<MqttUserProperty>? _userProperties;

    public MqttPacketType Type { get; }

    public ushort PacketId { get; }

    public MqttReasonCode ReasonCode { get; }

    public string? ReasonString { get; }

    public IReadOnlyList<MqttUserProperty> UserProperties => _userProperties ?? [];
}
