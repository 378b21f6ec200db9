namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// SUBACK (spec 3.9): one code per requested filter. On 3.1.1 only GrantedQoS0..2 and 0x80 exist;
/// the writer sends any failure code as 0x80.
/// </summary>
public sealed class MqttSubAckPacket
{
    public ushort PacketId { get; init; }

    public IReadOnlyList<MqttReasonCode> ReasonCodes { get; init; } = [];

    public string? ReasonString { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}
