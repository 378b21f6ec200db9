using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Sessions;

/// <summary>
/// A session as one node hands it to another on takeover: everything MQTT keeps with a
/// session, including the messages still owed to the client (inflight first, then queued).
/// </summary>
public sealed record SessionHandover
{
    public string? Owner { get; init; }

    public uint SessionExpiryInterval { get; init; }

    public WillMessage? Will { get; init; }

    public IReadOnlyList<Subscription> Subscriptions { get; init; } = [];

    public IReadOnlyList<InflightMessage> Inflight { get; init; } = [];

    public IReadOnlyList<MessageDelivery> Queued { get; init; } = [];

    public IReadOnlyList<ushort> IncomingAwaitingRelease { get; init; } = [];
}
