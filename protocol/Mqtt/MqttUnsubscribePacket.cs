namespace AccessLayer.Protocol.Mqtt;

/// <summary>UNSUBSCRIBE (spec 3.10).</summary>
public sealed class MqttUnsubscribePacket
{
    public ushort PacketId { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];

    public IReadOnlyList<string> TopicFilters { get; init; } = [];
}
