using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Store;

/// <summary>
/// A message on its way to one session, with what is specific to that delivery: the QoS it
/// is sent at (min of message QoS and granted QoS), the RETAIN flag as sent, and the
/// subscription identifiers of the matching subscriptions. Stored in the offline queue and
/// the inflight table, resent verbatim (with DUP) after a reconnect.
/// </summary>
public sealed record MessageDelivery
{
    public required MqttApplicationMessage Message { get; init; }

    public MqttQualityOfService QualityOfService { get; init; }

    public bool Retain { get; init; }

    public IReadOnlyList<uint> SubscriptionIdentifiers { get; init; } = [];

    /// <summary>
    /// In a fleet, the id under which this message also sits in the session's durable queue in Redis
    /// (acknowledging the delivery removes it there); <see cref="Guid.Empty"/> when it is not durable.
    /// </summary>
    public Guid DurableId { get; init; }
}
