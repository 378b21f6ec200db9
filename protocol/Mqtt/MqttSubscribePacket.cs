namespace AccessLayer.Protocol.Mqtt;

/// <summary>
/// SUBSCRIBE (spec 3.8). Filters are UTF-8 checked but not syntax checked: an invalid filter earns
/// its own SUBACK code (use <see cref="MqttTopic.IsValidTopicFilter(string)"/>), not a disconnect.
/// </summary>
public sealed class MqttSubscribePacket
{
    public ushort PacketId { get; init; }

    /// <summary>5.0: 1..268435455, or null when absent.</summary>
    public uint? SubscriptionIdentifier { get; init; }

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];

    public IReadOnlyList<MqttTopicSubscription> Subscriptions { get; init; } = [];
}
