namespace AccessLayer.Protocol.Mqtt;

/// <summary>UNSUBACK (spec 3.11). 3.1.1 carries only the packet id; reason codes and properties are 5.0.</summary>
public sealed class MqttUnsubAckPacket
{
    public ushort PacketId { get; init; }

    public IReadOnlyList<MqttReasonCode> ReasonCodes { get; init; } = [];

    public string? ReasonString { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}
