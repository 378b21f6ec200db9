namespace AccessLayer.Sessions.Store;

/// <summary>A snapshot of a session's persisted state (plain data: a copy, never live).</summary>
public sealed record SessionState
{
    public required string ClientId { get; init; }

    /// <summary>Epoch of the connection that last opened the session.</summary>
    public long Epoch { get; init; }

    public bool IsConnected { get; init; }

    public string? NodeId { get; init; }

    /// <summary>The identity that owns the session (<see cref="SessionConnectRequest.Owner"/>); null when anonymous.</summary>
    public string? Owner { get; init; }

    public uint SessionExpiryInterval { get; init; }

    public DateTimeOffset? DisconnectedAt { get; init; }

    public IReadOnlyList<Subscription> Subscriptions { get; init; } = [];

    /// <summary>Outgoing QoS 1/2 deliveries awaiting acknowledgement, in the order they were sent.</summary>
    public IReadOnlyList<InflightMessage> Inflight { get; init; } = [];

    /// <summary>Incoming QoS 2 packet identifiers that got PUBREC and await PUBREL.</summary>
    public IReadOnlyList<ushort> IncomingAwaitingRelease { get; init; } = [];

    /// <summary>The pending will (while connected, or disconnected within its delay).</summary>
    public WillMessage? Will { get; init; }

    public int QueuedMessageCount { get; init; }
}
